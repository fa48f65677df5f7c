"""The broadcast engine's senders, one per channel: book a turn in the shared limits, send, say what happened.

* Telegram: the Bot API over one keep-alive httpx.AsyncClient (many sends in flight, none of PTB's
  per-message object building); an owners' group message is pinned where the bot may pin (a refusal
  is ignored). 429 -> the chat paused and the row retried after retry_after; 5xx and network errors ->
  retried with backoff; 403 and gone chats -> unreachable for good.
* WeChat official account: bot/wechat/notice_sender.py over the outbox's WeChatSender (customer-service
  messages inside the 48-hour window, a long notice as numbered parts; else a template message linking to
  the notice's page; its window quotas in channel_quota), in a thread, paced overall.
* WeCom: the outbox's WeComSender (30/min per member, also counted in channel_quota), in a thread;
  WeCom customer groups (客户群): bot/wecom/group_send.py, a group-send task the group's owner confirms.
* Web chat: a push, i.e. an inbox row unique per (notice, chat), so a repeated send writes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.ratelimit import Bucket, Limits, Rate, limits_for
from backend.settings import Settings
from bot.delivery.broadcast_rows import Outcome, Row
from bot.delivery.http_pool import HttpError, HttpPool
from bot.delivery.sender import Sender, SendResult, Target
from bot.telegram import groups, limits, outbound
from bot.telegram.limiter import RateLimiter, process_limiter
from handlers.messages import Outbound

log = logging.getLogger("guanjia.broadcast")

GONE_CHAT = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid", "bot was blocked")
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


def backoff(attempts: int) -> float:
    """Seconds before retry number `attempts` (1, 2, ...) of a send that failed without a retry_after."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)


class BroadcastSender(Protocol):
    channel: str

    def reserve(self, row: Row, ahead: float = 0.0) -> float:
        """Book a send in the shared limits: the seconds until its turn, booked when they are <= `ahead`
        (else nothing is booked)."""
        ...

    async def send(self, row: Row, message: Outbound) -> Outcome: ...

    async def aclose(self) -> None: ...


def _outcome(row: Row, result: SendResult, via: str) -> Outcome:
    return Outcome(row, result.status, retry_after=result.retry_after or backoff(row.attempts + 1),
                   error=result.error, external_id=result.external_id, via=via if result.status == "sent" else "")


class TelegramBroadcast:
    channel = "telegram"

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
                 limiter: RateLimiter | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.settings, self.session_factory, self.clock = settings, session_factory, clock
        self.limiter = limiter or process_limiter(settings)
        self.base = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_token}/"
        self._client = client
        self._pool: HttpPool | None = None
        self._prepared: dict[int, tuple[Outbound, list[tuple[str, dict[str, Any]]]]] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        """For uploads (photos): rare, so httpx's convenience is affordable."""
        if self._client is None:  # made on the engine's event loop, on first use
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(limits.SEND_TIMEOUT_SECONDS / 2, connect=5.0))
        return self._client

    @property
    def pool(self) -> HttpPool:
        """For JSON calls (nearly every message): kept-alive connections, little CPU per request."""
        if self._pool is None:
            self._pool = HttpPool(self.settings.telegram_api_url, self.settings.broadcast_connections,
                                  limits.SEND_TIMEOUT_SECONDS / 2)
        return self._pool

    def reserve(self, row: Row, ahead: float = 0.0) -> float:
        return self.limiter.try_acquire(row.chat_id, ahead)

    async def _call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        files = {k: v for k, v in params.items() if isinstance(v, bytes)}
        if files:
            data = {k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in params.items()
                    if k not in files and v is not None}
            response = await self.client.post(self.base + method, data=data,
                                               files={k: (k, v) for k, v in files.items()})
        else:
            status, raw = await self.pool.post_json(
                f"/bot{self.settings.telegram_token}/{method}",
                json.dumps({k: v for k, v in params.items() if v is not None}, ensure_ascii=False).encode())
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"ok": False, "description": raw[:100].decode("utf-8", "replace")}
            return status, parsed if isinstance(parsed, dict) else {}
        try:
            body = response.json()
        except ValueError:
            body = {"ok": False, "description": response.text[:100]}
        return response.status_code, body if isinstance(body, dict) else {}

    def _calls(self, message: Outbound) -> list[tuple[str, dict[str, Any]]]:
        """The Bot API calls showing a message, made once per rendered notice (not per recipient)."""
        found = self._prepared.get(id(message))
        if found is None or found[0] is not message:
            calls = []
            for call in outbound.calls_for(message, self.settings.media_dir):
                params = dict(call.kwargs)
                if "reply_markup" in params:
                    params["reply_markup"] = params["reply_markup"].to_dict()
                calls.append(("sendPhoto" if call.method == "send_photo" else "sendMessage", params))
            if len(self._prepared) > 1000:
                self._prepared.clear()
            found = self._prepared[id(message)] = (message, calls)
        return found[1]

    async def send(self, row: Row, message: Outbound) -> Outcome:
        message_id = None
        try:
            for index, (method, kwargs) in enumerate(self._calls(message)):
                if index:  # the engine booked the first piece; a long text's next pieces wait their turn
                    await self.limiter.acquire_async(row.chat_id)
                status, body = await self._call(method, {"chat_id": row.chat_id, **kwargs})
                if status != 200 or not body.get("ok"):
                    return self._failure(row, status, body)
                message_id = (body.get("result") or {}).get("message_id")
        except (httpx.HTTPError, HttpError, OSError, TimeoutError) as exc:
            return Outcome(row, "retry", retry_after=backoff(row.attempts + 1), error=f"telegram network: "
                                                                                         f"{type(exc).__name__}")
        via = "private" if row.group_id is None else "group"
        if row.group_id is not None and message_id is not None:
            via = await self._pin(row, message_id)
        return Outcome(row, "sent", external_id=f"{row.chat_id}:{message_id}", via=via)

    async def _pin(self, row: Row, message_id: int) -> str:
        """Pin the notice in an owners' group where the bot may; a refusal (no right) is no failure."""
        try:
            status, body = await self._call("pinChatMessage", {"chat_id": row.chat_id, "message_id": message_id,
                                                               "disable_notification": True})
        except (httpx.HTTPError, HttpError, OSError, TimeoutError):
            return "group"
        if status == 200 and body.get("ok"):
            return "group_pinned"
        log.info("could not pin in %s: %s", row.chat_id, str(body.get("description", ""))[:100])
        return "group"

    def _failure(self, row: Row, status: int, body: dict[str, Any]) -> Outcome:
        description = str(body.get("description", ""))[:200]
        parameters = body.get("parameters") or {}
        error = f"telegram {status}: {description}"[:300]
        if status == 429:
            after = float(parameters.get("retry_after") or 1)
            self.limiter.pause(row.chat_id, after)
            log.warning("telegram 429 for chat %s: retry after %.1f s", row.chat_id, after)
            return Outcome(row, "retry", retry_after=after, error=error)
        if parameters.get("migrate_to_chat_id"):
            with transaction(self.session_factory) as session:
                groups.migrate(session, row.chat_id, str(parameters["migrate_to_chat_id"]))
            return Outcome(row, "unreachable", error=error + " (moved to the new supergroup)")
        if status == 403 or (status == 400 and any(r in description.lower() for r in GONE_CHAT)):
            return Outcome(row, "unreachable", error=error, gone=True)
        if status >= 500 or status == 0:
            return Outcome(row, "retry", retry_after=float(parameters.get("retry_after") or backoff(row.attempts + 1)),
                           error=error)
        return Outcome(row, "retry", retry_after=limits.OUTBOX_RETRY_SECONDS, error=error)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


