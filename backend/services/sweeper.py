"""The deadline sweeper: reminders before a deadline, then the escalation ladder.

Ladder per deadline (respond, then resolve): level 1 = the people handling it are
reminded shortly before the deadline; level 2 = at the deadline the owner is told it
is overdue; level 3 = one step later the department supervisor; level 4 = two steps
later the project manager. A resolved ticket left unconfirmed is closed after
`auto_close_resolved_days`.

Idempotent: each step moves `escalation_level` and `next_check_at` forward in the
same transaction as its notification. Safe with several workers on PostgreSQL:
rows are claimed with FOR UPDATE SKIP LOCKED; on SQLite writers are serialised.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import name
from backend.clock import Clock
from backend.db import transaction
from backend.domain import Action, Kind, Status
from backend.models import Staff, Ticket, TicketEvent
from backend.services import outbox, staff_directory
from backend.services.actor import Actor
from backend.services.outbox import Recipient
from backend.services.ticket_format import local_time, staff_label, ticket_params
from backend.services.tickets import TicketService
from backend.settings import Settings

FINAL_LEVEL = 4
SWEEP_BATCH = 50  # tickets per transaction: short row locks, small result sets


def due_query(now: datetime, limit: int):  # type: ignore[no-untyped-def]
    """Tickets whose next check is due, oldest first (uses the partial index ix_ticket_next_check)."""
    return (
        select(Ticket).where(Ticket.next_check_at <= now).order_by(Ticket.next_check_at).limit(limit)
    )


def sweep_once(session_factory: sessionmaker[Session], clock: Clock, settings: Settings, batch: int = SWEEP_BATCH) -> int:
    """Process every due ticket; returns the number of steps taken (notifications sent or closes)."""
    steps = 0
    while True:
        with transaction(session_factory) as session:
            query = due_query(clock.now(), batch)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=Ticket)
            tickets = list(session.scalars(query))
            for ticket in tickets:
                steps += _advance(session, ticket, clock, settings)
        if len(tickets) < batch:
            return steps


def _advance(session: Session, ticket: Ticket, clock: Clock, settings: Settings) -> int:
    now = clock.now()
    if ticket.escalation_deadline == "autoclose":
        ticket.next_check_at = None
        if ticket.status != Status.RESOLVED:
            return 0
        TicketService(session, clock, settings).close(Actor.system(ticket.community_id), ticket.id)
        return 1
    if ticket.status not in (Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED):
        ticket.next_check_at = None
        return 0
    due = ticket.respond_due_at if ticket.escalation_deadline == "respond" else ticket.resolve_due_at
    step = timedelta(
        minutes=settings.emergency_escalation_step_minutes if ticket.kind == Kind.EMERGENCY
        else settings.escalation_step_minutes
    )
    # When each level falls due; level 1 (the early reminder) is skipped once the deadline passed.
    level_at = {1: due - timedelta(minutes=settings.remind_before_minutes), 2: due, 3: due + step, 4: due + 2 * step}
    taken = 0
    while ticket.escalation_level < FINAL_LEVEL:
        level = ticket.escalation_level + 1
        if now < level_at[level]:
            break
        if level == 1 and now >= due:
            ticket.escalation_level = 1
            continue
        _notify_level(session, ticket, level, due, clock, settings)
        ticket.escalation_level = level
        taken += 1
    nxt = ticket.escalation_level + 1
    ticket.next_check_at = level_at[nxt] if nxt <= FINAL_LEVEL else None
    return taken


def _notify_level(session: Session, ticket: Ticket, level: int, due: datetime, clock: Clock,
                  settings: Settings) -> None:
    deadline = ticket.escalation_deadline
    owner = session.get(Staff, ticket.owner_id) if ticket.owner_id else None
    params = ticket_params(
        ticket, settings.timezone, due=local_time(due, settings.timezone), owner=staff_label(owner),
        deadline_zh=name(f"deadline.{deadline}"), deadline_en=name(f"deadline.{deadline}", "en"), level=level,
    )
    handlers = [sid for sid in (ticket.assignee_id, ticket.owner_id) if sid is not None]
    people = [Recipient.staff(sid) for sid in dict.fromkeys(handlers)] or [Recipient.dept(ticket.department)]
    if level == 1:
        kind, recipients = "ticket.remind_due", people
    elif level == 2:
        kind, recipients = "ticket.overdue_owner", people
    elif level == 3:
        kind = "ticket.escalated"
        recipients = [Recipient.staff(s.id) for s in staff_directory.supervisors_or_managers(
            session, ticket.community_id, ticket.department)]
    else:
        kind = "ticket.escalated"
        recipients = [Recipient.staff(s.id) for s in staff_directory.managers(session, ticket.community_id)]
    outbox.enqueue_unique(session, clock, ticket.community_id, recipients, kind, params, ticket.id)
    session.add(TicketEvent(
        community_id=ticket.community_id, ticket_id=ticket.id, at=clock.now(),
        action=Action.REMIND if level <= 2 else Action.ESCALATE, actor_type="system",
        from_status=ticket.status, to_status=ticket.status, note="",
        data={"level": level, "deadline": deadline, "recipients": [r.staff_id or r.department for r in recipients]},
    ))
