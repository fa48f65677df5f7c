"""The server and the worker, every channel configured, real traffic: their logs hold no secret, no full phone.

`guanjia serve` (with its in-app worker) and `guanjia worker` run as real processes against the fake
Telegram, WeChat and WeCom servers. The test talks to the web chat (a phone number bound, a ticket
with a phone in it), passes WeChat's URL check (signature, timestamp, nonce in the query), and has
notifications delivered on every channel (WeChat token fetch with the app secret in its query,
access tokens in every send). Then it greps both processes' output.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backend.clock import SystemClock
from backend.db import transaction
from backend.models import ChatIdentity, Notification, Resident
from backend.services import outbox
from backend.services.demo import seed_demo
from backend.services.outbox import Recipient
from bot.wechat import quota
from tests.telegram.fake_bot_api import FakeBotApi
from tests.wechat import fake_wechat_api

GUANJIA = Path(sys.executable).parent / "guanjia"
NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"
SECRETS = {
    "GUANJIA_ADMIN_TOKEN": "adm1n-T0ken-that-is-long-enough-for-production-x",
    "GUANJIA_SECRET_KEY": "s3cret-key-for-signing-web-chat-ids-0123456789",
    "GUANJIA_TELEGRAM_TOKEN": "987654321:AAsecret-bot-token_kept-out-of-logs",
    "GUANJIA_TELEGRAM_WEBHOOK_SECRET": "tg-webhook-secret-ABCdef123",
    "GUANJIA_WECHAT_APP_SECRET": "wxappsecret0123456789abcdef0123",
    "GUANJIA_WECHAT_TOKEN": "wxcallbacktoken42",
    "GUANJIA_WECOM_SECRET": "wecomsecret-abcdefghijklmnop",
    "GUANJIA_WECOM_TOKEN": "wecomcallbacktoken7",
}
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def platforms():
    telegram = FakeBotApi(SECRETS["GUANJIA_TELEGRAM_TOKEN"]).start()
    wechat, server = fake_wechat_api.start()
    yield telegram, wechat
    telegram.stop()
    server.shutdown()
    server.server_close()


def _seed(session_factory, settings) -> list[int]:
    """A resident on WeChat, WeCom and Telegram, with a notification waiting for each account."""
    clock = SystemClock()
    with transaction(session_factory) as s:
        community = seed_demo(s, settings, clock)
        resident = Resident(community_id=community.id, name="刘女士", phone="13712345678", created_at=clock.now())
        s.add(resident)
        s.flush()
        for channel, chat in (("telegram", "600001"), ("wechat", "o-log-1"), ("wecom", "w-log-1")):
            s.add(ChatIdentity(community_id=community.id, channel=channel, external_id=chat,
                               resident_id=resident.id, created_at=clock.now()))
        quota.open_window(s, "wechat", "o-log-1", "message", 5, 48 * 3600, clock.now())
        note = outbox.enqueue(s, clock, community.id, Recipient.resident(resident.id), "ticket.accepted",
                              {"number": 77, "assignee": "吴涛 13800001111", "owner": "张敏"})
        s.flush()
        return [note.id]


def test_no_secret_and_no_full_phone_number_in_the_logs(db_url, session_factory, settings, platforms, tmp_path):
    telegram, wechat = platforms
    ids = _seed(session_factory, settings)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANJIA_")}
    env.update(SECRETS)
    env.update({
        "GUANJIA_DATABASE_URL": db_url, "GUANJIA_MEDIA_DIR": str(tmp_path / "media"), "GUANJIA_DEMO_MODE": "true",
        "GUANJIA_NLU_CACHE_DIR": str(NLU_CACHE), "GUANJIA_HOST": "127.0.0.1", "GUANJIA_PORT": str(port),
        "GUANJIA_TELEGRAM_API_URL": telegram.url,
        "GUANJIA_WECHAT_APP_ID": "wx-log-app", "GUANJIA_WECHAT_API_URL": wechat.url,
        "GUANJIA_WECOM_CORP_ID": "ww-log-corp", "GUANJIA_WECOM_AGENT_ID": "1000002",
        "GUANJIA_WECOM_API_URL": wechat.url,
    })
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("serve", "worker")}
    server = subprocess.Popen([str(GUANJIA), "serve"], env=env, cwd=tmp_path, stdout=logs["serve"],
                              stderr=subprocess.STDOUT)
    worker = subprocess.Popen([str(GUANJIA), "worker"], env=env, cwd=tmp_path, stdout=logs["worker"],
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            for text in ("/bind", "3-2-1502", "13900321502", "厨房水管漏水了，联系电话13612345678"):
                assert client.post("/api/webchat/messages", json={"user": "u-log", "text": text}).status_code == 200
            ts, nonce = str(int(time.time())), "n0nce-log"
            signature = hashlib.sha1("".join(sorted([SECRETS["GUANJIA_WECHAT_TOKEN"], ts, nonce])).encode()).hexdigest()
            checked = client.get("/wechat/mp", params={"signature": signature, "timestamp": ts, "nonce": nonce,
                                                       "echostr": "echo-me", "openid": "o-secret-openid"})
            assert checked.status_code == 200 and checked.text == "echo-me"
            assert client.get("/api/tickets", headers={
                "Authorization": f"Bearer {SECRETS['GUANJIA_ADMIN_TOKEN']}"}).status_code == 200
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with session_factory() as s:
                waiting = s.scalar(select(func.count()).select_from(Notification)
                                   .where(Notification.id.in_(ids), Notification.status == "pending"))
            if not waiting and wechat.to("/cgi-bin/message/custom/send") and telegram.sent("sendMessage"):
                break
            time.sleep(0.2)
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs.values():
            handle.close()

    text = {name: (tmp_path / f"{name}.log").read_text(errors="replace") for name in logs}
    # The traffic happened and was logged (so the greps below look at something).
    assert "GET /wechat/mp?" in text["serve"] and "/api/webchat/messages" in text["serve"], text["serve"][-2000:]
    assert wechat.to("/cgi-bin/token") and wechat.to("/cgi-bin/gettoken") and wechat.to("/cgi-bin/message/send")
    assert telegram.sent("sendMessage")
    for name, content in text.items():
        for key, secret in SECRETS.items():
            assert secret not in content, f"{key} in the {name} log"
        for word in (signature, nonce, "o-secret-openid", "tok-1", "access_token=tok"):
            assert word not in content, f"{word} in the {name} log"
        assert not PHONE.findall(content), f"full phone numbers in the {name} log: {PHONE.findall(content)[:3]}"
