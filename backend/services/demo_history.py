"""A few weeks of realistic ticket history for the demo community, so the KPI dashboard has something to show.

Deterministic (a seeded random generator, times relative to `now`), written as consistent rows in bulk:
each ticket with the history a real one would have (created, accepted, reminded and escalated when late,
resolved, closed, rated), numbers from the community's counter. The work is done by the department that
handles the category; the building's steward owns it. Most of it is finished; the last two days leave
some work open, and a few older tickets are stuck past their deadlines and escalated to the project
manager. No notification is written: the history happened before the demo started.

Refreshing (`guanjia demo` again) replaces the previous history (tickets reported on the `demo`
channel) with one ending at the new `now`; tickets made by people in the demo are kept.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.domain import Action, Department, Kind, Role, Status
from backend.models import (
    Attachment,
    Building,
    Counter,
    Household,
    Notification,
    Staff,
    Ticket,
    TicketCategory,
    TicketEvent,
)
from backend.settings import Settings

HISTORY_CHANNEL = "demo"  # reporter_channel of generated history: what a refresh replaces
HISTORY_WEEKS = 6
HISTORY_SEED = 20261204
PER_DAY = (6, 14)  # tickets reported per day, uniformly
LATE_SHARE = 0.1  # of tickets responded to late; resolved late is a little more common
STUCK = 3  # older tickets left open, past their deadlines, escalated to the project manager

# Category code -> relative frequency, roughly a residential compound's mix.
MIX: dict[str, int] = {
    "plumbing": 18, "electrical": 10, "lift": 5, "access_control": 6, "gas": 1, "public_facility": 8,
    "general_repair": 6, "emergency": 3, "security_emergency": 1, "noise": 7, "parking": 7, "cleaning": 8,
    "greening": 3, "pets": 3, "renovation": 3, "service": 2, "security": 2, "fees": 2, "general_complaint": 2,
    "suggestion": 2, "inquiry": 6,
}
# Share of ratings 4-5 per satisfaction area, for work done on time (late work is rated lower).
SATISFIED = {"safety": 1.0, "environment": 0.96, "community": 0.95}
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "plumbing": ("厨房水管漏水", "卫生间下水道堵塞", "阳台地漏返水", "热水器进水管滴水"),
    "electrical": ("楼道灯不亮", "家里跳闸了", "插座没电", "地下车库灯闪"),
    "lift": ("电梯按钮失灵", "电梯门关不上", "电梯异响"),
    "access_control": ("单元门禁刷卡没反应", "门禁对讲没声音", "单元门关不严"),
    "gas": ("燃气表报警", "燃气灶打不着火，怀疑管路问题"),
    "public_facility": ("小区健身器材损坏", "快递柜屏幕坏了", "路灯不亮"),
    "general_repair": ("窗户关不严", "防盗门锁芯坏了", "墙面渗水"),
    "emergency": ("家里进水了，水从楼上漏下来", "楼道有烧焦的味道", "电梯困人"),
    "security_emergency": ("有陌生人撬门", "车库有人打架"),
    "noise": ("楼上装修噪音太大", "夜里有人唱歌", "广场舞音乐太吵"),
    "parking": ("车位被占", "消防通道停车", "地库乱停车"),
    "cleaning": ("楼道垃圾没人清理", "垃圾桶满了", "电梯里有异味"),
    "greening": ("草坪该修剪了", "树枝挡住窗户"),
    "pets": ("有狗在楼道便溺", "邻居的狗总叫"),
    "renovation": ("邻居装修时间超时", "装修垃圾堆在楼道"),
    "service": ("客服电话打不通", "工作人员态度不好"),
    "security": ("小区门口有推销人员", "单元门经常被人撑开"),
    "fees": ("物业费账单有疑问", "停车费收据没收到"),
    "general_complaint": ("快递乱放", "小区WiFi信号差"),
    "suggestion": ("建议增加充电桩", "建议周末延长客服时间"),
    "inquiry": ("门禁卡怎么补办", "装修需要什么手续", "停车月卡怎么办"),
}


@dataclass(frozen=True)
class _Category:
    id: int
    code: str
    kind: str
    department: str
    respond: int
    resolve: int
    area: str


def seed_history(session: Session, settings: Settings, community_id: int, now: datetime,
                 weeks: int = HISTORY_WEEKS, seed: int = HISTORY_SEED) -> int:
    """Replace the community's generated history with `weeks` weeks ending at `now`; how many tickets."""
    _forget(session, community_id)
    rnd = random.Random(seed)
    categories = {c.code: _Category(c.id, c.code, c.kind, c.department, c.respond_minutes, c.resolve_minutes,
                                    c.satisfaction_area)
                  for c in session.scalars(select(TicketCategory).where(TicketCategory.community_id == community_id))}
    mix = [(categories[code], weight) for code, weight in MIX.items() if code in categories]
    staff = list(session.scalars(select(Staff).where(Staff.community_id == community_id, Staff.active.is_(True))))
    workers = {d.value: [s.id for s in staff if s.department == d and s.role == Role.AGENT] or
               [s.id for s in staff if s.department == d] for d in Department}
    managers = [s.id for s in staff if s.role == Role.MANAGER]
    homes = list(session.execute(select(Household.id, Household.building_id, Household.label)
                                 .where(Household.community_id == community_id).order_by(Household.id)))
    stewards = dict(session.execute(select(Building.id, Building.steward_id)
                                    .where(Building.community_id == community_id)).all())
    if not mix or not homes:
        return 0

    plans = []
    start = (now - timedelta(days=7 * weeks)).replace(minute=0, second=0, microsecond=0)
    day = start
    while day < now:
        for _ in range(rnd.randint(*PER_DAY)):
            created = day + timedelta(minutes=_daytime_minute(rnd))
            if created < now - timedelta(minutes=5):
                category = rnd.choices([c for c, _ in mix], [w for _, w in mix])[0]
                plans.append((created, category, rnd.choice(homes)))
        day += timedelta(days=1)
    plans.sort(key=lambda p: p[0])
    stuck = set(rnd.sample(range(len(plans) // 2), min(STUCK, len(plans) // 2)))

    number = _reserve_numbers(session, community_id, len(plans))
    tickets, histories = [], []
    for i, (created, category, (household_id, building_id, label)) in enumerate(plans):
        ticket, events = _story(rnd, created, category, now, i in stuck, settings)
        worker = rnd.choice(workers.get(category.department) or managers or [None])
        if category.kind == Kind.EMERGENCY and rnd.random() < 0.4:  # an emergency pages security too
            worker = rnd.choice(workers.get(Department.SECURITY.value) or [worker])
        owner = stewards.get(building_id) or worker
        ticket.update({
            "community_id": community_id, "number": number + i, "kind": category.kind, "category_id": category.id,
            "department": category.department, "household_id": household_id, "building_id": building_id,
            "reporter_id": None, "reporter_channel": HISTORY_CHANNEL, "location": label,
            "description": rnd.choice(DESCRIPTIONS.get(category.code, ("报修",))), "preferred_time": "",
            "anonymous": False, "owner_id": owner if ticket["accepted_at"] else stewards.get(building_id),
            "assignee_id": worker if ticket["accepted_at"] else None,
            "priority": "urgent" if category.kind == Kind.EMERGENCY else "normal",
            "rating_comment": "", "last_chased_at": None, "version": 1 + len(events),
        })
        tickets.append(ticket)
        histories.append((worker, events))

    session.flush()  # Core statements below: what they refer to must be written
    table = Ticket.__table__
    ids = list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), tickets).scalars())
    rows = []
    for ticket_id, (worker, events) in zip(ids, histories, strict=True):
        for at, action, before, after, data in events:
            by_staff = action in (Action.ACCEPT, Action.START, Action.RESOLVE)
            by_resident = action in (Action.CREATE, Action.CONFIRM, Action.RATE)
            rows.append({
                "community_id": community_id, "ticket_id": ticket_id, "at": at, "action": action.value,
                "actor_type": "staff" if by_staff else "resident" if by_resident else "system",
                "actor_staff_id": worker if by_staff else None, "actor_resident_id": None,
                "from_status": before, "to_status": after, "note": "", "data": data,
            })
    session.execute(insert(TicketEvent.__table__), rows)
    return len(tickets)


