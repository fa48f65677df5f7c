"""The first-responsible ticket lifecycle, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from backend.domain import Kind, Status
from backend.errors import AlreadyTaken, Forbidden, IllegalMove, Invalid, NotFound
from backend.models import Notification, Ticket, TicketEvent
from backend.services.actor import Actor
from backend.services.tickets import NewTicket, TicketService
from tests.builders import build_world


@pytest.fixture
def world(session, clock, settings):
    return build_world(session, clock, settings)


def svc(session, clock, settings):
    return TicketService(session, clock, settings)


def notes(session, ticket_id):
    rows = session.scalars(select(Notification).where(Notification.ticket_id == ticket_id).order_by(Notification.id))
    return [(n.kind, n.recipient_type, n.staff_id or n.resident_id or n.department) for n in rows]


def new_repair(session, clock, settings, world, building="1", **kw):
    resident = world.residents[building]
    spec = NewTicket(kind=Kind.REPAIR, description="厨房水管漏水", category="plumbing",
                     household_id=resident.household_id, **kw)
    ticket = svc(session, clock, settings).create(Actor.of_resident(resident), spec)
    session.commit()
    return ticket


def test_create_sets_owner_deadlines_history_and_outbox(session, clock, settings, world):
    ticket = new_repair(session, clock, settings, world)
    assert ticket.number == 1
    assert ticket.status == Status.NEW and ticket.is_open
    assert ticket.owner_id == world.staff["cs1"].id  # building 1's steward
    assert ticket.department == "engineering"
    assert ticket.location == "1-1-0101"
    assert (ticket.respond_due_at - clock.now()).total_seconds() == 30 * 60
    assert (ticket.resolve_due_at - clock.now()).total_seconds() == 24 * 3600
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    assert [(e.action, e.actor_type, e.to_status) for e in events] == [("create", "resident", "new")]
    assert notes(session, ticket.id) == [
        ("ticket.new_task", "department", "engineering"),
        ("ticket.you_own", "staff", world.staff["cs1"].id),
    ]
    second = new_repair(session, clock, settings, world, building="2")
    assert second.number == 2 and second.owner_id is None


def test_emergency_alerts_security_and_engineering_with_15_minutes(session, clock, settings, world):
    resident = world.residents["2"]
    ticket = svc(session, clock, settings).create(
        Actor.of_resident(resident), NewTicket(kind="emergency", description="电梯困人", location="2号楼电梯"))
    session.commit()
    assert ticket.priority == "urgent"
    assert (ticket.respond_due_at - clock.now()).total_seconds() == 15 * 60
    assert (ticket.resolve_due_at - clock.now()).total_seconds() == 24 * 3600
    kinds = notes(session, ticket.id)
    assert ("ticket.emergency_alert", "department", "security") in kinds
    assert ("ticket.emergency_alert", "department", "engineering") in kinds


def test_full_lifecycle_with_transfer_keeps_owner(session, clock, settings, world):
    ticket = new_repair(session, clock, settings, world)
    s = svc(session, clock, settings)
    cs1, tech1, tech2 = world.staff["cs1"], world.staff["tech1"], world.staff["tech2"]
    s.accept(Actor.of_staff(cs1), ticket.id)
    s.transfer(Actor.of_staff(cs1), ticket.id, to_staff_id=tech1.id, note="请工程部上门")
    assert ticket.owner_id == cs1.id and ticket.assignee_id == tech1.id
    with pytest.raises(Forbidden):
        s.start(Actor.of_staff(tech2), ticket.id)
    s.start(Actor.of_staff(tech1), ticket.id)
    clock.advance(hours=2)
    s.add_note(Actor.of_staff(tech1), ticket.id, "已更换阀门")
    s.resolve(Actor.of_staff(tech1), ticket.id, note="更换了进水阀", photo_url="/media/x.jpg")
    resident = Actor.of_resident(world.residents["1"])
    s.reopen(resident, ticket.id, note="还在滴水")
    assert ticket.status == Status.REOPENED and ticket.is_open
    s.start(Actor.of_staff(tech1), ticket.id)
    s.resolve(Actor.of_staff(tech1), ticket.id, note="重新密封")
    s.rate(resident, ticket.id, 5, "师傅很专业")
    session.commit()
    assert ticket.status == Status.CLOSED and ticket.rating == 5 and not ticket.is_open
    history = [e.action for e in s.history(resident, ticket.id)]
    assert history == ["create", "accept", "transfer", "start", "note", "resolve", "reopen", "start", "resolve",
                       "rate"]
    sent = notes(session, ticket.id)
    resident_id = world.residents["1"].id
    for kind in ("ticket.accepted", "ticket.transferred", "ticket.started", "ticket.note_from_staff",
                 "ticket.resolved"):
        assert (kind, "resident", resident_id) in sent
    assert ("ticket.assigned_to_you", "staff", tech1.id) in sent
    assert ("ticket.reopened", "staff", tech1.id) in sent and ("ticket.reopened", "staff", cs1.id) in sent
    assert ("ticket.rated", "staff", cs1.id) in sent


def test_illegal_moves_are_refused_with_a_clear_message(session, clock, settings, world):
    ticket = new_repair(session, clock, settings, world)
    s = svc(session, clock, settings)
    with pytest.raises(IllegalMove) as err:
        s.close(Actor.of_staff(world.staff["cs1"]), ticket.id)
    assert "不能关闭" in err.value.text() and "#1" in err.value.text()
    with pytest.raises(IllegalMove):
        s.confirm(Actor.of_resident(world.residents["1"]), ticket.id)
    with pytest.raises(IllegalMove):
        s.start(Actor.of_staff(world.staff["tech1"]), ticket.id)
    with pytest.raises(Invalid):
        s.rate(Actor.of_resident(world.residents["1"]), ticket.id, 6)
    with pytest.raises(Forbidden):  # a resident cannot accept
        s.accept(Actor.of_resident(world.residents["1"]), ticket.id)
    s.cancel(Actor.of_resident(world.residents["1"]), ticket.id, "已自行修好")
    with pytest.raises(IllegalMove):
        s.accept(Actor.of_staff(world.staff["tech1"]), ticket.id)
    session.commit()
    assert ticket.status == Status.CANCELLED and ticket.next_check_at is None


def test_second_accept_is_told_who_has_it(session, clock, settings, world):
    ticket = new_repair(session, clock, settings, world, building="2")
    s = svc(session, clock, settings)
    s.accept(Actor.of_staff(world.staff["tech1"]), ticket.id)
    session.commit()
    with pytest.raises(AlreadyTaken) as err:
        s.accept(Actor.of_staff(world.staff["tech2"]), ticket.id)
    assert "技工一" in err.value.text()
    assert ticket.owner_id == world.staff["tech1"].id  # no steward: the first to accept owns it


def test_concurrent_accepts_have_exactly_one_winner(session_factory, clock, settings):
    with session_factory() as session:
        world = build_world(session, clock, settings)
        ticket = new_repair(session, clock, settings, world, building="2")
        # Everyone who may take a building-2 repair (not guard1, nor cs1, steward of building 1 only).
        staff_ids = [world.staff[login].id for login in ("tech1", "tech2", "eng-lead", "cs-lead", "manager")]
        ticket_id = ticket.id
    barrier = threading.Barrier(len(staff_ids))
    results: list[str] = []

    def press(staff_id: int) -> None:
        from backend.models import Staff

        with session_factory() as s:
            staff = s.get(Staff, staff_id)
            s.commit()
            barrier.wait()
            try:
                TicketService(s, clock, settings).accept(Actor.of_staff(staff), ticket_id)
                s.commit()
                results.append("won")
            except AlreadyTaken:
                s.rollback()
                results.append("taken")

    threads = [threading.Thread(target=press, args=(sid,)) for sid in staff_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["taken"] * 4 + ["won"]
    with session_factory() as s:
        t = s.get(Ticket, ticket_id)
        assert t.assignee_id in staff_ids and t.owner_id == t.assignee_id
        accepts = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                      TicketEvent.action == "accept")).all()
        assert len(accepts) == 1


def test_other_households_and_communities_cannot_see_a_ticket(session, clock, settings, world):
    ticket = new_repair(session, clock, settings, world)
    s = svc(session, clock, settings)
    with pytest.raises(NotFound):
        s.get(Actor.of_resident(world.residents["2"]), ticket.id)
    other = build_world(session, clock, settings, code="t2")
    with pytest.raises(NotFound):
        s.accept(Actor.of_staff(other.staff["tech1"]), ticket.id)
    with pytest.raises(Forbidden):  # nor report for a household that is not theirs
        s.create(Actor.of_resident(world.residents["2"]),
                 NewTicket(kind="repair", description="x", household_id=world.residents["1"].household_id))


def test_chase_reminds_owner_then_supervisor_when_late_once_per_hour(session, clock, settings, world):
    ticket = new_repair(session, clock, settings, world)
    s = svc(session, clock, settings)
    resident = Actor.of_resident(world.residents["1"])
    s.chase(resident, ticket.id)
    assert ("ticket.chased", "staff", world.staff["cs1"].id) in notes(session, ticket.id)
    with pytest.raises(IllegalMove) as err:
        s.chase(resident, ticket.id)
    assert "分钟后再催" in err.value.text()
    clock.advance(hours=1, minutes=1)  # now past the 30-minute respond deadline
    s.chase(resident, ticket.id)
    session.commit()
    sent = notes(session, ticket.id)
    assert ("ticket.chased", "staff", world.staff["cs-lead"].id) in sent  # the owner's supervisor


def test_open_tasks_and_resident_list(session, clock, settings, world):
    a = new_repair(session, clock, settings, world)
    b = new_repair(session, clock, settings, world, building="2")
    s = svc(session, clock, settings)
    s.accept(Actor.of_staff(world.staff["tech1"]), b.id)
    session.commit()
    assert [t.id for t in s.open_tasks(world.staff["cs1"])] == [a.id]
    assert [t.id for t in s.open_tasks(world.staff["tech1"])] == [b.id]
    assert [t.id for t in s.for_resident(world.residents["2"])] == [b.id]
    s.resolve(Actor.of_staff(world.staff["tech1"]), b.id, "ok")
    session.commit()
    assert s.open_tasks(world.staff["tech1"]) == []
