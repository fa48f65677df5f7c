"""The process-wide rate limiter and the text/keyboard adapters, on a fake clock (no waiting)."""

from __future__ import annotations

import itertools

import pytest

from bot.telegram import keyboards, limits
from bot.telegram.limiter import RateLimiter
from bot.telegram.outbound import calls_for, split_text
from handlers.messages import Button, Outbound

pytestmark = pytest.mark.filterwarnings("error")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def send_times(limiter: RateLimiter, clock: FakeTime, chats: list[int]) -> list[float]:
    out = []
    for chat in chats:
        limiter.acquire(chat, sleep=clock.sleep)
        out.append(clock.now)
    return out


def test_overall_rate_is_30_per_second():
    clock = FakeTime()
    limiter = RateLimiter(now=lambda: clock.now)
    times = send_times(limiter, clock, list(range(1, 91)))  # 90 different private chats
    assert times[-1] == pytest.approx(89 / limits.MESSAGES_PER_SECOND)
    assert sum(1 for t in times if t < 1.0 - 1e-9) == limits.MESSAGES_PER_SECOND


def test_one_chat_gets_a_short_burst_then_one_per_second():
    clock = FakeTime()
    limiter = RateLimiter(now=lambda: clock.now)
    times = send_times(limiter, clock, [42] * 6)
    assert times[limits.PER_CHAT_BURST - 1] < 0.2
    later = times[limits.PER_CHAT_BURST:]
    assert later[0] == pytest.approx(1.0)
    assert all(b - a == pytest.approx(1.0) for a, b in itertools.pairwise(later))


def test_a_group_gets_at_most_20_per_minute():
    clock = FakeTime()
    limiter = RateLimiter(now=lambda: clock.now)
    times = send_times(limiter, clock, [-100123] * 45)
    for start in times:
        assert sum(1 for t in times if start <= t < start + 60) <= limits.MESSAGES_PER_MINUTE_PER_GROUP


def test_a_waiting_group_does_not_hold_up_other_chats():
    clock = FakeTime()
    limiter = RateLimiter(now=lambda: clock.now)
    send_times(limiter, clock, [-100123] * 2)
    assert limiter.try_acquire(-100123) > 1.0
    assert limiter.try_acquire(7) < 0.1


def test_429_pauses_the_chat_for_retry_after():
    clock = FakeTime()
    limiter = RateLimiter(now=lambda: clock.now)
    limiter.pause(42, 12)
    assert limiter.try_acquire(42) == pytest.approx(12)
    assert limiter.try_acquire(43) == 0.0


def test_split_text_keeps_every_character_within_the_limit():
    text = ("一二三四五六七八九十" * 50 + "\n") * 30
    parts = split_text(text)
    assert all(len(p) <= limits.MAX_TEXT_LENGTH for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert split_text("x" * (limits.MAX_TEXT_LENGTH * 2 + 1)) == ["x" * 4096, "x" * 4096, "x"]


def test_oversize_or_non_ascii_callback_data_never_reaches_telegram(tmp_path):
    markup = keyboards.inline([Button("ok", "t:a:1"), Button("bad", "t:" + "9" * 70), Button("link", "https://t.me/x")])
    keys = [key for row in markup.inline_keyboard for key in row]
    assert [k.callback_data for k in keys] == ["t:a:1", None]
    assert keys[1].url == "https://t.me/x"
    assert all(len((k.callback_data or "").encode()) <= limits.MAX_CALLBACK_DATA_BYTES for k in keys)


def test_menu_as_reply_keyboard_and_local_photo(tmp_path):
    menu = Outbound("请选择", [Button("🔧 报修", "m:repair"), Button("💰 费用查询", "m:fee")])
    calls = calls_for(menu, tmp_path, reply_menu=True)
    assert calls[-1].kwargs["reply_markup"].keyboard[0][0].text == "🔧 报修"
    assert keyboards.payload_of_title("🔧 报修") == "m:repair"
    (tmp_path / "tg").mkdir()
    (tmp_path / "tg" / "a.jpg").write_bytes(b"jpeg")
    calls = calls_for(Outbound("照片", image_url="/media/tg/a.jpg"), tmp_path)
    assert calls[0].method == "send_photo" and calls[0].kwargs["photo"] == b"jpeg"
    escaping = calls_for(Outbound("照片", image_url="/media/../../etc/passwd"), tmp_path)
    assert [c.method for c in escaping] == ["send_message"]
