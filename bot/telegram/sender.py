"""The outbox's Telegram sender: every notification goes out here, within the process-wide limits.

The delivery worker is synchronous; the Bot API client (PTB's Bot) is asynchronous, so the sender
runs its own event loop on a daemon thread and hands each send to it. Outcomes follow the Bot API:
429 -> retry after `retry_after` (and the chat is paused), 403 -> unreachable (the person blocked the
bot, or it was removed from the group), network errors -> retried with backoff, then later.
Group task cards are remembered (ChannelMessage.external_id "<chat_id>:<message_id>") so a later
message about the same ticket (Outbound.meta["edit_of"]) edits the card in place.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from backend.clock import Clock
from backend.db import transaction
from backend.models import ChannelMessage, Notification
from backend.settings import Settings
from bot.delivery.sender import SendResult, Target
from bot.telegram import groups, limits, logs, send
from bot.telegram.api import make_bot
from bot.telegram.limiter import RateLimiter, process_limiter
from handlers.messages import Outbound

log = logging.getLogger("guanjia.telegram")
CHANNEL = "telegram"
GONE_CHAT = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid")


class TelegramSender:
    channel = CHANNEL

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
                 limiter: RateLimiter | None = None) -> None:
        if not settings.telegram_token:
            raise ValueError("GUANJIA_TELEGRAM_TOKEN is not set")
        logs.protect(settings.telegram_token)
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.limiter = limiter or process_limiter(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bot: Bot | None = None
        self._start_lock = threading.Lock()

    # ---- the Sender protocol (called from the delivery thread) --------------------------

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        return self._run(self._send(target, message, notification_id))

    def close(self) -> None:
        if self._loop is None:
            return
        if self._bot is not None:
            self._run(self._bot.shutdown())
        loop, thread = self._loop, self._thread
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(limits.SEND_TIMEOUT_SECONDS)
        loop.close()
        self._loop, self._thread, self._bot = None, None, None

    # ---- on the sender's own event loop -------------------------------------------------

    async def _send(self, target: Target, message: Outbound, notification_id: int | None) -> SendResult:
        bot = await self._ready_bot()
        chat_id = target.chat_id
        try:
            edit_of = message.meta.get("edit_of")
            card = self._card_of(chat_id, int(edit_of)) if edit_of else None
            if card is not None and await send.edit(bot, self.limiter, chat_id, card, message, max_wait=0):
                return SendResult.sent(f"{chat_id}:{card}")
            sent = await send.send(bot, self.limiter, chat_id, message, self.settings.media_dir, max_wait=0)
            self._remember(target, message, notification_id, sent[-1])
            return SendResult.sent(f"{chat_id}:{sent[-1].message_id}")
        except RetryAfter as err:
            return SendResult.retry(send.retry_seconds(err), "telegram 429")
        except ChatMigrated as err:
            self._migrate(chat_id, str(err.new_chat_id))
            return SendResult.retry(0, "group became a supergroup")
        except Forbidden as err:
            self._gone(target)
            return SendResult.unreachable(f"telegram 403: {err.message}"[:200])
        except BadRequest as err:
            if any(reason in err.message.lower() for reason in GONE_CHAT):
                self._gone(target)
                return SendResult.unreachable(f"telegram 400: {err.message}"[:200])
            log.warning("telegram refused a message to %s: %s", chat_id, err.message)
            return SendResult.retry(limits.OUTBOX_RETRY_SECONDS, f"telegram 400: {err.message}"[:200])
        except NetworkError as err:
            return SendResult.retry(limits.OUTBOX_RETRY_SECONDS, f"telegram network: {type(err).__name__}")
        except TelegramError as err:
            return SendResult.retry(limits.OUTBOX_RETRY_SECONDS, f"telegram: {type(err).__name__}")

    async def _ready_bot(self) -> Bot:
        if self._bot is None:
            bot = make_bot(self.settings)
            await bot.initialize()
            self._bot = bot
        return self._bot

    # ---- bookkeeping (short transactions; the loop thread is ours alone) -----------------

    def _card_of(self, chat_id: str, ticket_id: int) -> int | None:
        """The message id of the latest card about the ticket in this chat."""
        with self.session_factory() as session:
            external = session.scalar(
                select(ChannelMessage.external_id).join(Notification, Notification.id == ChannelMessage.notification_id)
                .where(ChannelMessage.channel == CHANNEL, ChannelMessage.chat_id == chat_id,
                       Notification.ticket_id == ticket_id, ChannelMessage.external_id != "")
                .order_by(ChannelMessage.id.desc()).limit(1))
        if not external:
            return None
        message_id = external.rpartition(":")[2]
        return int(message_id) if message_id.isdigit() else None

    def _remember(self, target: Target, message: Outbound, notification_id: int | None, sent: Message) -> None:
        external_id = f"{target.chat_id}:{sent.message_id}"
        with transaction(self.session_factory) as session:
            # One row per (notification, chat): a send repeated after a crash points it at the newest message.
            row = None if notification_id is None else session.scalar(select(ChannelMessage).where(
                ChannelMessage.notification_id == notification_id, ChannelMessage.channel == CHANNEL,
                ChannelMessage.chat_id == target.chat_id[:200]))
            if row is not None:
                row.external_id, row.body = external_id, message.as_json()
                return
            session.add(ChannelMessage(channel=CHANNEL, chat_id=target.chat_id[:200], pushed=True,
                                       body=message.as_json(), notification_id=notification_id,
                                       external_id=external_id, created_at=self.clock.now()))

    def _gone(self, target: Target) -> None:
        if target.group_id is not None:
            with transaction(self.session_factory) as session:
                groups.deactivate(session, target.chat_id)

    def _migrate(self, old: str, new: str) -> None:
        with transaction(self.session_factory) as session:
            groups.migrate(session, old, new)

    # ---- the loop thread --------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="guanjia-telegram-sender", daemon=True)
                self._thread.start()
                self._loop = loop
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(limits.SEND_TIMEOUT_SECONDS)


def factory(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> TelegramSender | None:
    """For bot.senders.FACTORIES: a sender when a bot token is configured."""
    return TelegramSender(settings, session_factory, clock) if settings.telegram_token else None
