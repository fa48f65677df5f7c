"""The service plan's KPIs for one or several communities over a period, aggregated in the database.

A period is a range of local calendar days; its figures are about the tickets *created* in it
(`ix_ticket_community_created` finds them), except "now" (overdue and escalated work at this moment)
and per-staff open work, which are about the present.

- Emergencies are measured against the plan: a response (accepted) within
  `settings.emergency_respond_minutes` (15) and a fix (resolved) within `emergency_resolve_minutes`
  (24 h) of the report, with the distribution of both durations.
- Other tickets against their own deadlines, `respond_due_at` and `resolve_due_at`, which the ticket
  got from its category's `respond_minutes` / `resolve_minutes` when it was created (a later edit of a
  category does not rewrite history).
- On time / late: a deadline met or missed; a deadline not reached yet by unfinished work counts as
  neither (pending). Cancelled tickets count in volumes only.
- Satisfaction: tickets rated 4 or 5 of those rated, per area, against SATISFACTION_TARGETS.

Every query is one aggregate over the period's tickets (GROUP BY in SQL); the only dialect-specific
parts are the minutes between two timestamps and the week a timestamp falls in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from backend.domain import SATISFACTION_TARGETS, Kind, SatisfactionArea, Status
from backend.errors import Invalid, NotFound
from backend.models import Building, Community, Staff, Ticket, TicketCategory
from backend.services import kpi_texts, permissions  # noqa: F401  (registers the texts the errors name)
from backend.services.satisfaction import SATISFIED, AreaSatisfaction
from backend.settings import Settings

ESCALATED_LEVEL = 3  # the ladder reached the supervisor (3) or the project manager (4)
MAX_DAYS = 366  # the longest period asked about at once
NOW_LIST_LIMIT = 50  # overdue tickets listed by name on the dashboard
RESPOND_EDGES = (5, 10, 15, 30, 60)  # minutes: the emergency response histogram's buckets
FIX_EDGES = (2 * 60, 6 * 60, 12 * 60, 24 * 60, 48 * 60)  # minutes: the emergency fix histogram's buckets
EPSILON = 0.001  # minutes: floating-point slack so exactly 15:00 counts as within 15 minutes


@dataclass(frozen=True)
class Period:
    """Local days `first`..`last` (inclusive), as the naive UTC range [start, end) the database stores."""

    first: date
    last: date
    start: datetime
    end: datetime
    tz: str

    @classmethod
    def of(cls, first: date, last: date, tz: str) -> Period:
        if last < first:
            raise Invalid("", key="kpi.period_reversed")
        if (last - first).days >= MAX_DAYS:
            raise Invalid("", key="kpi.period_too_long")
        return cls(first, last, _utc(first, tz), _utc(last + timedelta(days=1), tz), tz)

    @classmethod
    def last_weeks(cls, now: datetime, tz: str, weeks: int = 4) -> Period:
        """The `weeks` weeks ending today (local), the default on the dashboard."""
        today = local_date(now, tz)
        return cls.of(today - timedelta(days=7 * weeks - 1), today, tz)

    @classmethod
    def week_before(cls, now: datetime, tz: str) -> Period:
        """Monday to Sunday of the last complete week (local): what the weekly digest reports."""
        monday = week_start(local_date(now, tz)) - timedelta(days=7)
        return cls.of(monday, monday + timedelta(days=6), tz)


def local_date(moment: datetime, tz: str) -> date:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz)).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _utc(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _offset_minutes(period: Period) -> int:
    """The zone's UTC offset at the period's start (weeks are cut in local time; China has no DST)."""
    offset = datetime.combine(period.first, time(), ZoneInfo(period.tz)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


# ---- figures ----------------------------------------------------------------------------------


@dataclass
class OnTime:
    on_time: int = 0
    late: int = 0
    pending: int = 0

    @property
    def share(self) -> float | None:
        decided = self.on_time + self.late
        return round(self.on_time / decided, 4) if decided else None

    def as_dict(self) -> dict[str, Any]:
        return {"on_time": self.on_time, "late": self.late, "pending": self.pending, "share": self.share}


@dataclass
class Bucket:
    label: str
    count: int


@dataclass
class Emergency:
    total: int
    respond_limit_minutes: int
    resolve_limit_minutes: int
    respond: OnTime
    resolve: OnTime
    respond_histogram: list[Bucket]
    resolve_histogram: list[Bucket]


@dataclass
class CategoryFigures:
    code: str
    name_zh: str
    name_en: str
    kind: str
    respond_minutes: int
    resolve_minutes: int
    total: int
    respond: OnTime
    resolve: OnTime


@dataclass
class NowTicket:
    community: str
    number: int
    kind: str
    category: str
    building: str
    status: str
    deadline: str  # respond | resolve
    due_at: datetime
    escalation_level: int
    owner: str


@dataclass
class Now:
    open: int
    overdue: int
    escalated: int
    tickets: list[NowTicket]


@dataclass
class Count:
    key: str
    label: str
    total: int
    emergencies: int = 0


@dataclass
class StaffFigures:
    staff_id: int
    login: str
    name: str
    community: str
    department: str
    handled: int  # tickets of the period this person holds (took on)
    resolved: int
    open_now: int  # open work they hold now, whenever it came in
    avg_accept_minutes: float | None
    respond: OnTime


@dataclass
class Dashboard:
    communities: list[str]
    first: date
    last: date
    tz: str
    generated_at: datetime
    total: int
    cancelled: int
    other_respond: OnTime
    other_resolve: OnTime
    emergency: Emergency
    categories: list[CategoryFigures]
    now: Now
    satisfaction: list[AreaSatisfaction]
    by_category: list[Count]
    by_building: list[Count]
    by_week: list[Count]
    staff: list[StaffFigures]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: shares and 'met' included, datetimes left to the caller's encoder."""
        out = asdict(self)
        out["other_respond"] = self.other_respond.as_dict()
        out["other_resolve"] = self.other_resolve.as_dict()
        out["emergency"]["respond"] = self.emergency.respond.as_dict()
        out["emergency"]["resolve"] = self.emergency.resolve.as_dict()
        for row, figures in zip(out["categories"], self.categories, strict=True):
            row["respond"], row["resolve"] = figures.respond.as_dict(), figures.resolve.as_dict()
        for row, area in zip(out["satisfaction"], self.satisfaction, strict=True):
            row["share"], row["met"] = round(area.share, 4) if area.share is not None else None, area.met
        for row, person in zip(out["staff"], self.staff, strict=True):
            row["respond"] = person.respond.as_dict()
        return out


