"""kill -9 of `guanjia worker` while it broadcasts a notice, again and again, on both databases.

The worker process sends to the fake Telegram (the real wire format on 127.0.0.1) and the web chat;
messages are counted where they arrive. Nobody is missed; a duplicate can only be a send the killed
worker had in flight (its row is on record as in doubt); the web chat's push is written once, always.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter

from sqlalchemy import func, select

from backend.clock import SystemClock
from backend.db import transaction
from backend.models import ChannelMessage, Notice, NoticeDelivery
from tests.bot import broadcast_setup as bs
from tests.bot.test_delivery_kill import GUANJIA, _env, platforms  # noqa: F401  (the fake platforms fixture)

RESIDENTS = int(os.environ.get("GUANJIA_TEST_BROADCAST_RESIDENTS", "150"))
KILLS = int(os.environ.get("GUANJIA_TEST_BROADCAST_KILLS", "3"))
UNRECORDED_MAX = 1  # the default: one send at the platform without a committed outcome, per process


def test_kill_9_mid_broadcast_misses_nobody_and_duplicates_only_sends_in_flight(
        db_url, session_factory, settings, platforms, tmp_path):  # noqa: F811
    telegram, wechat = platforms
    telegram._server.handle_error = lambda *_args: None  # a killed worker's hung-up connection is expected
    clock = SystemClock()  # the worker process runs on the wall clock
    now = clock.now()
    with transaction(session_factory) as s:
        place = bs.community(s, now)
        bs.add_residents(s, place, RESIDENTS, now, ("telegram", "web"))
        note_id = bs.notice(s, place, now).id
    env = _env(db_url, telegram, wechat.url, tmp_path)
    env.update({"GUANJIA_BROADCAST_LEASE_SECONDS": "4", "GUANJIA_BROADCAST_POLL_SECONDS": "0.05",
                "GUANJIA_BROADCAST_BATCH": "20", "GUANJIA_BROADCAST_FANOUT_BATCH": "40",
                "GUANJIA_TELEGRAM_MESSAGES_PER_SECOND": "300", "GUANJIA_TELEGRAM_BURST": "5",
                "GUANJIA_BROADCAST_UNRECORDED_MAX": str(UNRECORDED_MAX)})
    rng = random.Random(14)
    kills, log = 0, (tmp_path / "worker.log").open("ab")

    def status() -> str:
        with session_factory() as s:
            return s.scalar(select(Notice.status).where(Notice.id == note_id)) or ""

    deadline = time.monotonic() + 120
    while status() != "sent" and time.monotonic() < deadline:
        before = len(telegram.delivered())
        worker = subprocess.Popen([str(GUANJIA), "worker"], env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            if kills < KILLS:
                kill_after = before + rng.randint(5, max(6, RESIDENTS // (KILLS + 1)))
                while len(telegram.delivered()) < kill_after and status() != "sent" and time.monotonic() < deadline:
                    time.sleep(0.002)
                worker.send_signal(signal.SIGKILL)
                kills += 1
            else:
                while status() != "sent" and time.monotonic() < deadline:
                    time.sleep(0.05)
                worker.send_signal(signal.SIGTERM)
        finally:
            worker.wait(30)
    log.close()

    assert kills == KILLS
    assert status() == "sent", (tmp_path / "worker.log").read_text()[-3000:]
    arrived = Counter(c.chat_id for c in telegram.delivered())
    expected = {str(bs.TELEGRAM_BASE + i) for i in range(RESIDENTS)}
    duplicated = {chat: n - 1 for chat, n in arrived.items() if n > 1}
    with session_factory() as s:
        in_doubt = {d.chat_id: d.in_doubt for d in s.scalars(select(NoticeDelivery).where(
            NoticeDelivery.notice_id == note_id, NoticeDelivery.in_doubt > 0))}
        web = Counter(s.scalars(select(ChannelMessage.chat_id).where(ChannelMessage.notice_id == note_id)))
        statuses = dict(s.execute(select(NoticeDelivery.status, func.count()).where(
            NoticeDelivery.notice_id == note_id).group_by(NoticeDelivery.status)).all())
    print(f"\n{db_url.split(':')[0]}: {kills} kills, {sum(arrived.values())} Telegram messages for {len(expected)} "
          f"chats, duplicated {sum(duplicated.values())} (rows in doubt: {sum(in_doubt.values())}), "
          f"web chat rows {sum(web.values())} for {RESIDENTS} chats")
    assert set(arrived) == expected  # nobody missed
    assert statuses == {"sent": 2 * RESIDENTS}
    assert web == Counter({f"web-{i}": 1 for i in range(RESIDENTS)})  # the push: exactly once, always
    # Every duplicate is a send the killed worker had in flight, on record as in doubt; a kill leaves at most
    # UNRECORDED_MAX of them.
    assert all(in_doubt.get(chat, 0) >= extra for chat, extra in duplicated.items()), (duplicated, in_doubt)
    assert sum(duplicated.values()) <= kills * UNRECORDED_MAX  # at most one per kill
    # A row is marked 'sending' just before its own send (with the outcome of the one before), so a kill leaves
    # few rows in doubt: the sends in flight, and at most one more whose mark went ahead of that outcome.
    assert sum(in_doubt.values()) <= kills * (UNRECORDED_MAX + 1), in_doubt
