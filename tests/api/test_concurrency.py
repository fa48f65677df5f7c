"""Many callers at once: every answer is a proper one (200, or 409 for a lost race), quickly; never a 500."""

from __future__ import annotations

import threading
import time
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.models import ChatIdentity
from bot.app import create_app
from tests.api.conftest import ADMIN
from tests.api.test_api_tickets import new_ticket

CALLERS = 50


def _at_once(count: int, call) -> tuple[Counter[int], float]:
    barrier = threading.Barrier(count)
    codes: list[int] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        code = call(i)
        with lock:
            codes.append(code)

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return Counter(codes), time.monotonic() - started


def test_fifty_accepts_at_once_give_one_winner_and_quick_409s(client, world):
    a = world.a
    tid = new_ticket(client, a)["id"]
    who = ["tech", "tech2", "eng_lead", "manager"]
    codes, took = _at_once(CALLERS, lambda i: client.post(f"/api/tickets/{tid}/accept",
                                                          headers=a.auth(who[i % len(who)])).status_code)
    assert codes == Counter({200: 1, 409: CALLERS - 1}), codes
    assert took < 20, took


def test_fifty_reads_at_once_all_answer(client, world):
    a = world.a
    for _ in range(3):
        new_ticket(client, a)
    codes, took = _at_once(CALLERS, lambda i: client.get("/api/tickets", headers=ADMIN if i % 2 else a.auth("tech"))
                           .status_code)
    assert codes == Counter({200: CALLERS}), codes
    assert took < 20, took


def test_first_messages_of_a_new_user_at_once_are_all_answered(settings, clock, session_factory, world):
    """A new writer's simultaneous first messages: one becomes known, none is refused or lost."""
    settings.demo_mode, settings.default_community, settings.run_worker_in_app = True, "a", False
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as client:
        codes, _ = _at_once(5, lambda i: client.post("/api/webchat/messages",
                                                     json={"user": "u-brand-new", "text": f"你好 {i}"}).status_code)
    assert codes == Counter({200: 5}), codes
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ChatIdentity)
                        .where(ChatIdentity.external_id == "u-brand-new")) == 1
