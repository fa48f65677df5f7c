"""Who may do what, defined once: role x action x scope.

A staff member has one profile (project manager, customer-service lead, customer service, department
lead, department agent). Each action grants each profile a set of scopes; the action is allowed on a
target when one of them covers it:

- `own_ticket`: the staff member owns the ticket or holds (is assigned) it;
- `own_buildings`: the target is in a building the staff member is steward (管家) of;
- `own_department`: the target belongs to the staff member's department;
- `unheld_own_department`: own department, and nobody owns or holds the ticket yet;
- `community`: anywhere in the staff member's community.

Nothing ever reaches across communities, except the company admin (role `admin`), whose `community`
scope covers every community. The REST API (backend/api), the chat buttons and commands
(through the services) and the staff cards ask here; the operator's admin token is allowed everything
by the API before it gets here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain import Department, Kind, Role
from backend.errors import Forbidden
from backend.models import BindRequest, Building, Household, Staff, Ticket


class Profile(StrEnum):
    ADMIN = "admin"  # company admin: everything, in every community
    MANAGER = "manager"  # project manager
    CS_LEAD = "cs_lead"  # customer-service supervisor
    CS = "cs"  # customer service (stewards)
    LEAD = "lead"  # supervisor of security, engineering or environment
    AGENT = "agent"  # everyone else


class Scope(StrEnum):
    OWN_TICKET = "own_ticket"
    OWN_BUILDINGS = "own_buildings"
    OWN_DEPARTMENT = "own_department"
    UNHELD_OWN_DEPARTMENT = "unheld_own_department"
    COMMUNITY = "community"


class Perm(StrEnum):
    TICKET_ACCEPT = "ticket.accept"  # take unheld work (REST accept, the 接单 button, /accept)
    TICKET_HANDLE = "ticket.handle"  # transfer, resolve, close, cancel, notes by staff
    TICKET_PHONE = "ticket.phone"  # the reporter's full phone on a task card
    BINDING_DECIDE = "binding.decide"  # approve or reject a request to bind a home (b:ok / b:no)
    FAQ_WRITE = "faq.write"  # create, edit, delete the answers residents get
    RECORDS_WRITE = "records.write"  # buildings, households, residents
    PHONES_SEE = "phones.see"  # full phone numbers in the REST API
    STAFF_MANAGE = "staff.manage"  # staff records and other people's API tokens
    COMMUNITY_EDIT = "community.edit"  # the community's settings
    VISITOR_CHECK = "visitor.check"  # verify a visitor's gate code, see today's expected visitors
    NOTICE_SEND = "notice.send"  # compose, schedule and cancel notices to residents, staff and groups
    NOTICE_READ = "notice.read"  # list notices, their delivery report and its export
    EVENT_MANAGE = "event.manage"  # create, edit, cancel events (pushes invitations), attendee lists
    EVENT_CHECKIN = "event.checkin"  # check residents in at an event's door by code or QR
    BILLING_WRITE = "billing.write"  # enter and import bills and payments (stops arrears reminders)
    # The office console (bot/console)
    TICKETS_BOARD = "console.tickets"  # the tickets board: which tickets one sees there
    CATEGORY_EDIT = "category.edit"  # ticket categories: deadlines and departments
    DUTY_SET = "staff.duty"  # put a staff member on or off duty
    AUDIT_SEE = "audit.see"  # the audit trail of office-data edits
    KPI_VIEW = "kpi.view"  # the KPI dashboard, its XLSX export and the weekly digest's figures


C, OT, OB, OD, UD = (Scope.COMMUNITY, Scope.OWN_TICKET, Scope.OWN_BUILDINGS, Scope.OWN_DEPARTMENT,
                     Scope.UNHELD_OWN_DEPARTMENT)
M, CL, CS, LD, AG = Profile.MANAGER, Profile.CS_LEAD, Profile.CS, Profile.LEAD, Profile.AGENT

# The matrix. A profile missing from an action's row may not do it at all.
MATRIX: dict[Perm, dict[Profile, frozenset[Scope]]] = {
    Perm.TICKET_ACCEPT: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({OT, OB, OD}),
                         LD: frozenset({OT, OD}), AG: frozenset({OT, OD})},
    Perm.TICKET_HANDLE: {M: frozenset({C}), CL: frozenset({OT, OD}), CS: frozenset({OT, UD}),
                         LD: frozenset({OT, OD}), AG: frozenset({OT, UD})},
    Perm.TICKET_PHONE: {M: frozenset({C}), CL: frozenset({OT, OD}), CS: frozenset({OT}),
                        LD: frozenset({OT, OD}), AG: frozenset({OT})},
    Perm.BINDING_DECIDE: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({C})},
    Perm.FAQ_WRITE: {M: frozenset({C}), CL: frozenset({C})},
    Perm.RECORDS_WRITE: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({C})},
    Perm.PHONES_SEE: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({C}), LD: frozenset({C})},
    Perm.STAFF_MANAGE: {M: frozenset({C})},
    Perm.COMMUNITY_EDIT: {M: frozenset({C})},
    Perm.VISITOR_CHECK: {M: frozenset({C}), LD: frozenset({OD}), AG: frozenset({OD})},  # target: the gate (security)
    # Notices speak for the office: the manager and customer service (supervisor and agents) write them.
    Perm.NOTICE_SEND: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({C})},
    Perm.NOTICE_READ: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({C}), LD: frozenset({C})},
    Perm.EVENT_MANAGE: {M: frozenset({C}), CL: frozenset({C})},
    # target: the event's door (customer service and security staff it)
    Perm.EVENT_CHECKIN: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({C}), LD: frozenset({OD}),
                         AG: frozenset({OD})},
    Perm.BILLING_WRITE: {M: frozenset({C}), CL: frozenset({C}), LD: frozenset({OD})},  # target: the office's books
    Perm.TICKETS_BOARD: {M: frozenset({C}), CL: frozenset({C}), CS: frozenset({OT, OB, OD}),
                         LD: frozenset({OT, OD}), AG: frozenset({OT, OD})},
    Perm.CATEGORY_EDIT: {M: frozenset({C}), CL: frozenset({C})},
    Perm.DUTY_SET: {M: frozenset({C}), CL: frozenset({C}), LD: frozenset({OD})},  # target: the staff member
    Perm.AUDIT_SEE: {M: frozenset({C}), CL: frozenset({C})},
    Perm.KPI_VIEW: {M: frozenset({C}), CL: frozenset({C})},  # the whole community's figures
}
for _row in MATRIX.values():  # the company admin: everything, everywhere
    _row[Profile.ADMIN] = frozenset({C})

# An emergency pages security and engineering besides its own department: each of them may take it.
EMERGENCY_DEPARTMENTS = frozenset({Department.SECURITY.value, Department.ENGINEERING.value})


@dataclass(frozen=True)
class Target:
    """What an action is about, reduced to what scopes look at."""

    community_id: int
    departments: frozenset[str] = frozenset()
    steward_id: int | None = None  # the steward of the target's building
    owner_id: int | None = None
    assignee_id: int | None = None


def profile_of(staff: Staff) -> Profile:
    if staff.role == Role.ADMIN:
        return Profile.ADMIN
    if staff.role == Role.MANAGER:
        return Profile.MANAGER
    if staff.department == Department.CUSTOMER_SERVICE:
        return Profile.CS_LEAD if staff.role == Role.SUPERVISOR else Profile.CS
    return Profile.LEAD if staff.role == Role.SUPERVISOR else Profile.AGENT


def scopes(staff: Staff, perm: Perm) -> frozenset[Scope]:
    return MATRIX[perm].get(profile_of(staff), frozenset())


def covers(scope: Scope, staff: Staff, target: Target) -> bool:
    if scope == Scope.COMMUNITY:
        return True
    if scope == Scope.OWN_TICKET:
        return staff.id in (target.owner_id, target.assignee_id)
    if scope == Scope.OWN_BUILDINGS:
        return target.steward_id is not None and target.steward_id == staff.id
    if scope == Scope.OWN_DEPARTMENT:
        return staff.department in target.departments
    if scope == Scope.UNHELD_OWN_DEPARTMENT:
        return staff.department in target.departments and target.owner_id is None and target.assignee_id is None
    raise ValueError(scope)


def allowed(staff: Staff | None, perm: Perm, target: Target) -> bool:
    if staff is None or not staff.active:
        return False
    if staff.community_id != target.community_id and profile_of(staff) is not Profile.ADMIN:
        return False
    return any(covers(scope, staff, target) for scope in scopes(staff, perm))


def require(staff: Staff | None, perm: Perm, target: Target) -> None:
    if not allowed(staff, perm, target):
        raise Forbidden()


# ---- targets -------------------------------------------------------------------------------


def community(community_id: int) -> Target:
    return Target(community_id)


def _steward(session: Session | None, building_id: int | None) -> int | None:
    if session is None or building_id is None:
        return None
    return session.scalar(select(Building.steward_id).where(Building.id == building_id))


def of_ticket(session: Session | None, ticket: Ticket, *, paged: bool = False) -> Target:
    """`paged`: the departments an emergency pages count as the ticket's (who may take it, not who handles it)."""
    departments: Iterable[str] = {ticket.department}
    if paged and ticket.kind == Kind.EMERGENCY:
        departments = {ticket.department, *EMERGENCY_DEPARTMENTS}
    return Target(ticket.community_id, frozenset(departments), _steward(session, ticket.building_id),
                  ticket.owner_id, ticket.assignee_id)


def of_bind_request(session: Session, request: BindRequest) -> Target:
    building_id = session.scalar(select(Household.building_id).where(Household.id == request.household_id))
    return Target(request.community_id, frozenset({Department.CUSTOMER_SERVICE.value}), _steward(session, building_id))


def event_door(community_id: int) -> Target:
    """An event's door: customer service runs it, security keeps it."""
    return Target(community_id, frozenset({Department.CUSTOMER_SERVICE.value, Department.SECURITY.value}))


def books(community_id: int) -> Target:
    """Bills and payments: the management office's books."""
    return Target(community_id, frozenset({Department.MANAGEMENT.value}))


def of_staff(member: Staff) -> Target:
    """A staff member as the target (duty): their department's."""
    return Target(member.community_id, frozenset({member.department}))


def gate(community_id: int) -> Target:
    """The community's gate: security's work."""
    return Target(community_id, frozenset({Department.SECURITY.value}))
