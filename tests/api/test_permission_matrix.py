"""The permission matrix as a table: every role x every endpoint and chat action x own / other scope.

The demo community's real staff table (cs1 is steward of buildings 1-3, cs2 of 4-6) plus a second
community. Each row is written out by hand, so a change to backend/services/permissions.py that
widens or narrows anything shows up here as a failing cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.models import (
    BindRequest,
    ChatIdentity,
    Community,
    FaqEntry,
    Household,
    Resident,
    Staff,
    Ticket,
)
from backend.services import binding
from backend.services.actor import Actor
from backend.services.api_tokens import issue_token
from backend.services.demo import seed_demo
from backend.services.tickets import NewTicket, TicketService
from bot.app import create_app
from handlers.conversation import Conversation
from handlers.messages import Inbound
from handlers.staff.cards import verbs_for
from nlu import load_nlu
from tests.api.conftest import ADMIN
from tests.builders import build_world

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"
STAFF = ["manager", "cs-lead", "cs1", "cs2", "eng-lead", "tech1", "sec-lead", "guard1", "env-lead", "gardener1"]
ROLES = ["admin", *STAFF]

# Accepting a ticket: a lift repair in building 1 (cs1 is its steward), the same in building 5 (cs2's),
# a security emergency in building 1 (pages security and engineering), another community's repair.
ACCEPT = {
    #             bldg 1  bldg 5  emergency  other community
    "admin":     (403,    403,    403,       403),  # the admin token is not a person: nobody to hold the work
    "manager":   (200,    200,    200,       404),
    "cs-lead":   (200,    200,    200,       404),
    "cs1":       (200,    403,    200,       404),
    "cs2":       (403,    200,    403,       404),
    "eng-lead":  (200,    200,    200,       404),
    "tech1":     (200,    200,    200,       404),
    "sec-lead":  (403,    403,    200,       404),
    "guard1":    (403,    403,    200,       404),
    "env-lead":  (403,    403,    403,       404),
    "gardener1": (403,    403,    403,       404),
}
# Deciding a binding request (b:ok:<id> in chat): own community / another community's request.
BIND_DECIDE = {
    "manager": (True, False), "cs-lead": (True, False), "cs1": (True, False), "cs2": (True, False),
    "eng-lead": (False, False), "tech1": (False, False), "sec-lead": (False, False), "guard1": (False, False),
    "env-lead": (False, False), "gardener1": (False, False),
}
# FAQ: create / update / delete in the own community, update another community's entry.
FAQ = {
    "admin": (201, 200, 204, 200), "manager": (201, 200, 204, 404), "cs-lead": (201, 200, 204, 404),
    **{role: (403, 403, 403, 404) for role in ("cs1", "cs2", "eng-lead", "tech1", "sec-lead", "guard1", "env-lead",
                                               "gardener1")},
}
RECORDS = {"admin", "manager", "cs-lead", "cs1", "cs2"}  # POST /api/buildings
STAFF_MANAGERS = {"admin", "manager"}  # PATCH /api/staff/{id}, PATCH /api/communities/{code}
FULL_PHONES = {"admin", "manager", "cs-lead", "cs1", "cs2", "eng-lead", "sec-lead", "env-lead"}


@pytest.fixture(scope="module")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def place(session_factory, clock, settings):
    """The demo community, a second community, every staff member's token and web chat account."""
    with session_factory() as s:
        demo = seed_demo(s, settings, clock)
        other = build_world(s, clock, settings, code="other")
        people = {login: s.scalar(select(Staff).where(Staff.community_id == demo.id, Staff.login == login))
                  for login in STAFF}
        tokens = {login: issue_token(s, staff, clock, label="matrix") for login, staff in people.items()}
        for login, staff in people.items():
            s.add(ChatIdentity(community_id=demo.id, channel="web", external_id=f"staff-{login}", staff_id=staff.id,
                               created_at=clock.now()))
        s.commit()
        return {"demo": demo.id, "other": other.community.id, "other_resident": other.residents["1"].id,
                "staff": {login: staff.id for login, staff in people.items()}, "tokens": tokens}


