"""Rate limits: kept at a fake Telegram that enforces them, and shared by processes through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from backend.db import transaction
from backend.ratelimit import LocalLimits, Rate, RedisLimits
from bot.delivery.broadcast import BroadcastEngine
from bot.delivery.broadcast_senders import TelegramBroadcast
from bot.telegram.limiter import RateLimiter, TelegramRates
from tests.bot import broadcast_setup as bs
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import FakeBotApi

REDIS_URL = os.environ.get("GUANJIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]


def _redis_or_skip() -> RedisLimits:
    try:
        limits = RedisLimits(REDIS_URL)
        limits.client.ping()
    except Exception as exc:  # whatever the client raises: no Redis here
        pytest.skip(f"no Redis at {REDIS_URL}: {type(exc).__name__}")
    return limits


def test_a_broadcast_keeps_the_platforms_limits_and_causes_no_429(session_factory, clock, settings):
    api = FakeBotApi(TOKEN).start()
    try:
        rate = 40.0
        # Telegram tolerates short bursts, overall and per chat, and arrivals jitter by a few milliseconds.
        api.enforce(rate, 1.0, burst=3, chat_burst=3, jitter=0.05)
        now = clock.now()
        with transaction(session_factory) as s:
            place = bs.community(s, now)
            bs.add_residents(s, place, 10, now, ("telegram",))
            for n in range(5):  # five notices: 50 messages, 5 to each chat
                bs.notice(s, place, now, title=f"通知{n}")
        settings.telegram_token, settings.telegram_api_url = TOKEN, api.url
        limiter = RateLimiter(shared=LocalLimits(), rates=TelegramRates(Rate.per_second(rate), Rate.per_second(1, 3),
                                                                          Rate.per_minute(20)))
        engine = BroadcastEngine(session_factory, clock, settings,
                                 {"telegram": TelegramBroadcast(settings, session_factory, clock, limiter=limiter)})
        started = time.monotonic()
        stats = engine.run_until_idle(timeout=60)
        elapsed = time.monotonic() - started
        calls = api.delivered()
        assert stats.sent == len(calls) == 50 and api.http_429 == 0
        assert elapsed >= 2.0  # a chat's 4th and 5th messages wait their turn: at least 2 s
        for chat in {c.chat_id for c in calls}:
            times = sorted(c.at for c in calls if c.chat_id == chat)
            assert times[4] - times[0] >= 2 - 0.05
        # Without the limiter's pacing, the fake answers 429 with retry_after and the rows come back later.
        api.clear()
        fast = RateLimiter(shared=LocalLimits(), rates=TelegramRates(Rate.per_second(10_000), Rate.per_second(100),
                                                                       Rate.per_minute(1000)))
        with transaction(session_factory) as s:
            bs.notice(s, place, now, title="再来一次")
        BroadcastEngine(session_factory, clock, settings,
                        {"telegram": TelegramBroadcast(settings, session_factory, clock, limiter=fast)}
                        ).run_until_idle(timeout=10)
        assert api.http_429 > 0 and engine.stats.sent == 50
    finally:
        api.stop()


def test_redis_limits_pace_and_window_like_the_in_process_ones():
    limits = _redis_or_skip()
    key = f"test:{uuid.uuid4().hex}"
    rate = Rate.per_second(10, burst=2)
    assert limits.reserve([(key, rate)], now=100.0) == 0.0
    assert limits.reserve([(key, rate)], now=100.0) == 0.0  # the burst
    assert limits.reserve([(key, rate)], now=100.0) == pytest.approx(0.1)
    limits.pause([(key, rate)], 5.0, now=100.0)
    assert limits.reserve([(key, rate)], now=104.0) > 0.9
    assert limits.hit(f"{key}:w", 60.0, 2, now=10.0) == 0.0
    assert limits.hit(f"{key}:w", 60.0, 2, now=20.0) == 0.0
    assert limits.hit(f"{key}:w", 60.0, 2, now=30.0) == pytest.approx(40.0)
    limits.record(f"{key}:f", 600.0, now=5.0)
    assert limits.count(f"{key}:f", 600.0, now=6.0) == (1, 5.0)
    assert limits.count(f"{key}:f", 600.0, now=700.0)[0] == 0


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_a_turn_booked_ahead_is_taken_once_and_pushes_the_next_one_back(backend):
    limits = LocalLimits() if backend == "local" else _redis_or_skip()
    key, other = f"test:ahead:{uuid.uuid4().hex}", f"test:ahead:{uuid.uuid4().hex}"
    rate = Rate.per_second(10)  # one every 0.1 s
    assert limits.reserve([(key, rate)], now=100.0, ahead=0.5) == 0.0
    assert limits.reserve([(key, rate)], now=100.0, ahead=0.5) == pytest.approx(0.1)  # booked for 100.1
    assert limits.reserve([(key, rate)], now=100.0, ahead=0.5) == pytest.approx(0.2)  # behind it: 100.2
    assert limits.reserve([(key, rate)], now=100.0) == pytest.approx(0.3)  # not ahead: nothing booked
    assert limits.reserve([(key, rate)], now=100.0, ahead=0.25) == pytest.approx(0.3)  # too far: nothing booked
    assert limits.reserve([(key, rate)], now=100.0, ahead=0.5) == pytest.approx(0.3)  # so 100.3 is still free
    # a booking on several buckets waits for the busiest one, and books all of them for then
    assert limits.reserve([(other, rate), (key, rate)], now=100.0, ahead=1.0) == pytest.approx(0.4)
    assert limits.reserve([(other, rate)], now=100.0, ahead=1.0) == pytest.approx(0.5)


def test_two_processes_share_one_redis_budget():
    _redis_or_skip()
    key = f"test:shared:{uuid.uuid4().hex}"
    script = (
        "import sys, time\n"
        "from backend.ratelimit import Rate, RedisLimits\n"
        "limits = RedisLimits(sys.argv[1]); rate = Rate.per_second(50)\n"
        "start = float(sys.argv[3]); granted = 0\n"
        "while time.time() < start: time.sleep(0.001)\n"
        "while time.time() < start + 2.0:\n"
        "    wait = limits.reserve([(sys.argv[2], rate)])\n"
        "    granted += wait == 0\n"
        "    time.sleep(min(wait, 0.01) if wait else 0)\n"
        "print(granted)\n")
    start = time.time() + 1.5  # both running before the clock starts
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, REDIS_URL, key, repr(start)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    counts = [int(p.communicate(timeout=30)[0]) for p in procs]
    assert all(n > 10 for n in counts), counts  # both got turns
    assert sum(counts) <= 2.0 * 50 + 2, counts  # and together kept 50/s (one process alone would take 100)
