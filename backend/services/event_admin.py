"""Staff's side of community events: create, edit and cancel (each pushes a notice), attendees, check-in.

Every push to many residents is a Notice row (kind invitation | event_update | event_reminder, category
"event", `event_id` set, status "scheduled", due now) that the broadcast engine fans out and sends; an
invitation goes to the event's targets, a change or cancellation to everyone signed up or waiting
(audience {"event_id": n, "waiting": true}; one text speaks to both), the day-before reminder to those signed
up only ({"event_id": n}: it asks for the check-in code). No notice is written when its audience is nobody.
Staff need Perm.EVENT_MANAGE (check-in: Perm.EVENT_CHECKIN); the operator (staff None) may do everything.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backend.catalogue import register, render
from backend.clock import Clock
from backend.errors import IllegalMove, Invalid, NotFound
from backend.models import Building, CommunityEvent, EventSignup, Household, Notice, Resident, Staff, Unit
from backend.services import audience as audiences
from backend.services import events, permissions
from backend.services.events import CANCELLED, OPEN, SIGNED, WAITING
from backend.services.permissions import Perm
from backend.services.ticket_format import local_time
from backend.settings import Settings

MAX_CAPACITY = 100_000
MAX_FEE = Decimal("100000")
EDITABLE = ("title", "description", "location", "starts_at", "ends_at", "signup_deadline", "capacity", "fee",
            "household_limit")
NOTIFIED = ("title", "location", "starts_at", "ends_at")  # a change to these is pushed to signed up and waiting
CHECKIN_EARLY = timedelta(hours=2)  # the door opens this long before the start
CATEGORY = "event"  # every event notice's category (a resident may mute it)

register({
    "event.notice_invitation": (
        "🎉 社区活动邀请：{title}\n时间：{starts}\n地点：{location}\n名额：{capacity}｜报名截止：{deadline}\n"
        "费用：{fee}{limit}\n{description}\n点「报名」按钮，或回复「报名{title}」。",
        "🎉 You are invited: {title}\nWhen: {starts}\nWhere: {location}\nPlaces: {capacity_en} | "
        "sign up by: {deadline}\nFee: {fee_en}{limit_en}\n{description}\nTap \"Sign up\" or reply \"sign up\".",
    ),
    # A change and a cancellation go to those signed up and those waiting alike: each text speaks to both.
    "event.notice_changed": (
        "📢 活动变更：「{title}」\n现时间：{starts}\n现地点：{location}\n已报名的，报名仍然有效；在候补名单上的，仍按原顺序"
        "候补，有名额时会通知您。如不能参加，请回复「取消报名」。",
        "📢 Event changed: \"{title}\"\nNow: {starts}\nWhere: {location}\nIf you signed up, your sign-up stands; if "
        "you are on the waiting list, you keep your place and we will tell you when one frees up. If you cannot "
        "come, reply \"withdraw\".",
    ),
    "event.notice_cancelled": (
        "❗ 活动取消：「{title}」（原定 {starts}）已取消。{reason}您的报名或候补登记随之作废，无需再做任何操作。"
        "给您带来不便，敬请谅解。",
        "❗ Cancelled: \"{title}\" (planned for {starts}). {reason}Your sign-up or your place on the waiting list "
        "is void; there is nothing you need to do. We apologise for the inconvenience.",
    ),
    "event.notice_reminder": (
        "⏰ 明天的活动提醒：「{title}」\n时间：{starts}\n地点：{location}\n入场时出示签到码或二维码即可。"
        "如不能参加，请回复「取消报名」，把名额让给候补的邻居。",
        "⏰ Tomorrow: \"{title}\"\nWhen: {starts}\nWhere: {location}\nShow your check-in code or QR at the door. "
        "If you cannot come, reply \"withdraw\" so a neighbour on the waiting list gets the place.",
    ),
    "event.capacity_open": ("不限", "no limit"),
    "event.fee_free": ("免费", "free"),
    "event.fee_amount": ("{fee}元/人（现场缴纳）", "{fee} yuan per person (paid on the day)"),
    "event.household_limit": ("\n每户限报{limit}人", "\nAt most {limit} per household"),
    "event.reason": ("原因：{reason}。", "Reason: {reason}. "),
    "error.event_in_past": ("活动时间 {when} 已过，请填写将来的时间。", "{when} is in the past: pick a future time."),
    "error.event_deadline_past": ("报名截止时间 {when} 已过，请填写将来的时间，或留空（开始前都可报名）。",
                                  "The sign-up deadline {when} is in the past: pick a future time, or leave it "
                                  "empty (sign-up until the start)."),
    "error.event_deadline_after_start": ("报名截止时间应早于活动开始时间。", "The sign-up deadline must be before the start."),
    "error.event_end_before_start": ("结束时间应晚于开始时间。", "The end must be after the start."),
    "error.event_no_target": ("活动邀请没有发送对象：请选择全小区或楼栋。",
                              "The invitation has no target: choose the community or buildings."),
    "error.event_target_nobody": ("所选对象（{target}）没有任何住户，邀请不会发出。",
                                  "Nobody lives in the chosen target ({target}); nothing would be sent."),
    "error.event_not_editable": ("「{title}」已{status}，不能再修改。", "\"{title}\" is {status} and cannot be changed."),
    "error.event_capacity_below": ("已有{taken}人报名，名额不能少于{taken}。",
                                   "{taken} people are signed up; capacity cannot go below that."),
    "error.checkin_not_found": ("没有找到签到码 {code} 的有效报名。", "No sign-up with check-in code {code}."),
    "error.checkin_done": ("签到码 {code} 已于 {time} 签到（{name}，{people}人）。",
                           "Code {code} already checked in at {time} ({name}, {people})."),
    "error.checkin_not_open": ("「{title}」还未到签到时间（{starts} 开始，提前两小时可签到）。",
                               "Check-in for \"{title}\" opens two hours before {starts}."),
    "error.checkin_over": ("「{title}」已结束，签到码不再有效。", "\"{title}\" is over; the code is no longer valid."),
    "error.checkin_event_cancelled": ("「{title}」已取消。", "\"{title}\" was cancelled."),
})


@dataclass(frozen=True)
class EventInput:
    title: str
    starts_at: datetime  # naive UTC
    location: str = ""
    description: str = ""
    ends_at: datetime | None = None
    signup_deadline: datetime | None = None
    capacity: int | None = None
    fee: Decimal | None = None
    household_limit: int | None = None
    audience: dict[str, Any] | None = None  # {"community": true} (default) | {"buildings": [...]}, units, floors


def _may(staff: Staff | None, perm: Perm, target: permissions.Target) -> None:
    if staff is not None:
        permissions.require(staff, perm, target)


# ---- create, edit, cancel


def create(session: Session, clock: Clock, settings: Settings, staff: Staff | None, community_id: int,
           data: EventInput) -> tuple[CommunityEvent, Notice]:
    """The event and its invitation (a scheduled Notice the broadcast engine sends now)."""
    _may(staff, Perm.EVENT_MANAGE, permissions.community(community_id))
    audience = check_audience(session, community_id, data.audience)
    values = {k: getattr(data, k) for k in EDITABLE}
    values = _clean_texts(values)
    _check_times(clock, values, settings.timezone)
    _check_numbers(values)
    now = clock.now()
    event = CommunityEvent(community_id=community_id, status=OPEN, audience=audience, created_at=now,
                           updated_at=now, created_by=staff.id if staff is not None else None,
                           **{k: values[k] for k in EDITABLE})
    session.add(event)
    session.flush()
    notice = push(session, clock, settings, event, "invitation", audience, staff)
    return event, notice


def edit(session: Session, clock: Clock, settings: Settings, staff: Staff | None, event: CommunityEvent,
         changes: dict[str, Any]) -> tuple[CommunityEvent, Notice | None]:
    """Change fields of an open event; a new time, place or title is pushed to everyone signed up or waiting
    (the notice, or None when nothing was pushed: nothing to tell, or nobody to tell).

    More capacity promotes waiting households (they are told privately) before the change is pushed."""
    _may(staff, Perm.EVENT_MANAGE, permissions.community(event.community_id))
    session.refresh(event, with_for_update=True)
    if event.status != OPEN:
        raise IllegalMove("error.event_not_editable", title=event.title, status=_status_name(event.status))
    changes = _clean_texts({k: v for k, v in changes.items() if k in EDITABLE})
    merged = {k: getattr(event, k) for k in EDITABLE} | changes
    if any(k in changes for k in ("starts_at", "ends_at", "signup_deadline")):
        _check_times(clock, merged, settings.timezone)
    _check_numbers(merged)
    if changes.get("capacity") is not None:
        taken = events.people_signed(session, event.id)
        if changes["capacity"] < taken:
            raise Invalid("capacity", "error.event_capacity_below", taken=taken)
    differs = _differs(event, changes)
    for key in differs:
        setattr(event, key, changes[key])
    if "starts_at" in differs:
        event.reminded_at = None  # a new day: a new day-before reminder
    event.updated_at = clock.now()
    session.flush()
    if "capacity" in differs or "household_limit" in differs:
        events.promote(session, clock, event, settings)
    notice = None
    if differs & set(NOTIFIED):
        notice = push_if_anyone(session, clock, settings, event, "event_update",
                                audiences.event_signed_or_waiting(event.id), staff)
    return event, notice


def to_tell(event: CommunityEvent, changes: dict[str, Any]) -> set[str]:
    """The changes edit() would push (a title, place or time that differs from the event's); ask before edit()
    to tell "nothing to tell" from "nobody to tell" when it returns no notice. Raises Invalid like edit()."""
    return _differs(event, _clean_texts({k: v for k, v in changes.items() if k in EDITABLE})) & set(NOTIFIED)


def _differs(event: CommunityEvent, changes: dict[str, Any]) -> set[str]:
    return {k for k, v in changes.items() if getattr(event, k) != v}


def cancel(session: Session, clock: Clock, settings: Settings, staff: Staff | None, event: CommunityEvent,
           reason: str = "") -> tuple[CommunityEvent, Notice | None]:
    """Cancel the event and tell everyone signed up or waiting (the notice; None when there is nobody to tell);
    their codes and QR images die."""
    _may(staff, Perm.EVENT_MANAGE, permissions.community(event.community_id))
    session.refresh(event, with_for_update=True)
    if event.status == CANCELLED:
        raise IllegalMove("error.event_not_editable", title=event.title, status=_status_name(event.status))
    event.status, event.updated_at = CANCELLED, clock.now()
    for signup in session.scalars(select(EventSignup).where(EventSignup.event_id == event.id,
                                                            EventSignup.image_token != "")):
        events.image_path(settings, signup.image_token).unlink(missing_ok=True)
    session.flush()
    notice = push_if_anyone(session, clock, settings, event, "event_update",
                            audiences.event_signed_or_waiting(event.id), staff, reason=reason.strip()[:200],
                            cancelled=True)
    return event, notice


def push_if_anyone(session: Session, clock: Clock, settings: Settings, event: CommunityEvent, kind: str,
                   audience: dict[str, Any], staff: Staff | None, *, reason: str = "",
                   cancelled: bool = False) -> Notice | None:
    """push(), unless the audience reaches nobody as the engine would resolve it now (nobody signed up or
    waiting, or all of them muted event notices): then nothing is written and None is returned."""
    if audiences.count(session, event.community_id, audience, CATEGORY, clock.now()).nobody:
        return None
    return push(session, clock, settings, event, kind, audience, staff, reason=reason, cancelled=cancelled)


def push(session: Session, clock: Clock, settings: Settings, event: CommunityEvent, kind: str,
         audience: dict[str, Any], staff: Staff | None, *, reason: str = "", cancelled: bool = False) -> Notice:
    """One Notice for the broadcast engine: due now, about this event."""
    now = clock.now()
    key = {"invitation": "event.notice_invitation", "event_reminder": "event.notice_reminder"}.get(
        kind, "event.notice_cancelled" if cancelled else "event.notice_changed")
    notice = Notice(community_id=event.community_id, kind=kind, category=CATEGORY, title=event.title[:100],
                    body=render(key, "both", **notice_params(event, settings, reason)), audience=audience,
                    event_id=event.id, status="scheduled", scheduled_at=now, expires_at=events.live_until(event),
                    created_by=staff.id if staff is not None else None, created_at=now)
    session.add(notice)
    session.flush()
    return notice


def notice_params(event: CommunityEvent, settings: Settings, reason: str = "") -> dict[str, Any]:
    tz = settings.timezone
    fee = event.fee
    return {
        "title": event.title, "starts": local_time(event.starts_at, tz), "location": event.location or "—",
        "capacity": render("event.capacity_open") if event.capacity is None else f"{event.capacity}人",
        "capacity_en": render("event.capacity_open", "en") if event.capacity is None else str(event.capacity),
        "deadline": local_time(event.signup_deadline, tz) if event.signup_deadline else "—",
        "fee": render("event.fee_free") if not fee else render("event.fee_amount", fee=f"{fee:g}"),
        "fee_en": render("event.fee_free", "en") if not fee else render("event.fee_amount", "en", fee=f"{fee:g}"),
        "limit": render("event.household_limit", limit=event.household_limit) if event.household_limit else "",
        "limit_en": render("event.household_limit", "en", limit=event.household_limit)
        if event.household_limit else "",
        "description": event.description or "",
        "reason": render("event.reason", reason=reason) if reason else "",
    }


def _clean_texts(values: dict[str, Any]) -> dict[str, Any]:
    """The title checked and squeezed; description (≤2000) and place (≤100) trimmed, line ends as \\n."""
    values = dict(values)
    if "title" in values:
        values["title"] = _title(values["title"])
    for key, most in (("description", 2000), ("location", 100)):
        if key in values:
            values[key] = str(values[key] or "").replace("\r\n", "\n").strip()[:most]
    return values


def _title(value: Any) -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise Invalid("title / 标题")
    if len(title) > 100:
        raise Invalid("title: at most 100 characters / 标题最多100字")
    return title


def _check_times(clock: Clock, v: dict[str, Any], tz: str) -> None:
    """A start in the future, an end after it, a deadline in the future and not after the start; refusals name
    the time as the community's local time (12月5日 下午2:00)."""
    now = clock.now()
    starts = v["starts_at"]
    if starts is None:
        raise Invalid("starts_at / 活动时间")
    if starts <= now:
        raise Invalid("starts_at", "error.event_in_past", when=local_time(starts, tz))
    if v.get("ends_at") is not None and v["ends_at"] <= starts:
        raise Invalid("ends_at", "error.event_end_before_start")
    deadline = v.get("signup_deadline")
    if deadline is not None:
        if deadline <= now:
            raise Invalid("signup_deadline", "error.event_deadline_past", when=local_time(deadline, tz))
        if deadline > starts:
            raise Invalid("signup_deadline", "error.event_deadline_after_start")


def _check_numbers(v: dict[str, Any]) -> None:
    if v.get("capacity") is not None and not 1 <= v["capacity"] <= MAX_CAPACITY:
        raise Invalid(f"capacity 1–{MAX_CAPACITY} / 名额")
    if v.get("household_limit") is not None and not 1 <= v["household_limit"] <= events.MAX_PEOPLE:
        raise Invalid(f"household_limit 1–{events.MAX_PEOPLE} / 每户人数")
    fee = v.get("fee")
    if fee is not None and (not Decimal(fee).is_finite() or not 0 <= Decimal(fee) <= MAX_FEE):
        raise Invalid(f"fee 0–{MAX_FEE} / 费用")


def check_audience(session: Session, community_id: int, audience: dict[str, Any] | None) -> dict[str, Any]:
    """{"community": true}, or buildings (codes), units ("3-2": building-unit) and floors (numbers) that exist
    and house somebody; None means the whole community."""
    if audience is None:
        audience = {"community": True}
    if not isinstance(audience, dict):
        raise Invalid("audience", "error.event_no_target")
    clean: dict[str, Any] = {}
    if audience.get("community") is True:
        clean["community"] = True
    for key in ("buildings", "units"):
        items = audience.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str | int) for i in items) or len(items) > 500:
            raise Invalid(key)
        if items:
            clean[key] = sorted({str(i).strip().upper() for i in items if str(i).strip()})
    floors = audience.get("floors") or []
    if not isinstance(floors, list) or not all(isinstance(f, int) and not isinstance(f, bool) for f in floors):
        raise Invalid("floors")
    if floors:
        clean["floors"] = sorted(set(floors))
    if not clean:
        raise Invalid("audience", "error.event_no_target")
    if not clean.get("community") and audience_size(session, community_id, clean) == 0:
        target = "、".join([*clean.get("buildings", []), *clean.get("units", []),
                           *(f"{f}F" for f in clean.get("floors", []))])
        raise Invalid("audience", "error.event_target_nobody", target=target)
    if clean.get("community"):
        clean = {"community": True}
    return clean


