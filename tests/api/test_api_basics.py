"""Health, authentication and the shape of errors."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from backend.db import make_session_factory
from bot.app import create_app
from tests.api.conftest import ADMIN


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(settings, clock, tmp_path):
    broken = create_engine(f"sqlite:///{tmp_path}/missing/dir/guanjia.db")
    app = create_app(settings, clock=clock, session_factory=make_session_factory(broken))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/tickets/{ticket_id}/accept" in paths
    assert "/healthz" in paths


def test_api_needs_a_token(client, world):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dGVzdA=="},
                    {"Authorization": "Bearer "}):
        response = client.get("/api/tickets", headers=headers)
        assert response.status_code == 401, headers
        body = response.json()
        assert body["error"] == "api.unauthorized"
        assert "令牌" in body["message"] and "token" in body["message_en"]


def test_admin_token_and_staff_token_are_both_accepted(client, world):
    assert client.get("/api/communities", headers=ADMIN).status_code == 200
    mine = client.get("/api/communities", headers=world.a.auth("tech")).json()
    assert [c["code"] for c in mine] == ["a"]


def test_unknown_route_is_json_404(client):
    response = client.get("/api/nothing-here", headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["message"]


def test_unexpected_errors_are_500_json_without_internals(settings, clock, session_factory, caplog):
    app = create_app(settings, clock=clock, session_factory=session_factory)
    boom = APIRouter()

    @boom.get("/boom")
    def explode() -> None:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "api.internal"
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert any("unhandled error" in r.message for r in caplog.records)  # logged for the operator


class EchoNLU:
    """Stands in for the trained model: the app's wiring is under test, not the classifier."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def parse(self, text, reference_time=None):
        self.seen.append(text)
        return {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": [],
                "intent_ranking": [{"name": "greet", "confidence": 1.0}]}


def test_nlu_parse_is_mounted_with_the_apps_nlu(settings, clock, session_factory):
    pytest.importorskip("nlu.api")
    nlu = EchoNLU()
    app = create_app(settings, clock=clock, session_factory=session_factory, nlu=nlu)
    with TestClient(app) as client:
        response = client.post("/model/parse", json={"text": "你好"})
    assert response.status_code == 200, response.text
    assert response.json()["intent"]["name"] == "greet"
    assert nlu.seen == ["你好"]
