"""Arrears reminders (催缴): polite, private, at most one per interval per household, with an opt-out.

A periodic job (`remind_once`, run by the worker) finds households with bills past due and unpaid, and
sends each household's residents a private message through the outbox (never a group). One
`arrears_reminder` row per household keeps when it was last reminded; the row is claimed with a
conditional UPDATE, so several workers never remind a household twice in one interval. A resident may
opt out (the household is then not reminded) and back in. Paying the overdue bills in full stops the
reminders at once: the job finds nothing owed, and reminders still waiting in the outbox are withdrawn.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import register
from backend.clock import Clock
from backend.db import transaction
from backend.models import ArrearsReminder, Bill, Household, Notification, Resident
from backend.services import outbox
from backend.services.fees import fee_name, yuan
from backend.services.outbox import Recipient
from backend.settings import Settings

KIND = "arrears.reminder"
BATCH = 100

register({
    KIND: ("您好，温馨提示：{household} 尚有物业相关费用未缴：\n{lines}\n合计 {total}。"
           "可回复「查询物业费」查看明细，或到物业服务中心缴纳。如已缴纳请忽略本提醒，感谢您的支持！\n"
           "不想再收到此类提醒，可点下方按钮或回复「不要催缴」。",
           "Hello, a gentle reminder: {household} has unpaid charges:\n{lines_en}\nTotal {total}. "
           "Reply \"my fees\" for details or pay at the service centre. If you have paid, please ignore this. "
           "Thank you!\nTap below or reply \"stop reminders\" to stop these reminders."),
    "arrears.opted_out": ("好的，以后不再向您家发送缴费提醒（催缴）。如需恢复，回复「恢复缴费提醒」。",
                          "Done: your household will get no more payment reminders. Reply \"resume reminders\" "
                          "to get them again."),
    "arrears.opted_in": ("好的，已恢复缴费提醒。", "Payment reminders are back on."),
    "arrears.opted_out_already": ("您家已关闭缴费提醒。", "Payment reminders are already off for your household."),
})


def overdue_by_household(session: Session, now, household_ids: list[int] | None = None  # type: ignore[no-untyped-def]
                         ) -> dict[int, list[Bill]]:
    query = select(Bill).where(Bill.due_date < now, Bill.paid_amount < Bill.amount)
    if household_ids is not None:
        query = query.where(Bill.household_id.in_(household_ids))
    out: dict[int, list[Bill]] = {}
    for bill in session.scalars(query.order_by(Bill.household_id, Bill.fee_type, Bill.period)):
        out.setdefault(bill.household_id, []).append(bill)
    return out


def params_for(household: Household, bills: list[Bill]) -> dict[str, str]:
    by_fee: dict[str, list[Bill]] = {}
    for bill in bills:
        by_fee.setdefault(bill.fee_type, []).append(bill)
    lines, lines_en, total = [], [], Decimal("0")
    for fee, group in by_fee.items():
        owed = sum((b.amount - b.paid_amount for b in group), Decimal("0"))
        total += owed
        periods = "、".join(b.period for b in group)
        lines.append(f"· {fee_name(fee)}：{periods}，{yuan(owed)}")
        lines_en.append(f"· {fee_name(fee, 'en')}: {periods.replace('、', ', ')}, {yuan(owed)}")
    return {"household": household.label, "lines": "\n".join(lines), "lines_en": "\n".join(lines_en),
            "total": yuan(total), "household_id": str(household.id)}


def remind_once(session_factory: sessionmaker[Session], clock: Clock, settings: Settings) -> int:
    """Remind every household that owes and is due a reminder; returns how many households were reminded."""
    now = clock.now()
    cutoff = now - timedelta(days=settings.arrears_reminder_interval_days)
    with transaction(session_factory) as session:
        lived_in = select(Resident.id).where(Resident.household_id == Bill.household_id).exists()
        owing = list(session.scalars(select(Bill.household_id).where(
            Bill.due_date < now, Bill.paid_amount < Bill.amount, lived_in).group_by(Bill.household_id)
            .order_by(Bill.household_id)))  # a household nobody lives in (yet) keeps its turn
        quiet = set(session.scalars(select(ArrearsReminder.household_id).where(
            or_(ArrearsReminder.opted_out_at.is_not(None), ArrearsReminder.last_sent_at > cutoff))))
    due = [h for h in owing if h not in quiet]
    reminded = 0
    for start in range(0, len(due), BATCH):
        with transaction(session_factory) as session:
            for household_id in due[start:start + BATCH]:
                reminded += _remind(session, clock, household_id, cutoff)
    return reminded


def _remind(session: Session, clock: Clock, household_id: int, cutoff) -> int:  # type: ignore[no-untyped-def]
    household = session.get(Household, household_id)
    residents = list(session.scalars(select(Resident.id).where(Resident.household_id == household_id)))
    if household is None or not residents:
        return 0
    _ensure_row(session, household)
    claimed = session.execute(
        update(ArrearsReminder).where(
            ArrearsReminder.household_id == household_id, ArrearsReminder.opted_out_at.is_(None),
            or_(ArrearsReminder.last_sent_at.is_(None), ArrearsReminder.last_sent_at <= cutoff))
        .values(last_sent_at=clock.now(), sent_count=ArrearsReminder.sent_count + 1),
        execution_options={"synchronize_session": False})
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return 0  # another worker reminded it, or it opted out meanwhile
    bills = overdue_by_household(session, clock.now(), [household_id]).get(household_id, [])
    if not bills:
        return 0
    params = params_for(household, bills)
    outbox.enqueue_unique(session, clock, household.community_id, [Recipient.resident(r) for r in residents],
                          KIND, params)
    return 1


def _ensure_row(session: Session, household: Household) -> ArrearsReminder:
    row = session.scalar(select(ArrearsReminder).where(ArrearsReminder.household_id == household.id))
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = ArrearsReminder(community_id=household.community_id, household_id=household.id)
            session.add(row)
    except IntegrityError:  # another worker made it first
        row = session.scalar(select(ArrearsReminder).where(ArrearsReminder.household_id == household.id))
        assert row is not None
    return row


def opt_out(session: Session, clock: Clock, resident: Resident) -> bool:
    """The resident's household gets no more reminders; False when it was already off."""
    household = session.get(Household, resident.household_id) if resident.household_id else None
    if household is None:
        return False
    row = _ensure_row(session, household)
    if row.opted_out_at is not None:
        return False
    row.opted_out_at, row.opted_out_by = clock.now(), resident.id
    _withdraw_pending(session, household.id)
    session.flush()
    return True


def opt_in(session: Session, resident: Resident) -> None:
    household = session.get(Household, resident.household_id) if resident.household_id else None
    if household is not None:
        row = _ensure_row(session, household)
        row.opted_out_at = row.opted_out_by = None
        session.flush()


def opted_out(session: Session, household_id: int) -> bool:
    return session.scalar(select(ArrearsReminder.opted_out_at).where(
        ArrearsReminder.household_id == household_id)) is not None


def settle(session: Session, clock: Clock, household_id: int) -> None:
    """After a payment: nothing overdue left, so reminders still waiting in the outbox are withdrawn."""
    left = session.scalar(select(func.count(Bill.id)).where(
        Bill.household_id == household_id, Bill.due_date < clock.now(), Bill.paid_amount < Bill.amount))
    if not left:
        _withdraw_pending(session, household_id)


def _withdraw_pending(session: Session, household_id: int) -> None:
    residents = select(Resident.id).where(Resident.household_id == household_id).scalar_subquery()
    session.execute(update(Notification).where(
        Notification.kind == KIND, Notification.status == "pending", Notification.claimed_by.is_(None),
        Notification.resident_id.in_(residents)).values(status="cancelled", error="paid or opted out"),
        execution_options={"synchronize_session": False})
