"""Ready means ready: the served app loads the NLU and warms up at start-up, /healthz says 503 until then."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jieba
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import nlu as nlu_package
from backend.models import ChatIdentity, DialogueState, Resident
from backend.services.demo import seed_demo
from backend.settings import Settings
from bot.app import create_app

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


def _wait_for(client: TestClient, status: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/healthz")
        if response.status_code == status:
            return response.json()
        assert time.monotonic() < deadline, response.json()
        time.sleep(0.05)


@pytest.fixture
def gated_load(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[Any]]:
    """The real NLU load, held until the test opens the gate; what it loaded is kept."""
    gate, loaded = threading.Event(), []
    real: Callable[..., Any] = nlu_package.load_nlu

    def load_nlu(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(60)
        loaded.append(real(*args, **kwargs))
        return loaded[-1]

    monkeypatch.setattr(nlu_package, "load_nlu", load_nlu)
    return gate, loaded


def test_healthz_is_503_until_the_nlu_is_loaded_and_the_app_warm(settings, clock, session_factory, gated_load,
                                                                  caplog):
    gate, loaded = gated_load
    caplog.set_level(logging.INFO, "guanjia.app")
    settings.demo_mode = True
    with session_factory() as s:  # a community, so the warm-up runs whole conversations
        seed_demo(s, settings, clock)
        s.commit()
        before = {m: s.scalar(select(func.count()).select_from(m)) for m in (ChatIdentity, Resident, DialogueState)}
    app = create_app(settings.model_copy(update={"nlu_cache_dir": NLU_CACHE}), clock=clock,
                     session_factory=session_factory, preload=True)
    with TestClient(app) as client:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "starting", "database": "ok", "waiting_for": ["nlu", "warm-up"]}

        gate.set()
        assert _wait_for(client, 200) == {"status": "ok", "database": "ok"}
        assert len(loaded) == 1 and type(loaded[0]).__name__ == "BuiltinNLU"
        assert app.state.get_nlu() is loaded[0]
        assert jieba.dt.initialized  # FAQ matching's dictionary, loaded before the first message needs it
        with session_factory() as s:  # the warm-up's conversations were rolled back
            after = {m: s.scalar(select(func.count()).select_from(m)) for m in before}
        assert after == before

        r = client.post("/api/webchat/messages", json={"user": "u-first", "text": "你好"})
        assert r.status_code == 200 and "欢迎" in r.json()["replies"][0]["text"]
    assert len(loaded) == 1  # the first message found everything loaded
    assert [r.message for r in caplog.records if r.levelno >= logging.WARNING] == []  # the warm-up ran whole
    assert any(r.message.startswith("start-up: ready in") for r in caplog.records)


def test_healthz_names_the_failed_step(settings, clock, session_factory, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("unknown NLU spec")

    monkeypatch.setattr(nlu_package, "load_nlu", broken)
    app = create_app(settings, clock=clock, session_factory=session_factory, preload=True)
    with TestClient(app) as client:
        deadline = time.monotonic() + 30
        while (body := client.get("/healthz").json()).get("status") == "starting":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        response = client.get("/healthz")
        assert response.status_code == 503
        assert body == response.json() == {"status": "error", "database": "ok", "failed": "nlu"}


def test_an_app_handed_its_database_does_not_preload(settings: Settings, clock, session_factory):
    app = create_app(settings, clock=clock, session_factory=session_factory)
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