@pytest.fixture
def client(settings, clock, session_factory) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as c:
        yield c


def auth(place, role: str) -> dict[str, str]:
    return ADMIN if role == "admin" else {"Authorization": f"Bearer {place['tokens'][role]}"}


def press(session_factory, nlu, clock, settings, login: str, payload: str) -> str:
    conversation = Conversation(session_factory, nlu, clock, settings)
    replies = conversation.handle(Inbound(channel="web", chat_id=f"staff-{login}", sender_id=f"staff-{login}",
                                          payload=payload))
    return "\n".join(r.text for r in replies)


_serial = itertools.count(1)


def _household(s, community_id: int, label: str) -> Household:
    return s.scalar(select(Household).where(Household.community_id == community_id, Household.label == label))


def new_ticket(session_factory, clock, settings, community_id: int, label: str | None, category: str,
               resident_id: int | None = None) -> int:
    with session_factory() as s:
        if resident_id is None:
            household = _household(s, community_id, label)
            resident = Resident(community_id=community_id, household_id=household.id, name=f"住户{next(_serial)}",
                                bound_at=clock.now(), created_at=clock.now())
            s.add(resident)
            s.flush()
        else:
            resident = s.get(Resident, resident_id)
        kind = "emergency" if "emergency" in category else "repair"
        ticket = TicketService(s, clock, settings).create(
            Actor.of_resident(resident), NewTicket(kind=kind, category=category, description="电梯停了",
                                                   household_id=resident.household_id))
        s.commit()
        return ticket.id


def scenarios(session_factory, clock, settings, place) -> list[int]:
    return [new_ticket(session_factory, clock, settings, place["demo"], "1-1-0101", "lift"),
            new_ticket(session_factory, clock, settings, place["demo"], "5-1-0101", "lift"),
            new_ticket(session_factory, clock, settings, place["demo"], "1-1-0101", "security_emergency"),
            new_ticket(session_factory, clock, settings, place["other"], None, "lift", place["other_resident"])]


def assignee(session_factory, ticket_id: int) -> int | None:
    with session_factory() as s:
        return s.get(Ticket, ticket_id).assignee_id


@pytest.mark.parametrize("role", ROLES)
def test_accept_through_the_rest_api(role, client, session_factory, clock, settings, place):
    tickets = scenarios(session_factory, clock, settings, place)
    got = tuple(client.post(f"/api/tickets/{tid}/accept", headers=auth(place, role)).status_code for tid in tickets)
    assert got == ACCEPT[role]
    for tid, code in zip(tickets, got, strict=True):
        assert (assignee(session_factory, tid) is not None) == (code == 200)


@pytest.mark.parametrize("role", STAFF)
def test_accept_through_the_chat_button_and_the_card_offers_it_only_when_allowed(
        role, nlu, session_factory, clock, settings, place):
    tickets = scenarios(session_factory, clock, settings, place)
    me = place["staff"][role]
    with session_factory() as s:
        viewer = s.get(Staff, me)
        offered = [("a" in verbs_for(s.get(Ticket, tid), viewer)) for tid in tickets[:3]]
    assert offered == [code == 200 for code in ACCEPT[role][:3]]
    for tid, code in zip(tickets, ACCEPT[role], strict=True):
        press(session_factory, nlu, clock, settings, role, f"t:a:{tid}")
        assert assignee(session_factory, tid) == (me if code == 200 else None), (role, tid)


