"""Background work: the deadline sweeper, reminders and digests, outbox delivery and the broadcast engine, in a
thread or as `guanjia worker`."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.services import arrears, event_reminders
from backend.services.disclosure import publish_due
from backend.services.kpi_digest import send_due_digests
from backend.services.sweeper import sweep_once
from backend.settings import Settings
from bot import log_safety
from bot.delivery import broadcast_senders, late_replies
from bot.delivery.broadcast import BroadcastEngine
from bot.delivery.broadcast_senders import BroadcastSender
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.sender import Sender
from bot.senders import build_senders
from bot.webchat import once as webchat_once
from bot.wecom.group_send_poll import GroupSendPoller

log = logging.getLogger("guanjia.worker")
DELIVERY_POLL_SECONDS = 0.5


class Worker:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, settings: Settings,
                 senders: dict[str, Sender] | None = None,
                 broadcast: dict[str, BroadcastSender] | None = None) -> None:
        log_safety.install(settings)  # platform clients log URLs with secrets in them
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.dispatcher = Dispatcher(session_factory, clock,
                                     senders if senders is not None else build_senders(settings, session_factory, clock),
                                     tz=settings.timezone, lease_seconds=settings.delivery_lease_seconds,
                                     batch=settings.delivery_batch)
        # Notices: fanned out and sent by their own asyncio loop (a thread), within the shared rate limits.
        self.broadcast = BroadcastEngine(
            session_factory, clock, settings,
            broadcast if broadcast is not None else broadcast_senders.build(settings, session_factory, clock))
        # WeCom customer-group sends waiting for their owner's confirmation: looked at in the periodic step.
        self.group_sends = GroupSendPoller(settings, session_factory, clock)
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reminders(self) -> int:
        """The periodic reminders: events starting tomorrow, households in arrears; how many were queued."""
        return (event_reminders.remind_once(self.session_factory, self.clock, self.settings)
                + arrears.remind_once(self.session_factory, self.clock, self.settings))

    def periodic(self) -> int:
        """The periodic work: deadlines, housekeeping, disclosure, reminders, digests, late replies, WeCom
        customer-group sends awaiting their owners; ticket steps."""
        steps = sweep_once(self.session_factory, self.clock, self.settings)
        if steps:
            log.info("swept: %d ticket step(s)", steps)
        with transaction(self.session_factory) as session:
            webchat_once.prune(session, self.clock)
        if publish_due(self.session_factory, self.clock, self.settings):
            log.info("published the monthly shared-income disclosure")
        queued = self.reminders()
        if queued:
            log.info("reminders queued: %d", queued)
        digests = send_due_digests(self.session_factory, self.clock, self.settings)
        if digests:
            log.info("queued the weekly KPI digest for %d communit(ies)", digests)
        late = late_replies.retry_once(self.session_factory, self.dispatcher.senders)
        if late:
            log.info("late replies re-sent: %d", late)
        confirmed = self.group_sends.poll_once()
        if confirmed:
            log.info("WeCom customer-group sends settled: %d group(s)", confirmed)
        return steps

    def run_once(self) -> tuple[int, int]:
        """The periodic work and one delivery round: (ticket steps taken, notifications sent)."""
        steps = self.periodic()
        stats = self.dispatcher.deliver_once()
        return steps, stats.sent

    def broadcast_once(self, timeout: float = 600.0) -> int:
        """Fan out every due notice and send every due delivery row: the rows sent."""
        return self.broadcast.run_until_idle(timeout).sent

    def run_forever(self) -> None:
        self.broadcast.start_thread()
        try:
            self._run_outbox()
        finally:
            self.broadcast.shutdown()

    def _run_outbox(self) -> None:
        next_sweep = 0.0
        while not self.stop.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    self.periodic()
                    next_sweep = time.monotonic() + self.settings.sweep_interval_seconds
                stats = self.dispatcher.deliver_once()
                if stats.sent or stats.retried or stats.unreachable:
                    log.info("delivered %d, retrying %d, unreachable %d", stats.sent, stats.retried,
                             stats.unreachable)
                    continue  # more may be waiting
            except Exception:  # a database hiccup must not kill the worker
                log.exception("worker round failed; retrying")
            self.stop.wait(DELIVERY_POLL_SECONDS)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="guanjia-worker", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
