"""The tickets board's filters, search and pages (through the app, as the manager)."""

from __future__ import annotations

import re

from backend.domain import Kind
from backend.services.actor import Actor
from backend.services.ticket_board import PAGE
from backend.services.tickets import NewTicket, TicketService
from tests.console.conftest import sign_in


def _report(session_factory, clock, settings, place, kind, description, category=None):  # type: ignore[no-untyped-def]
    with session_factory() as session, session.begin():
        return TicketService(session, clock, settings).create(
            Actor("resident", place.community.id, resident=session.merge(place.resident)),
            NewTicket(kind, description, category=category, household_id=place.household.id)).number


def numbers(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-number="(\d+)"', html)}


def test_filters_and_search(console, people, session_factory, clock, settings):
    a = people.a
    leak = _report(session_factory, clock, settings, a, Kind.REPAIR, "厨房水管漏水", "plumbing")
    clock.advance(days=2)
    sign_in(console, "a-manager")  # the two days signed the manager out
    noise = _report(session_factory, clock, settings, a, Kind.COMPLAINT, "楼上装修噪音 100% 太吵", "noise")
    _report(session_factory, clock, settings, people.b, Kind.REPAIR, "别的小区漏水", "plumbing")
    assert numbers(console.get("/console/tickets").text) == {leak, noise}  # never another community's
    assert numbers(console.get("/console/tickets?category=plumbing").text) == {leak}
    assert numbers(console.get("/console/tickets?kind=complaint").text) == {noise}
    assert numbers(console.get("/console/tickets?q=漏水").text) == {leak}
    assert numbers(console.get("/console/tickets?q=100%").text) == {noise}  # % is a character, not a wildcard
    assert numbers(console.get("/console/tickets?q=_").text) == set()
    assert numbers(console.get("/console/tickets?building=3&status=open").text) == {leak, noise}
    assert numbers(console.get("/console/tickets?building=9").text) == set()
    assert numbers(console.get("/console/tickets?overdue=1").text) == {leak}  # 2 days: past its 24 h
    today = clock.now().date().isoformat()
    assert numbers(console.get(f"/console/tickets?from={today}&to={today}").text) == {noise}
    owner = f"/console/tickets?handler={a.staff['tech'].id}"
    assert numbers(console.get(owner).text) == set()
    for junk in ("status=bogus", "kind=%00", "owner=abc", "from=yesterday", "page=-3", "q=" + "长" * 500):
        assert console.get(f"/console/tickets?{junk}").status_code == 200, junk
    assert numbers(console.get("/console/tickets/rows?category=noise").text) == {noise}


def test_pages(console, people, session_factory, clock, settings):
    made = [_report(session_factory, clock, settings, people.a, Kind.INQUIRY, f"问题 {i}") for i in range(PAGE + 2)]
    first = console.get("/console/tickets")
    assert len(numbers(first.text)) == PAGE and 'id="next"' in first.text
    second = console.get("/console/tickets?page=2")
    assert numbers(second.text) == set(made[:2]) and 'id="prev"' in second.text


def test_an_emergency_is_on_the_guards_board(app, people, session_factory, clock, settings):
    from fastapi.testclient import TestClient

    fire = _report(session_factory, clock, settings, people.a, Kind.EMERGENCY, "地下车库冒烟", "emergency")
    leak = _report(session_factory, clock, settings, people.a, Kind.REPAIR, "水管漏水", "plumbing")
    with TestClient(app) as guard:
        sign_in(guard, "a-guard")
        assert numbers(guard.get("/console/tickets").text) == {fire}  # engineering's, but it pages security
        assert guard.get(f"/console/tickets/{leak}").status_code == 404
        assert 'id="accept"' in guard.get(f"/console/tickets/{fire}").text
