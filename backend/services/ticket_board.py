"""The console's tickets board: the tickets a staff member may see, filtered and searched.

Which tickets a viewer sees comes from the permission matrix (Perm.TICKETS_BOARD): the community, or the
union of their own tickets, their buildings and their department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from backend.clock import Clock
from backend.domain import Kind
from backend.models import Building, Staff, Ticket, TicketCategory
from backend.services import permissions
from backend.services.permissions import Perm, Scope

PAGE = 50


@dataclass
class BoardFilter:
    status: str = ""  # a status, or "open"
    kind: str = ""
    category: str = ""  # category code
    building: str = ""  # building code
    owner_id: int | None = None
    handler_id: int | None = None
    overdue: bool = False
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    q: str = ""


def visible(staff: Staff, community_id: int) -> Any:
    """The SQL condition of the tickets `staff` sees on the board in `community_id`."""
    granted = permissions.scopes(staff, Perm.TICKETS_BOARD)
    if Scope.COMMUNITY in granted and permissions.allowed(staff, Perm.TICKETS_BOARD,
                                                          permissions.community(community_id)):
        return Ticket.community_id == community_id
    if not staff.active or staff.community_id != community_id:
        return false()
    conds: list[Any] = []
    if Scope.OWN_TICKET in granted:
        conds += [Ticket.owner_id == staff.id, Ticket.assignee_id == staff.id]
    if Scope.OWN_DEPARTMENT in granted:
        conds.append(Ticket.department == staff.department)
        if staff.department in permissions.EMERGENCY_DEPARTMENTS:  # an emergency pages them whatever its department
            conds.append(Ticket.kind == Kind.EMERGENCY.value)
    if Scope.OWN_BUILDINGS in granted:
        conds.append(Ticket.building_id.in_(select(Building.id).where(Building.steward_id == staff.id)))
    return (Ticket.community_id == community_id) & or_(*conds) if conds else false()


def search(session: Session, clock: Clock, staff: Staff, community_id: int, f: BoardFilter,
           limit: int = PAGE, offset: int = 0) -> list[Ticket]:
    query = select(Ticket).options(joinedload(Ticket.category)).where(visible(staff, community_id))
    if f.status == "open":
        query = query.where(Ticket.is_open.is_(True))
    elif f.status:
        query = query.where(Ticket.status == f.status)
    if f.kind:
        query = query.where(Ticket.kind == f.kind)
    if f.category:
        query = query.where(Ticket.category_id.in_(select(TicketCategory.id).where(
            TicketCategory.community_id == community_id, TicketCategory.code == f.category)))
    if f.building:
        query = query.where(Ticket.building_id.in_(select(Building.id).where(
            Building.community_id == community_id, Building.code == f.building)))
    if f.owner_id is not None:
        query = query.where(Ticket.owner_id == f.owner_id)
    if f.handler_id is not None:
        query = query.where(Ticket.assignee_id == f.handler_id)
    if f.overdue:
        now = clock.now()
        late = (Ticket.accepted_at.is_(None) & (Ticket.respond_due_at < now)) | (Ticket.resolve_due_at < now)
        query = query.where(Ticket.is_open.is_(True), late)
    if f.since is not None:
        query = query.where(Ticket.created_at >= f.since)
    if f.until is not None:
        query = query.where(Ticket.created_at < f.until)
    if f.q.strip():  # LIKE on both databases; the words must all occur (description or location)
        for word in f.q.split()[:5]:
            pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(func.lower(Ticket.description).like(pattern, escape="\\"),
                                    func.lower(Ticket.location).like(pattern, escape="\\")))
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query).unique())


def is_late(ticket: Ticket, now: datetime) -> bool:
    if not ticket.is_open:
        return False
    return (ticket.accepted_at is None and ticket.respond_due_at < now) or ticket.resolve_due_at < now
