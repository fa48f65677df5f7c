"""Who may do what to a ticket from a chat; the services check again, this only shapes the buttons."""

from __future__ import annotations

from backend.domain import OPEN_STATUSES, TRANSITIONS, Action, Department, Role
from backend.models import Staff, Ticket
from backend.services import staff_directory


def may(action: Action, ticket: Ticket) -> bool:
    """The ticket's status allows the action."""
    allowed, _ = TRANSITIONS[action]
    return ticket.status in allowed


def can_handle(staff: Staff | None, ticket: Ticket) -> bool:
    """Owner, assignee, a supervisor of the department, or its staff while nobody has the ticket."""
    if staff is None:
        return False
    if staff.id in (ticket.owner_id, ticket.assignee_id):
        return True
    if staff_directory.can_supervise(staff, ticket.department):
        return True
    return ticket.assignee_id is None and ticket.owner_id is None and staff.department == ticket.department


def can_see_phone(staff: Staff | None, ticket: Ticket) -> bool:
    """Residents' full phones only for the people answering for the ticket (owner, assignee, supervisors)."""
    if staff is None:
        return False
    return staff.id in (ticket.owner_id, ticket.assignee_id) or staff_directory.can_supervise(staff, ticket.department)


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
    return staff.department == Department.SECURITY or staff.role == Role.MANAGER
