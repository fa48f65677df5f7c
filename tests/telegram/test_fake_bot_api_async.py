"""The benchmark's fake Telegram (asyncio) answers as the tests' threaded one: same wire format, same limits."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.fake_bot_api_async import AsyncFakeBotApi

TOKEN = "123:fake-token"


@pytest.mark.parametrize("kind", [FakeBotApi, AsyncFakeBotApi])
def test_both_fakes_answer_alike(kind):
    api = kind(TOKEN).start()
    try:
        api.enforce(1000, 1.0, burst=2)
        with httpx.Client(base_url=api.url) as client:  # one kept-alive connection
            first = client.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 7, "text": "停水通知"})
            again = client.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 7, "text": "再发"})  # 1/s per chat
            form = client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": "8", "text": "表单"})
            forged = client.post("/bot999:other/sendMessage", json={"chat_id": 9, "text": "x"})
        assert first.status_code == 200 and first.json()["result"]["text"] == "停水通知"
        assert again.status_code == 429 and again.json()["parameters"]["retry_after"] >= 1
        assert form.status_code == 200 and form.json()["result"]["chat"]["id"] == 8
        assert forged.status_code == 401
        assert api.accepted == 2 and api.http_429 == 1 and [c.chat_id for c in api.delivered()] == ["7", "8"]
    finally:
        api.stop()


def test_the_async_fake_hangs_up_on_garbage_and_keeps_serving():
    api = AsyncFakeBotApi(TOKEN).start()
    try:
        host, port = api.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(b"NONSENSE\r\nContent-Length: x\r\n\r\n")
            assert raw.recv(100) == b""  # closed, nothing answered
        assert httpx.post(f"{api.url}/bot{TOKEN}/getMe", json={}).json()["result"]["is_bot"] is True
    finally:
        api.stop()
