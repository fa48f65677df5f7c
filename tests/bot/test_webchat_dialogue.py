"""Scripted conversations through the web chat HTTP API, the real NLU and the real delivery worker.

A resident reports a repair, the technician sees the task card pushed, accepts it with its button,
and the resident's page receives the acceptance; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.services.demo import seed_demo
from bot.app import create_app
from bot.worker import Worker
from nlu import load_nlu

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


@pytest.fixture(scope="session")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def client(settings, clock, session_factory, nlu) -> Iterator[TestClient]:
    settings.demo_mode = True
    settings.run_worker_in_app = False  # the test runs the worker's rounds itself
    with session_factory() as s:
        seed_demo(s, settings, clock)
        s.commit()
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory, nlu=nlu)) as c:
        yield c


@pytest.fixture
def worker(session_factory, clock, settings) -> Worker:
    return Worker(session_factory, clock, settings)


class WebUser:
    """One browser tab: say/press return the reply texts; poll() returns what was pushed since the last poll."""

    def __init__(self, client: TestClient, user: str) -> None:
        self.client, self.user, self.cursor = client, user, "0"
        self.replies: list[dict] = []
        self.pushed: list[dict] = []

    def _post(self, **body: str) -> str:
        r = self.client.post("/api/webchat/messages", json={"user": self.user, **body})
        assert r.status_code == 200, r.text
        self.replies = r.json()["replies"]
        return "\n".join(m["text"] for m in self.replies)

    def say(self, text: str) -> str:
        return self._post(text=text)

    def press(self, payload: str) -> str:
        return self._post(payload=payload)

    def poll(self) -> list[dict]:
        r = self.client.get("/api/webchat/messages", params={"user": self.user, "after": self.cursor})
        assert r.status_code == 200, r.text
        self.cursor = r.json()["cursor"]
        self.pushed = r.json()["messages"]
        return self.pushed

    def button(self, prefix: str, messages: list[dict] | None = None) -> dict:
        found = [b for m in (messages if messages is not None else self.replies) for b in m["buttons"]
                 if b["payload"].startswith(prefix)]
        assert found, f"no button {prefix}* in {messages or self.replies}"
        return found[0]


def test_repair_reaches_the_technician_and_the_acceptance_reaches_the_resident(client, worker):
    tech = WebUser(client, "staff:tech1")
    assert tech.say("你好")  # the technician has the page open
    tech.poll()

    resident = WebUser(client, "u-res")
    assert "楼栋" in resident.say("/bind")
    assert "手机号" in resident.say("三号楼二单元1502")
    assert "绑定成功" in resident.say("13900321502")
    assert "工单号 #1" in resident.say("厨房水管漏水了")
    assert resident.poll() == []  # nothing is pushed before the worker runs

    worker.run_once()
    cards = tech.poll()
    card = next(m for m in cards if "#1" in m["text"] and "3-2-1502" in m["text"])
    accept = tech.button("t:a:", [card])
    assert "接单" in accept["title"]
    assert tech.poll() == []  # the cursor moved on: the card comes once

    assert "已接单" in tech.press(accept["payload"])
    worker.run_once()
    news = resident.poll()
    assert any("已受理" in m["text"] and "#1" in m["text"] for m in news)
    assert resident.poll() == []

    # a second press is answered, not repeated to the resident
    tech.press(accept["payload"])
    worker.run_once()
    assert not any("已受理" in m["text"] for m in resident.poll())


def test_emergency_alerts_the_guard_on_duty(client, worker):
    guard = WebUser(client, "staff:guard1")
    guard.say("你好")
    guard.poll()
    resident = WebUser(client, "u-emergency")
    reply = resident.say("有人被困在电梯里了 快来人")
    assert "工单号" in reply and "400-800-1234" in reply
    worker.run_once()
    alerts = guard.poll()
    assert alerts and any(b["payload"].startswith("t:a:") for m in alerts for b in m["buttons"])


def test_menu_buttons_drive_a_repair_by_pressing(client):
    resident = WebUser(client, "u-press")
    resident.say("你好")
    assert "哪里坏了" in resident.press(resident.button("m:repair")["payload"])


def test_each_user_sees_only_their_own_pushes(client, worker):
    tech, steward = WebUser(client, "staff:tech1"), WebUser(client, "staff:cs2")  # cs2 looks after building 5
    tech.say("你好")
    steward.say("你好")
    resident = WebUser(client, "u-five")
    resident.say("/bind")
    resident.say("5-1-0301")
    assert "绑定成功" in resident.say("13900510301")
    assert "工单号 #1" in resident.say("卫生间马桶堵了")
    worker.run_once()
    assert any("首问负责人" in m["text"] and "#1" in m["text"] for m in steward.poll())
    tech_texts = [m["text"] for m in tech.poll()]
    assert any("#1" in t for t in tech_texts) and not any("首问负责人" in t for t in tech_texts)
    assert resident.poll() == []  # the reporter's own replies came with the POST, not as pushes
