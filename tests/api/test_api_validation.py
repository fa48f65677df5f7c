"""Bad input never reaches a 500: validation is JSON 422, oversized bodies are 413."""

from __future__ import annotations

import json

import pytest

from backend.api.limits import MAX_BODY_BYTES

JSON = {"Content-Type": "application/json"}


def test_validation_errors_are_json_422_with_a_clear_message(client, world):
    auth = world.a.auth("cs")
    response = client.post("/api/tickets", headers=auth, json={"kind": "repair"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "api.validation"
    assert body["message"].startswith("请求内容有误：") and "description" in body["message"]
    assert body["details"][0]["field"] == "description"


@pytest.mark.parametrize("body", [
    {"kind": "disaster", "description": "x"},
    {"kind": "repair", "description": "   "},
    {"kind": "repair", "description": "x" * 4001},
    {"kind": "repair", "description": "x", "surprise": 1},
    {"kind": "repair", "description": "含\x00空字符"},
    {"kind": "repair", "description": "x", "household_id": 10**30},
    {"kind": "repair", "description": "x", "household_id": "三号楼"},
    {"kind": "repair", "description": "x", "photos": ["javascript:alert(1)"]},
    {"kind": "repair", "description": "x", "category": "../../etc"},
    ["not", "an", "object"],
    "just a string",
    None,
])
def test_bad_ticket_bodies_are_422(client, world, body):
    response = client.post("/api/tickets", headers={**world.a.auth("cs"), **JSON},
                           content=json.dumps(body))
    assert response.status_code == 422, response.text
    assert response.json()["message"]


def test_transfer_needs_exactly_one_target(client, world):
    a = world.a
    tid = client.post("/api/tickets", headers=a.auth("cs"), json={"kind": "repair", "description": "x"}).json()["id"]
    response = client.post(f"/api/tickets/{tid}/transfer", headers=a.auth("manager"),
                           json={"to_staff_id": a.staff["tech"].id, "to_department": "security"})
    assert response.status_code == 422
    assert "exactly one" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/tickets/99999999999999999999999", "/api/tickets/0",
                                  "/api/tickets/abc", "/api/tickets?limit=100000", "/api/tickets?status=lost"])
def test_bad_paths_and_queries_are_422(client, world, path):
    response = client.get(path, headers=world.a.auth("cs"))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("raw", [
    b"{",
    b"\xff\xfe\x00garbage\x9c",
    b'{"kind": "repair", "description": "\xe6\xbc"}',
    b"[" * 50_000 + b"]" * 50_000,
    b'{"kind": "repair", "description": "' + b"\\u0000" * 10 + b'"}',
])
def test_garbled_bodies_are_4xx_json(client, world, raw):
    response = client.post("/api/tickets", headers={**world.a.auth("cs"), **JSON}, content=raw)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["message"]


def test_huge_body_is_413(client, world):
    huge = b'{"kind": "repair", "description": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    response = client.post("/api/tickets", headers={**world.a.auth("cs"), **JSON}, content=huge)
    assert response.status_code == 413
    assert response.json()["error"] == "api.body_too_large"


def test_huge_streamed_body_without_length_is_413(client, world):
    def chunks():
        for _ in range(20):
            yield b"x" * (MAX_BODY_BYTES // 10)

    response = client.post("/api/tickets", headers={**world.a.auth("cs"), **JSON}, content=chunks())
    assert response.status_code == 413
    assert response.json()["error"] == "api.body_too_large"
