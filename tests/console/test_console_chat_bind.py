"""A staff member who binds their chat account (/bind CODE) without a console password gets a one-time link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.models import Staff
from backend.services.demo import seed_demo
from backend.services.invites import create_invite
from bot.app import create_app
from nlu import load_nlu
from tests.console.conftest import csrf_of

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


@pytest.fixture(scope="module")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


def test_chat_bind_gives_the_set_password_link(settings, clock, session_factory, nlu):
    settings.run_worker_in_app = False
    settings.demo_mode = True  # the web chat lets a test choose who it is
    with session_factory() as s, s.begin():
        seed_demo(s, settings, clock)
        tech = s.scalar(select(Staff).where(Staff.login == "tech2"))
        code = create_invite(s, tech, clock, settings)
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory, nlu=nlu)) as client:
        reply = client.post("/api/webchat/messages", json={"user": "u-tech2-phone", "text": f"/bind {code}"})
        assert reply.status_code == 200, reply.text
        reply = reply.json()
        text = " ".join(m["text"] for m in reply["replies"])
        assert "绑定成功" in text
        link = re.search(r"/console/password\?code=([A-Z0-9]+)", text)
        assert link, text
        page = client.get(f"/console/password?code={link.group(1)}")
        assert page.status_code == 200
        done = client.post("/console/password", data={"code": link.group(1), "password": "tech2-secret",
                                                       "password2": "tech2-secret", "csrf": csrf_of(page.text)},
                           follow_redirects=False)
        assert done.status_code == 303
    with session_factory() as s:
        tech = s.scalar(select(Staff).where(Staff.login == "tech2"))
        assert tech.password_hash
