"""Every role against every console page and action, through the real app (no browser).

Who may do what comes from backend/services/permissions.py; this table says what the console must show.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from backend.domain import Kind
from backend.models import CommunityEvent, Notice, Staff, Ticket, TicketCategory
from backend.services import notices
from backend.services.actor import Actor
from backend.services.tickets import NewTicket, TicketService
from tests.console.conftest import csrf_of, sign_in

ROLES = ("manager", "cs_lead", "cs", "eng_lead", "tech", "guard", "admin")
PAGES = ("tickets", "categories", "imports", "bindings", "faq", "staff", "gate", "audit", "notices", "events")
# role -> pages it may open (others: 403)
MAY_SEE = {
    "manager": set(PAGES),
    "admin": set(PAGES),
    "cs_lead": {"tickets", "categories", "imports", "bindings", "faq", "staff", "audit", "notices", "events"},
    "cs": {"tickets", "imports", "bindings", "notices"},
    "eng_lead": {"tickets", "staff", "notices"},
    "tech": {"tickets"},
    "guard": {"tickets", "gate"},
}
ACTIONS = ("accept", "category", "duty", "steward", "faq", "reveal", "preview", "notice", "cancel", "report",
           "event", "signups", "new_event", "edit_event", "cancel_event")
# role -> actions it may do on community a's new plumbing ticket / data (others: refused)
MAY_DO = {
    "manager": set(ACTIONS),
    "admin": set(ACTIONS),
    "cs_lead": {"accept", "category", "duty", "faq", "reveal", "preview", "notice", "cancel", "report", "event",
                "signups", "new_event", "edit_event", "cancel_event"},
    # engineering's ticket in a building cs is not steward of: not on cs's board at all; notices: yes
    "cs": {"preview", "notice", "cancel", "report"},
    "eng_lead": {"accept", "duty", "reveal", "report"},  # reads notices' reports, sends none
    "tech": {"accept", "reveal"},  # the phone of a ticket they hold (accepted just before)
    "guard": set(),
}


def _ticket(session_factory, clock, settings, world) -> int:
    with session_factory() as session, session.begin():
        resident = world.a.resident
        ticket = TicketService(session, clock, settings).create(
            Actor("resident", world.a.community.id, resident=session.merge(resident)),
            NewTicket(Kind.REPAIR, "厨房水管漏水", category="plumbing", household_id=world.a.household.id))
        return ticket.number


def _notice_and_event(session_factory, clock, settings, world) -> tuple[int, int]:
    """A scheduled notice (by the operator) and an event in community a."""
    with session_factory() as session, session.begin():
        cid, now = world.a.community.id, clock.now()
        notice, _ = notices.create(session, clock, cid, notices.Draft(
            title="明日停电", body="正文", category="outage", audience={"community": True},
            scheduled_at=now + timedelta(days=1)), created_by=None, media_dir=settings.media_dir)
        event = CommunityEvent(community_id=cid, title="包饺子", starts_at=now + timedelta(days=2), created_at=now,
                               updated_at=now)
        session.add(event)
        session.flush()
        return notice.id, event.id


def _post(client: TestClient, page: str, path: str, data: dict[str, str] | None = None) -> int:
    form = client.get(page)
    csrf = csrf_of(form.text)
    return client.post(path, data={"csrf": csrf, **(data or {})}, follow_redirects=False).status_code


@pytest.mark.parametrize("role", ROLES)
def test_role_pages_and_actions(role, app, people, session_factory, clock, settings):
    number = _ticket(session_factory, clock, settings, people)
    notice_id, event_id = _notice_and_event(session_factory, clock, settings, people)
    with session_factory() as session:
        plumbing = session.query(TicketCategory).filter_by(community_id=people.a.community.id, code="plumbing").one()
        tech_id = people.a.staff["tech"].id
    with TestClient(app) as client:
        assert sign_in(client, f"a-{role}").status_code == 303
        for page in PAGES:
            status = client.get(f"/console/{page}").status_code
            assert status == (200 if page in MAY_SEE[role] else 403), (role, page, status)
        menu = client.get("/console/tickets").text.split("<main>", 1)[0]
        for page in ("notices", "events"):  # the menu offers what the role may open
            assert (f'href="/console/{page}"' in menu) == (page in MAY_SEE[role]), (role, page)
        seen = client.get(f"/console/tickets/{number}")
        sees_ticket = role not in ("guard", "cs")  # neither their department's nor their buildings'
        assert seen.status_code == (200 if sees_ticket else 404)
        if not sees_ticket:  # nor can they act on it
            csrf = csrf_of(client.get("/console/tickets").text)
            for action in ("accept", "reveal", "note"):
                assert client.post(f"/console/tickets/{number}/{action}", data={"csrf": csrf, "note": "x"}
                                   ).status_code == 404
        done = {
            "accept": sees_ticket and _post(client, f"/console/tickets/{number}",
                                            f"/console/tickets/{number}/accept") == 303,
            "reveal": sees_ticket and _post(client, f"/console/tickets/{number}",
                                            f"/console/tickets/{number}/reveal") == 200,
            "category": _post(client, "/console/tickets", f"/console/categories/{plumbing.id}", {
                "version": str(plumbing.version), "respond_minutes": "20", "resolve_minutes": "600",
                "department": "engineering", "name_zh": "水管", "name_en": "Plumbing"}) == 303,
            "duty": _post(client, "/console/tickets", f"/console/staff/{tech_id}/duty") == 303,
            "steward": _post(client, "/console/tickets", f"/console/buildings/{people.a.building.id}/steward",
                             {"steward": str(people.a.staff["cs"].id)}) == 303,
            "faq": _post(client, "/console/tickets", "/console/faq", {"question": "几点开门", "answer": "八点"}) == 303,
            "preview": _post(client, "/console/tickets", "/console/notices",
                             {"targets": "3栋", "action": "preview"}) == 200,
            "notice": _post(client, "/console/tickets", "/console/notices", {
                "category": "tip", "title": "通知", "body": "正文", "targets": "3栋", "action": "send"}) == 303,
            "cancel": _post(client, "/console/tickets", f"/console/notices/{notice_id}/cancel") == 303,
            "report": client.get(f"/console/notices/{notice_id}").status_code == 200
            and client.get(f"/console/notices/{notice_id}/record.csv").status_code == 200,
            "event": client.get(f"/console/events/{event_id}").status_code == 200,
            "signups": client.get(f"/console/events/{event_id}/attendees.xlsx").status_code == 200,
            "new_event": _post(client, "/console/tickets", "/console/events", {
                "title": "新活动", "starts_at": "2026-12-09T10:00", "targets": "全小区"}) == 303,
            # the event starts 2026-12-03 17:00 local; only the title differs from what the form shows
            "edit_event": _post(client, "/console/tickets", f"/console/events/{event_id}/edit", {
                "title": "包饺子（改期）", "starts_at": "2026-12-03T17:00"}) == 303,
            "cancel_event": _post(client, "/console/tickets", f"/console/events/{event_id}/cancel", {
                "reason": "场地维修", "confirm": "yes"}) == 303,
        }
    assert {a for a, ok in done.items() if ok} == MAY_DO[role], role
    with session_factory() as session:
        ticket = session.query(Ticket).filter_by(community_id=people.a.community.id, number=number).one()
        tech = session.get(Staff, tech_id)
        assert (ticket.assignee_id is not None) == ("accept" in MAY_DO[role])
        assert tech.on_duty == ("duty" not in MAY_DO[role])
        sent = session.query(Notice).filter(Notice.id != notice_id, Notice.kind == "notice").count()
        assert sent == ("notice" in MAY_DO[role])
        created = session.query(CommunityEvent).filter(CommunityEvent.id != event_id).count()
        assert created == ("new_event" in MAY_DO[role])
        event = session.get(CommunityEvent, event_id)
        assert event.title == ("包饺子（改期）" if "edit_event" in MAY_DO[role] else "包饺子")
        assert event.status == ("cancelled" if "cancel_event" in MAY_DO[role] else "open")
        assert session.get(Notice, notice_id).status == ("cancelled" if "cancel" in MAY_DO[role] else "scheduled")


def test_another_communitys_ticket_is_not_found(app, people, session_factory, clock, settings):
    with session_factory() as session, session.begin():
        b = people.b
        number = TicketService(session, clock, settings).create(
            Actor("resident", b.community.id, resident=session.merge(b.resident)),
            NewTicket(Kind.REPAIR, "漏水", category="plumbing", household_id=b.household.id)).number
        mine = number + 100
    with TestClient(app) as client:
        sign_in(client, "a-manager")
        assert client.get(f"/console/tickets/{mine}").status_code == 404


def test_company_admin_switches_community(app, people, session_factory, clock, settings):
    with session_factory() as session, session.begin():
        b = people.b
        TicketService(session, clock, settings).create(
            Actor("resident", b.community.id, resident=session.merge(b.resident)),
            NewTicket(Kind.REPAIR, "幸福里的漏水", category="plumbing", household_id=b.household.id))
    with TestClient(app) as client:
        sign_in(client, "a-admin")
        assert "幸福里的漏水" not in client.get("/console/tickets").text
        assert _post(client, "/console/tickets", "/console/community", {"code": "b"}) == 303
        assert "幸福里的漏水" in client.get("/console/tickets").text
    with TestClient(app) as client:  # a manager cannot switch
        sign_in(client, "a-manager")
        _post(client, "/console/tickets", "/console/community", {"code": "b"})
        assert "幸福里的漏水" not in client.get("/console/tickets").text


# The console's actions in the matrix itself: profile -> (category.edit, records.write, audit.see,
# staff.duty on an engineer, staff.duty on a guard, board scopes).
def test_console_actions_in_the_matrix(people, session_factory):
    from backend.services import permissions
    from backend.services.permissions import Perm, Scope

    a = people.a
    with session_factory() as session:
        staff = {key: session.get(Staff, member.id) for key, member in a.staff.items()}
        engineer, guard = staff["tech"], staff["guard"]
        here = permissions.community(a.community.id)
        elsewhere = permissions.community(people.b.community.id)
        table = {
            key: (permissions.allowed(m, Perm.CATEGORY_EDIT, here), permissions.allowed(m, Perm.RECORDS_WRITE, here),
                  permissions.allowed(m, Perm.AUDIT_SEE, here),
                  permissions.allowed(m, Perm.DUTY_SET, permissions.of_staff(engineer)),
                  permissions.allowed(m, Perm.DUTY_SET, permissions.of_staff(guard)),
                  permissions.scopes(m, Perm.TICKETS_BOARD))
            for key, m in staff.items()
        }
        assert permissions.allowed(staff["admin"], Perm.CATEGORY_EDIT, elsewhere)  # the company admin: anywhere
        assert not permissions.allowed(staff["manager"], Perm.CATEGORY_EDIT, elsewhere)
    C, OT, OB, OD = Scope.COMMUNITY, Scope.OWN_TICKET, Scope.OWN_BUILDINGS, Scope.OWN_DEPARTMENT
    assert table == {
        "admin":    (True,  True,  True,  True,  True,  {C}),
        "manager":  (True,  True,  True,  True,  True,  {C}),
        "cs_lead":  (True,  True,  True,  True,  True,  {C}),
        "cs":       (False, True,  False, False, False, {OT, OB, OD}),
        "eng_lead": (False, False, False, True,  False, {OT, OD}),
        "tech":     (False, False, False, False, False, {OT, OD}),
        "tech2":    (False, False, False, False, False, {OT, OD}),
        "guard":    (False, False, False, False, False, {OT, OD}),
    }  # fmt: skip


def test_company_admin_from_the_roster(session_factory, people, tmp_path):
    from backend.services.roster_import import import_staff

    roster = tmp_path / "staff.csv"
    roster.write_text("工号,姓名,岗位,部门\nboss,总部王总,公司管理员,综合管理部\n", encoding="utf-8")
    with session_factory() as session, session.begin():
        report = import_staff(session, people.a.community.id, roster)
        assert report.ok, report.summary()
        assert session.query(Staff).filter_by(login="boss").one().role == "admin"


def test_a_guard_lands_on_the_gate_and_the_manager_on_the_board(app, people):
    with TestClient(app) as client:
        assert sign_in(client, "a-guard").headers["location"] == "/console/gate"
    with TestClient(app) as client:
        assert sign_in(client, "a-manager").headers["location"] == "/console/tickets"
    with TestClient(app) as client:
        assert sign_in(client, "a-tech").headers["location"] == "/console/tickets"


def test_the_ticket_page_follows_changes_made_elsewhere(app, people, session_factory, clock, settings):
    number = _ticket(session_factory, clock, settings, people)
    with TestClient(app) as client:
        sign_in(client, "a-manager")
        assert "已受理" not in client.get(f"/console/tickets/{number}/live").text
        with session_factory() as session, session.begin():  # the technician accepts in chat meanwhile
            tech = session.get(Staff, people.a.staff["tech"].id)
            service = TicketService(session, clock, settings)
            ticket = service.by_number(Actor.of_staff(tech), number)
            service.accept(Actor.of_staff(tech), ticket.id)
            service.add_note(Actor.of_staff(tech), ticket.id, "带上扳手马上到")
        live = client.get(f"/console/tickets/{number}/live", headers={"HX-Request": "true", "HX-Poll": "1"}).text
        assert "带上扳手马上到" in live and 'id="status" hx-swap-oob="true">已受理' in live
