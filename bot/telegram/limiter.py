"""One process-wide sending schedule for Telegram: 30 msg/s overall, 1/s per chat (short bursts), 20/min per group.

Each limit is a GCRA bucket (a "theoretical arrival time" per key). `try_acquire` books a send
when every bucket allows it now, or says how long to wait; it never sleeps itself, so the
delivery thread (`acquire`, time.sleep) and PTB handlers (`acquire_async`) share it. A 429 pauses the
chat for retry_after. It limits this process only: run one delivery worker per bot token.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.telegram import limits


@dataclass(frozen=True)
class Rate:
    interval: float  # seconds between messages in the long run
    burst: int = 1  # messages allowed back to back

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


GLOBAL = Rate(1 / limits.MESSAGES_PER_SECOND)
PER_CHAT = Rate(1 / limits.MESSAGES_PER_SECOND_PER_CHAT, limits.PER_CHAT_BURST)
PER_GROUP = Rate(60 / limits.MESSAGES_PER_MINUTE_PER_GROUP)
MAX_TRACKED_CHATS = 10_000


def is_group_chat(chat_id: str | int) -> bool:
    """Group, supergroup and channel ids are negative; private chats are the user's (positive) id."""
    return str(chat_id).startswith("-")


class RateLimiter:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._global: dict[str, float] = {}
        self._chats: dict[str, float] = {}
        self._groups: dict[str, float] = {}

    def try_acquire(self, chat_id: str | int) -> float:
        """0.0 when a message to the chat may go now (and is booked); else the seconds to wait first."""
        key = str(chat_id)
        with self._lock:
            now = self._now()
            buckets = [(self._global, "*", GLOBAL), (self._chats, key, PER_CHAT)]
            if is_group_chat(key):
                buckets.append((self._groups, key, PER_GROUP))
            wait = max(store.get(k, 0.0) - rate.tolerance - now for store, k, rate in buckets)
            if wait > 0:
                return wait  # nothing booked: a chat waiting for its turn must not hold up the others
            for store, k, rate in buckets:
                store[k] = max(store.get(k, 0.0), now) + rate.interval
            self._forget_idle(now)
            return 0.0

    def acquire(self, chat_id: str | int, sleep: Callable[[float], object] = time.sleep) -> None:
        """Block the calling thread until a message to the chat may go."""
        while (wait := self.try_acquire(chat_id)) > 0:
            sleep(wait)

    async def acquire_async(self, chat_id: str | int) -> None:
        """Wait (without blocking the event loop) until a message to the chat may go."""
        while (wait := self.try_acquire(chat_id)) > 0:
            await asyncio.sleep(wait)

    def pause(self, chat_id: str | int, seconds: float) -> None:
        """Telegram said 429: nothing more to this chat until retry_after has passed."""
        key = str(chat_id)
        with self._lock:
            until = self._now() + seconds
            self._chats[key] = max(self._chats.get(key, 0.0), until + PER_CHAT.tolerance)
            if is_group_chat(key):
                self._groups[key] = max(self._groups.get(key, 0.0), until + PER_GROUP.tolerance)

    def _forget_idle(self, now: float) -> None:
        if len(self._chats) > MAX_TRACKED_CHATS:
            self._chats = {k: v for k, v in self._chats.items() if v > now}
            self._groups = {k: v for k, v in self._groups.items() if v > now}


_LIMITER = RateLimiter()


def process_limiter() -> RateLimiter:
    """The limiter every Telegram send of this process goes through."""
    return _LIMITER
