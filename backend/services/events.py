"""Community events for residents: the open ones, sign-up (capacity, deadline, once per resident, a
per-household limit), the waiting list when full, and withdrawal (which promotes the next household).

A signed-up resident gets a check-in code (6 digits) and a QR image of it for the door. Staff's side
(create, edit, cancel, attendees, check-in) is in backend/services/event_admin.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.catalogue import register
from backend.clock import Clock
from backend.errors import IllegalMove, Invalid, NotFound
from backend.models import Community, CommunityEvent, EventSignup, Resident
from backend.services import outbox
from backend.services.outbox import Recipient
from backend.services.ticket_format import local_time
from backend.settings import Settings

SIGNED, WAITING, WITHDRAWN = "signed", "waiting", "withdrawn"
OPEN, CLOSED, CANCELLED = "open", "closed", "cancelled"
MAX_PEOPLE = 10
TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
LIVE_AFTER_START = timedelta(hours=12)  # a check-in code (and its QR) works until then when the end is unknown

register({
    "error.event_closed": ("「{title}」已停止报名。", "Sign-up for \"{title}\" is closed."),
    "error.event_deadline": ("「{title}」报名已于 {deadline} 截止。", "Sign-up for \"{title}\" closed at {deadline}."),
    "error.event_full": ("「{title}」名额已满（剩余 {left} 个名额），可以登记候补：有人退出时按顺序递补，并通知您。",
                         "\"{title}\" is full ({left} places left). You can join the waiting list: when someone "
                         "withdraws, the next in line gets the place and is told."),
    "error.event_already": ("您已报名「{title}」（{people}人），无需重复报名。",
                            "You are already signed up for \"{title}\" ({people})."),
    "error.event_already_waiting": ("您已在「{title}」的候补名单上（第{place}位），有名额时会通知您。",
                                    "You are already on the waiting list for \"{title}\" (number {place}); "
                                    "we will tell you when a place frees up."),
    "error.event_not_signed": ("您没有报名「{title}」。", "You are not signed up for \"{title}\"."),
    "error.event_cancelled": ("「{title}」已取消，无法报名。", "\"{title}\" has been cancelled."),
    "error.event_household_limit": ("「{title}」每户最多报名{limit}人，您家已报{taken}人。",
                                    "\"{title}\" takes at most {limit} per household; yours has {taken}."),
    "error.need_household": ("请先绑定房屋。", "Please bind your home first."),
    "event.promoted": ("🎉 好消息：「{title}」有名额空出，您已从候补转为正式报名（{people}人）。\n"
                       "时间：{starts}｜地点：{location}｜签到码：{code}\n如不能参加，请回复「取消报名」。",
                       "🎉 Good news: a place freed up for \"{title}\"; you are now signed up ({people}).\n"
                       "When: {starts} | Where: {location} | Check-in code: {code}\n"
                       "If you cannot come, reply \"withdraw\"."),
})


class EventFull(IllegalMove):
    """Full: the caller may offer the waiting list (sign_up(..., wait=True))."""

    def __init__(self, event: CommunityEvent, left: int) -> None:
        super().__init__("error.event_full", title=event.title, left=left)
        self.event_id = event.id


@dataclass
class SignupResult:
    signup: EventSignup
    promoted: list[EventSignup] = field(default_factory=list)  # households moved up from the waiting list


@dataclass(frozen=True)
class EventView:
    event: CommunityEvent
    taken: int  # people signed up
    mine: EventSignup | None

    @property
    def left(self) -> int | None:
        return None if self.event.capacity is None else max(0, self.event.capacity - self.taken)


def list_open(session: Session, clock: Clock, community_id: int, resident: Resident | None = None) -> list[EventView]:
    """Open events that have not started yet, soonest first, with places taken and the resident's sign-up.

    Two queries however many events: the events with their places taken, then the resident's sign-ups."""
    now = clock.now()
    rows = session.execute(
        select(CommunityEvent, _taken(CommunityEvent.id))
        .where(CommunityEvent.community_id == community_id, CommunityEvent.status == OPEN,
               CommunityEvent.starts_at > now).order_by(CommunityEvent.starts_at)
    ).all()
    mine: dict[int, EventSignup] = {}
    if resident is not None and rows:
        mine = {s.event_id: s for s in session.scalars(select(EventSignup).where(
            EventSignup.event_id.in_([event.id for event, _ in rows]), EventSignup.resident_id == resident.id,
            EventSignup.status == SIGNED))}
    return [EventView(event, int(taken or 0), mine.get(event.id)) for event, taken in rows]


