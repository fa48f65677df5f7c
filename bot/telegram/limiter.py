"""The Telegram sending schedule: 30 msg/s overall, 1/s per chat (short bursts), 20/min per group.

Each limit is a GCRA bucket in the deployment's shared limits (backend.ratelimit): in this process
on the embedded default, in Redis when GUANJIA_REDIS_URL is set, so every worker and web process of
one bot token shares one budget. `try_acquire` books a send when every bucket allows it now, or says
how long to wait; it never sleeps itself, so the delivery threads (`acquire`, time.sleep), the
broadcast engine and PTB handlers (`acquire_async`) share it. A 429 pauses the chat for retry_after.
The rates are settings (GUANJIA_TELEGRAM_MESSAGES_PER_SECOND, ...), so a benchmark can scale them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from backend.ratelimit import Bucket, Limits, LocalLimits, Rate, limits_for
from backend.settings import Settings, get_settings
from bot.telegram import limits

GLOBAL = Rate.per_second(limits.MESSAGES_PER_SECOND)
PER_CHAT = Rate.per_second(limits.MESSAGES_PER_SECOND_PER_CHAT, limits.PER_CHAT_BURST)
PER_GROUP = Rate.per_minute(limits.MESSAGES_PER_MINUTE_PER_GROUP)


@dataclass(frozen=True)
class TelegramRates:
    overall: Rate = GLOBAL
    per_chat: Rate = PER_CHAT
    per_group: Rate = PER_GROUP

    @classmethod
    def of(cls, settings: Settings) -> TelegramRates:
        return cls(Rate.per_second(settings.telegram_messages_per_second, settings.telegram_burst),
                   Rate.per_second(settings.telegram_messages_per_second_per_chat, limits.PER_CHAT_BURST),
                   Rate.per_minute(settings.telegram_messages_per_minute_per_group))


def is_group_chat(chat_id: str | int) -> bool:
    """Group, supergroup and channel ids are negative; private chats are the user's (positive) id."""
    return str(chat_id).startswith("-")


class RateLimiter:
    def __init__(self, now: Callable[[], float] | None = None, shared: Limits | None = None,
                 rates: TelegramRates | None = None, scope: str = "") -> None:
        # `now` alone: a private schedule on that clock (tests); else the shared limits.
        self.limits: Limits = shared or (LocalLimits(now) if now is not None else limits_for(""))
        self.rates = rates or TelegramRates()
        self.prefix = f"tg{scope}:"

    def buckets(self, chat_id: str | int) -> list[Bucket]:
        key = str(chat_id)
        out = [(self.prefix + "*", self.rates.overall), (self.prefix + "chat:" + key, self.rates.per_chat)]
        if is_group_chat(key):
            out.append((self.prefix + "group:" + key, self.rates.per_group))
        return out

    def try_acquire(self, chat_id: str | int, ahead: float = 0.0) -> float:
        """0.0 when a message to the chat may go now (and is booked); else the seconds to wait first
        (booked for then when they are at most `ahead`)."""
        return self.limits.reserve(self.buckets(chat_id), ahead=ahead)

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
        self.limits.pause(self.buckets(chat_id)[1:], seconds)


_LIMITERS: dict[tuple[str, TelegramRates, str], RateLimiter] = {}


def process_limiter(settings: Settings | None = None) -> RateLimiter:
    """The limiter every Telegram send of this process goes through (shared through Redis when configured).

    Keyed by the bot token's id, so two bots on one Redis keep their own budgets."""
    settings = settings or get_settings()
    scope = settings.telegram_token.partition(":")[0]
    rates = TelegramRates.of(settings)
    key = (settings.redis_url, rates, scope)
    found = _LIMITERS.get(key)
    if found is None:
        found = _LIMITERS[key] = RateLimiter(shared=limits_for(settings.redis_url), rates=rates, scope=scope)
    return found
