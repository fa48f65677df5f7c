"""Who a notification reaches, chat by chat: a person's identities, or a department's groups or duty staff."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import ChatIdentity, GroupChat, Notification, Resident
from backend.services import staff_directory
from bot.delivery.sender import Target

# Kinds that must reach people individually as well as their department's group.
PERSONAL_ALERTS = frozenset({"ticket.emergency_alert"})


def _identities(session: Session, *, resident_id: int | None = None, staff_id: int | None = None,
                audience: str) -> list[Target]:
    query = select(ChatIdentity).where(ChatIdentity.unreachable.is_(False))
    query = query.where(ChatIdentity.resident_id == resident_id) if resident_id is not None \
        else query.where(ChatIdentity.staff_id == staff_id)
    lang = "zh"
    if resident_id is not None:
        resident = session.get(Resident, resident_id)
        lang = resident.language if resident and resident.language else "zh"
    return [Target(i.channel, i.external_id, audience, lang, identity_id=i.id)
            for i in session.scalars(query.order_by(ChatIdentity.id))]


def targets_for(session: Session, note: Notification) -> list[Target]:
    if note.recipient_type == "resident" and note.resident_id is not None:
        return _identities(session, resident_id=note.resident_id, audience="resident")
    if note.recipient_type == "staff" and note.staff_id is not None:
        return _identities(session, staff_id=note.staff_id, audience="staff")
    if note.recipient_type != "department" or not note.department:
        return []
    groups = [Target(g.channel, g.chat_id, "group", group_id=g.id) for g in session.scalars(
        select(GroupChat).where(GroupChat.community_id == note.community_id, GroupChat.purpose == "department",
                                GroupChat.department == note.department, GroupChat.active.is_(True)))]
    people: list[Target] = []
    if not groups or note.kind in PERSONAL_ALERTS:
        for staff in staff_directory.on_duty(session, note.community_id, note.department):
            people += _identities(session, staff_id=staff.id, audience="staff")
    seen: set[str] = set()
    out = []
    for target in [*groups, *people]:
        if target.key not in seen:
            seen.add(target.key)
            out.append(target)
    return out
