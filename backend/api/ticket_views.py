"""Turning tickets, their history and attachments into what the API shows (names, masks, flags)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.access import Principal, shown_phone
from backend.api.schemas.tickets import (
    AttachmentPublic,
    CategoryRef,
    EventPublic,
    ReporterRef,
    StaffRef,
    TicketDetail,
    TicketPublic,
)
from backend.catalogue import name
from backend.models import Attachment, Resident, Staff, Ticket, TicketEvent


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if not ticket.is_open:
        return False
    return (ticket.accepted_at is None and ticket.respond_due_at < now) or ticket.resolve_due_at < now


def _staff_refs(session: Session, ids: Iterable[int | None]) -> dict[int, StaffRef]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.scalars(select(Staff).where(Staff.id.in_(wanted)))
    return {s.id: StaffRef(id=s.id, name=s.name, department=s.department) for s in rows}


def _reporter(session: Session, principal: Principal, ticket: Ticket) -> ReporterRef | None:
    if ticket.anonymous or ticket.reporter_id is None:
        return None
    r = session.get(Resident, ticket.reporter_id)
    return ReporterRef(id=r.id, name=r.name, phone=shown_phone(principal, r.phone)) if r else None


def _fields(session: Session, principal: Principal, t: Ticket, now: datetime,
            staff: dict[int, StaffRef]) -> dict[str, object]:
    cat = t.category
    return dict(
        id=t.id, community_id=t.community_id, number=t.number, kind=t.kind,
        category=CategoryRef(code=cat.code, name_zh=cat.name_zh, name_en=cat.name_en),
        department=t.department, status=t.status, status_zh=name(f"status.{t.status}"), priority=t.priority,
        household_id=t.household_id, building_id=t.building_id, reporter=_reporter(session, principal, t),
        location=t.location, description=t.description, preferred_time=t.preferred_time, anonymous=t.anonymous,
        owner=staff.get(t.owner_id) if t.owner_id else None,
        assignee=staff.get(t.assignee_id) if t.assignee_id else None,
        overdue=is_overdue(t, now), escalation_level=t.escalation_level,
        respond_due_at=t.respond_due_at, resolve_due_at=t.resolve_due_at, accepted_at=t.accepted_at,
        started_at=t.started_at, resolved_at=t.resolved_at, closed_at=t.closed_at, rating=t.rating,
        rating_comment=t.rating_comment, created_at=t.created_at, updated_at=t.updated_at,
    )


def ticket_list(session: Session, principal: Principal, tickets: list[Ticket], now: datetime) -> list[TicketPublic]:
    staff = _staff_refs(session, [sid for t in tickets for sid in (t.owner_id, t.assignee_id)])
    return [TicketPublic(**_fields(session, principal, t, now, staff)) for t in tickets]  # type: ignore[arg-type]


def ticket_detail(session: Session, principal: Principal, ticket: Ticket, now: datetime) -> TicketDetail:
    events = list(session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
    ))
    attachments = list(session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    ))
    staff = _staff_refs(session, [ticket.owner_id, ticket.assignee_id, *(e.actor_staff_id for e in events)])
    return TicketDetail(
        **_fields(session, principal, ticket, now, staff),  # type: ignore[arg-type]
        events=[EventPublic(
            id=e.id, at=e.at, action=e.action, actor_type=e.actor_type,
            actor=staff.get(e.actor_staff_id) if e.actor_staff_id else None, from_status=e.from_status,
            to_status=e.to_status, note=e.note, data=e.data or {},
        ) for e in events],
        attachments=[AttachmentPublic.model_validate(a, from_attributes=True) for a in attachments],
    )
