"""Tickets: staff list, register and move them; resident-only moves (confirm, reopen, rate, chase) belong to chat."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.access import Principal
from backend.api.deps import (
    ClockDep,
    CommunityQuery,
    CurrentStaff,
    IdPath,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    StaffOnly,
    community_filter,
    community_target,
)
from backend.api.schemas.common import Id, Page
from backend.api.schemas.tickets import (
    CancelIn,
    CloseIn,
    NoteIn,
    PhotoIn,
    ResolveIn,
    TicketCreate,
    TicketDetail,
    TicketPublic,
    TransferIn,
)
from backend.api.ticket_views import ticket_detail, ticket_list
from backend.clock import Clock
from backend.domain import Department, Kind, Status
from backend.models import Ticket
from backend.services.tickets import NewTicket, TicketService
from backend.settings import Settings

router = APIRouter(prefix="/tickets", tags=["tickets"])


def _service(session: Session, clock: Clock, settings: Settings) -> TicketService:
    return TicketService(session, clock, settings)


def _load(session: Session, principal: Principal, ticket_id: int) -> Ticket:
    return principal.visible(session.get(Ticket, ticket_id), "工单")


@router.get("", response_model=Page[TicketPublic])
def list_tickets(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep, community: CommunityQuery = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    kind: Kind | None = None, department: Department | None = None,
    mine: Annotated[bool, Query(description="Only tickets I own or am working on (staff)")] = False,
    overdue: Annotated[bool, Query(description="Only open tickets past a deadline")] = False,
    number: Id | None = None, limit: Limit = 50, offset: Offset = 0,
) -> Page[TicketPublic]:
    query = select(Ticket)
    community_id = community_filter(session, principal, community)
    if community_id is not None:
        query = query.where(Ticket.community_id == community_id)
    if status_ is not None:
        query = query.where(Ticket.status == status_)
    if kind is not None:
        query = query.where(Ticket.kind == kind)
    if department is not None:
        query = query.where(Ticket.department == department)
    if number is not None:
        query = query.where(Ticket.number == number)
    if mine:
        if principal.staff is None:
            raise StaffOnly()
        me = principal.staff.id
        query = query.where((Ticket.owner_id == me) | (Ticket.assignee_id == me))
    if overdue:
        now = clock.now()
        late = (Ticket.accepted_at.is_(None) & (Ticket.respond_due_at < now)) | (Ticket.resolve_due_at < now)
        query = query.where(Ticket.is_open.is_(True), late)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)))
    return Page(items=ticket_list(session, principal, rows, clock.now()), total=total, limit=limit, offset=offset)


@router.post("", response_model=TicketDetail, status_code=status.HTTP_201_CREATED)
def create_ticket(
    body: TicketCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
    community: CommunityQuery = None,
) -> TicketDetail:
    """Register a ticket, usually on behalf of a resident (reporter_id) who called or came to the office."""
    community_id = community_target(session, principal, community)
    spec = NewTicket(**body.model_dump(), channel="api")
    ticket = _service(session, clock, settings).create(principal.actor(community_id), spec)
    return ticket_detail(session, principal, ticket, clock.now())


@router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(ticket_id: IdPath, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> TicketDetail:
    """The ticket with its full history (events) and attachments."""
    return ticket_detail(session, principal, _load(session, principal, ticket_id), clock.now())


def _moved(session: Session, principal: Principal, ticket: Ticket, clock: Clock) -> TicketDetail:
    session.flush()
    return ticket_detail(session, principal, ticket, clock.now())


@router.post("/{ticket_id}/accept", response_model=TicketDetail)
def accept_ticket(
    ticket_id: IdPath, session: SessionDep, me: CurrentStaff, clock: ClockDep, settings: SettingsDep,
) -> TicketDetail:
    """Take the work. When several press at once exactly one wins; the others get 409 naming who has it."""
    ticket = _service(session, clock, settings).accept(me.actor(me.staff.community_id), ticket_id)
    return _moved(session, me, ticket, clock)


@router.post("/{ticket_id}/transfer", response_model=TicketDetail)
def transfer_ticket(
    ticket_id: IdPath, body: TransferIn, session: SessionDep, me: CurrentStaff, clock: ClockDep,
    settings: SettingsDep,
) -> TicketDetail:
    """Hand the work to a colleague or a department; the owner stays accountable."""
    ticket = _service(session, clock, settings).transfer(
        me.actor(me.staff.community_id), ticket_id, to_staff_id=body.to_staff_id,
        to_department=body.to_department, note=body.note,
    )
    return _moved(session, me, ticket, clock)


@router.post("/{ticket_id}/start", response_model=TicketDetail)
def start_ticket(
    ticket_id: IdPath, session: SessionDep, me: CurrentStaff, clock: ClockDep, settings: SettingsDep,
) -> TicketDetail:
    ticket = _service(session, clock, settings).start(me.actor(me.staff.community_id), ticket_id)
    return _moved(session, me, ticket, clock)


@router.post("/{ticket_id}/resolve", response_model=TicketDetail)
def resolve_ticket(
    ticket_id: IdPath, body: ResolveIn, session: SessionDep, me: CurrentStaff, clock: ClockDep,
    settings: SettingsDep,
) -> TicketDetail:
    """Done; the resident is asked to confirm and rate."""
    ticket = _service(session, clock, settings).resolve(
        me.actor(me.staff.community_id), ticket_id, note=body.note, photo_url=body.photo_url)
    return _moved(session, me, ticket, clock)


@router.post("/{ticket_id}/close", response_model=TicketDetail)
def close_ticket(
    ticket_id: IdPath, body: CloseIn, session: SessionDep, me: CurrentStaff, clock: ClockDep,
    settings: SettingsDep,
) -> TicketDetail:
    """Close a resolved ticket without waiting for the resident (owner, assignee or supervisor)."""
    ticket = _service(session, clock, settings).close(me.actor(me.staff.community_id), ticket_id, note=body.note)
    return _moved(session, me, ticket, clock)


@router.post("/{ticket_id}/cancel", response_model=TicketDetail)
def cancel_ticket(
    ticket_id: IdPath, body: CancelIn, session: SessionDep, me: CurrentStaff, clock: ClockDep,
    settings: SettingsDep,
) -> TicketDetail:
    ticket = _service(session, clock, settings).cancel(me.actor(me.staff.community_id), ticket_id, reason=body.reason)
    return _moved(session, me, ticket, clock)


@router.post("/{ticket_id}/notes", response_model=TicketDetail, status_code=status.HTTP_201_CREATED)
def add_note(
    ticket_id: IdPath, body: NoteIn, session: SessionDep, me: CurrentStaff, clock: ClockDep, settings: SettingsDep,
) -> TicketDetail:
    """A note on the history; the resident is told."""
    _service(session, clock, settings).add_note(me.actor(me.staff.community_id), ticket_id, body.note)
    return _moved(session, me, _load(session, me, ticket_id), clock)


@router.post("/{ticket_id}/photos", response_model=TicketDetail, status_code=status.HTTP_201_CREATED)
def add_photo(
    ticket_id: IdPath, body: PhotoIn, session: SessionDep, me: CurrentStaff, clock: ClockDep, settings: SettingsDep,
) -> TicketDetail:
    """Attach a photo already stored under the media directory or at a URL."""
    _service(session, clock, settings).add_photo(
        me.actor(me.staff.community_id), ticket_id, body.url, body.content_type)
    return _moved(session, me, _load(session, me, ticket_id), clock)