def view(session: Session, event: CommunityEvent, resident: Resident | None) -> EventView:
    taken = session.scalar(select(_taken(event.id))) or 0
    mine = None
    if resident is not None:
        mine = session.scalar(select(EventSignup).where(EventSignup.event_id == event.id,
                                                        EventSignup.resident_id == resident.id))
        if mine is not None and mine.status != SIGNED:
            mine = None
    return EventView(event, int(taken), mine)


def _taken(event_id: Any) -> Any:
    """People signed up for an event (a scalar subquery; event_id a value or a column)."""
    return (select(func.coalesce(func.sum(EventSignup.people), 0))
            .where(EventSignup.event_id == event_id, EventSignup.status == SIGNED).scalar_subquery())


def get(session: Session, community_id: int, event_id: int, *, lock: bool = False) -> CommunityEvent:
    event = session.get(CommunityEvent, event_id, with_for_update=lock)
    if event is None or event.community_id != community_id:
        raise NotFound("活动")
    return event


def sign_up(session: Session, clock: Clock, resident: Resident, event_id: int, people: int = 1, *,
            wait: bool = False) -> EventSignup:
    """Once per resident; before the deadline; within the household limit and the capacity (in people).

    Full (or others already waiting): EventFull, unless `wait`, which puts the resident on the waiting list."""
    if not 1 <= people <= MAX_PEOPLE:
        raise Invalid(f"people 1–{MAX_PEOPLE} / 人数")
    event = get(session, resident.community_id, event_id, lock=True)  # serialises sign-ups of one event
    now = clock.now()
    if event.status == CANCELLED:
        raise IllegalMove("error.event_cancelled", title=event.title)
    if event.status != OPEN or event.starts_at <= now:
        raise IllegalMove("error.event_closed", title=event.title)
    if event.signup_deadline is not None and now > event.signup_deadline:
        raise IllegalMove("error.event_deadline", title=event.title, deadline=f"{event.signup_deadline:%m-%d %H:%M}")
    signup = session.scalar(select(EventSignup).where(EventSignup.event_id == event.id,
                                                      EventSignup.resident_id == resident.id))
    if signup is not None and signup.status == SIGNED:
        raise IllegalMove("error.event_already", title=event.title, people=signup.people)
    if signup is not None and signup.status == WAITING:
        raise IllegalMove("error.event_already_waiting", title=event.title, place=waiting_place(session, signup))
    if event.household_limit is not None and resident.household_id is not None:
        taken = household_people(session, event.id, resident.household_id)
        if taken + people > event.household_limit:
            raise IllegalMove("error.event_household_limit", title=event.title, limit=event.household_limit,
                              taken=taken)
    left = places_left(session, event)
    queue = session.scalar(select(func.count()).where(EventSignup.event_id == event.id,
                                                      EventSignup.status == WAITING)) or 0
    full = left is not None and (people > left or queue > 0)
    if full and not wait:
        raise EventFull(event, left or 0)
    if signup is None:
        signup = EventSignup(community_id=event.community_id, event_id=event.id, resident_id=resident.id,
                             created_at=now)
        session.add(signup)
    signup.people, signup.updated_at, signup.household_id = people, now, resident.household_id
    signup.status = WAITING if full else SIGNED
    if signup.status == SIGNED:
        _give_code(session, signup)
    session.flush()
    return signup


def withdraw(session: Session, clock: Clock, resident: Resident, event_id: int,
             settings: Settings | None = None) -> SignupResult:
    """Withdraw a sign-up or a place on the waiting list; a freed place promotes the next households, told."""
    event = get(session, resident.community_id, event_id, lock=True)
    signup = session.scalar(select(EventSignup).where(EventSignup.event_id == event.id,
                                                      EventSignup.resident_id == resident.id,
                                                      EventSignup.status.in_((SIGNED, WAITING))))
    if signup is None:
        raise IllegalMove("error.event_not_signed", title=event.title)
    was = signup.status
    signup.status, signup.updated_at = WITHDRAWN, clock.now()
    _forget_image(settings, signup)
    session.flush()
    promoted = promote(session, clock, event, settings) if was == SIGNED else []
    return SignupResult(signup, promoted)


