"""Deadline reminders, the escalation ladder and auto-close; idempotent and multi-worker safe."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from backend.domain import Kind, Status
from backend.models import Notification, Ticket, TicketEvent
from backend.services.actor import Actor
from backend.services.sweeper import sweep_once
from backend.services.tickets import NewTicket, TicketService
from tests.builders import build_world


def ladder(session, ticket_id):
    rows = session.scalars(select(Notification).where(
        Notification.ticket_id == ticket_id, Notification.kind.in_(
            ["ticket.remind_due", "ticket.overdue_owner", "ticket.escalated"])).order_by(Notification.id))
    return [(n.kind, n.staff_id or n.department) for n in rows]


def make_ticket(session_factory, clock, settings, kind=Kind.REPAIR, building="1"):
    with session_factory() as s:
        world = build_world(s, clock, settings)
        resident = world.residents[building]
        t = TicketService(s, clock, settings).create(
            Actor.of_resident(resident),
            NewTicket(kind=kind, description="走廊灯不亮", category="electrical" if kind == Kind.REPAIR else None,
                      household_id=resident.household_id))
        s.commit()
        return world, t.id


def test_respond_ladder_reminds_owner_then_supervisor_then_manager(session_factory, clock, settings):
    world, tid = make_ticket(session_factory, clock, settings)
    cs1, lead, manager = (world.staff[x].id for x in ("cs1", "eng-lead", "manager"))
    assert sweep_once(session_factory, clock, settings) == 0
    clock.advance(minutes=21)  # 9 minutes before the 30-minute respond deadline
    assert sweep_once(session_factory, clock, settings) == 1
    assert sweep_once(session_factory, clock, settings) == 0  # idempotent
    clock.advance(minutes=10)
    sweep_once(session_factory, clock, settings)
    clock.advance(minutes=60)
    sweep_once(session_factory, clock, settings)
    clock.advance(minutes=60)
    sweep_once(session_factory, clock, settings)
    clock.advance(days=5)
    assert sweep_once(session_factory, clock, settings) == 0  # top of the ladder: nothing more
    with session_factory() as s:
        assert ladder(s, tid) == [
            ("ticket.remind_due", cs1), ("ticket.overdue_owner", cs1),
            ("ticket.escalated", lead), ("ticket.escalated", manager),
        ]
        t = s.get(Ticket, tid)
        assert t.escalation_level == 4 and t.next_check_at is None


def test_accepting_switches_to_the_resolve_deadline(session_factory, clock, settings):
    world, tid = make_ticket(session_factory, clock, settings, building="2")  # no steward
    clock.advance(minutes=45)  # respond deadline missed while nobody had it
    sweep_once(session_factory, clock, settings)
    with session_factory() as s:
        assert ladder(s, tid) == [("ticket.overdue_owner", "engineering")]  # early reminder skipped when late
        tech1 = s.get(type(world.staff["tech1"]), world.staff["tech1"].id)
        TicketService(s, clock, settings).accept(Actor.of_staff(tech1), tid)
        s.commit()
    clock.advance(hours=23, minutes=10)  # resolve deadline is 24 h after creation
    sweep_once(session_factory, clock, settings)
    with session_factory() as s:
        assert ladder(s, tid)[-1] == ("ticket.remind_due", world.staff["tech1"].id)
        assert s.get(Ticket, tid).escalation_deadline == "resolve"


def test_emergency_escalates_in_15_minute_steps(session_factory, clock, settings):
    _world, tid = make_ticket(session_factory, clock, settings, kind=Kind.EMERGENCY, building="2")
    clock.advance(minutes=15 + 15 + 15)  # deadline, +1 step, +2 steps all passed while the worker was down
    sweep_once(session_factory, clock, settings)
    with session_factory() as s:
        kinds = [k for k, _ in ladder(s, tid)]
        assert kinds == ["ticket.overdue_owner", "ticket.escalated", "ticket.escalated"]


def test_resolved_ticket_is_auto_closed_and_resident_told(session_factory, clock, settings):
    world, tid = make_ticket(session_factory, clock, settings)
    with session_factory() as s:
        svc = TicketService(s, clock, settings)
        cs1 = s.get(type(world.staff["cs1"]), world.staff["cs1"].id)
        svc.accept(Actor.of_staff(cs1), tid)
        svc.resolve(Actor.of_staff(cs1), tid, "换了灯泡")
        s.commit()
    clock.advance(days=settings.auto_close_resolved_days, minutes=1)
    assert sweep_once(session_factory, clock, settings) == 1
    with session_factory() as s:
        t = s.get(Ticket, tid)
        assert t.status == Status.CLOSED
        kinds = s.scalars(select(Notification.kind).where(Notification.ticket_id == tid)).all()
        assert "ticket.auto_closed" in kinds


def test_parallel_sweepers_take_each_step_once(session_factory, clock, settings):
    with session_factory() as s:
        world = build_world(s, clock, settings)
        svc = TicketService(s, clock, settings)
        resident = world.residents["1"]
        for i in range(40):
            svc.create(Actor.of_resident(resident), NewTicket(kind="repair", description=f"故障{i}",
                                                              household_id=resident.household_id))
        s.commit()
    clock.advance(hours=3)
    totals: list[int] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        totals.append(sweep_once(session_factory, clock, settings, batch=7))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_factory() as s:
        events = s.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.action.in_(["remind", "escalate"])))
        # Each ticket: overdue owner, supervisor, manager = 3 steps; none twice.
        assert events == 40 * 3 == sum(totals)
