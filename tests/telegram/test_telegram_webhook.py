"""POST /telegram/webhook in the FastAPI app: the secret header, dedup across retries, nothing stored on 403."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.models import ChatIdentity, ProcessedUpdate, Ticket
from bot.app import create_app
from tests.telegram import updates as tg
from tests.telegram.conftest import SECRET

pytestmark = pytest.mark.filterwarnings("error")
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def client(tg_settings, clock, session_factory, nlu, demo):
    app = create_app(tg_settings, clock=clock, session_factory=session_factory, nlu=nlu)
    with TestClient(app) as test_client:
        yield test_client


def count(session_factory, model) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_wrong_or_missing_secret_is_403_and_nothing_is_stored(client, fake_api, session_factory):
    update = tg.text(tg.user(5001), "5号楼电梯按钮坏了")
    for headers in ({HEADER: "wrong"}, {}, {HEADER: SECRET + "x"}):
        response = client.post("/telegram/webhook", json=update, headers=headers)
        assert response.status_code == 403
    assert count(session_factory, ProcessedUpdate) == 0
    assert count(session_factory, ChatIdentity) == 0
    assert not fake_api.sent("sendMessage")


def test_update_is_handled_once_even_when_telegram_retries(client, fake_api, session_factory):
    update = tg.text(tg.user(5002), "5号楼电梯按钮坏了")
    for _ in range(3):
        response = client.post("/telegram/webhook", json=update, headers={HEADER: SECRET})
        assert response.status_code == 200
    assert count(session_factory, Ticket) == 1
    assert count(session_factory, ProcessedUpdate) == 1
    replies = fake_api.sent("sendMessage", 5002)
    assert replies and any("工单号" in c["text"] for c in replies)
    assert len({c["text"] for c in replies}) == len(replies)  # nothing sent twice


def test_not_an_update_is_400(client):
    assert client.post("/telegram/webhook", content=b"{not json", headers={HEADER: SECRET}).status_code == 400
    assert client.post("/telegram/webhook", json={"hello": 1}, headers={HEADER: SECRET}).status_code == 400


def test_without_a_configured_secret_every_call_is_refused(tg_settings, clock, session_factory, nlu, demo):
    tg_settings.telegram_webhook_secret = ""
    app = create_app(tg_settings, clock=clock, session_factory=session_factory, nlu=nlu)
    with TestClient(app) as test_client:
        response = test_client.post("/telegram/webhook", json=tg.text(tg.user(5003), "你好"), headers={HEADER: ""})
    assert response.status_code == 403


def test_no_token_no_route(settings, clock, session_factory, nlu):
    app = create_app(settings, clock=clock, session_factory=session_factory, nlu=nlu)
    with TestClient(app) as test_client:
        assert test_client.post("/telegram/webhook", json={}).status_code in (404, 405)