# ---- SQL pieces -------------------------------------------------------------------------------


def _minutes(dialect: str, later: Any, earlier: Any) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 60.0
    return (func.julianday(later) - func.julianday(earlier)) * 1440.0


def _week(dialect: str, offset: int) -> ColumnElement[Any]:
    """The local Monday of a ticket's creation, as a date (PostgreSQL) or 'YYYY-MM-DD' (SQLite)."""
    if dialect == "postgresql":
        shifted = Ticket.created_at + literal_column(f"interval '{int(offset)} minutes'")
        return func.date(func.date_trunc("week", shifted))
    return func.date(Ticket.created_at, f"{int(offset):+d} minutes", "weekday 0", "-6 days")


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


class _Conditions:
    """On time / late / pending, against a ticket's own deadlines or the plan's emergency limits."""

    def __init__(self, dialect: str, now: datetime, settings: Settings) -> None:
        live = Ticket.status != Status.CANCELLED.value
        self.live = live
        accepted, resolved = Ticket.accepted_at.is_not(None), Ticket.resolved_at.is_not(None)
        # own deadlines
        self.respond_ok = and_(live, accepted, Ticket.accepted_at <= Ticket.respond_due_at)
        self.respond_late = and_(live, or_(and_(accepted, Ticket.accepted_at > Ticket.respond_due_at),
                                           and_(~accepted, Ticket.respond_due_at < now)))
        self.respond_pending = and_(live, ~accepted, Ticket.respond_due_at >= now)
        self.resolve_ok = and_(live, resolved, Ticket.resolved_at <= Ticket.resolve_due_at)
        self.resolve_late = and_(live, or_(and_(resolved, Ticket.resolved_at > Ticket.resolve_due_at),
                                           and_(~resolved, Ticket.resolve_due_at < now)))
        self.resolve_pending = and_(live, ~resolved, Ticket.resolve_due_at >= now)
        # the plan's emergency limits, as durations from the report
        self.respond_minutes = _minutes(dialect, Ticket.accepted_at, Ticket.created_at)
        self.resolve_minutes = _minutes(dialect, Ticket.resolved_at, Ticket.created_at)
        r_limit, f_limit = settings.emergency_respond_minutes, settings.emergency_resolve_minutes
        r_cut, f_cut = now - timedelta(minutes=r_limit), now - timedelta(minutes=f_limit)
        self.e_respond_ok = and_(live, accepted, self.respond_minutes <= r_limit + EPSILON)
        self.e_respond_late = and_(live, or_(and_(accepted, self.respond_minutes > r_limit + EPSILON),
                                             and_(~accepted, Ticket.created_at < r_cut)))
        self.e_respond_pending = and_(live, ~accepted, Ticket.created_at >= r_cut)
        self.e_resolve_ok = and_(live, resolved, self.resolve_minutes <= f_limit + EPSILON)
        self.e_resolve_late = and_(live, or_(and_(resolved, self.resolve_minutes > f_limit + EPSILON),
                                             and_(~resolved, Ticket.created_at < f_cut)))
        self.e_resolve_pending = and_(live, ~resolved, Ticket.created_at >= f_cut)

    def own(self) -> list[ColumnElement[int]]:
        return [_count(c) for c in (self.respond_ok, self.respond_late, self.respond_pending,
                                    self.resolve_ok, self.resolve_late, self.resolve_pending)]

    def plan(self) -> list[ColumnElement[int]]:
        return [_count(c) for c in (self.e_respond_ok, self.e_respond_late, self.e_respond_pending,
                                    self.e_resolve_ok, self.e_resolve_late, self.e_resolve_pending)]


