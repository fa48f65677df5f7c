"""PROVISIONAL (broadcast engine branch): who a notice is for, only as far as the engine's tests need.

The "notices" work owns this module; its full version (units, floors, arrears, validation, preview
counts) replaces this one at merge. Keep to these signatures, which the broadcast engine calls:
`resident_ids(session, notice, after_id, limit)`, `staff_ids(session, notice)`, `group_chats(session, notice)`.

Supported here: `{"community": true}`, `{"buildings": ["3", ...]}` (building codes), `{"event_id": n}`
(residents signed up), `{"departments": [...]}` (active staff) and `{"groups": true}` (owners' groups).
A resident who muted the notice's category is left out, except for safety notices.
"""

from __future__ import annotations

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from backend.models import Building, EventSignup, GroupChat, Household, Notice, NoticeMute, Resident, Staff

SAFETY = "safety"


def resident_ids(session: Session, notice: Notice, after_id: int, limit: int) -> list[int]:
    """Residents the notice is for, by id, after `after_id`: one page of the fan-out."""
    audience = notice.audience or {}
    selectors = []
    if audience.get("community"):
        selectors.append(Resident.community_id == notice.community_id)
    codes = [str(c) for c in audience.get("buildings") or []]
    if codes:
        buildings = select(Building.id).where(Building.community_id == notice.community_id, Building.code.in_(codes))
        households = select(Household.id).where(Household.building_id.in_(buildings))
        selectors.append(Resident.household_id.in_(households))
    if audience.get("event_id"):
        selectors.append(Resident.id.in_(select(EventSignup.resident_id).where(
            EventSignup.event_id == int(audience["event_id"]), EventSignup.status == "signed")))
    query = select(Resident.id).where(Resident.community_id == notice.community_id, Resident.id > after_id,
                                      or_(*selectors) if selectors else false())
    if notice.category != SAFETY:
        query = query.where(Resident.id.not_in(select(NoticeMute.resident_id).where(
            NoticeMute.category == notice.category)))
    return list(session.scalars(query.order_by(Resident.id).limit(limit)))


def staff_ids(session: Session, notice: Notice) -> list[int]:
    departments = [str(d) for d in (notice.audience or {}).get("departments") or []]
    if not departments:
        return []
    return list(session.scalars(select(Staff.id).where(
        Staff.community_id == notice.community_id, Staff.department.in_(departments), Staff.active.is_(True))
        .order_by(Staff.id)))


def group_chats(session: Session, notice: Notice) -> list[GroupChat]:
    if not (notice.audience or {}).get("groups"):
        return []
    return list(session.scalars(select(GroupChat).where(
        GroupChat.community_id == notice.community_id, GroupChat.purpose == "owners", GroupChat.active.is_(True))
        .order_by(GroupChat.id)))
