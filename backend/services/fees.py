"""What a household owes and paid, by fee type and period, with the computation shown (Decimal only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Bill, FeeRate, Household, Payment

CENT = Decimal("0.01")


@dataclass(frozen=True)
class FeeType:
    code: str
    zh: str
    en: str
    unit: str  # what quantity counts: ㎡, 吨, 度, 个
    words: tuple[str, ...]


FEE_TYPES: tuple[FeeType, ...] = (
    FeeType("property", "物业费", "property fee", "㎡", ("物业费", "物业管理费", "物业", "wuyefei", "管理费")),
    FeeType("parking", "停车费", "parking fee", "个", ("停车费", "停车", "车位", "停车废", "车位费")),
    FeeType("water", "水费", "water", "吨", ("水费",)),
    FeeType("electricity", "电费", "electricity", "度", ("电费",)),
    FeeType("shared", "公摊费", "shared costs", "户", ("公摊费", "公摊", "二次供水", "电梯费")),
)
BY_CODE = {f.code: f for f in FEE_TYPES}
METHODS = {"wechat_pay": ("微信支付", "WeChat Pay"), "alipay": ("支付宝", "Alipay"), "bank": ("银行转账", "bank transfer"),
           "cash": ("前台现金", "cash at the front desk"), "card": ("刷卡", "card")}


def fee_type_code(word: str | None) -> str | None:
    """物业费 / 停车废 / wuyefei -> the fee type's code, or None."""
    if not word:
        return None
    word = word.lower()
    for fee in FEE_TYPES:
        if any(w in word for w in fee.words):
            return fee.code
    return None


def fee_name(code: str, lang: str = "zh") -> str:
    fee = BY_CODE.get(code)
    if fee is None:
        return code
    return fee.en if lang == "en" else fee.zh


def yuan(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):,.2f}元"


def _plain(value: Decimal) -> str:
    """98.00 -> 98, 98.50 -> 98.5."""
    text = f"{value.quantize(CENT)}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class Arrears:
    fee_type: str
    periods: list[str]
    amount: Decimal
    computation: str  # "3个月 × 98㎡ × 2.80元/㎡/月 = 823.20元"


@dataclass
class PeriodSummary:
    fee_type: str
    periods: list[str]
    billed: Decimal
    paid: Decimal
    bills: list[Bill] = field(default_factory=list)

    @property
    def owed(self) -> Decimal:
        return self.billed - self.paid


def _bill_query(household: Household, fee_type: str | None, period: str | None, *columns: Any) -> Any:
    query = select(Bill, *columns).where(Bill.household_id == household.id,
                                         Bill.community_id == household.community_id)
    if fee_type:
        query = query.where(Bill.fee_type == fee_type)
    if period:
        query = query.where(Bill.period.startswith(period, autoescape=True))
    return query.order_by(Bill.period, Bill.fee_type, Bill.id)


def bills(session: Session, household: Household, *, fee_type: str | None = None,
          period: str | None = None) -> list[Bill]:
    """The household's bills, oldest first; period "2026" (a year) or "2026-11" (a month)."""
    return list(session.scalars(_bill_query(household, fee_type, period)))


def arrears(session: Session, household: Household, *, fee_type: str | None = None,
            period: str | None = None) -> list[Arrears]:
    """Unpaid bills grouped by fee type, each with how the sum is computed (one query: the unpaid bills
    with their fee type's basis)."""
    query = (
        _bill_query(household, fee_type, period, FeeRate.basis)
        .outerjoin(FeeRate, (FeeRate.community_id == Bill.community_id) & (FeeRate.fee_type == Bill.fee_type))
        .where(Bill.amount > Bill.paid_amount)
    )
    grouped: dict[str, list[Bill]] = defaultdict(list)
    bases: dict[str, str] = {}
    for bill, basis in session.execute(query):
        grouped[bill.fee_type].append(bill)
        bases[bill.fee_type] = basis or "flat"
    return [_arrears(code, rows, bases[code]) for code, rows in grouped.items()]


def summary(session: Session, household: Household, *, fee_type: str | None = None,
            period: str | None = None) -> list[PeriodSummary]:
    """Billed and paid per fee type over the period asked about."""
    grouped: dict[str, list[Bill]] = defaultdict(list)
    for bill in bills(session, household, fee_type=fee_type, period=period):
        grouped[bill.fee_type].append(bill)
    return [
        PeriodSummary(code, [b.period for b in rows], sum((b.amount for b in rows), Decimal(0)),
                      sum((b.paid_amount for b in rows), Decimal(0)), rows)
        for code, rows in grouped.items()
    ]


def payments(session: Session, household: Household, *, fee_type: str | None = None,
             period: str | None = None, limit: int = 24) -> list[tuple[Payment, Bill | None]]:
    """Payments, newest first, with the bill each paid; filtered by the bill's fee type and period."""
    query = (
        select(Payment, Bill).outerjoin(Bill, Payment.bill_id == Bill.id)
        .where(Payment.household_id == household.id, Payment.community_id == household.community_id)
    )
    if fee_type:
        query = query.where(Bill.fee_type == fee_type)
    if period:
        query = query.where(Bill.period.startswith(period, autoescape=True))
    rows = session.execute(query.order_by(Payment.paid_at.desc(), Payment.id.desc()).limit(limit))
    return [(p, b) for p, b in rows]


def last_payment(session: Session, household: Household) -> tuple[Payment, Bill | None] | None:
    found = payments(session, household, limit=1)
    return found[0] if found else None


def method_name(method: str, lang: str = "zh") -> str:
    zh, en = METHODS.get(method, (method, method))
    return en if lang == "en" else zh


def _arrears(code: str, rows: list[Bill], basis: str) -> Arrears:
    owed = sum((b.amount - b.paid_amount for b in rows), Decimal(0)).quantize(CENT)
    billed = sum((b.amount for b in rows), Decimal(0)).quantize(CENT)
    unit = BY_CODE[code].unit if code in BY_CODE else ""
    same = len({(b.quantity, b.unit_price) for b in rows}) == 1
    months = len(rows)
    if same and basis == "per_m2":
        q, price = rows[0].quantity, rows[0].unit_price
        text = f"{months}个月 × {_plain(q)}{unit} × {price.quantize(CENT)}元/{unit}/月 = {yuan(billed)}"
    elif same and rows[0].quantity == 1:
        text = f"{months}个月 × {yuan(rows[0].unit_price)}/月 = {yuan(billed)}"
    elif same:
        q, price = rows[0].quantity, rows[0].unit_price
        text = f"{months}个月 × {_plain(q)}{unit} × {price.quantize(CENT)}元/{unit} = {yuan(billed)}"
    else:
        parts = " + ".join(f"{b.amount.quantize(CENT)}" for b in rows)
        text = f"{parts} = {yuan(billed)}"
    paid = billed - owed
    if paid > 0:
        text += f"，已付 {yuan(paid)}，尚欠 {yuan(owed)}"
    return Arrears(code, [b.period for b in rows], owed, text)