@pytest.mark.parametrize("role", STAFF)
def test_binding_decisions(role, nlu, session_factory, clock, settings, place):
    requests = []
    with session_factory() as s:
        for community_id, label in ((place["demo"], "6-1-0801"), (place["other"], "1-1-0101")):
            stranger = Resident(community_id=community_id, name="陌生人", created_at=clock.now())
            s.add(stranger)
            s.flush()
            result = binding.bind(s, clock, stranger, _household(s, community_id, label), "13111112222")
            requests.append((result.request.id, stranger.id))
        s.commit()
    outcome = []
    for request_id, stranger_id in requests:
        press(session_factory, nlu, clock, settings, role, f"b:ok:{request_id}")
        with session_factory() as s:
            decided = s.get(BindRequest, request_id).status == "approved"
            assert decided == (s.get(Resident, stranger_id).household_id is not None)
            outcome.append(decided)
    assert tuple(outcome) == BIND_DECIDE[role]


@pytest.mark.parametrize("role", ROLES)
def test_faq_editing(role, client, session_factory, clock, place):
    with session_factory() as s:
        theirs = FaqEntry(community_id=place["other"], question="停车?", answer="地下车库", keywords="",
                          updated_at=clock.now())
        s.add(theirs)
        s.commit()
        theirs_id = theirs.id
    headers = auth(place, role)
    created = client.post("/api/faq", headers=headers, params={"community": "demo"} if role == "admin" else {},
                          json={"question": "物业费怎么交？", "answer": "到物业服务中心缴纳。"})
    with session_factory() as s:
        mine = created.json()["id"] if created.status_code == 201 else s.scalar(
            select(FaqEntry.id).where(FaqEntry.community_id == place["demo"]).limit(1))
    got = (created.status_code,
           client.put(f"/api/faq/{mine}", headers=headers, json={"answer": "请转账到 6222 0000"}).status_code,
           client.delete(f"/api/faq/{mine}", headers=headers).status_code,
           client.put(f"/api/faq/{theirs_id}", headers=headers, json={"answer": "x"}).status_code)
    assert got == FAQ[role]
    with session_factory() as s:
        assert (s.get(FaqEntry, mine) is None) == (got[2] == 204)


@pytest.mark.parametrize("role", ROLES)
def test_records_staff_community_and_phones(role, client, session_factory, place):
    headers = auth(place, role)
    building = client.post("/api/buildings", headers=headers, params={"community": "demo"} if role == "admin" else {},
                           json={"code": f"9{ROLES.index(role)}", "name": "新楼"})
    assert building.status_code == (201 if role in RECORDS else 403)
    staff = client.patch(f"/api/staff/{place['staff']['tech1']}", headers=headers, json={"on_duty": True})
    assert staff.status_code == (200 if role in STAFF_MANAGERS else 403)
    community = client.patch("/api/communities/demo", headers=headers, json={"address": "和谐路 1 号"})
    assert community.status_code == (200 if role in STAFF_MANAGERS else 403)
    with session_factory() as s:
        community_id = s.scalar(select(Community.id).where(Community.code == "demo"))
    listed = client.get("/api/households", headers=headers, params={"community": "demo", "limit": 1}).json()
    assert listed["items"] and community_id == place["demo"]
    phones = [p for item in listed["items"] for p in item.get("phones", [])]
    shown = [p["phone"] if isinstance(p, dict) else p for p in phones]
    assert shown and all(("*" not in p) == (role in FULL_PHONES) for p in shown), shown


