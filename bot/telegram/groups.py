"""Telegram groups registered to a community: department work groups and the owners' group."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.catalogue import name
from backend.clock import Clock
from backend.domain import Department, Role
from backend.models import ChatIdentity, Community, GroupChat, Staff
from backend.settings import Settings
from handlers.identity import find_community

CHANNEL = "telegram"
OWNERS, DEPARTMENT = "owners", "department"
# Departments with a work group, by code and by the names staff type.
DEPARTMENT_NAMES: dict[str, Department] = {}
for _dept in (Department.ENGINEERING, Department.SECURITY, Department.ENVIRONMENT, Department.CUSTOMER_SERVICE):
    for _alias in (_dept.value, name(f"dept.{_dept.value}", "zh"), name(f"dept.{_dept.value}", "en")):
        DEPARTMENT_NAMES[_alias.strip().lower()] = _dept
DEPARTMENT_NAMES.update({"客服": Department.CUSTOMER_SERVICE, "工程": Department.ENGINEERING,
                         "安保": Department.SECURITY, "安保部": Department.SECURITY, "保安": Department.SECURITY, "环境": Department.ENVIRONMENT,
                         "customer-service": Department.CUSTOMER_SERVICE, "cs": Department.CUSTOMER_SERVICE})


def department_of(text: str) -> Department | None:
    return DEPARTMENT_NAMES.get(text.strip().lower())


def find(session: Session, chat_id: str) -> GroupChat | None:
    return session.scalar(select(GroupChat).where(GroupChat.channel == CHANNEL, GroupChat.chat_id == chat_id))


def active(session: Session, chat_id: str) -> GroupChat | None:
    group = find(session, chat_id)
    return group if group is not None and group.active else None


def registrar(session: Session, user_id: str) -> Staff | None:
    """The bound, active manager or supervisor writing from this Telegram account, if any."""
    for identity in session.scalars(select(ChatIdentity).where(
            ChatIdentity.channel == CHANNEL, ChatIdentity.external_id == user_id, ChatIdentity.staff_id.is_not(None))):
        staff = session.get(Staff, identity.staff_id)
        if staff is not None and staff.active and staff.role in (Role.MANAGER, Role.SUPERVISOR):
            return staff
    return None


def register(session: Session, clock: Clock, community_id: int, chat_id: str, title: str,
             department: Department | None) -> GroupChat:
    """Register (or re-register) the group: a department's work group, or the owners' group without one."""
    group = find(session, chat_id)
    if group is None:
        group = GroupChat(channel=CHANNEL, chat_id=chat_id, community_id=community_id, created_at=clock.now())
        session.add(group)
    group.community_id = community_id
    group.purpose = DEPARTMENT if department is not None else OWNERS
    group.department = department.value if department is not None else None
    group.title = title[:200]
    group.active = True
    session.flush()
    return group


def deactivate(session: Session, chat_id: str) -> bool:
    """The bot left or was removed: nothing more goes to the group until it is registered again."""
    group = find(session, chat_id)
    if group is None or not group.active:
        return False
    group.active = False
    return True


def migrate(session: Session, old_chat_id: str, new_chat_id: str) -> None:
    """A group upgraded to a supergroup gets a new id; keep its registration."""
    group = find(session, old_chat_id)
    if group is not None and find(session, new_chat_id) is None:
        group.chat_id = new_chat_id


def find_default_community(session: Session, settings: Settings) -> Community | None:
    return find_community(session, None, settings)