def audience_size(session: Session, community_id: int, audience: dict[str, Any]) -> int:
    """Residents the targets match (buildings, units and floors narrow each other)."""
    query = (select(func.count(Resident.id)).join(Household, Household.id == Resident.household_id)
             .join(Building, Building.id == Household.building_id).where(Resident.community_id == community_id))
    if audience.get("buildings"):
        query = query.where(Building.code.in_(audience["buildings"]))
    if audience.get("units"):
        pairs = [u.split("-", 1) for u in audience["units"] if "-" in u]
        if not pairs:
            return 0
        query = query.join(Unit, Unit.id == Household.unit_id)
        query = query.where(or_(*[and_(Building.code == b, Unit.code == u) for b, u in pairs]))
    if audience.get("floors"):
        query = query.where(Household.floor.in_(audience["floors"]))
    return int(session.scalar(query) or 0)


def _status_name(status: str) -> str:
    return {"cancelled": "取消", "closed": "结束"}.get(status, status)


# ---- attendees and export


@dataclass(frozen=True)
class Attendee:
    signup_id: int
    household: str
    name: str
    phone: str
    people: int
    status: str  # signed | waiting | withdrawn
    code: str
    checked_in_at: datetime | None
    signed_at: datetime


def attendees(session: Session, staff: Staff | None, event: CommunityEvent, *, include_withdrawn: bool = False
              ) -> list[Attendee]:
    """Signed up first (by time), then the waiting list in order."""
    _may(staff, Perm.EVENT_MANAGE, permissions.community(event.community_id))
    statuses = (SIGNED, WAITING, events.WITHDRAWN) if include_withdrawn else (SIGNED, WAITING)
    rows = session.execute(
        select(EventSignup, Resident.name, Resident.phone, Household.label)
        .join(Resident, Resident.id == EventSignup.resident_id)
        .outerjoin(Household, Household.id == EventSignup.household_id)
        .where(EventSignup.event_id == event.id, EventSignup.status.in_(statuses))
        .order_by(EventSignup.status != SIGNED, EventSignup.updated_at, EventSignup.id)).all()
    return [Attendee(s.id, label or "", name or "", phone or "", s.people, s.status, s.checkin_code,
                     s.checked_in_at, s.updated_at) for s, name, phone, label in rows]


