"""Each Telegram update is handled once: its update_id is recorded in the handling's own transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import ProcessedUpdate
from bot.telegram import limits

CHANNEL = "telegram"


def first_time(session: Session, update_id: int, clock: Clock) -> bool:
    """Record the update; False when it was recorded before (a webhook retry, a restart, a second worker)."""
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(channel=CHANNEL, key=str(update_id), created_at=clock.now()))
            session.flush()
    except IntegrityError:
        return False
    return True


def prune(session: Session, clock: Clock) -> int:
    """Forget update ids older than the retention window (run at start-up)."""
    cutoff = clock.now() - timedelta(days=limits.PROCESSED_UPDATE_RETENTION_DAYS)
    return session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.channel == CHANNEL,
                                                         ProcessedUpdate.created_at < cutoff)).rowcount