def _forget(session: Session, community_id: int) -> None:
    """Delete the previous generated history (its events, notifications and photos go with it)."""
    old = select(Ticket.id).where(Ticket.community_id == community_id, Ticket.reporter_channel == HISTORY_CHANNEL)
    for table in (TicketEvent, Notification, Attachment):
        session.execute(delete(table).where(table.ticket_id.in_(old)))
    session.execute(delete(Ticket).where(Ticket.id.in_(old)))


def _reserve_numbers(session: Session, community_id: int, count: int) -> int:
    """Move the ticket counter on by `count`; the first of the reserved numbers."""
    dialect = session.get_bind().dialect.name
    maker: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (maker(Counter).values(community_id=community_id, name="ticket", value=count)
            .on_conflict_do_update(index_elements=["community_id", "name"], set_={"value": Counter.value + count})
            .returning(Counter.value))
    return int(session.execute(stmt).scalar_one()) - count + 1


def _daytime_minute(rnd: random.Random) -> int:
    """Minutes after the day's start (UTC 00:00 is 08:00 in China): mostly 08:00-22:00 local."""
    if rnd.random() < 0.08:
        return rnd.randint(14 * 60, 24 * 60 - 1)  # the night
    return rnd.randint(0, 14 * 60 - 1)


def _story(rnd: random.Random, created: datetime, c: _Category, now: datetime, stuck: bool,
           settings: Settings) -> tuple[dict[str, Any], list[tuple[datetime, Action, str | None, str, dict[str, Any]]]]:
    """One ticket's columns and history: when it was taken, done, closed and rated, as far as `now` allows."""
    respond_due, resolve_due = created + timedelta(minutes=c.respond), created + timedelta(minutes=c.resolve)
    late_respond = rnd.random() < LATE_SHARE
    respond = (c.respond * rnd.uniform(1.1, 3.0) if late_respond else
               max(1.0, min(c.respond * 0.95, rnd.expovariate(1 / (c.respond * 0.3)))))
    late_resolve = (late_respond and rnd.random() < 0.5) or rnd.random() < LATE_SHARE
    resolve = c.resolve * (rnd.uniform(1.05, 2.0) if late_resolve else rnd.uniform(0.02, 0.85))
    resolve = max(resolve, respond + 10)
    accepted, resolved = created + timedelta(minutes=respond), created + timedelta(minutes=resolve)
    events: list[tuple[datetime, Action, str | None, str, dict[str, Any]]] = [
        (created, Action.CREATE, None, Status.NEW, {"category": c.code})]
    row: dict[str, Any] = {
        "created_at": created, "respond_due_at": respond_due, "resolve_due_at": resolve_due, "accepted_at": None,
        "started_at": None, "resolved_at": None, "closed_at": None, "rating": None, "escalation_level": 0,
        "escalation_deadline": "respond", "next_check_at": None, "status": Status.NEW, "is_open": True,
    }

    def ladder(due: datetime, deadline: str, until: datetime, status: str) -> tuple[int, datetime | None]:
        """The sweeper's reminders and escalations for one deadline up to `until`: (level, next check)."""
        step = timedelta(minutes=settings.emergency_escalation_step_minutes if c.kind == Kind.EMERGENCY
                         else settings.escalation_step_minutes)
        level_at = {1: due - timedelta(minutes=settings.remind_before_minutes), 2: due, 3: due + step,
                    4: due + 2 * step}
        level = 0
        for lvl, at in level_at.items():
            if at > until:
                break
            level = lvl
            if lvl == 1 and until >= due:  # the early reminder is skipped once the deadline has passed
                continue
            events.append((at, Action.REMIND if lvl <= 2 else Action.ESCALATE, status, status,
                           {"level": lvl, "deadline": deadline}))
        return level, level_at[level + 1] if level < 4 else None

    if rnd.random() < 0.03 and accepted < now:  # cancelled by the resident before anyone came
        at = created + timedelta(minutes=respond / 2)
        events.append((at, Action.CANCEL, Status.NEW, Status.CANCELLED, {}))
        row.update(status=Status.CANCELLED, is_open=False, updated_at=at)
        return row, events
    if stuck:  # accepted, never resolved: escalated to the project manager
        late_respond = False
        accepted = created + timedelta(minutes=min(respond, c.respond * 0.8))
    if accepted >= now:  # not taken yet
        level, check = ladder(respond_due, "respond", now, Status.NEW)
        row.update(updated_at=created, escalation_level=level, next_check_at=check)
        return row, events
    ladder(respond_due, "respond", accepted, Status.NEW)
    events.append((accepted, Action.ACCEPT, Status.NEW, Status.ACCEPTED, {}))
    row.update(accepted_at=accepted, status=Status.ACCEPTED, escalation_deadline="resolve", updated_at=accepted)
    if stuck or resolved >= now:  # still being worked on
        started = accepted + timedelta(minutes=rnd.uniform(5, 60))
        if started < now:
            events.append((started, Action.START, Status.ACCEPTED, Status.IN_PROGRESS, {}))
            row.update(started_at=started, status=Status.IN_PROGRESS, updated_at=started)
        row["escalation_level"], row["next_check_at"] = ladder(resolve_due, "resolve", now, row["status"])
        return row, events
    ladder(resolve_due, "resolve", resolved, Status.ACCEPTED)
    events.append((resolved, Action.RESOLVE, Status.ACCEPTED, Status.RESOLVED, {}))
    row.update(resolved_at=resolved, status=Status.RESOLVED, is_open=False, updated_at=resolved)
    confirmed = resolved + timedelta(hours=rnd.uniform(0.5, 30))
    auto_close = resolved + timedelta(days=settings.auto_close_resolved_days)
    if rnd.random() < 0.7 and confirmed < now:
        events.append((confirmed, Action.CONFIRM, Status.RESOLVED, Status.CLOSED, {}))
        row.update(status=Status.CLOSED, closed_at=confirmed, updated_at=confirmed)
        if rnd.random() < 0.85:
            satisfied = SATISFIED.get(c.area, 0.9) - (0.25 if late_respond or late_resolve else 0)
            rating = rnd.choice((4, 5, 5)) if rnd.random() < satisfied else rnd.choice((1, 2, 3, 3))
            events.append((confirmed, Action.RATE, Status.CLOSED, Status.CLOSED, {"rating": rating}))
            row["rating"] = rating
    elif auto_close < now:
        events.append((auto_close, Action.CLOSE, Status.RESOLVED, Status.CLOSED, {"auto": True}))
        row.update(status=Status.CLOSED, closed_at=auto_close, updated_at=auto_close)
    else:  # waiting for the resident; the sweeper closes it in time
        row.update(escalation_deadline="autoclose", next_check_at=auto_close)
    return row, events
