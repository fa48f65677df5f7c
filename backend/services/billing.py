"""Bills and payments entered by the office: one at a time (API) or imported from CSV/XLSX like the rosters.

Imports are all or nothing with line-numbered errors (backend/services/roster_import.py reads the file),
and can be previewed (`dry_run`: every check and write runs in a savepoint that is rolled back). A bill is
keyed by (household, fee type, period): re-importing updates it. A payment reduces its bill's unpaid amount
(`paid_amount`); a payment whose reference (流水号) is already recorded is skipped, so a payments file can be
imported twice. A bill paid in full stops the arrears reminders (backend/services/arrears.py).
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.errors import Forbidden, Invalid, NotFound
from backend.models import Bill, Building, Household, Payment, Staff, Unit
from backend.services import arrears, permissions
from backend.services.fees import BY_CODE, CENT, METHODS, fee_type_code
from backend.services.permissions import Perm
from backend.services.roster_import import (
    ImportReport,
    RowError,
    parse_building,
    parse_room,
    parse_unit,
    read_rows,
    require_cells,
)
from backend.services.visitors import to_utc

PLACE_COLUMNS: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "楼", "栋"),
    "unit": ("单元",),
    "room": ("房号", "房间", "房间号", "室"),
}
BILL_COLUMNS: dict[str, tuple[str, ...]] = {
    **PLACE_COLUMNS,
    "fee_type": ("费用类型", "费用", "收费项目", "项目", "类型"),
    "period": ("账期", "月份", "期间", "所属期"),
    "quantity": ("数量", "面积", "用量"),
    "unit_price": ("单价", "price"),
    "amount": ("金额", "应收", "应收金额", "应缴", "应缴金额"),
    "due_date": ("到期日", "缴费期限", "截止日期", "due"),
}
BILL_REQUIRED = ("building", "unit", "room", "fee_type", "period")
PAYMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    **PLACE_COLUMNS,
    "fee_type": ("费用类型", "费用", "收费项目", "项目", "类型"),
    "period": ("账期", "月份", "期间", "所属期"),
    "amount": ("金额", "实收", "实收金额", "缴费金额", "实缴"),
    "method": ("方式", "缴费方式", "支付方式", "渠道"),
    "paid_at": ("日期", "缴费日期", "缴费时间", "支付时间", "时间"),
    "reference": ("流水号", "单号", "交易号", "凭证号", "ref"),
}
PAYMENT_REQUIRED = ("building", "unit", "room", "fee_type", "period", "amount")
MAX_AMOUNT = Decimal("10000000")
METHOD_WORDS: dict[str, tuple[str, ...]] = {
    "wechat_pay": ("微信", "wechat", "weixin"),
    "alipay": ("支付宝", "alipay"),
    "card": ("刷卡", "pos", "card", "银行卡"),
    "bank": ("银行", "转账", "bank", "transfer"),
    "cash": ("现金", "cash", "前台"),
}


# ---- cell parsers (ValueError with a message for the office)


def parse_period(text: str) -> str:
    """'2026-11', '2026/11', '2026年11月', '202611' -> '2026-11'."""
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-/.年]\s*)?(\d{1,2})\s*月?\s*", text or "")
    if not m or not 1 <= int(m[2]) <= 12 or not 2000 <= int(m[1]) <= 2100:
        raise ValueError(f"bad period {text!r} (e.g. 2026-11)")
    return f"{int(m[1]):04d}-{int(m[2]):02d}"


def parse_money(text: str, what: str = "amount", *, allow_zero: bool = False) -> Decimal:
    cleaned = re.sub(r"[,，\s元¥￥]", "", text or "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"bad {what} {text!r}") from None
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero) or value >= MAX_AMOUNT:
        raise ValueError(f"bad {what} {text!r}")
    if value != value.quantize(CENT):
        raise ValueError(f"bad {what} {text!r} (at most 2 decimals)")
    return value.quantize(CENT)


def parse_fee_type(text: str) -> str:
    value = (text or "").strip()
    if value.lower() in BY_CODE:
        return value.lower()
    code = fee_type_code(value)
    if code is None:
        raise ValueError(f"unknown fee type {text!r} ({', '.join(BY_CODE)} or 物业费/停车费/水费/电费/公摊费)")
    return code


def parse_method(text: str) -> str:
    value = (text or "").strip().lower()
    if not value:
        return "bank"
    for code, words in METHOD_WORDS.items():
        if value == code or any(w in value for w in words):
            return code
    raise ValueError(f"unknown payment method {text!r} ({', '.join(METHODS)})")


def parse_day(text: str) -> datetime:
    """'2026-12-01', '2026/12/1', '2026-12-01 14:30' (local time as written) -> naive."""
    value = (text or "").strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValueError(f"bad date {text!r} (e.g. 2026-12-01)")


def default_due(period: str) -> datetime:
    """The last day of the period, end of day (local)."""
    year, month = (int(p) for p in period.split("-"))
    return datetime(year, month, monthrange(year, month)[1], 23, 59)


# ---- single entries (API) and the writes imports share


def household_at(session: Session, community_id: int, building: str, unit: str, room: str) -> Household:
    household = session.scalar(
        select(Household).join(Unit, Unit.id == Household.unit_id).join(Building, Building.id == Household.building_id)
        .where(Household.community_id == community_id, Building.code == building, Unit.code == unit,
               Household.room == room))
    if household is None:
        raise ValueError(f"unknown household {building}-{unit}-{room}")
    return household


def require_books(staff: Staff | None, community_id: int) -> None:
    if staff is not None and not permissions.allowed(staff, Perm.BILLING_WRITE, permissions.books(community_id)):
        raise Forbidden()


def put_bill(session: Session, now: datetime, household: Household, fee_type: str, period: str, amount: Decimal,
             due_date: datetime, quantity: Decimal | None = None, unit_price: Decimal | None = None
             ) -> tuple[Bill, bool]:
    """Create or update the bill of (household, fee type, period); (bill, created)."""
    bill = session.scalar(select(Bill).where(Bill.household_id == household.id, Bill.fee_type == fee_type,
                                             Bill.period == period))
    if bill is not None and amount < bill.paid_amount:
        raise ValueError(f"amount {amount} is below what was already paid ({bill.paid_amount})")
    created = bill is None
    if bill is None:
        bill = Bill(community_id=household.community_id, household_id=household.id, fee_type=fee_type,
                    period=period, paid_amount=Decimal("0"), created_at=now)
        session.add(bill)
    bill.amount, bill.due_date = amount, due_date
    bill.quantity = quantity if quantity is not None else Decimal("1")
    bill.unit_price = unit_price if unit_price is not None else amount
    session.flush()
    return bill, created


def pay(session: Session, clock: Clock, bill: Bill, amount: Decimal, *, method: str = "bank",
        paid_at: datetime | None = None, reference: str = "") -> Payment:
    """Record a payment against a bill (never more than it still owes); paid in full stops reminders."""
    unpaid = bill.amount - bill.paid_amount
    if amount <= 0:
        raise ValueError("the amount must be positive")
    if amount > unpaid:
        raise ValueError(f"amount {amount} is more than the bill still owes ({unpaid})")
    payment = Payment(community_id=bill.community_id, household_id=bill.household_id, bill_id=bill.id,
                      amount=amount, method=method, paid_at=paid_at or clock.now(), reference=reference[:64])
    session.add(payment)
    bill.paid_amount = bill.paid_amount + amount
    session.flush()
    arrears.settle(session, clock, bill.household_id)
    return payment


def reference_taken(session: Session, community_id: int, reference: str) -> bool:
    return bool(reference) and session.scalar(select(Payment.id).where(
        Payment.community_id == community_id, Payment.reference == reference).limit(1)) is not None


def get_bill(session: Session, community_id: int, bill_id: int) -> Bill:
    bill = session.get(Bill, bill_id, with_for_update=True)
    if bill is None or bill.community_id != community_id:
        raise NotFound("账单")
    return bill


def invalid(exc: ValueError) -> Invalid:
    return Invalid(str(exc))


# ---- imports


@dataclass(frozen=True)
class _Place:
    building: str
    unit: str
    room: str


def _place(v: dict[str, str]) -> _Place:
    return _Place(parse_building(v["building"]), parse_unit(v["unit"]), parse_room(v["room"]))


@contextmanager
def _all_or_nothing(session: Session, report: ImportReport, dry_run: bool) -> Iterator[None]:
    """The rows are written in a savepoint, kept only when every row passed and this is no dry run (a dry
    run does every check and write, so its counts are exact)."""
    nested = session.begin_nested()
    try:
        yield
    finally:
        if report.errors or dry_run:
            nested.rollback()
        else:
            nested.commit()
    if report.errors:
        report.rows = 0


def import_bills(session: Session, community_id: int, path: Path | str, clock: Clock, tz: str, *,
                 dry_run: bool = False) -> ImportReport:
    """楼栋 单元 房号 费用类型 账期 [数量 单价] 金额 [到期日]; 金额 may be left out when 数量 × 单价 is given."""
    report = ImportReport("bills", dry_run=dry_run)
    rows = read_rows(Path(path), BILL_COLUMNS, BILL_REQUIRED, report)
    now = clock.now()
    seen: dict[tuple[int, str, str], int] = {}
    with _all_or_nothing(session, report, dry_run):
        for row in rows:
            v = row.values
            try:
                require_cells(v, BILL_REQUIRED)
                place = _place(v)
                fee_type, period = parse_fee_type(v["fee_type"]), parse_period(v["period"])
                quantity = parse_money(v["quantity"], "quantity") if v["quantity"] else None
                unit_price = parse_money(v["unit_price"], "unit price") if v["unit_price"] else None
                if v["amount"]:
                    amount = parse_money(v["amount"], allow_zero=True)
                elif quantity is not None and unit_price is not None:
                    amount = (quantity * unit_price).quantize(CENT)
                else:
                    raise ValueError("missing amount (or quantity and unit price)")
                due = to_utc(parse_day(v["due_date"]) if v["due_date"] else default_due(period), tz)
                household = household_at(session, community_id, place.building, place.unit, place.room)
                key = (household.id, fee_type, period)
                if key in seen:
                    raise ValueError(f"the same bill is on line {seen[key]}")
                seen[key] = row.line
                _, created = put_bill(session, now, household, fee_type, period, amount, due, quantity, unit_price)
            except ValueError as exc:
                report.errors.append(RowError(row.line, str(exc)))
                continue
            report.count(report.created if created else report.updated, "bills")
            report.rows += 1
    return report


def import_payments(session: Session, community_id: int, path: Path | str, clock: Clock, tz: str, *,
                    dry_run: bool = False) -> ImportReport:
    """楼栋 单元 房号 费用类型 账期 金额 [方式 日期 流水号]; a 流水号 already recorded is skipped."""
    report = ImportReport("payments", dry_run=dry_run)
    rows = read_rows(Path(path), PAYMENT_COLUMNS, PAYMENT_REQUIRED, report)
    refs: dict[str, int] = {}
    with _all_or_nothing(session, report, dry_run):
        for row in rows:
            v = row.values
            try:
                require_cells(v, PAYMENT_REQUIRED)
                place = _place(v)
                fee_type, period = parse_fee_type(v["fee_type"]), parse_period(v["period"])
                amount, method = parse_money(v["amount"]), parse_method(v["method"])
                paid_at = to_utc(parse_day(v["paid_at"]), tz) if v["paid_at"] else None
                if paid_at is not None and paid_at > clock.now() + timedelta(days=1):
                    raise ValueError(f"payment date {v['paid_at']!r} is in the future")
                reference = v["reference"][:64]
                if reference in refs:
                    raise ValueError(f"reference {reference!r} is also on line {refs[reference]}")
                if reference:
                    refs[reference] = row.line
                if reference_taken(session, community_id, reference):
                    report.count(report.updated, "already recorded (skipped)")
                    continue
                household = household_at(session, community_id, place.building, place.unit, place.room)
                bill = session.scalar(select(Bill).where(Bill.household_id == household.id, Bill.fee_type == fee_type,
                                                         Bill.period == period))
                if bill is None:
                    raise ValueError(f"no {fee_type} bill for {household.label} in {period}")
                pay(session, clock, bill, amount, method=method, paid_at=paid_at, reference=reference)
            except ValueError as exc:
                report.errors.append(RowError(row.line, str(exc)))
                continue
            report.count(report.created, "payments")
            report.rows += 1
    return report
