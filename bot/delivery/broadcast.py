"""The broadcast engine: due notices fanned out into delivery rows, rows sent within every platform's limits.

One asyncio loop per process (a thread of `guanjia worker` or of the server's in-app worker) runs:
* the fan-out task (bot/delivery/fanout.py): claims a due notice and writes its rows batch by batch;
* `lanes` delivery rounds at once: each claims a batch of due rows (urgent first, then by id; SKIP
  LOCKED on PostgreSQL) under a fresh fencing token, sends them concurrently, each send in its turn
  in the shared limits (backend.ratelimit: in this process or in Redis), and renews its lease while
  it works;
* the journal: every row is written 'sending' before its platform call and its outcome right after,
  both grouped into one statement per flush (a few milliseconds of rows), so a killed worker leaves
  at most the sends it had in flight in doubt, and the database sees a few statements per batch,
  not two commits per message.
A notice is 'sent' when every one of its rows is final.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import Notice
from backend.settings import Settings
from bot.delivery import broadcast_rows, fanout
from bot.delivery.broadcast_rows import Outcome, Row
from bot.delivery.broadcast_senders import BroadcastSender
from bot.delivery.journal_pg import PgJournal
from bot.delivery.notice_render import render_notice
from handlers.messages import Outbound

log = logging.getLogger("guanjia.broadcast")
# A turn is booked at most this far ahead (the sending process waits for it, one row at a time), while a
# chat paused for longer (a 429, a group's per-minute limit) is deferred (back to the queue) instead of
# holding up its worker.
MAX_BOOK_AHEAD = 1.0
# A timer wakes a millisecond or two late, and a platform's limits tolerate a send that much early: a turn
# this close is taken at once. The booking still sets the pace: each one moves the limit's next turn on.
EARLY_SECONDS = 0.002
JOURNAL_GATHER_SECONDS = 0.002  # a flush waits this long for more marks and outcomes to write together
JOURNAL_FLUSHES = 3  # flushes in flight at once: a commit's latency must not cap the sending rate


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the engine on its own event loop: uvloop where it is installed (uvicorn[standard] brings it;
    less CPU a message, see bench/broadcast.py), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


@dataclass
class BroadcastStats:
    fanned_out: int = 0
    rows: int = 0
    sent: int = 0
    retried: int = 0
    unreachable: int = 0
    failed: int = 0
    deferred: int = 0
    lost: int = 0  # rows taken over by another worker before we marked them
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        status = outcome.status
        if status == "sent":
            self.sent += 1
            self.by_channel[outcome.row.channel] = self.by_channel.get(outcome.row.channel, 0) + 1
        elif status == "retry":
            self.retried += 1
        elif status == "unreachable":
            self.unreachable += 1
        elif status in ("defer", "unmark"):
            self.deferred += 1
        else:
            self.failed += 1


class Journal:
    """Group commit of 'sending' marks (awaited before a send) and outcomes (written soon after)."""

    def __init__(self, engine: BroadcastEngine) -> None:
        self.engine = engine
        self.marks: list[tuple[str, int, asyncio.Future[bool]]] = []
        self.outcomes: list[tuple[str, Outcome]] = []
        # Sends whose outcome is not committed yet: all a killed worker can leave duplicated. Bounded.
        self.unrecorded = asyncio.Semaphore(engine.settings.broadcast_unrecorded_max)
        self.to_release = 0  # of `unrecorded`, once the outcomes taken by the next flush are committed
        self.sending = 0  # sends at the platform whose outcome is not queued yet
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.active = 0  # flushes being written
        self._tasks: set[asyncio.Task[None]] = set()
        self.executor = ThreadPoolExecutor(JOURNAL_FLUSHES, thread_name_prefix="guanjia-journal")
        # PostgreSQL: the fast path on this loop (bot/delivery/journal_pg.py); else SQLAlchemy in threads.
        self.pg = PgJournal(engine.pg_url, JOURNAL_FLUSHES) if engine.pg_url is not None else None

    def mark(self, token: str, row_id: int) -> asyncio.Future[bool]:
        """Queue a 'sending' mark; the future says, once written, whether the row is still ours."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.marks.append((token, row_id, future))
        self._poke()
        return future

    def record(self, token: str, outcome: Outcome, sent: bool = False) -> None:
        """Queue an outcome; `sent`: it ends a send holding an `unrecorded` slot, freed once committed."""
        self.outcomes.append((token, outcome))
        self.to_release += sent
        self.sending -= sent
        self._poke()

    def _poke(self) -> None:
        self.idle.clear()
        self.wake.set()

    async def drained(self) -> None:
        while self.marks or self.outcomes or not self.idle.is_set():
            await self.idle.wait()

    async def run(self) -> None:
        slots = asyncio.Semaphore(JOURNAL_FLUSHES)
        while True:
            await self.wake.wait()
            if self.unrecorded.locked() and self.sending and not self.outcomes:
                # Only marks, and every slot taken by a send on its way: its outcome comes in a moment and
                # takes the marks along (one statement), so a row is marked just before its own send.
                self.wake.clear()
                continue
            if not self.unrecorded.locked():  # else sends are waiting for an outcome to be recorded: write at once
                await asyncio.sleep(JOURNAL_GATHER_SECONDS)
            await slots.acquire()  # while every flush is busy, more rows gather for the next one
            self.wake.clear()
            marks, self.marks = self.marks, []
            outcomes, self.outcomes = self.outcomes, []
            releases, self.to_release = self.to_release, 0
            if not marks and not outcomes:
                slots.release()
                self._settle()
                continue
            self.active += 1
            task = asyncio.create_task(self._flush(marks, outcomes, releases, slots))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush(self, marks: list[tuple[str, int, asyncio.Future[bool]]], outcomes: list[tuple[str, Outcome]],
                     releases: int, slots: asyncio.Semaphore) -> None:
        try:
            ours = await self._write(marks, outcomes)
        except Exception as exc:  # the database is away: the marks fail (rows stay claimed, retried later)
            log.exception("broadcast journal write failed")
            for _token, _row_id, future in marks:
                if not future.done():
                    future.set_exception(exc)
            self.outcomes[:0] = outcomes  # outcomes are facts: written with the next flush
            self.to_release += releases
            self.wake.set()
        else:
            for _token, row_id, future in marks:
                if not future.done():
                    future.set_result(row_id in ours)
            for _ in range(releases):
                self.unrecorded.release()
        finally:
            self.active -= 1
            slots.release()
            self._settle()

    async def _write(self, marks: list[tuple[str, int, asyncio.Future[bool]]], outcomes: list[tuple[str, Outcome]]
                     ) -> set[int]:
        if self.pg is not None:
            return await self.pg.write(self.engine.clock.now(), [(token, row_id) for token, row_id, _f in marks],
                                       outcomes, self.engine.settings.broadcast_max_attempts)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.engine.write_journal, marks, outcomes)

    async def aclose(self) -> None:
        self.executor.shutdown(wait=False)
        if self.pg is not None:
            await self.pg.aclose()

    def _settle(self) -> None:
        if not self.marks and not self.outcomes and not self.active:
            self.idle.set()


