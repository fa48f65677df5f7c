"""The demo's ticket history: weeks of realistic, consistent, deterministic tickets for the KPI dashboard."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from backend.models import Counter, Notification, Resident, Staff, Ticket, TicketEvent
from backend.services.actor import Actor
from backend.services.demo import seed_demo
from backend.services.demo_history import HISTORY_CHANNEL, HISTORY_WEEKS
from backend.services.kpi import Period, dashboard
from backend.services.kpi_digest import send_due_digests
from backend.services.kpi_texts import DIGEST_KIND
from backend.services.sweeper import sweep_once
from backend.services.tickets import NewTicket, TicketService

NOW = datetime(2026, 12, 1, 9, 0)


def summary(session) -> list[tuple]:
    return list(session.execute(select(Ticket.number, Ticket.status, Ticket.created_at, Ticket.accepted_at,
                                       Ticket.resolved_at, Ticket.rating, Ticket.assignee_id)
                                .where(Ticket.reporter_channel == HISTORY_CHANNEL).order_by(Ticket.created_at)))


def test_the_plain_demo_has_no_history(session, settings, clock) -> None:
    seed_demo(session, settings, clock)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_history_is_there_consistent_and_fast(session, session_factory, settings, clock, db_url) -> None:
    clock.set(NOW)
    started = time.perf_counter()
    community = seed_demo(session, settings, clock, history=True)
    session.commit()
    if db_url.startswith("sqlite"):
        assert time.perf_counter() - started < 3  # as tests/backend/test_demo.py asks of the plain demo
    tickets = session.scalars(select(Ticket).where(Ticket.community_id == community.id)).all()
    assert 300 < len(tickets) < 700
    assert min(t.created_at for t in tickets) >= NOW - timedelta(weeks=HISTORY_WEEKS)
    assert max(t.created_at for t in tickets) < NOW
    assert len({t.number for t in tickets}) == len(tickets)
    assert session.scalar(select(Counter.value).where(Counter.community_id == community.id)) == max(
        t.number for t in tickets)
    statuses = {t.status for t in tickets}
    assert {"closed", "cancelled", "in_progress"} <= statuses
    for t in tickets:  # every story in order, its timestamps where its status says
        assert t.accepted_at is None or t.created_at <= t.accepted_at
        assert t.resolved_at is None or t.accepted_at <= t.resolved_at
        assert t.closed_at is None or t.resolved_at <= t.closed_at
        assert (t.rating is not None) <= (t.status == "closed")
        assert t.is_open == (t.status in ("new", "accepted", "in_progress", "reopened"))
        assert t.next_check_at is None or t.next_check_at > NOW
    events = session.execute(select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.action)
                             .order_by(TicketEvent.ticket_id, TicketEvent.id)).all()
    by_ticket: dict[int, list] = {}
    for ticket_id, at, action in events:
        by_ticket.setdefault(ticket_id, []).append((at, action))
    assert set(by_ticket) == {t.id for t in tickets}
    assert all(story[0][1] == "create" for story in by_ticket.values())
    assert {"accept", "resolve", "confirm", "rate", "remind", "escalate", "cancel"} <= {a for _, _, a in events}
    assert session.scalar(select(func.count()).select_from(Notification)) == 0  # it happened before the demo
    assert community.created_at <= NOW - timedelta(weeks=HISTORY_WEEKS)

    d = dashboard(session, [community.id], Period.last_weeks(NOW, settings.timezone, HISTORY_WEEKS), NOW, settings)
    assert d.emergency.total >= 10 and d.emergency.respond.late >= 1 and 0.8 < d.emergency.respond.share < 1
    assert d.other_respond.late > 0 and d.other_resolve.late > 0
    assert d.now.overdue > 0 and d.now.escalated > 0
    assert all(a.rated > 20 for a in d.satisfaction)
    assert len([w for w in d.by_week if w.total]) >= HISTORY_WEEKS
    assert {b.label for b in d.by_building} == {f"{i}号楼" for i in range(1, 7)}
    assert len(d.staff) >= 8 and all(s.avg_accept_minutes for s in d.staff if s.handled)
    session.rollback()
    # The sweeper has nothing to catch up on: the history's reminders and escalations are written.
    assert sweep_once(session_factory, clock, settings) == 0
    # The office has been running for weeks: last week's digest goes to the project manager.
    assert send_due_digests(session_factory, clock, settings) == 1
    assert session.scalar(select(Staff.login).join(Notification, Notification.staff_id == Staff.id).where(
        Notification.kind == DIGEST_KIND)) == "manager"
    session.rollback()


def test_deterministic_and_a_refresh_replaces_it(session, session_factory, settings, clock) -> None:
    clock.set(NOW)
    community = seed_demo(session, settings, clock, history=True)
    session.commit()
    first = summary(session)
    resident = session.scalars(select(Resident)).first()
    if resident is None:  # outside demo mode there are no demo residents: report as a new one
        from backend.models import Household

        home = session.scalars(select(Household).where(Household.label == "3-2-1502")).one()
        resident = Resident(community_id=community.id, household_id=home.id, name="住户", bound_at=NOW,
                            created_at=NOW)
        session.add(resident)
        session.flush()
    live = TicketService(session, clock, settings).create(
        Actor.of_resident(resident), NewTicket(kind="repair", category="plumbing", description="水管漏水",
                                               household_id=resident.household_id))
    session.commit()
    assert live.number == len(first) + 1

    seed_demo(session, settings, clock, history=True)  # the same moment: the same history, renumbered
    session.commit()
    again = summary(session)
    assert [row[1:] for row in again] == [row[1:] for row in first]
    assert min(row[0] for row in again) == live.number + 1
    assert session.get(Ticket, live.id) is not None  # a ticket someone made in the demo is kept

    clock.advance(days=3)  # later: the history ends at the new now
    seed_demo(session, settings, clock, history=True)
    session.commit()
    later = summary(session)
    assert max(row[2] for row in later) > max(row[2] for row in first)
    assert session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.reporter_channel == HISTORY_CHANNEL)) == len(later)
    session.rollback()
    assert sweep_once(session_factory, clock, settings) == 3  # only the ticket made live, now 3 days overdue
