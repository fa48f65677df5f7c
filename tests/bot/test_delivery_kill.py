"""kill -9 of `guanjia worker` mid-batch, again and again: every message arrives, none twice.

The worker runs as a real process against the fake Telegram, WeChat and WeCom servers (the real
wire format on 127.0.0.1) and the web chat inbox. Messages are counted where they arrive. The only
duplicates allowed are sends that had reached the platform when the process died: those are on
record as in doubt (`delivery.in_doubt`) and number at most one per kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.clock import SystemClock
from backend.db import transaction
from backend.models import ChannelMessage, ChatIdentity, Delivery, Notification, Resident
from backend.services import outbox
from backend.services.demo import seed_demo
from backend.services.outbox import Recipient
from bot.wechat import quota
from tests.processes import GUANJIA, NLU_CACHE, free_port
from tests.telegram.fake_bot_api import FakeBotApi
from tests.wechat import fake_wechat_api

RESIDENTS = int(os.environ.get("GUANJIA_TEST_KILL_RESIDENTS", "24"))  # x Telegram, WeChat, WeCom, web chat
KILLS = int(os.environ.get("GUANJIA_TEST_KILLS", "5"))  # more for a longer run
TOKEN = "123456789:AAkill-test_token"
PLATFORM_DELAY = 0.04  # seconds a platform takes to answer, after it has the request


@pytest.fixture
def platforms():
    telegram = FakeBotApi(TOKEN).start()
    telegram.delay = PLATFORM_DELAY
    wechat, server = fake_wechat_api.start()
    server.handle_error = lambda *_args: None  # a killed worker's hung-up connection is expected here
    wechat.delay.update({"/cgi-bin/message/custom/send": PLATFORM_DELAY, "/cgi-bin/message/send": PLATFORM_DELAY})
    yield telegram, wechat
    telegram.stop()
    server.shutdown()
    server.server_close()


def _seed(session_factory, settings) -> list[int]:
    clock = SystemClock()  # the worker process runs on the wall clock
    with transaction(session_factory) as s:
        community = seed_demo(s, settings, clock)
        ids = []
        for i in range(RESIDENTS):
            resident = Resident(community_id=community.id, name=f"住户{i}", created_at=clock.now())
            s.add(resident)
            s.flush()
            for channel, chat in (("telegram", str(500000 + i)), ("wechat", f"o-{i}"), ("wecom", f"w-{i}"),
                                  ("web", f"web-{i}")):
                s.add(ChatIdentity(community_id=community.id, channel=channel, external_id=chat,
                                   resident_id=resident.id, created_at=clock.now()))
            quota.open_window(s, "wechat", f"o-{i}", "message", 5, 48 * 3600, clock.now())
            note = outbox.enqueue(s, clock, community.id, Recipient.resident(resident.id), "ticket.accepted",
                                  {"number": 1000 + i, "assignee": "吴涛", "owner": "张敏"})
            s.flush()
            ids.append(note.id)
        return ids


def _env(db_url: str, telegram: FakeBotApi, wechat_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANJIA_")}
    env.update({
        "GUANJIA_DATABASE_URL": db_url, "GUANJIA_MEDIA_DIR": str(tmp / "media"),
        "GUANJIA_DELIVERY_LEASE_SECONDS": "2", "GUANJIA_DELIVERY_BATCH": "5", "GUANJIA_SWEEP_INTERVAL_SECONDS": "3600",
        "GUANJIA_TELEGRAM_TOKEN": TOKEN, "GUANJIA_TELEGRAM_API_URL": telegram.url,
        "GUANJIA_WECHAT_APP_ID": "wx-kill", "GUANJIA_WECHAT_APP_SECRET": "mp-secret-kill",
        "GUANJIA_WECHAT_API_URL": wechat_url,
        "GUANJIA_WECOM_CORP_ID": "ww-kill", "GUANJIA_WECOM_SECRET": "work-secret-kill",
        "GUANJIA_WECOM_AGENT_ID": "1000002", "GUANJIA_WECOM_API_URL": wechat_url,
    })
    return env


def _arrived(telegram: FakeBotApi, wechat: fake_wechat_api.FakeApi) -> Counter[str]:
    """Messages as the platforms saw them, by target ("<channel>:<chat>")."""
    counts: Counter[str] = Counter(f"telegram:{c.chat_id}" for c in telegram.sent("sendMessage"))
    with wechat.lock:
        calls = list(wechat.calls)
    counts.update(f"wechat:{c.body['touser']}" for c in calls if c.path == "/cgi-bin/message/custom/send")
    counts.update(f"wecom:{c.body['touser']}" for c in calls if c.path == "/cgi-bin/message/send")
    return counts


@pytest.mark.parametrize("process", ["worker", "serve"])  # `guanjia worker`, or the server's in-app worker
def test_kill_9_mid_batch_loses_nothing_and_duplicates_only_sends_in_flight(
        process, db_url, session_factory, settings, platforms, tmp_path):
    telegram, wechat = platforms
    ids = _seed(session_factory, settings)
    env = _env(db_url, telegram, wechat.url, tmp_path)
    env.update({"GUANJIA_RUN_WORKER_IN_APP": "true", "GUANJIA_NLU_CACHE_DIR": str(NLU_CACHE)})
    kills_wanted = KILLS if process == "worker" else max(1, KILLS // 2)  # a server starts slower
    rng = random.Random(13)
    kills, log = 0, (tmp_path / "worker.log").open("ab")

    def unsent() -> int:
        with session_factory() as s:
            return int(s.scalar(select(func.count()).select_from(Notification)
                                .where(Notification.id.in_(ids), Notification.status != "sent")) or 0)

    deadline = time.monotonic() + 90 + 10 * KILLS + RESIDENTS
    while unsent() and time.monotonic() < deadline:
        before = sum(_arrived(telegram, wechat).values())
        command = ["worker"] if process == "worker" else ["serve", "--port", str(free_port())]
        worker = subprocess.Popen([str(GUANJIA), *command], env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            if kills < kills_wanted:
                kill_after = before + rng.randint(2, 12)  # mid-batch: a batch is 5 notifications x 4 chats
                while sum(_arrived(telegram, wechat).values()) < kill_after and unsent() \
                        and time.monotonic() < deadline:
                    time.sleep(0.005)
                # half the kills while a request is at the platform, half a little later (in the bookkeeping)
                time.sleep(rng.choice((0.0, rng.uniform(PLATFORM_DELAY + 0.005, PLATFORM_DELAY + 0.06))))
                worker.send_signal(signal.SIGKILL)
                kills += 1
            else:
                while unsent() and time.monotonic() < deadline:
                    time.sleep(0.1)
                worker.send_signal(signal.SIGTERM)
        finally:
            worker.wait(20)
    log.close()

    assert kills == kills_wanted
    assert unsent() == 0, (tmp_path / "worker.log").read_text()[-3000:]
    arrived = _arrived(telegram, wechat)
    expected = {f"{channel}:{chat}" for i in range(RESIDENTS)
                for channel, chat in (("telegram", str(500000 + i)), ("wechat", f"o-{i}"), ("wecom", f"w-{i}"))}
    lost = expected - set(arrived)
    duplicated = {target: n - 1 for target, n in arrived.items() if n > 1}
    with session_factory() as s:
        in_doubt = {d.target: d.in_doubt for d in s.scalars(select(Delivery).where(Delivery.in_doubt > 0))}
        web = Counter(s.scalars(select(ChannelMessage.chat_id).where(ChannelMessage.notification_id.in_(ids),
                                                                     ChannelMessage.channel == "web")))
    print(f"\n{db_url.split(':')[0]}, guanjia {process}: {kills} kills, {sum(arrived.values())} platform messages for "
          f"{len(expected)} chats, lost {len(lost)}, duplicated {sum(duplicated.values())} "
          f"(in doubt: {sum(in_doubt.values())}), web chat rows {sum(web.values())} for {RESIDENTS} chats")
    assert not lost and set(arrived) == expected
    assert web == Counter({f"web-{i}": 1 for i in range(RESIDENTS)})  # web chat: exactly once, always
    # Every duplicate is a send the dead worker had in flight, on record as in doubt; at most one per kill.
    assert all(in_doubt.get(target, 0) >= extra for target, extra in duplicated.items()), (duplicated, in_doubt)
    assert sum(duplicated.values()) <= sum(in_doubt.values()) <= kills