def promote(session: Session, clock: Clock, event: CommunityEvent, settings: Settings | None = None
            ) -> list[EventSignup]:
    """Move waiting households up, in order, while the next one fits; each is told privately (outbox)."""
    if event.status != OPEN or event.starts_at <= clock.now():
        return []
    moved: list[EventSignup] = []
    waiting = list(session.scalars(select(EventSignup).where(
        EventSignup.event_id == event.id, EventSignup.status == WAITING)
        .order_by(EventSignup.updated_at, EventSignup.id)))
    for signup in waiting:
        left = places_left(session, event)
        if left is not None and signup.people > left:
            break  # strictly in order: nobody jumps the queue
        signup.status, signup.updated_at = SIGNED, clock.now()
        _give_code(session, signup)
        session.flush()
        moved.append(signup)
        tz = settings.timezone if settings is not None else "Asia/Shanghai"
        outbox.enqueue(session, clock, event.community_id, Recipient.resident(signup.resident_id), "event.promoted",
                       {"event_id": event.id, "title": event.title, "people": signup.people,
                        "starts": local_time(event.starts_at, tz), "location": event.location or "—",
                        "code": signup.checkin_code})
    return moved


def places_left(session: Session, event: CommunityEvent) -> int | None:
    if event.capacity is None:
        return None
    return max(0, event.capacity - people_signed(session, event.id))


def people_signed(session: Session, event_id: int) -> int:
    return int(session.scalar(select(_taken(event_id))) or 0)


def household_people(session: Session, event_id: int, household_id: int) -> int:
    """People of one household signed up or waiting for an event."""
    return int(session.scalar(select(func.coalesce(func.sum(EventSignup.people), 0)).where(
        EventSignup.event_id == event_id, EventSignup.household_id == household_id,
        EventSignup.status.in_((SIGNED, WAITING)))) or 0)


def waiting_place(session: Session, signup: EventSignup) -> int:
    """1 for the next in line."""
    ahead = session.scalar(select(func.count()).where(
        EventSignup.event_id == signup.event_id, EventSignup.status == WAITING,
        (EventSignup.updated_at < signup.updated_at)
        | ((EventSignup.updated_at == signup.updated_at) & (EventSignup.id < signup.id)))) or 0
    return int(ahead) + 1


def my_waiting(session: Session, clock: Clock, resident: Resident) -> list[CommunityEvent]:
    return list(session.scalars(select(CommunityEvent).join(EventSignup, EventSignup.event_id == CommunityEvent.id)
                                .where(EventSignup.resident_id == resident.id, EventSignup.status == WAITING,
                                       CommunityEvent.status == OPEN, CommunityEvent.starts_at > clock.now())
                                .order_by(CommunityEvent.starts_at)))


# ---- check-in codes and their QR images


def _give_code(session: Session, signup: EventSignup) -> None:
    """A 6-digit code unique among the community's sign-ups (checked against all, so codes never repeat)."""
    if signup.checkin_code:
        return
    while True:
        code = f"{secrets.randbelow(900000) + 100000}"
        clash = session.scalar(select(EventSignup.id).where(EventSignup.community_id == signup.community_id,
                                                            EventSignup.checkin_code == code).limit(1))
        if clash is None:
            signup.checkin_code, signup.image_token = code, secrets.token_urlsafe(24)
            return


def live_until(event: CommunityEvent) -> datetime:
    return event.ends_at or event.starts_at + LIVE_AFTER_START


def image_path(settings: Settings, token: str) -> Path:
    return Path(settings.media_dir) / "event" / f"{token}.png"


def image_url(signup: EventSignup) -> str:
    return f"/media/event/{signup.image_token}.png" if signup.image_token else ""