def _pair(row: Any, offset: int) -> tuple[OnTime, OnTime]:
    values = [int(v or 0) for v in row[offset:offset + 6]]
    return OnTime(*values[:3]), OnTime(*values[3:])


def _bucket_case(minutes: ColumnElement[float], edges: tuple[int, ...], present: ColumnElement[bool]) -> Any:
    whens = [(~present, -1)] + [(minutes <= edge + EPSILON, i) for i, edge in enumerate(edges)]
    return case(*whens, else_=len(edges))


def _labels(edges: tuple[int, ...], unit: int, suffix: str) -> list[str]:
    names = [f"≤{edges[0] // unit}{suffix}"]
    names += [f"{a // unit}–{b // unit}{suffix}" for a, b in pairwise(edges)]
    return [*names, f">{edges[-1] // unit}{suffix}"]


# ---- the dashboard ----------------------------------------------------------------------------


def community_codes(session: Session, community_ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Community.id, Community.code).where(Community.id.in_(community_ids)))
    return {cid: code for cid, code in rows}


def dashboard(session: Session, community_ids: list[int], period: Period, now: datetime,
              settings: Settings) -> Dashboard:
    """Every figure of the dashboard for `community_ids` over `period`, as of `now`."""
    dialect = session.get_bind().dialect.name
    ids = sorted(set(community_ids))
    codes = community_codes(session, ids)
    c = _Conditions(dialect, now, settings)
    in_period = and_(Ticket.community_id.in_(ids), Ticket.created_at >= period.start, Ticket.created_at < period.end)
    is_emergency = Ticket.kind == Kind.EMERGENCY.value

    # 1. Totals, on time (other tickets: own deadlines; emergencies: the plan's limits).
    row = session.execute(
        select(func.count(), _count(Ticket.status == Status.CANCELLED.value), _count(is_emergency),
               *[func.count().filter(and_(~is_emergency, x)) for x in (
                   c.respond_ok, c.respond_late, c.respond_pending, c.resolve_ok, c.resolve_late, c.resolve_pending)],
               *[func.count().filter(and_(is_emergency, x)) for x in (
                   c.e_respond_ok, c.e_respond_late, c.e_respond_pending, c.e_resolve_ok, c.e_resolve_late,
                   c.e_resolve_pending)])
        .where(in_period)
    ).one()
    total, cancelled, emergencies = int(row[0]), int(row[1] or 0), int(row[2] or 0)
    other_respond, other_resolve = _pair(row, 3)
    e_respond, e_resolve = _pair(row, 9)

    # The emergency distributions: both buckets of each emergency, one GROUP BY (a bucket is computed once
    # per row; as filtered counts it was computed once per bucket, 14 times, which cost seconds on 1M rows).
    respond_bucket = _bucket_case(c.respond_minutes, RESPOND_EDGES, Ticket.accepted_at.is_not(None)).label("rb")
    resolve_bucket = _bucket_case(c.resolve_minutes, FIX_EDGES, Ticket.resolved_at.is_not(None)).label("fb")
    respond_counts: dict[int, int] = {}
    resolve_counts: dict[int, int] = {}
    for rb, fb, n in session.execute(select(respond_bucket, resolve_bucket, func.count())
                                     .where(in_period, is_emergency, c.live).group_by(respond_bucket, resolve_bucket)):
        respond_counts[int(rb)] = respond_counts.get(int(rb), 0) + int(n)
        resolve_counts[int(fb)] = resolve_counts.get(int(fb), 0) + int(n)
    respond_hist = [Bucket(label, respond_counts.get(i, 0)) for i, label in
                    enumerate(_labels(RESPOND_EDGES, 1, "min"))] + [Bucket("open", respond_counts.get(-1, 0))]
    resolve_hist = [Bucket(label, resolve_counts.get(i, 0)) for i, label in
                    enumerate(_labels(FIX_EDGES, 60, "h"))] + [Bucket("open", resolve_counts.get(-1, 0))]

    # 2. Per category: volume, on time against its own deadlines (across communities: by code), and the
    #    ratings per satisfaction area, summed below.
    areas = [a.value for a in SatisfactionArea]
    rated = Ticket.rating.is_not(None)
    cat_rows = session.execute(
        select(TicketCategory.code, func.min(TicketCategory.name_zh), func.min(TicketCategory.name_en),
               func.min(TicketCategory.kind), func.max(TicketCategory.respond_minutes),
               func.max(TicketCategory.resolve_minutes), func.count(), _count(is_emergency), *c.own(),
               *[_count(and_(rated, TicketCategory.satisfaction_area == a)) for a in areas],
               *[_count(and_(Ticket.rating >= SATISFIED, TicketCategory.satisfaction_area == a)) for a in areas])
        .join(TicketCategory, Ticket.category_id == TicketCategory.id)
        .where(in_period).group_by(TicketCategory.code).order_by(func.count().desc(), TicketCategory.code)
    ).all()
    categories, by_category = [], []
    sat = {a: [0, 0] for a in areas}
    for r in cat_rows:
        respond, resolve = _pair(r, 8)
        by_category.append(Count(r[0], f"{r[1]} {r[2]}", int(r[6]), int(r[7] or 0)))
        if r[3] != Kind.EMERGENCY.value:
            categories.append(CategoryFigures(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]),
                                              respond, resolve))
        for i, a in enumerate(areas):
            sat[a][0] += int(r[14 + i] or 0)
            sat[a][1] += int(r[14 + len(areas) + i] or 0)
    satisfaction = [AreaSatisfaction(area.value, *sat[area.value], SATISFACTION_TARGETS[area]) for area in SatisfactionArea]

    # 3. Now: open, overdue and escalated work (any creation date), and the overdue listed.
    mine = Ticket.community_id.in_(ids)
    overdue = or_(and_(Ticket.accepted_at.is_(None), Ticket.respond_due_at < now), Ticket.resolve_due_at < now)
    escalated = Ticket.escalation_level >= ESCALATED_LEVEL
    n_open, n_overdue, n_escalated = session.execute(
        select(func.count(), _count(overdue), _count(escalated)).where(mine, Ticket.is_open.is_(True))).one()
    due = case((Ticket.accepted_at.is_(None), Ticket.respond_due_at), else_=Ticket.resolve_due_at)
    listed = session.execute(
        select(Ticket.community_id, Ticket.number, Ticket.kind, TicketCategory.name_zh, Building.code, Ticket.status,
               Ticket.accepted_at.is_(None), due, Ticket.escalation_level, Staff.name)
        .join(TicketCategory, Ticket.category_id == TicketCategory.id)
        .outerjoin(Building, Ticket.building_id == Building.id)
        .outerjoin(Staff, Ticket.owner_id == Staff.id)
        .where(mine, Ticket.is_open.is_(True), or_(overdue, escalated))
        .order_by(due).limit(NOW_LIST_LIMIT)
    ).all()
    now_tickets = [NowTicket(codes.get(r[0], ""), int(r[1]), r[2], r[3], r[4] or "", r[5],
                             "respond" if r[6] else "resolve", r[7], int(r[8]), r[9] or "") for r in listed]

    # 4. Volume by building and by week, in one pass (one row per building and week, summed here).
    week = _week(dialect, _offset_minutes(period)).label("week")
    per_building: dict[int | None, list[int]] = {}
    per_week: dict[str, list[int]] = {}
    for bid, w, n, e in session.execute(
            select(Ticket.building_id, week, func.count(), _count(is_emergency)).where(in_period)
            .group_by(Ticket.building_id, week)):
        for bucket in (per_building.setdefault(bid, [0, 0]), per_week.setdefault(str(w), [0, 0])):
            bucket[0] += int(n)
            bucket[1] += int(e or 0)
    places = {bid: (cid, code, label) for bid, cid, code, label in session.execute(
        select(Building.id, Building.community_id, Building.code, Building.name)
        .where(Building.id.in_([b for b in per_building if b is not None])))}
    several = len(ids) > 1

    def building_label(bid: int | None) -> str:
        cid, _code, label = places.get(bid, (None, None, "—")) if bid is not None else (None, None, "—")
        return (f"{codes.get(cid, '')}·" if several and cid is not None else "") + (label or "—")

    def building_order(bid: int | None) -> tuple[bool, str, str]:
        cid, code, _label = places.get(bid, (None, None, None)) if bid is not None else (None, None, None)
        return (code is None, code or "", codes.get(cid, "") if cid is not None else "")

    by_building = [Count(str(bid or ""), building_label(bid), *per_building[bid])
                   for bid in sorted(per_building, key=building_order)]
    by_week = []
    monday = week_start(period.first)
    while monday <= period.last:
        by_week.append(Count(monday.isoformat(), monday.isoformat(), *per_week.get(monday.isoformat(), (0, 0))))
        monday += timedelta(days=7)

    # 5. Per staff member: the period's tickets they hold (accepted), how fast they took it, and their open work now.
    accept_minutes = _minutes(dialect, Ticket.accepted_at, Ticket.created_at)
    people = session.execute(
        select(Ticket.assignee_id, func.count(), _count(Ticket.resolved_at.is_not(None)),
               func.avg(accept_minutes), _count(c.respond_ok), _count(c.respond_late), _count(c.respond_pending))
        .where(in_period, Ticket.assignee_id.is_not(None)).group_by(Ticket.assignee_id)
    ).all()
    open_now = {sid: int(n) for sid, n in session.execute(
        select(Ticket.assignee_id, func.count()).where(mine, Ticket.is_open.is_(True), Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id))}
    figures = {int(r[0]): r for r in people}
    holders = set(figures) | set(open_now)
    staff_rows = [member for member in session.scalars(select(Staff).where(Staff.community_id.in_(ids)))
                  if member.id in holders]
    staff = []
    for member in staff_rows:
        r = figures.get(member.id)
        avg = round(float(r[3]), 2) if r is not None and r[3] is not None else None
        staff.append(StaffFigures(
            member.id, member.login, member.name, codes.get(member.community_id, ""), member.department,
            int(r[1]) if r else 0, int(r[2] or 0) if r else 0, open_now.get(member.id, 0), avg,
            OnTime(int(r[4] or 0), int(r[5] or 0), int(r[6] or 0)) if r else OnTime()))
    staff.sort(key=lambda s: (-s.handled, -s.open_now, s.community, s.login))

    return Dashboard(
        communities=[codes[i] for i in ids if i in codes], first=period.first, last=period.last, tz=period.tz,
        generated_at=now, total=total, cancelled=cancelled, other_respond=other_respond,
        other_resolve=other_resolve,
        emergency=Emergency(emergencies, settings.emergency_respond_minutes, settings.emergency_resolve_minutes,
                            e_respond, e_resolve, respond_hist, resolve_hist),
        categories=categories, now=Now(int(n_open), int(n_overdue or 0), int(n_escalated or 0), now_tickets),
        satisfaction=satisfaction, by_category=by_category, by_building=by_building, by_week=by_week, staff=staff,
    )


# ---- who sees which communities ---------------------------------------------------------------


def communities_for(session: Session, staff: Staff | None, code: str | None) -> list[int]:
    """The communities a caller's dashboard covers. `staff` None is the operator (company admin): every
    community, or the one named. Staff: their own, with `kpi.view` there (403 otherwise); naming another
    community is 404, as everywhere, so its existence does not leak."""
    if code is not None:
        found = session.scalar(select(Community.id).where(Community.code == code))
        if found is None or (staff is not None and staff.community_id != found):
            raise NotFound("小区")
    if staff is None:
        if code is not None:
            return [found]
        return list(session.scalars(select(Community.id).order_by(Community.id)))
    permissions.require(staff, permissions.Perm.KPI_VIEW, permissions.community(staff.community_id))
    return [staff.community_id]