class ThreadedBroadcast:
    """A synchronous outbox Sender (WeChat, WeCom) run in a thread, paced by the shared limits."""

    def __init__(self, sender: Sender, buckets: Callable[[Row], list[Bucket]], shared: Limits,
                 via: Callable[[Row, SendResult], str]) -> None:
        self.channel = sender.channel
        self.sender, self.buckets, self.limits, self.via = sender, buckets, shared, via

    def reserve(self, row: Row, ahead: float = 0.0) -> float:
        return self.limits.reserve(self.buckets(row), ahead=ahead)

    async def send(self, row: Row, message: Outbound) -> Outcome:
        target = Target(row.channel, row.chat_id, row.audience, row.lang, identity_id=row.identity_id,
                        group_id=row.group_id)
        try:
            result = await asyncio.to_thread(self.sender.send, target, message, None)
        except Exception as exc:  # a sender bug or network error: retry later
            log.warning("%s sender failed: %s", self.channel, type(exc).__name__)
            result = SendResult.retry(0, f"{self.channel}: {type(exc).__name__}")
        return _outcome(row, result, self.via(row, result))

    async def aclose(self) -> None:
        return None


class WebPush:
    """Web chat: the notice as an inbox row the page fetches; one per (notice, chat), whatever happens."""

    channel = "web"

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.session_factory, self.clock = session_factory, clock

    def reserve(self, row: Row, ahead: float = 0.0) -> float:
        return 0.0

    def _push(self, row: Row, message: Outbound) -> str:
        from backend.models import ChannelMessage

        with transaction(self.session_factory) as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            session.execute(dialect.insert(ChannelMessage).values(
                channel=self.channel, chat_id=row.chat_id, pushed=True, body=message.as_json(),
                notice_id=row.notice_id, external_id="", created_at=self.clock.now(),
            ).on_conflict_do_nothing(index_elements=["notice_id", "channel", "chat_id"]))
            found = session.scalar(select(ChannelMessage.id).where(
                ChannelMessage.notice_id == row.notice_id, ChannelMessage.channel == self.channel,
                ChannelMessage.chat_id == row.chat_id))
        return str(found or "")

    async def send(self, row: Row, message: Outbound) -> Outcome:
        external = await asyncio.to_thread(self._push, row, message)
        return Outcome(row, "sent", external_id=external, via="push")

    async def aclose(self) -> None:
        return None


def build(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> dict[str, BroadcastSender]:
    """The channels this process can broadcast on: web chat always, platforms when configured."""
    from bot.wechat import sender as wechat_sender
    from bot.wecom import group_send
    from bot.wecom import sender as wecom_sender

    shared = limits_for(settings.redis_url)
    out: dict[str, BroadcastSender] = {"web": WebPush(session_factory, clock)}
    if settings.telegram_token:
        out["telegram"] = TelegramBroadcast(settings, session_factory, clock)
    wechat = wechat_sender.factory(settings, session_factory, clock)
    if wechat is not None:  # a long notice as numbered parts or the page link: bot/wechat/notice_sender.py
        from bot.wechat.notice_sender import WeChatNoticeBroadcast

        out["wechat"] = WeChatNoticeBroadcast(wechat, shared, Rate.per_second(settings.wechat_messages_per_second))
    wecom = wecom_sender.factory(settings, session_factory, clock)
    if wecom is not None:
        member = Rate.per_minute(settings.wecom_messages_per_minute_per_member)
        out["wecom"] = ThreadedBroadcast(
            wecom, lambda row: [(f"wecom:member:{row.chat_id}", member)], shared,
            lambda row, result: "appchat" if row.group_id is not None else "app_message")
    customer_groups = group_send.factory(settings, session_factory, clock)  # WeCom 客户群: bot/wecom/group_send.py
    if customer_groups is not None:
        out[customer_groups.channel] = customer_groups
    return out
