"""Bot API calls under the process-wide limits: wait for the chat's turn, wait out a 429, retry the network.

https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from telegram import Bot, Message
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.telegram import limits, outbound
from bot.telegram.limiter import RateLimiter
from handlers.messages import Outbound

log = logging.getLogger("guanjia.telegram")
T = TypeVar("T")


def retry_seconds(err: RetryAfter) -> float:
    """retry_after as seconds, whether PTB gives an int or (from v22.2 on) a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def call(limiter: RateLimiter, chat_id: str | int, make: Callable[[], Awaitable[T]], *,
               max_wait: float = limits.INLINE_RETRY_MAX_WAIT) -> T:
    """One API call in its turn. A 429 pauses the chat and is waited out when it asks for at most `max_wait`
    seconds (else re-raised for the outbox to reschedule); network errors are retried with backoff."""
    backoff = limits.NETWORK_BACKOFF_SECONDS
    network_failures = 0
    while True:
        await limiter.acquire_async(chat_id)
        try:
            return await make()
        except RetryAfter as err:
            seconds = retry_seconds(err)
            limiter.pause(chat_id, seconds)
            log.warning("telegram 429 for chat %s: retry after %.1f s", chat_id, seconds)
            if seconds > max_wait:
                raise
            await asyncio.sleep(seconds)
        except BadRequest:
            raise  # our request is wrong: retrying cannot help
        except NetworkError as err:  # includes TimedOut
            network_failures += 1
            if network_failures >= limits.NETWORK_RETRIES:
                raise
            log.warning("telegram network error (%s); retry %d in %.1f s", type(err).__name__, network_failures,
                        backoff)
            await asyncio.sleep(backoff)
            backoff *= 2


async def send(bot: Bot, limiter: RateLimiter, chat_id: str | int, out: Outbound, media_dir: Path, *,
               reply_menu: bool = False, max_wait: float = limits.INLINE_RETRY_MAX_WAIT) -> list[Message]:
    """Send one Outbound (maybe several messages); the sent messages, last one carrying the keyboard."""
    sent: list[Message] = []
    for piece in outbound.calls_for(out, media_dir, reply_menu=reply_menu):
        method = getattr(bot, piece.method)
        sent.append(await call(limiter, chat_id, lambda m=method, kw=piece.kwargs: m(chat_id=chat_id, **kw),
                               max_wait=max_wait))
    return sent


async def edit(bot: Bot, limiter: RateLimiter, chat_id: str | int, message_id: int, out: Outbound, *,
               max_wait: float = limits.INLINE_RETRY_MAX_WAIT) -> bool:
    """Replace a card in place; False when Telegram cannot edit it (too old, deleted): send a new one then."""
    kwargs = outbound.edit_kwargs(out)
    try:
        await call(limiter, chat_id, lambda: bot.edit_message_text(chat_id=chat_id, message_id=message_id, **kwargs),
                   max_wait=max_wait)
    except BadRequest as err:
        if "not modified" in err.message.lower():
            return True  # the card already shows this
        log.info("card %s:%s not editable (%s)", chat_id, message_id, err.message)
        return False
    return True