def write_qr(settings: Settings, signup: EventSignup) -> Path:
    """The check-in QR ("CHECKIN <code>": a scanner's text pasted into chat checks in); served while live."""
    import segno

    path = image_path(settings, signup.image_token)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        segno.make(f"CHECKIN {signup.checkin_code}", error="m").save(str(path), kind="png", scale=8, border=2)
    return path


def image_alive(session: Session, clock: Clock, token: str) -> bool:
    """Whether /media/event/<token>.png may be served now: a signed-up, not yet used sign-up of a live event."""
    if not token or len(token) > 48 or not set(token) <= TOKEN_CHARS:
        return False
    row = session.execute(select(EventSignup, CommunityEvent).join(CommunityEvent, CommunityEvent.id ==
                                                                   EventSignup.event_id)
                          .where(EventSignup.image_token == token)).first()
    if row is None:
        return False
    signup, event = row
    return (signup.status == SIGNED and signup.checked_in_at is None and event.status == OPEN
            and clock.now() <= live_until(event))


def _forget_image(settings: Settings | None, signup: EventSignup) -> None:
    if settings is not None and signup.image_token:
        image_path(settings, signup.image_token).unlink(missing_ok=True)


def my_signups(session: Session, clock: Clock, resident: Resident) -> list[EventView]:
    return [v for v in list_open(session, clock, resident.community_id, resident) if v.mine is not None]


@dataclass(frozen=True)
class DemoEvent:
    title: str
    description: str
    location: str
    at: time  # local
    hours: int
    capacity: int


# The demo's weekend event fits the season of the day it falls on (no 中秋游园会 in December); the clinic is
# good all year. Titles are what the chat tests sign up for.
SEASONAL_DEMO = {
    (12, 1, 2): DemoEvent("冬日邻里包饺子", "物业准备好面和馅，邻居们一起包饺子、拉家常，欢迎全家参加。", "会所多功能厅",
                          time(15, 0), 3, 80),
    (3, 4, 5): DemoEvent("春季亲子植树", "认养小区绿地，一起种树、挂名牌，工具由物业准备，适合带孩子参加。", "北门绿地",
                         time(9, 0), 3, 100),
    (6, 7, 8): DemoEvent("夏夜露天电影", "中心广场放映家庭电影，备有驱蚊水和小板凳，欢迎全家参加。", "中心广场",
                         time(19, 30), 2, 200),
    (9, 10, 11): DemoEvent("秋季邻里运动会", "趣味跳绳、拔河、亲子接力，欢迎全家参加。", "中心广场",
                           time(9, 0), 3, 200),
}
CLINIC_DEMO = DemoEvent("义诊", "社区医院医生免费量血压、测血糖、健康咨询。", "物业服务中心一楼", time(9, 0), 3, 60)


def demo_events(now: datetime, tz: str) -> list[tuple[DemoEvent, datetime]]:
    """The demo's events and their starts (naive UTC): the season's weekend event on the first Saturday at
    least a week away, and the clinic five days from today, both in the community's local time."""
    zone = ZoneInfo(tz)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    saturday = today + timedelta(days=7 + (5 - (today + timedelta(days=7)).weekday()) % 7)
    weekend = next(e for months, e in SEASONAL_DEMO.items() if saturday.month in months)

    def utc(day: date, at: time) -> datetime:
        return datetime.combine(day, at, zone).astimezone(UTC).replace(tzinfo=None)

    return [(weekend, utc(saturday, weekend.at)), (CLINIC_DEMO, utc(today + timedelta(days=5), CLINIC_DEMO.at))]


def seed_demo_events(session: Session, community: Community, now: datetime, tz: str = "Asia/Shanghai") -> int:
    """The demo's open events (demo_events), added when missing (matched by title)."""
    have = set(session.scalars(select(CommunityEvent.title).where(CommunityEvent.community_id == community.id)))
    added = 0
    for spec, starts_at in demo_events(now, tz):
        if spec.title in have:
            continue
        session.add(CommunityEvent(
            community_id=community.id, title=spec.title, description=spec.description, location=spec.location,
            starts_at=starts_at, ends_at=starts_at + timedelta(hours=spec.hours),
            signup_deadline=starts_at - timedelta(days=1), capacity=spec.capacity, status="open", created_at=now,
            updated_at=now, audience={"community": True},
        ))
        added += 1
    session.flush()
    return added
