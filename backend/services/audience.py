"""Who a notice is for: its audience spec resolved to residents, staff and group chats, and a preview count.

The audience (Notice.audience, JSON) combines any of these; residents matching any selector are in it:

- `{"community": true}`: every resident of the community (bound to a home or not: whoever follows the
  community's assistant, as a WeChat official account's broadcast reaches every follower);
- places: `"buildings": ["3"]` (codes), `"units": ["3-2"]` (building-unit), `"floors": [12]` (numbers). The
  place keys narrow each other, as the events' targets do: `{"buildings": ["3"], "floors": [12, 13]}` is
  floors 12 and 13 of building 3; `{"floors": [1]}` alone is the ground floor of every building;
- `{"arrears": true}`: residents of households with a bill due by the notice's time and not fully paid;
- `{"event_id": n}`: residents signed up to the event (the day-before reminder: they have a check-in code);
  `{"event_id": n, "waiting": true}`: those signed up and those on its waiting list (a change or a
  cancellation concerns both); withdrawn sign-ups never;
- `{"departments": ["security"]}`: the active staff of those departments (and their department groups);
- `{"groups": true}`: the community's registered owners' groups.

A resident who muted the notice's category is left out, except for safety notices and for an audience that
is only an event's sign-ups (its reminder, change or cancellation concerns a sign-up they made). The broadcast engine
pages through `resident_ids` by id; `count` is the composer's preview.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from backend.catalogue import register
from backend.domain import Department
from backend.errors import Invalid
from backend.models import (
    Bill,
    Building,
    ChatIdentity,
    EventSignup,
    GroupChat,
    Household,
    Notice,
    NoticeMute,
    Resident,
    Staff,
    Unit,
)
from backend.services.events import SIGNED, WAITING

SAFETY = "safety"
KEYS = ("community", "buildings", "units", "floors", "arrears", "event_id", "waiting", "departments", "groups")
SELECTORS = tuple(k for k in KEYS if k != "waiting")  # "waiting" only widens "event_id"
MAX_SELECTORS = 200
# Channels that reach a resident outside a request (the terminal is a developer's console).
PUSH_CHANNELS = ("telegram", "wechat", "wecom", "web")

register({
    "audience.bad": ("通知对象有误：{detail}", "Bad audience: {detail}"),
    "audience.reason.never_bound": ("未绑定任何聊天账号", "never bound to a chat account"),
    "audience.reason.blocked": ("聊天账号已无法送达（已屏蔽或退订）", "every chat account blocked or unsubscribed"),
})


class BadAudience(Invalid):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, key="audience.bad")


def _str_list(audience: dict[str, Any], key: str) -> list[str]:
    value = audience.get(key) or []
    if not isinstance(value, list) or len(value) > MAX_SELECTORS:
        raise BadAudience(f"{key} 须为不超过 {MAX_SELECTORS} 项的列表")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise BadAudience(f"{key} 的每一项须为文字或数字")
        text = str(item).strip()
        if not text or len(text) > 40 or not text.isprintable():
            raise BadAudience(f"{key} 中有空白、过长或含控制字符的一项")
        out.append(text)
    return out


def normalise(audience: Any) -> dict[str, Any]:
    """The spec with only known keys, typed; raises BadAudience on anything else. Empty means no target."""
    if not isinstance(audience, dict):
        raise BadAudience("须为一个 JSON 对象")
    unknown = sorted(set(audience) - set(KEYS))
    if unknown:
        raise BadAudience(f"不认识的键 {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for flag in ("community", "arrears", "groups"):
        if audience.get(flag) not in (None, False, True):
            raise BadAudience(f"{flag} 须为 true 或 false")
        if audience.get(flag):
            out[flag] = True
    for key in ("buildings", "units"):
        items = _str_list(audience, key)
        if items:
            out[key] = sorted(set(items), key=items.index)
    floors = _str_list(audience, "floors")
    if any(not (f.isascii() and f.lstrip("-").isdigit() and len(f) <= 3) for f in floors):
        raise BadAudience("楼层须为数字，如 [12, 13]")
    if floors:
        out["floors"] = sorted({int(f) for f in floors})
    departments = _str_list(audience, "departments")
    valid = {d.value for d in Department}
    if any(d not in valid for d in departments):
        raise BadAudience(f"部门须为 {', '.join(sorted(valid))} 之一")
    if departments:
        out["departments"] = sorted(set(departments))
    event_id = audience.get("event_id")
    if event_id is not None:
        if isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 < event_id < 2**63:
            raise BadAudience("event_id 须为正整数")
        out["event_id"] = event_id
    if audience.get("waiting") is not None and not isinstance(audience["waiting"], bool):
        raise BadAudience("waiting 须为 true 或 false")
    if audience.get("waiting"):
        if event_id is None:
            raise BadAudience("waiting 须与 event_id 一起使用（活动的报名者及候补）")
        out["waiting"] = True
    for unit in out.get("units", []):
        if unit.count("-") != 1:
            raise BadAudience(f"单元「{unit}」须写成 楼栋-单元，如 3-2")
    return out


def is_empty(audience: dict[str, Any]) -> bool:
    return not any(audience.get(k) for k in SELECTORS)


def event_signed(event_id: int) -> dict[str, Any]:
    """Those signed up to the event (who have a check-in code)."""
    return {"event_id": event_id}


def event_signed_or_waiting(event_id: int) -> dict[str, Any]:
    """Those signed up to the event and those on its waiting list."""
    return {"event_id": event_id, "waiting": True}


def unknown_places(session: Session, community_id: int, audience: dict[str, Any]) -> list[str]:
    """Buildings and units named in the audience that the community does not have (a typo, not 'nobody')."""
    codes = set(session.scalars(select(Building.code).where(Building.community_id == community_id)))
    units = {f"{b}-{u}" for b, u in session.execute(
        select(Building.code, Unit.code).join(Unit, Unit.building_id == Building.id)
        .where(Building.community_id == community_id))}
    missing = [f"{b}栋" for b in audience.get("buildings", []) if b not in codes]
    missing += [f"{u.replace('-', '栋')}单元" for u in audience.get("units", []) if u not in units]
    return missing


def _place_condition(community_id: int, audience: dict[str, Any]) -> list[ColumnElement[bool]]:
    """One condition per place key given; the households in all of them are meant."""
    conditions: list[ColumnElement[bool]] = []
    if audience.get("buildings"):
        conditions.append(Household.building_id.in_(select(Building.id).where(
            Building.community_id == community_id, Building.code.in_(audience["buildings"]))))
    if audience.get("units"):
        pairs = [spec.split("-", 1) for spec in audience["units"]]
        conditions.append(Household.unit_id.in_(
            select(Unit.id).join(Building, Building.id == Unit.building_id)
            .where(Building.community_id == community_id, or_(*[and_(Building.code == b, Unit.code == u)
                                                                 for b, u in pairs]))))
    if audience.get("floors"):
        conditions.append(Household.floor.in_(audience["floors"]))
    return conditions


def resident_condition(community_id: int, audience: dict[str, Any], at: datetime | None) -> ColumnElement[bool]:
    """Residents of the community the audience selects (mutes not applied)."""
    households = select(Household.id).where(Household.community_id == community_id)
    any_of: list[ColumnElement[bool]] = []
    if audience.get("community"):
        any_of.append(Resident.community_id == community_id)
    places = _place_condition(community_id, audience)
    if places:
        any_of.append(Resident.household_id.in_(households.where(*places)))
    if audience.get("arrears"):
        owing = select(Bill.household_id).where(Bill.community_id == community_id, Bill.amount > Bill.paid_amount)
        if at is not None:
            owing = owing.where(Bill.due_date <= at)
        any_of.append(Resident.household_id.in_(owing))
    if audience.get("event_id"):
        statuses = (SIGNED, WAITING) if audience.get("waiting") else (SIGNED,)
        any_of.append(Resident.id.in_(select(EventSignup.resident_id).where(
            EventSignup.event_id == audience["event_id"], EventSignup.community_id == community_id,
            EventSignup.status.in_(statuses))))
    if not any_of:
        return false()
    return and_(Resident.community_id == community_id, or_(*any_of))


EVENT_KEYS = frozenset({"event_id", "waiting"})


def _not_muted(category: str, audience: dict[str, Any]) -> ColumnElement[bool]:
    if category == SAFETY or (audience and set(audience) <= EVENT_KEYS):
        return Resident.id.is_not(None)
    return Resident.id.not_in(select(NoticeMute.resident_id).where(NoticeMute.category == category))


def _reference_time(notice: Notice) -> datetime | None:
    return notice.scheduled_at or notice.created_at


def resident_page(notice: Notice, after_id: int, limit: int) -> Select[tuple[int]]:
    """The query of the next `limit` residents of the notice's audience with id > after_id, by id, muters
    left out: to run, or to use as a subquery (the fan-out writes a page's rows without fetching it)."""
    audience = notice.audience or {}
    return (select(Resident.id)
            .where(resident_condition(notice.community_id, audience, _reference_time(notice)),
                   _not_muted(notice.category, audience), Resident.id > after_id)
            .order_by(Resident.id).limit(limit))


def resident_ids(session: Session, notice: Notice, after_id: int, limit: int) -> list[int]:
    """The next `limit` residents of the notice's audience with id > after_id, by id, muters left out."""
    return list(session.scalars(resident_page(notice, after_id, limit)))


def _staff_query(community_id: int, audience: dict[str, Any]):  # type: ignore[no-untyped-def]
    return select(Staff.id).where(Staff.community_id == community_id, Staff.active.is_(True),
                                  Staff.department.in_(audience.get("departments") or [])).order_by(Staff.id)


def staff_ids(session: Session, notice: Notice) -> list[int]:
    """Active staff of the departments the audience names."""
    audience = notice.audience or {}
    if not audience.get("departments"):
        return []
    return list(session.scalars(_staff_query(notice.community_id, audience)))


def _groups_query(community_id: int, audience: dict[str, Any]):  # type: ignore[no-untyped-def]
    wanted: list[ColumnElement[bool]] = []
    if audience.get("groups"):
        wanted.append(GroupChat.purpose == "owners")
    if audience.get("departments"):
        wanted.append(and_(GroupChat.purpose == "department", GroupChat.department.in_(audience["departments"])))
    if not wanted:
        return None
    return (select(GroupChat).where(GroupChat.community_id == community_id, GroupChat.active.is_(True), or_(*wanted))
            .order_by(GroupChat.id))


def group_chats(session: Session, notice: Notice) -> list[GroupChat]:
    """The registered owners' groups (when `groups`) and department groups (when `departments`)."""
    query = _groups_query(notice.community_id, notice.audience or {})
    return [] if query is None else list(session.scalars(query))


@dataclass
class AudienceCount:
    residents: int = 0  # selected, muters left out
    muted: int = 0  # selected but muted this category
    reachable: int = 0  # residents with at least one live push channel
    by_channel: dict[str, int] = field(default_factory=dict)  # residents reachable on each channel
    unreachable: dict[str, int] = field(default_factory=dict)  # reason -> residents
    staff: int = 0
    groups: dict[str, int] = field(default_factory=dict)  # channel -> group chats

    @property
    def nobody(self) -> bool:
        return self.residents == 0 and self.staff == 0 and not self.groups

    @property
    def unreachable_total(self) -> int:
        return sum(self.unreachable.values())

    def as_dict(self) -> dict[str, Any]:
        return {"residents": self.residents, "muted": self.muted, "reachable": self.reachable,
                "by_channel": self.by_channel, "unreachable": self.unreachable,
                "unreachable_total": self.unreachable_total, "staff": self.staff, "groups": self.groups}


def count(session: Session, community_id: int, audience: dict[str, Any], category: str = SAFETY,
          at: datetime | None = None) -> AudienceCount:
    """How many the audience reaches: residents, on which channel, who cannot be reached and why."""
    audience = normalise(audience)
    selected = resident_condition(community_id, audience, at)
    result = AudienceCount()
    total = session.scalar(select(func.count()).select_from(Resident).where(selected)) or 0
    result.residents = session.scalar(
        select(func.count()).select_from(Resident).where(selected, _not_muted(category, audience))) or 0
    result.muted = total - result.residents
    channels: dict[int, set[str]] = {}
    blocked: set[int] = set()
    rows = session.execute(
        select(ChatIdentity.resident_id, ChatIdentity.channel, ChatIdentity.unreachable)
        .join(Resident, Resident.id == ChatIdentity.resident_id)
        .where(selected, _not_muted(category, audience), ChatIdentity.channel.in_(PUSH_CHANNELS)))
    for resident_id, channel, dead in rows:
        if dead:
            blocked.add(resident_id)
        else:
            channels.setdefault(resident_id, set()).add(channel)
    per_channel: Counter[str] = Counter(c for chans in channels.values() for c in chans)
    result.by_channel = dict(sorted(per_channel.items()))
    result.reachable = len(channels)
    blocked -= set(channels)
    never = result.residents - result.reachable - len(blocked)
    result.unreachable = {k: v for k, v in (("never_bound", never), ("blocked", len(blocked))) if v}
    if audience.get("departments"):
        result.staff = session.scalar(select(func.count()).select_from(
            _staff_query(community_id, audience).subquery())) or 0
    groups_query = _groups_query(community_id, audience)
    if groups_query is not None:
        result.groups = dict(Counter(g.channel for g in session.scalars(groups_query)))
    return result
