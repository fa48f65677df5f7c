"""The FAQ editing API and the satisfaction figures, through the real app (TestClient)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.models import Staff, Ticket
from backend.services.actor import Actor
from backend.services.api_tokens import issue_token
from backend.services.faq import DEMO_FAQ
from backend.services.tickets import TicketService
from bot.app import create_app

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def client(settings, clock, session_factory, demo) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as c:
        yield c


def token(session_factory, clock, login: str) -> dict[str, str]:
    with session_factory() as s:
        staff = s.scalar(select(Staff).where(Staff.login == login))
        value = issue_token(s, staff, clock, label="test")
        s.commit()
    return {"Authorization": f"Bearer {value}"}


def test_faq_crud_by_staff_and_the_assistant_uses_it(client, session_factory, clock, chat):
    cs = token(session_factory, clock, "cs-lead")  # the answers residents get: leads and the manager edit them
    listed = client.get("/api/faq", headers=cs).json()
    assert listed["total"] == len(DEMO_FAQ)
    assert client.post("/api/faq", headers=token(session_factory, clock, "cs1"),
                       json={"question": "怎么缴费？", "answer": "转账到 6222…"}).status_code == 403
    created = client.post("/api/faq", headers=cs, json={
        "question": "游泳池什么时候开放？", "answer": "泳池每年6月到9月开放，每天 9:00–21:00。", "keywords": "游泳池 泳池 游泳"})
    assert created.status_code == 201
    entry = created.json()
    assert "6月到9月" in chat("u-amy").say("小区游泳池什么时候开放")
    updated = client.put(f"/api/faq/{entry['id']}", headers=cs, json={"answer": "泳池今年暂停开放。"})
    assert updated.status_code == 200 and updated.json()["answer"] == "泳池今年暂停开放。"
    assert client.get("/api/faq/match", headers=cs, params={"q": "游泳池开放时间"}).json()["entry"]["id"] == entry["id"]
    assert client.delete(f"/api/faq/{entry['id']}", headers=cs).status_code == 204
    assert client.get(f"/api/faq/{entry['id']}", headers=cs).status_code == 404
    assert "咨询单" in chat("u-ben").say("小区游泳池什么时候开放")


def test_faq_api_refuses_strangers_and_bad_bodies(client, session_factory, clock):
    assert client.get("/api/faq").status_code == 401
    cs = token(session_factory, clock, "cs1")
    assert client.post("/api/faq", headers=cs, json={"question": "", "answer": "x"}).status_code == 422
    assert client.post("/api/faq", headers=cs, json={"question": "q", "answer": "a", "oops": 1}).status_code == 422
    assert client.post("/api/faq", headers=ADMIN, json={"question": "q", "answer": "a"}).status_code == 422  # which community?
    assert client.post("/api/faq", headers=ADMIN, params={"community": "demo"},
                       json={"question": "q", "answer": "a"}).status_code == 201


def test_satisfaction_per_area_against_targets(client, session_factory, clock, settings, chat):
    amy = chat("u-amy")
    amy.say("/bind")
    amy.say("3-2-1502")
    amy.say("13900321502")
    amy.say("厨房水管漏水了")  # environment and facilities
    with session_factory() as s:
        tech = s.scalar(select(Staff).where(Staff.login == "tech1"))
        t = s.scalar(select(Ticket))
        svc = TicketService(s, clock, settings)
        svc.accept(Actor.of_staff(tech), t.id)
        svc.resolve(Actor.of_staff(tech), t.id)
        s.commit()
    amy.press(f"r:ok:{t.id}")
    amy.press(f"r:rate:{t.id}:5")
    body = client.get("/api/satisfaction", headers=ADMIN, params={"community": "demo"}).json()
    areas = {a["area"]: a for a in body["areas"]}
    assert areas["environment"] == {"area": "environment", "rated": 1, "satisfied": 1, "share": 1.0, "target": 0.9,
                                    "met": True}
    assert areas["safety"]["rated"] == 0 and areas["safety"]["met"] is None and areas["safety"]["target"] == 0.95