HEADER = ("房屋", "姓名", "电话", "人数", "状态", "签到码", "签到时间")
STATUS_ZH = {SIGNED: "已报名", WAITING: "候补", events.WITHDRAWN: "已取消"}


def export(rows: list[Attendee], fmt: str, tz: str, mask: bool = False) -> bytes:
    """CSV (UTF-8 with BOM, so Excel shows the Chinese) or XLSX."""
    table = [[a.household, a.name, f"{a.phone[:3]}****{a.phone[-4:]}" if mask and len(a.phone) >= 7 else a.phone, a.people,
              STATUS_ZH.get(a.status, a.status), a.code if a.status == SIGNED else "",
              local_time(a.checked_in_at, tz) if a.checked_in_at else ""] for a in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        writer.writerows([[_safe_cell(c) for c in r] for r in table])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "报名名单"
        sheet.append(list(HEADER))
        for r in table:
            sheet.append([_safe_cell(c) for c in r])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise Invalid("format: csv | xlsx")


def _safe_cell(value: Any) -> Any:
    """A name starting with = + - @ would run as a formula in Excel: quote it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


# ---- check-in at the door


def check_in(session: Session, clock: Clock, settings: Settings, staff: Staff | None, community_id: int,
             code: str) -> tuple[EventSignup, CommunityEvent]:
    """Staff type the code or scan the QR (which holds the code); once per sign-up, on the event's day."""
    _may(staff, Perm.EVENT_CHECKIN, permissions.event_door(community_id))
    code = "".join(ch for ch in str(code) if ch.isdigit())[:8]
    found = None
    if len(code) == 6:
        found = session.execute(
            select(EventSignup, CommunityEvent).join(CommunityEvent, CommunityEvent.id == EventSignup.event_id)
            .where(EventSignup.community_id == community_id, EventSignup.checkin_code == code)
            .with_for_update(of=EventSignup)).first()
    if found is None or found[0].status != SIGNED:
        raise CheckinNotFound(code)
    signup, event = found
    now = clock.now()
    tz = settings.timezone
    if event.status == CANCELLED:
        raise IllegalMove("error.checkin_event_cancelled", title=event.title)
    if signup.checked_in_at is not None:
        name = session.scalar(select(Resident.name).where(Resident.id == signup.resident_id)) or ""
        raise IllegalMove("error.checkin_done", code=code, time=local_time(signup.checked_in_at, tz), name=name,
                          people=signup.people)
    if now < event.starts_at - CHECKIN_EARLY:
        raise IllegalMove("error.checkin_not_open", title=event.title, starts=local_time(event.starts_at, tz))
    if now > events.live_until(event):
        raise IllegalMove("error.checkin_over", title=event.title)
    signup.checked_in_at, signup.checked_in_by = now, staff.id if staff is not None else None
    events.image_path(settings, signup.image_token).unlink(missing_ok=True)
    session.flush()
    return signup, event


def is_event_code(session: Session, clock: Clock, community_id: int, code: str) -> bool:
    """Whether a bare 6-digit code is a sign-up's check-in code for an open event not yet over."""
    row = session.execute(
        select(EventSignup.id, CommunityEvent.starts_at, CommunityEvent.ends_at)
        .join(CommunityEvent, CommunityEvent.id == EventSignup.event_id)
        .where(EventSignup.community_id == community_id, EventSignup.checkin_code == code,
               EventSignup.status == SIGNED, CommunityEvent.status == OPEN)).first()
    return row is not None and clock.now() <= (row.ends_at or row.starts_at + events.LIVE_AFTER_START)


class CheckinNotFound(IllegalMove):
    http_status = 404

    def __init__(self, code: str) -> None:
        super().__init__("error.checkin_not_found", code=code or "—")


def get_for(session: Session, staff: Staff | None, event_id: int, community_id: int | None = None) -> CommunityEvent:
    """An event the caller may see (404 for another community's)."""
    event = session.get(CommunityEvent, event_id)
    if event is None or (staff is not None and event.community_id != staff.community_id) or (
            community_id is not None and event.community_id != community_id):
        raise NotFound("活动")
    return event


def list_events(session: Session, community_id: int, *, include_past: bool = False, now: datetime | None = None,
                event_id: int | None = None) -> list[tuple[CommunityEvent, int, int, int]]:
    """(event, people signed, people waiting, checked in), soonest first."""
    signed = func.coalesce(func.sum(EventSignup.people).filter(EventSignup.status == SIGNED), 0)
    waiting = func.coalesce(func.sum(EventSignup.people).filter(EventSignup.status == WAITING), 0)
    checked = func.count(EventSignup.checked_in_at)
    query = (select(CommunityEvent, signed, waiting, checked)
             .outerjoin(EventSignup, EventSignup.event_id == CommunityEvent.id)
             .where(CommunityEvent.community_id == community_id).group_by(CommunityEvent.id)
             .order_by(CommunityEvent.starts_at))
    if not include_past and now is not None:
        query = query.where(CommunityEvent.starts_at > now - timedelta(days=1))
    if event_id is not None:
        query = query.where(CommunityEvent.id == event_id)
    return [(e, int(s), int(w), int(c)) for e, s, w, c in session.execute(query).all()]
