"""Who may do what to a ticket from a chat; the services check again, this only shapes the buttons."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from backend.domain import OPEN_STATUSES, TRANSITIONS, Action, Role
from backend.models import Staff, Ticket
from backend.services import permissions
from backend.services.permissions import Perm


def may(action: Action, ticket: Ticket) -> bool:
    """The ticket's status allows the action."""
    allowed, _ = TRANSITIONS[action]
    return ticket.status in allowed


def can_handle(staff: Staff | None, ticket: Ticket) -> bool:
    """Owner, assignee, a supervisor of the department, or its staff while nobody has the ticket."""
    return permissions.allowed(staff, Perm.TICKET_HANDLE, permissions.of_ticket(None, ticket))


def can_accept(staff: Staff | None, ticket: Ticket) -> bool:
    """The ticket's department (and the teams an emergency pages), its steward, leads, the project manager."""
    return permissions.allowed(staff, Perm.TICKET_ACCEPT, permissions.of_ticket(object_session(ticket), ticket,
                                                                                paged=True))


def can_see_phone(staff: Staff | None, ticket: Ticket) -> bool:
    """Residents' full phones only for the people answering for the ticket (owner, assignee, supervisors)."""
    return permissions.allowed(staff, Perm.TICKET_PHONE, permissions.of_ticket(None, ticket))


def is_open(ticket: Ticket) -> bool:
    return ticket.status in OPEN_STATUSES


def sees_overdue(staff: Staff) -> str | None:
    """The department whose overdue tickets the staff member follows ("" = all); None for agents."""
    if staff.role == Role.MANAGER:
        return ""
    if staff.role == Role.SUPERVISOR:
        return staff.department
    return None


def checks_visitors(staff: Staff) -> bool:
    return permissions.allowed(staff, Perm.VISITOR_CHECK, permissions.gate(staff.community_id))
