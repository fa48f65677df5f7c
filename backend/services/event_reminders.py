"""The day-before reminder of an event: a periodic job, exactly once per event.

An open event starting within the next 24 hours, with people signed up, gets one event_reminder Notice
(audience {"event_id": n}: those signed up only, not the waiting list, since it asks for the check-in code)
for the broadcast engine. The event's `reminded_at` is set by a conditional UPDATE in the same transaction
as the Notice, so two workers (or a crash and a rerun) never send two.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import CommunityEvent
from backend.services import audience as audiences
from backend.services import event_admin
from backend.services.events import OPEN
from backend.settings import Settings

AHEAD = timedelta(hours=24)


def remind_once(session_factory: sessionmaker[Session], clock: Clock, settings: Settings) -> int:
    """Queue the reminders now due; returns how many events were reminded."""
    now = clock.now()
    with transaction(session_factory) as session:
        due = list(session.scalars(select(CommunityEvent.id).where(
            CommunityEvent.status == OPEN, CommunityEvent.reminded_at.is_(None),
            CommunityEvent.starts_at > now, CommunityEvent.starts_at <= now + AHEAD).order_by(CommunityEvent.id)))
    reminded = 0
    for event_id in due:
        with transaction(session_factory) as session:
            claimed = session.execute(
                update(CommunityEvent).where(CommunityEvent.id == event_id, CommunityEvent.reminded_at.is_(None),
                                             CommunityEvent.status == OPEN).values(reminded_at=clock.now()),
                execution_options={"synchronize_session": False})
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue
            event = session.get(CommunityEvent, event_id)
            assert event is not None
            # Nobody signed up (or all of them muted events): no notice; marked anyway, never looked at again.
            if event_admin.push_if_anyone(session, clock, settings, event, "event_reminder",
                                          audiences.event_signed(event_id), None) is not None:
                reminded += 1
    return reminded
