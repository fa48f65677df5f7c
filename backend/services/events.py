"""Community events: the open ones, sign-up (capacity, deadline, once per resident) and withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.catalogue import register
from backend.clock import Clock
from backend.errors import IllegalMove, Invalid, NotFound
from backend.models import Community, CommunityEvent, EventSignup, Resident

SIGNED, WITHDRAWN = "signed", "withdrawn"
MAX_PEOPLE = 10

register({
    "error.event_closed": ("「{title}」已停止报名。", "Sign-up for \"{title}\" is closed."),
    "error.event_deadline": ("「{title}」报名已于 {deadline} 截止。", "Sign-up for \"{title}\" closed at {deadline}."),
    "error.event_full": ("「{title}」名额已满（剩余 {left} 个名额）。", "\"{title}\" is full ({left} places left)."),
    "error.event_already": ("您已报名「{title}」（{people}人）。", "You are already signed up for \"{title}\" ({people})."),
    "error.event_not_signed": ("您没有报名「{title}」。", "You are not signed up for \"{title}\"."),
})


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
        .where(CommunityEvent.community_id == community_id, CommunityEvent.status == "open",
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


def sign_up(session: Session, clock: Clock, resident: Resident, event_id: int, people: int = 1) -> EventSignup:
    """Once per resident; within capacity (counted in people) and before the deadline."""
    if not 1 <= people <= MAX_PEOPLE:
        raise Invalid(f"people 1–{MAX_PEOPLE} / 人数")
    event = get(session, resident.community_id, event_id, lock=True)  # serialises sign-ups of one event
    now = clock.now()
    if event.status != "open" or event.starts_at <= now:
        raise IllegalMove("error.event_closed", title=event.title)
    if event.signup_deadline is not None and now > event.signup_deadline:
        raise IllegalMove("error.event_deadline", title=event.title, deadline=f"{event.signup_deadline:%m-%d %H:%M}")
    current = view(session, event, resident)
    if current.mine is not None:
        raise IllegalMove("error.event_already", title=event.title, people=current.mine.people)
    if current.left is not None and people > current.left:
        raise IllegalMove("error.event_full", title=event.title, left=current.left)
    signup = session.scalar(select(EventSignup).where(EventSignup.event_id == event.id,
                                                      EventSignup.resident_id == resident.id))
    if signup is None:
        signup = EventSignup(community_id=event.community_id, event_id=event.id, resident_id=resident.id,
                             created_at=now)
        session.add(signup)
    signup.people, signup.status, signup.updated_at = people, SIGNED, now
    session.flush()
    return signup


def withdraw(session: Session, clock: Clock, resident: Resident, event_id: int) -> EventSignup:
    event = get(session, resident.community_id, event_id)
    signup = session.scalar(select(EventSignup).where(EventSignup.event_id == event.id,
                                                      EventSignup.resident_id == resident.id,
                                                      EventSignup.status == SIGNED))
    if signup is None:
        raise IllegalMove("error.event_not_signed", title=event.title)
    signup.status, signup.updated_at = WITHDRAWN, clock.now()
    session.flush()
    return signup


def my_signups(session: Session, clock: Clock, resident: Resident) -> list[EventView]:
    return [v for v in list_open(session, clock, resident.community_id, resident) if v.mine is not None]


def seed_demo_events(session: Session, community: Community, now: datetime) -> int:
    """Two open demo events (a festival party and a free clinic), added when missing (matched by title)."""
    have = set(session.scalars(select(CommunityEvent.title).where(CommunityEvent.community_id == community.id)))
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    specs = (
        ("中秋游园会", "猜灯谜、做月饼、亲子游戏，欢迎全家参加。", "中心广场", day + timedelta(days=10, hours=11), 200),
        ("义诊", "社区医院医生免费量血压、测血糖、健康咨询。", "物业服务中心一楼", day + timedelta(days=5, hours=1), 60),
    )
    added = 0
    for title, description, location, starts_at, capacity in specs:
        if title in have:
            continue
        session.add(CommunityEvent(
            community_id=community.id, title=title, description=description, location=location,
            starts_at=starts_at, ends_at=starts_at + timedelta(hours=3),
            signup_deadline=starts_at - timedelta(days=1), capacity=capacity, status="open", created_at=now,
        ))
        added += 1
    session.flush()
    return added
