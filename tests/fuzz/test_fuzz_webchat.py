"""POST /api/webchat/messages over the real app with hostile text, payloads and bodies, as demo residents, staff
and new visitors: never a 5xx, replies always well-formed UTF-8 JSON, the conversation never fails."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

from backend.services import demo as demo_data
from tests.fuzz.conftest import bounded
from tests.fuzz.strategies import RAW_BODIES, any_text, hostile_text, json_bytes, nested

pytestmark = pytest.mark.filterwarnings("error")
APOLOGY = "系统暂时出了点问题"
USERS = st.sampled_from([demo_data.web_resident_id(r.household) for r in demo_data.DEMO_RESIDENTS]
                        + [demo_data.web_staff_id("cs1"), demo_data.web_staff_id("tech1"), "w_fuzz_visitor"])
PAYLOADS = st.one_of(st.sampled_from(["menu:repair", "menu:fee", "menu:visitor", "b:ok:1", "t:accept:1", "x" * 256]),
                     hostile_text(3))


@bounded()
@given(user=USERS, text=any_text(8), payload=st.none() | PAYLOADS)
@example(user=demo_data.web_resident_id("3-2-1502"), text="5号楼电梯坏了\ud800", payload=None)
@example(user="w_fuzz_nul", text="\x00电梯\x00坏了", payload=None)  # PostgreSQL refuses NUL in text
@example(user="w_fuzz_nul2", text="", payload="menu:repair\x00")
def test_webchat_messages_never_fail(client, caplog, user, text, payload):
    body = {"user": user, "payload": payload} if payload is not None else {"user": user, "text": text}
    note(repr(body))
    response = client.post("/api/webchat/messages", content=json_bytes(body),
                           headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 413, 422), response.text[:300]
    data = json.loads(response.content.decode("utf-8"))
    if response.status_code == 200:
        assert data["replies"], data
        for reply in data["replies"]:
            assert isinstance(reply["text"], str) and APOLOGY not in reply["text"], reply
            assert all(isinstance(b["payload"], str) for b in reply["buttons"])
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert not errors, [(r.name, r.getMessage()) for r in errors]


@bounded()
@given(body=RAW_BODIES)
@example(body=nested(100_000))
@example(body=b'{"user":"w_x","text":' + b"[" * 5000 + b"]" * 5000 + b"}")
@example(body=b'{"user":"w_x","text":"\xed\xa0\x80"}')
def test_webchat_any_body_is_answered_4xx_or_replies(client, body):
    response = client.post("/api/webchat/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 400, 413, 422), response.text[:300]
