"""Bills and payments: one at a time, or a CSV/XLSX file (the request body) with ?dry_run=true to preview.

A file import is all or nothing: any bad row answers 422 with every error and its line number, and nothing
is written. A payment reduces its bill's unpaid amount and stops the arrears reminders once nothing is owed.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ClockDep, CommunityQuery, PrincipalDep, SessionDep, SettingsDep, community_target
from backend.api.schemas.common import Id, Input, Output, UtcDatetime, text
from backend.errors import Invalid, NotFound
from backend.models import Bill, Household
from backend.services import billing
from backend.services.fees import BY_CODE, METHODS
from backend.services.roster_import import ImportReport
from backend.services.visitors import to_utc

router = APIRouter(tags=["billing"])

MAX_FILE_BYTES = 5 * 1024 * 1024
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream")
Money = Annotated[Decimal, Field(gt=0, lt=billing.MAX_AMOUNT, decimal_places=2)]
Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
FeeType = Literal[tuple(BY_CODE)]  # type: ignore[valid-type]
Method = Literal[tuple(METHODS)]  # type: ignore[valid-type]


class BillCreate(Input):
    household_id: Id
    fee_type: FeeType  # type: ignore[valid-type]
    period: Period
    amount: Annotated[Decimal, Field(ge=0, lt=billing.MAX_AMOUNT, decimal_places=2)]
    quantity: Money | None = None
    unit_price: Money | None = None
    due_date: date | None = Field(None, description="the last day of the period when left out")


class BillPublic(Output):
    id: Id
    household_id: Id
    fee_type: str
    period: str
    amount: Decimal
    paid_amount: Decimal
    due_date: UtcDatetime
    created: bool = False


class PaymentCreate(Input):
    bill_id: Id | None = Field(None, description="or household_id, fee_type and period")
    household_id: Id | None = None
    fee_type: FeeType | None = None  # type: ignore[valid-type]
    period: Period | None = None
    amount: Money
    method: Method = "bank"  # type: ignore[valid-type]
    paid_at: datetime | None = None
    reference: text(64) = ""  # type: ignore[valid-type]


class PaymentPublic(Output):
    id: Id
    bill_id: Id
    household_id: Id
    amount: Decimal
    method: str
    paid_at: UtcDatetime
    reference: str
    bill_unpaid: Decimal


class RowErrorPublic(Output):
    line: int
    message: str


class ImportResult(Output):
    kind: str
    ok: bool
    dry_run: bool
    rows: int
    created: dict[str, int]
    updated: dict[str, int]
    errors: list[RowErrorPublic]
    summary: str


def _household(session, community_id: int, household_id: int) -> Household:  # type: ignore[no-untyped-def]
    household = session.get(Household, household_id)
    if household is None or household.community_id != community_id:
        raise NotFound("房屋")
    return household


@router.post("/bills", response_model=BillPublic, status_code=status.HTTP_201_CREATED)
def create_bill(body: BillCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                settings: SettingsDep, community: CommunityQuery = None) -> BillPublic:
    """Create a bill, or update the one of the same household, fee type and period."""
    community_id = community_target(session, principal, community)
    billing.require_books(principal.staff, community_id)
    household = _household(session, community_id, body.household_id)
    due = datetime.combine(body.due_date, datetime.max.time().replace(microsecond=0, second=0)) \
        if body.due_date else billing.default_due(body.period)
    try:
        bill, created = billing.put_bill(session, clock.now(), household, body.fee_type, body.period, body.amount,
                                         to_utc(due, settings.timezone), body.quantity, body.unit_price)
    except ValueError as exc:
        raise billing.invalid(exc) from None
    return BillPublic.model_validate({**{k: getattr(bill, k) for k in BillPublic.model_fields if k != "created"},
                                      "created": created})


@router.post("/payments", response_model=PaymentPublic, status_code=status.HTTP_201_CREATED)
def create_payment(body: PaymentCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                   settings: SettingsDep, community: CommunityQuery = None) -> PaymentPublic:
    """Record a payment against a bill (at most what it still owes); a known reference is refused."""
    community_id = community_target(session, principal, community)
    billing.require_books(principal.staff, community_id)
    if body.bill_id is not None:
        bill = billing.get_bill(session, community_id, body.bill_id)
    elif body.household_id is not None and body.fee_type and body.period:
        household = _household(session, community_id, body.household_id)
        found = session.scalar(select(Bill.id).where(Bill.household_id == household.id,
                                                     Bill.fee_type == body.fee_type, Bill.period == body.period))
        if found is None:
            raise NotFound("账单")
        bill = billing.get_bill(session, community_id, found)
    else:
        raise Invalid("bill_id, or household_id + fee_type + period")
    if billing.reference_taken(session, community_id, body.reference):
        raise Invalid(f"reference {body.reference!r} is already recorded")
    paid_at = None
    if body.paid_at is not None:
        paid_at = to_utc(body.paid_at, settings.timezone) if body.paid_at.tzinfo is None else \
            body.paid_at.astimezone(UTC).replace(tzinfo=None)
    try:
        payment = billing.pay(session, clock, bill, body.amount, method=body.method, paid_at=paid_at,
                              reference=body.reference)
    except ValueError as exc:
        raise billing.invalid(exc) from None
    return PaymentPublic(id=payment.id, bill_id=bill.id, household_id=bill.household_id, amount=payment.amount,
                         method=payment.method, paid_at=payment.paid_at, reference=payment.reference,
                         bill_unpaid=bill.amount - bill.paid_amount)


async def _upload(request: Request, fmt: str | None) -> tuple[bytes, str]:
    """The file is read on the event loop; the import itself runs on a worker thread like every sync route."""
    data = await request.body()
    if not data:
        raise Invalid("the request body must be the CSV or XLSX file")
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if fmt is None:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = "xlsx" if kind in XLSX_TYPES or data[:2] == b"PK" else "csv"
    return data, fmt


def _import(importer, session, principal, clock, settings, community, data: bytes, fmt: str,  # type: ignore[no-untyped-def]
            dry_run: bool) -> JSONResponse:
    community_id = community_target(session, principal, community)
    billing.require_books(principal.staff, community_id)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload.{fmt}"
        path.write_bytes(data)
        report: ImportReport = importer(session, community_id, path, clock, settings.timezone, dry_run=dry_run)
    result = ImportResult(kind=report.kind, ok=report.ok, dry_run=dry_run, rows=report.rows,
                          created=report.created, updated=report.updated,
                          errors=[RowErrorPublic(line=e.line, message=e.message) for e in report.errors],
                          summary=report.summary())
    code = status.HTTP_200_OK if report.ok else 422
    return JSONResponse(result.model_dump(mode="json"), status_code=code)


FILE_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string",
                                                                                     "format": "binary"}}}}}
Format = Annotated[Literal["csv", "xlsx"] | None, Query(description="default: from the Content-Type")]


@router.post("/bills/import", response_model=ImportResult, openapi_extra=FILE_BODY,
             responses={422: {"model": ImportResult}})
async def import_bills(request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                       settings: SettingsDep, community: CommunityQuery = None, dry_run: bool = False,
                       format: Format = None) -> JSONResponse:
    """楼栋 单元 房号 费用类型 账期 [数量 单价] 金额 [到期日]; all or nothing; `dry_run=true` previews."""
    data, fmt = await _upload(request, format)
    return await run_in_threadpool(_import, billing.import_bills, session, principal, clock, settings, community, data, fmt, dry_run)


@router.post("/payments/import", response_model=ImportResult, openapi_extra=FILE_BODY,
             responses={422: {"model": ImportResult}})
async def import_payments(request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                          settings: SettingsDep, community: CommunityQuery = None, dry_run: bool = False,
                          format: Format = None) -> JSONResponse:
    """楼栋 单元 房号 费用类型 账期 金额 [方式 日期 流水号]; a 流水号 already recorded is skipped."""
    data, fmt = await _upload(request, format)
    return await run_in_threadpool(_import, billing.import_payments, session, principal, clock, settings, community, data, fmt, dry_run)


__all__ = ["router"]
