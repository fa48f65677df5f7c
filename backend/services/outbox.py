"""Writing notifications into the outbox, and claiming them for delivery.

Writers run inside the caller's transaction, so a change and the messages it
causes commit together. Delivery workers claim rows with a lease, so two
workers never send the same row and a crashed worker's rows come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, insert, or_, select, update
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import Notification


@dataclass(frozen=True)
class Recipient:
    type: str  # resident | staff | department
    resident_id: int | None = None
    staff_id: int | None = None
    department: str | None = None

    @classmethod
    def resident(cls, resident_id: int) -> Recipient:
        return cls("resident", resident_id=resident_id)

    @classmethod
    def staff(cls, staff_id: int) -> Recipient:
        return cls("staff", staff_id=staff_id)

    @classmethod
    def dept(cls, department: str) -> Recipient:
        return cls("department", department=department)


# What every new notification starts with (also written as literals by the ticket hot path).
NEW_ROW: dict[str, Any] = {
    "status": "pending", "attempts": 0, "claimed_by": None, "claimed_until": None, "sent_at": None, "error": "",
}


def row(
    clock: Clock, community_id: int, to: Recipient, kind: str, params: dict[str, Any], ticket_id: int | None = None,
) -> dict[str, Any]:
    """The column values of one pending notification."""
    now = clock.now()
    return {
        "community_id": community_id, "created_at": now, "recipient_type": to.type, "resident_id": to.resident_id,
        "staff_id": to.staff_id, "department": to.department, "kind": kind, "params": params,
        "ticket_id": ticket_id, "next_attempt_at": now, **NEW_ROW,
    }


def enqueue(
    session: Session, clock: Clock, community_id: int, to: Recipient, kind: str,
    params: dict[str, Any], ticket_id: int | None = None,
) -> Notification:
    note = Notification(**row(clock, community_id, to, kind, params, ticket_id))
    session.add(note)
    return note


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write many notifications in one statement (hot paths that need no ORM objects back)."""
    if rows:
        session.flush()  # a Core statement does not autoflush: pending rows it may refer to go first
        session.execute(insert(Notification.__table__), rows)


def enqueue_unique(
    session: Session, clock: Clock, community_id: int, recipients: list[Recipient], kind: str,
    params: dict[str, Any], ticket_id: int | None = None,
) -> list[Notification]:
    """Enqueue one notification per distinct recipient."""
    seen: set[Recipient] = set()
    out = []
    for to in recipients:
        if to in seen:
            continue
        seen.add(to)
        out.append(enqueue(session, clock, community_id, to, kind, params, ticket_id))
    return out


def claim_due(
    session: Session, clock: Clock, worker: str, limit: int = 50, lease_seconds: float = 60,
    channel_filter: Any = None,
) -> list[Notification]:
    """Lease up to `limit` due notifications under the claim `worker` (commit to make the lease visible).

    The claim is the fencing token: every later write about these rows names it and does nothing once
    another worker has taken the row over, so pass a value unique to this claim.
    """
    now = clock.now()
    query = (
        select(Notification)
        .where(
            Notification.status == "pending",
            Notification.next_attempt_at <= now,
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if channel_filter is not None:
        query = query.where(channel_filter)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    until = now + timedelta(seconds=lease_seconds)
    for row in rows:
        row.claimed_by, row.claimed_until = worker, until
    session.flush()
    return rows


def _fenced(note_id: int, claim: str | None) -> Any:
    """The WHERE of a write about a leased row: still pending and, given a claim, still held by it."""
    where = [Notification.id == note_id, Notification.status == "pending"]
    if claim is not None:
        where.append(Notification.claimed_by == claim)
    return and_(*where)


def renew(session: Session, clock: Clock, claim: str, lease_seconds: float, note_id: int | None = None) -> int:
    """Extend the lease of the rows still held by `claim` (of one row, given `note_id`); how many were held."""
    query = update(Notification).where(Notification.claimed_by == claim, Notification.status == "pending")
    if note_id is not None:
        query = query.where(Notification.id == note_id)
    result = session.execute(query.values(claimed_until=clock.now() + timedelta(seconds=lease_seconds)),
                             execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_sent(session: Session, clock: Clock, note_id: int, claim: str | None = None) -> bool:
    result = session.execute(
        update(Notification).where(_fenced(note_id, claim))
        .values(status="sent", sent_at=clock.now(), claimed_by=None, claimed_until=None),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_retry(session: Session, clock: Clock, note_id: int, error: str, delay_seconds: float,
               max_attempts: int = 8, claim: str | None = None) -> bool:
    """Release the row for a later attempt (or give up after `max_attempts`), in one fenced UPDATE."""
    result = session.execute(
        update(Notification).where(_fenced(note_id, claim))
        .values(attempts=Notification.attempts + 1, error=error[:2000], claimed_by=None, claimed_until=None,
                status=case((Notification.attempts + 1 >= max_attempts, "failed"), else_=Notification.status),
                next_attempt_at=clock.now() + timedelta(seconds=delay_seconds)),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_unreachable(session: Session, clock: Clock, note_id: int, error: str, claim: str | None = None) -> bool:
    result = session.execute(
        update(Notification).where(_fenced(note_id, claim))
        .values(status="unreachable", error=error[:2000], claimed_by=None, claimed_until=None,
                sent_at=None),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def pending_count(session: Session, before: datetime | None = None) -> int:
    from sqlalchemy import func

    q = select(func.count()).select_from(Notification).where(Notification.status == "pending")
    if before is not None:
        q = q.where(Notification.next_attempt_at <= before)
    return int(session.scalar(q) or 0)
