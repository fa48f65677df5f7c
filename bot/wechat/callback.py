"""The 5-second rule: process a callback once, reply passively when ready in time, else later via the API.

The dedup row (processed_update, keyed by MsgId or FromUserName+CreateTime) is inserted and
committed before any work, so a retry that arrives while the first try is still running finds
it and answers `success` (or, once the first try is done, the same passive reply) and never
makes a second ticket. The work runs in a worker thread; the request waits for it until the
deadline (GUANJIA_WECHAT_REPLY_DEADLINE_SECONDS, well inside WeChat's 5 s). When the deadline
passes the request answers `success` and the thread, when done, hands its replies to `late`,
which sends them as customer-service / app messages.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import ProcessedUpdate
from bot.reply_cache import dump, load
from handlers.messages import Outbound

log = logging.getLogger("guanjia.wechat.callback")


@dataclass
class Claim:
    """The right to process one callback; `store` caches the replies in the caller's transaction."""

    channel: str
    key: str

    def store(self, session: Session, replies: list[Outbound]) -> None:
        session.execute(update(ProcessedUpdate).where(ProcessedUpdate.channel == self.channel,
                                                      ProcessedUpdate.key == self.key)
                        .values(response={"state": "done", "replies": dump(replies)}))


@dataclass
class Answer:
    """What the request answers: replies to render passively, or None for plain `success`."""

    replies: list[Outbound] | None
    duplicate: bool = False
    failed: bool = False


@dataclass
class _Outcome:
    lock: threading.Lock = field(default_factory=threading.Lock)
    late: bool = False
    replies: list[Outbound] | None = None


Work = Callable[[Claim], list[Outbound]]
Late = Callable[[list[Outbound]], None]


class CallbackRunner:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, deadline: float, workers: int) -> None:
        self.session_factory, self.clock, self.deadline = session_factory, clock, deadline
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat-callback")

    def _claim(self, channel: str, key: str) -> dict[str, Any] | None:
        """None when this request won the key; else the cached response of the one that did."""
        try:
            with transaction(self.session_factory) as session:
                session.add(ProcessedUpdate(channel=channel, key=key[:200], created_at=self.clock.now(),
                                            response={"state": "processing"}))
            return None
        except IntegrityError:
            with self.session_factory() as session:
                row = session.scalar(select(ProcessedUpdate).where(ProcessedUpdate.channel == channel,
                                                                   ProcessedUpdate.key == key[:200]))
                return dict(row.response) if row is not None else {"state": "processing"}

    def _release(self, channel: str, key: str) -> None:
        """The work failed: forget the key so WeChat's retry processes the message again."""
        with transaction(self.session_factory) as session:
            session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.channel == channel,
                                                          ProcessedUpdate.key == key[:200]))

    def _mark_late(self, channel: str, key: str) -> None:
        with transaction(self.session_factory) as session:
            session.execute(update(ProcessedUpdate).where(ProcessedUpdate.channel == channel,
                                                          ProcessedUpdate.key == key[:200])
                            .values(response={"state": "late"}))

    def _job(self, channel: str, key: str, work: Work, late: Late, outcome: _Outcome) -> Answer:
        cached = self._claim(channel, key)
        if cached is not None:
            if cached.get("state") == "done":
                return Answer(load(cached.get("replies") or []), duplicate=True)
            return Answer(None, duplicate=True)
        try:
            replies = work(Claim(channel, key[:200]))
        except Exception:
            log.exception("%s callback failed; the platform's retry will process it again", channel)
            self._release(channel, key)
            return Answer(None, failed=True)
        with outcome.lock:
            send_late = outcome.late
            if not send_late:
                outcome.replies = replies
        if send_late:
            self._mark_late(channel, key)
            try:
                late(replies)
            except Exception:
                log.exception("%s: late reply could not be sent", channel)
        return Answer(replies)

    async def answer(self, channel: str, key: str, work: Work, late: Late) -> Answer:
        outcome = _Outcome()
        future = self.pool.submit(self._job, channel, key, work, late, outcome)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.deadline)
        except TimeoutError:
            with outcome.lock:
                if outcome.replies is not None:  # finished in the very last moment
                    return Answer(outcome.replies)
                outcome.late = True
            log.info("%s callback past the %.1fs deadline: answering success, replying later", channel,
                     self.deadline)
            return Answer(None)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)
