"""A hand-built set of tickets whose KPI figures are worked out by hand (see tests/backend/test_kpi.py).

Period: local (Asia/Shanghai) Monday 2026-11-02 to Sunday 2026-11-15; "now" is 2026-11-20 09:00 UTC.
Times below are UTC. Building 1: E1, E2, E3, E5, P1; building 2: P2, P3, P4, N1, E4.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Ticket, TicketCategory
from tests.builders import World

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 15)
NOW = datetime(2026, 11, 20, 9, 0)


def add(session: Session, world: World, category: str, created: datetime, *, building: str = "1",
        accepted: float | None = None, resolved: float | None = None, rating: int | None = None,
        owner: str | None = None, status: str | None = None, level: int = 0) -> Ticket:
    """`accepted`/`resolved`: minutes after `created`."""
    cid = world.community.id
    cat = session.scalar(select(TicketCategory).where(TicketCategory.community_id == cid,
                                                      TicketCategory.code == category))
    session.flush()
    number = (session.scalar(select(func.max(Ticket.number)).where(Ticket.community_id == cid)) or 0) + 1
    accepted_at = created + timedelta(minutes=accepted) if accepted is not None else None
    resolved_at = created + timedelta(minutes=resolved) if resolved is not None else None
    if status is None:
        status = "closed" if resolved_at else "accepted" if accepted_at else "new"
    staff = world.staff[owner] if owner else None
    ticket = Ticket(
        community_id=cid, number=number, kind=cat.kind, category_id=cat.id, department=cat.department,
        status=status, is_open=status in ("new", "accepted", "in_progress", "reopened"),
        household_id=world.households[building].id, building_id=world.buildings[building].id,
        owner_id=staff.id if staff else None, assignee_id=staff.id if staff else None,
        respond_due_at=created + timedelta(minutes=cat.respond_minutes),
        resolve_due_at=created + timedelta(minutes=cat.resolve_minutes),
        accepted_at=accepted_at, resolved_at=resolved_at, closed_at=resolved_at, escalation_level=level,
        rating=rating, created_at=created, updated_at=resolved_at or accepted_at or created,
    )
    session.add(ticket)
    return ticket


def seed(session: Session, world: World, other: World | None = None) -> None:
    d = datetime
    add(session, world, "emergency", d(2026, 11, 3, 2), accepted=3, resolved=90, rating=5, owner="tech2")  # E1
    add(session, world, "emergency", d(2026, 11, 4, 2), accepted=15, resolved=23 * 60, owner="tech2")  # E2
    add(session, world, "emergency", d(2026, 11, 5, 2), accepted=20, resolved=30 * 60, rating=2, owner="tech2")  # E3
    add(session, world, "emergency", d(2026, 11, 10, 2), building="2")  # E4: nobody came
    add(session, world, "emergency", d(2026, 11, 6, 2), status="cancelled")  # E5
    add(session, world, "plumbing", d(2026, 11, 2, 1), accepted=10, resolved=5 * 60, rating=5, owner="tech1")  # P1
    add(session, world, "plumbing", d(2026, 11, 8, 16, 30), building="2", accepted=45, resolved=20 * 60, rating=3,
        owner="tech1")  # P2: Monday 00:30 local
    add(session, world, "plumbing", d(2026, 11, 12, 2), building="2", accepted=5, owner="tech2", level=3)  # P3
    add(session, world, "plumbing", d(2026, 11, 15, 15, 59), building="2")  # P4: Sunday 23:59 local
    add(session, world, "noise", d(2026, 11, 11, 2), building="2", accepted=30, resolved=120, rating=4,
        owner="cs1")  # N1
    # Outside the period: Sunday 23:00 local before it, Monday 00:30 local after it, and one reported just now.
    add(session, world, "plumbing", d(2026, 11, 1, 15), accepted=1, resolved=2, rating=1)
    add(session, world, "plumbing", d(2026, 11, 15, 16, 30), accepted=1, resolved=2, rating=1)
    add(session, world, "plumbing", NOW - timedelta(minutes=10))
    if other is not None:  # another community: one late emergency in the period, one open overdue repair
        add(session, other, "emergency", d(2026, 11, 3, 2), accepted=40, resolved=60, rating=1, owner="tech1")
        add(session, other, "lift", d(2026, 11, 9, 2))
    session.commit()