class BroadcastEngine:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, settings: Settings,
                 senders: Mapping[str, BroadcastSender], worker_id: str | None = None) -> None:
        self.session_factory, self.clock, self.settings = session_factory, clock, settings
        self.senders = dict(senders)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = settings.broadcast_lease_seconds
        self.stats = BroadcastStats()
        self._messages: dict[tuple[int, str, str], Outbound | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = 0  # rounds that found work, for run_until_idle
        self._pacing_lock: asyncio.Lock | None = None
        bind = session_factory.kw.get("bind")
        self.pg_url = bind.url if isinstance(bind, Engine) and bind.dialect.name == "postgresql" else None

    @property
    def _pacing(self) -> asyncio.Lock:
        if self._pacing_lock is None:  # made on the running loop
            self._pacing_lock = asyncio.Lock()
        return self._pacing_lock

    def new_token(self) -> str:
        return f"{self.worker_id[:40]}#{uuid.uuid4().hex[:16]}"

    # ---- database work (in threads) ---------------------------------------------------------------

    def write_journal(self, marks: list[tuple[str, int, Any]], outcomes: list[tuple[str, Outcome]]) -> set[int]:
        """Outcomes, then marks, in one transaction (SQLite and other databases; PostgreSQL takes
        bot/delivery/journal_pg.py). Each statement is fenced by its claim."""
        now = self.clock.now()
        by_token: dict[str, list[Outcome]] = {}
        for token, outcome in outcomes:
            by_token.setdefault(token, []).append(outcome)
        by_token_ids: dict[str, list[int]] = {}
        for token, row_id, _future in marks:
            by_token_ids.setdefault(token, []).append(row_id)
        ours: set[int] = set()
        with transaction(self.session_factory) as session:
            for token, items in by_token.items():
                broadcast_rows.record(session, now, token, items, self.settings.broadcast_max_attempts)
            for token, ids in by_token_ids.items():
                ours |= broadcast_rows.mark_sending(session, token, ids)
        return ours

    def _claim(self, token: str) -> tuple[list[Row], dict[int, Notice]]:
        with transaction(self.session_factory) as session:
            rows = broadcast_rows.claim(session, self.clock.now(), token, self.lease, self.settings.broadcast_batch)
            notices = {}
            for notice_id in {r.notice_id for r in rows}:
                notice = session.get(Notice, notice_id)
                if notice is not None:
                    session.expunge(notice)
                    notices[notice_id] = notice
        return rows, notices

    def _renew(self, token: str, ids: list[int]) -> None:
        with transaction(self.session_factory) as session:
            broadcast_rows.renew(session, self.clock.now(), token, ids, self.lease)

    def _finish(self, token: str, ids: list[int], notice_ids: set[int]) -> None:
        with transaction(self.session_factory) as session:
            broadcast_rows.release(session, token, ids)
            broadcast_rows.finish_notices(session, notice_ids)

    def fan_out_once(self) -> fanout.FanoutStats:
        stats = fanout.fan_out_once(self.session_factory, self.clock, self.new_token(), self.lease,
                                    self.settings.broadcast_fanout_batch)
        self.stats.fanned_out += stats.notices
        self.stats.rows += stats.rows
        return stats

    # ---- rendering ---------------------------------------------------------------------------------

    def message(self, notice: Notice, row: Row) -> Outbound | None:
        """The notice as this row's audience sees it; None when it must not go out any more."""
        key = (notice.id, row.lang, row.audience)
        if key not in self._messages:
            if len(self._messages) > 1000:  # a long-running worker: old notices' renderings go
                self._messages.clear()
            self._messages[key] = render_notice(notice, row.lang, row.audience, self.settings.timezone)
        return self._messages[key]

    def _dropped(self, notice: Notice | None) -> str:
        if notice is None or notice.status == "cancelled":
            return "notice cancelled"
        if notice.expires_at is not None and notice.expires_at <= self.clock.now():
            return "notice expired before delivery"
        return ""

    # ---- the loop -------------------------------------------------------------------------------

    async def _round(self, journal: Journal, inflight: asyncio.Semaphore) -> int:
        loop = asyncio.get_running_loop()
        token = self.new_token()
        rows, notices = await loop.run_in_executor(None, self._claim, token)
        if not rows:
            return 0
        self._busy += 1
        ids = [row.id for row in rows]
        beat = asyncio.create_task(self._heartbeat(token, ids))
        tasks: list[asyncio.Task[None]] = []
        try:
            pending = deque(rows)
            while pending and not self._stop.is_set():
                row = pending.popleft()
                notice = notices.get(row.notice_id)
                reason = self._dropped(notice)
                sender = self.senders.get(row.channel)
                if reason or notice is None:
                    journal.record(token, Outcome(row, "drop", error=reason))
                    continue
                if sender is None:
                    self._count(journal, token, Outcome(row, "unreachable", error=f"no sender for {row.channel}"))
                    continue
                await inflight.acquire()
                tasks.append(asyncio.create_task(self._send(journal, inflight, token, sender, row,
                                                            self.message(notice, row))))
            if tasks:
                await asyncio.gather(*tasks)
            await journal.drained()
        finally:
            beat.cancel()
            self._busy -= 1
        await loop.run_in_executor(None, self._finish, token, ids, set(notices))
        return len(rows)

    def _count(self, journal: Journal, token: str, outcome: Outcome) -> None:
        self.stats.add(outcome)
        journal.record(token, outcome)

    async def _send(self, journal: Journal, inflight: asyncio.Semaphore, token: str, sender: BroadcastSender,
                    row: Row, message: Outbound | None) -> None:
        try:
            assert message is not None
            async with self._pacing:  # one row at a time, in the order claimed: its turn, its mark, its slot
                wait = await self._turn(sender, row)
                if wait:  # a long wait (a chat paused by a 429, a group's per-minute limit): back to the queue
                    self._count(journal, token, Outcome(row, "defer", retry_after=wait, error="rate limit"))
                    return
                # Marked 'sending' with the outcome of the send before (one statement), which frees the slot.
                marked = journal.mark(token, row.id)
                await journal.unrecorded.acquire()
            try:
                ours = await marked
            except Exception:  # not marked: the row stays queued under our claim and is retried after the lease
                journal.unrecorded.release()
                return
            if not ours:
                journal.unrecorded.release()
                self.stats.lost += 1
                return
            journal.sending += 1
            try:
                outcome = await sender.send(row, message)
            except Exception as exc:  # a sender bug must not stop the round
                log.exception("broadcast send on %s failed", row.channel)
                outcome = Outcome(row, "retry", retry_after=30, error=f"{row.channel}: {type(exc).__name__}")
            self.stats.add(outcome)
            journal.record(token, outcome, sent=True)
        finally:
            inflight.release()

    async def _turn(self, sender: BroadcastSender, row: Row) -> float:
        """Book the row's turn in the shared limits and wait for it (the caller holds the pacing lock, so one row
        at a time per process books, in the order the rows were marked); 0.0 when booked, else the (long) wait
        it would need (nothing booked). One booking, however busy the limit: the turn is booked ahead, not
        asked for again and again. The send follows as soon as the send before it is recorded (with one
        unrecorded send per process, about one round trip later), so what the platform sees is paced as booked."""
        wait = sender.reserve(row, ahead=MAX_BOOK_AHEAD)
        if wait > MAX_BOOK_AHEAD:
            return wait  # not booked
        if wait > EARLY_SECONDS:
            await asyncio.sleep(wait - EARLY_SECONDS)
        return 0.0

    async def _heartbeat(self, token: str, ids: list[int]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await loop.run_in_executor(None, self._renew, token, ids)
            except Exception:
                log.warning("could not renew broadcast lease %s", token, exc_info=True)

    async def _fan_out_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            try:
                stats = await loop.run_in_executor(None, self.fan_out_once)
            except Exception:
                log.exception("broadcast fan-out failed; retrying")
                stats = fanout.FanoutStats()
            if not stats.notices:
                await asyncio.sleep(self.settings.broadcast_poll_seconds)

    async def _lane(self, journal: Journal, inflight: asyncio.Semaphore) -> None:
        while not self._stop.is_set():
            try:
                done = await self._round(journal, inflight)
            except Exception:
                log.exception("broadcast round failed; retrying")
                done = 0
            if not done:
                await asyncio.sleep(self.settings.broadcast_poll_seconds)

    async def run(self) -> None:
        """Fan out and deliver until stopped."""
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(16, thread_name_prefix="guanjia-broadcast"))
        self._pacing_lock = None
        journal = Journal(self)
        inflight = asyncio.Semaphore(self.settings.broadcast_concurrency)
        writer = asyncio.create_task(journal.run())
        workers = [asyncio.create_task(self._fan_out_loop())]
        workers += [asyncio.create_task(self._lane(journal, inflight)) for _ in range(self.settings.broadcast_lanes)]
        try:
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
            await asyncio.wait(workers, timeout=10)
            await asyncio.wait_for(journal.drained(), 10)
        finally:
            for task in [*workers, writer]:
                task.cancel()
            for sender in self.senders.values():
                await sender.aclose()
            await journal.aclose()

    # ---- threads and tests ------------------------------------------------------------------------

    def start_thread(self) -> None:
        if self._thread is not None or not self.senders:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_thread, name="guanjia-broadcast", daemon=True)
        self._thread.start()

    def _run_thread(self) -> None:
        run_loop(self.run())

    def shutdown(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_until_idle(self, timeout: float = 60.0, settle: float = 0.3) -> BroadcastStats:
        """Fan out every due notice and deliver every due row, then return (tests, `guanjia worker --once`)."""

        async def main() -> None:
            loop = asyncio.get_running_loop()
            loop.set_default_executor(ThreadPoolExecutor(8, thread_name_prefix="guanjia-broadcast"))
            self._pacing_lock = None
            journal = Journal(self)
            inflight = asyncio.Semaphore(self.settings.broadcast_concurrency)
            writer = asyncio.create_task(journal.run())
            deadline = time.monotonic() + timeout
            try:
                while time.monotonic() < deadline:
                    fanned = await loop.run_in_executor(None, self.fan_out_once)
                    rounds = await asyncio.gather(*[self._round(journal, inflight)
                                                    for _ in range(self.settings.broadcast_lanes)])
                    if not fanned.notices and not any(rounds):
                        await asyncio.sleep(settle)
                        if not await self._anything_due():
                            break
            finally:
                await journal.drained()
                writer.cancel()
                await journal.aclose()
                for sender in self.senders.values():
                    await sender.aclose()

        run_loop(main())
        return self.stats

    async def _anything_due(self) -> bool:
        def due() -> bool:
            from sqlalchemy import exists, or_, select

            from backend.models import NoticeDelivery as ND

            now = self.clock.now()
            with self.session_factory() as session:
                return bool(session.scalar(select(or_(
                    exists().where(Notice.status.in_(("scheduled", "fanning")), Notice.scheduled_at <= now),
                    exists().where(ND.status.in_(broadcast_rows.OPEN), ND.next_attempt_at <= now)))))

        return await asyncio.get_running_loop().run_in_executor(None, due)