# Handling work someone holds (resolve; transfer, close and cancel check the same rule): a building-1 lift
# repair tech1 accepted, cs1 owns (steward); and one of another community.
RESOLVE = {
    "admin": (403, 403), "manager": (200, 404), "cs-lead": (403, 404), "cs1": (200, 404), "cs2": (403, 404),
    "eng-lead": (200, 404), "tech1": (200, 404), "sec-lead": (403, 404), "guard1": (403, 404),
    "env-lead": (403, 404), "gardener1": (403, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_handling_held_work(role, client, session_factory, clock, settings, place):
    mine = new_ticket(session_factory, clock, settings, place["demo"], "1-1-0101", "lift")
    theirs = new_ticket(session_factory, clock, settings, place["other"], None, "lift", place["other_resident"])
    assert client.post(f"/api/tickets/{mine}/accept", headers=auth(place, "tech1")).status_code == 200
    got = tuple(client.post(f"/api/tickets/{tid}/resolve", headers=auth(place, role), json={"note": "修好了"}).status_code
                for tid in (mine, theirs))
    assert got == RESOLVE[role]


# Notices: compose one to the whole community / read the list / read another community's notice.
NOTICES = {
    "admin": (201, 200, 200),
    **{role: (201, 200, 404) for role in ("manager", "cs-lead", "cs1", "cs2")},
    **{role: (403, 200, 404) for role in ("eng-lead", "sec-lead", "env-lead")},
    **{role: (403, 403, 404) for role in ("tech1", "guard1", "gardener1")},
}


@pytest.mark.parametrize("role", ROLES)
def test_notices(role, client, session_factory, clock, place):
    from backend.models import Notice

    with session_factory() as s:
        theirs = Notice(community_id=place["other"], category="tip", title="别家", body="x", audience={"community": True},
                        status="scheduled", scheduled_at=clock.now(), created_at=clock.now())
        s.add(theirs)
        s.commit()
        theirs_id = theirs.id
    headers = auth(place, role)
    created = client.post("/api/notices", headers=headers, params={"community": "demo"} if role == "admin" else {},
                          json={"title": "温馨提示", "body": "天冷注意保暖。", "category": "tip",
                                "audience": {"departments": ["security"]}})
    got = (created.status_code, client.get("/api/notices", headers=headers).status_code,
           client.get(f"/api/notices/{theirs_id}", headers=headers).status_code)
    assert got == NOTICES[role], created.text


# Events and the books: create an event / check in an unknown code (allowed: 404, the code is unknown) /
# enter a bill for an own household / for another community's household.
EVENTS_AND_BOOKS = {
    "admin":     (201, 404, 201, 404),
    "manager":   (201, 404, 201, 404),
    "cs-lead":   (201, 404, 201, 404),
    "cs1":       (403, 404, 403, 403),
    "cs2":       (403, 404, 403, 403),
    "eng-lead":  (403, 403, 403, 403),
    "tech1":     (403, 403, 403, 403),
    "sec-lead":  (403, 404, 403, 403),
    "guard1":    (403, 404, 403, 403),
    "env-lead":  (403, 403, 403, 403),
    "gardener1": (403, 403, 403, 403),
}


@pytest.mark.parametrize("role", ROLES)
def test_events_check_in_and_bills(role, client, session_factory, clock, place):
    headers = auth(place, role)
    params = {"community": "demo"} if role == "admin" else {}
    with session_factory() as s:
        mine = _household(s, place["demo"], "1-1-0101").id
        theirs = s.scalar(select(Household.id).where(Household.community_id == place["other"]).limit(1))
    starts = (clock.now() + timedelta(days=3)).isoformat()
    bill = {"fee_type": "parking", "period": "2026-11", "amount": "300"}
    got = (client.post("/api/events", headers=headers, params=params,
                       json={"title": "义诊", "starts_at": starts}).status_code,
           client.post("/api/events/checkin", headers=headers, params=params, json={"code": "000000"}).status_code,
           client.post("/api/bills", headers=headers, params=params, json={**bill, "household_id": mine}).status_code,
           client.post("/api/bills", headers=headers, params=params,
                       json={**bill, "household_id": theirs}).status_code)
    assert got == EVENTS_AND_BOOKS[role]


# The KPI dashboard's figures (GET /api/kpi and /api/kpi.xlsx): own community / another community.
KPI = {
    "admin": (200, 200), "manager": (200, 404), "cs-lead": (200, 404),
    **{role: (403, 404) for role in ("cs1", "cs2", "eng-lead", "tech1", "sec-lead", "guard1", "env-lead",
                                     "gardener1")},
}


@pytest.mark.parametrize("role", ROLES)
def test_kpi_figures(role, client, place):
    for path in ("/api/kpi", "/api/kpi.xlsx"):
        got = tuple(client.get(path, headers=auth(place, role), params={"community": code}).status_code
                    for code in ("demo", "other"))
        assert got == KPI[role], path
