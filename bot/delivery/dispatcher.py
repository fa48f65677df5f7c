"""The delivery loop: claim due outbox rows, send each to every chat of its recipient, record the outcome.

A row is leased before sending and marked after, so a crashed worker's rows come back
and two workers never send the same row. Chats already served are remembered in the
row, so a retry sends only to the ones that failed. A resident nobody can reach is
marked unreachable and customer service is told: nothing is dropped silently.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import register, render
from backend.clock import Clock
from backend.db import transaction
from backend.domain import Department
from backend.models import ChatIdentity, Notification, Staff
from backend.services import outbox
from backend.services.outbox import Recipient
from bot.delivery.sender import Sender, SendResult, Target
from bot.delivery.targets import targets_for
from handlers.messages import Outbound
from handlers.notify_render import render as render_notification

log = logging.getLogger("guanjia.delivery")

register({
    "delivery.unreachable": (
        "⚠️ 无法通知住户（{reason}）：{text}\n请电话联系住户。",
        "⚠️ Could not notify the resident ({reason}): {text}\nPlease phone them.",
    ),
})
MAX_ATTEMPTS = 8


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    unreachable: int = 0
    failed: int = 0
    skipped_channels: set[str] = field(default_factory=set)


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, senders: Mapping[str, Sender],
                 worker_id: str | None = None, tz: str = "Asia/Shanghai") -> None:
        self.session_factory = session_factory
        self.settings_tz = tz
        self.clock = clock
        self.senders = dict(senders)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"

    def deliver_once(self, limit: int = 100) -> DeliveryStats:
        stats = DeliveryStats()
        with transaction(self.session_factory) as session:
            claimed = [n.id for n in outbox.claim_due(session, self.clock, self.worker_id, limit)]
        for note_id in claimed:
            try:
                self._deliver(note_id, stats)
            except Exception:  # one bad row must not stop the others
                log.exception("delivery of notification %s failed", note_id)
                with transaction(self.session_factory) as session:
                    outbox.mark_retry(session, self.clock, note_id, "internal error", 60, MAX_ATTEMPTS)
                stats.failed += 1
        return stats

    def _deliver(self, note_id: int, stats: DeliveryStats) -> None:
        with transaction(self.session_factory) as session:
            note = session.get(Notification, note_id)
            if note is None or note.status != "pending":
                return
            targets = targets_for(session, note)
            done = set(note.params.get("_done", []))
            resident = note.recipient_type == "resident"
            # Rendered now, inside the session: staff cards show the ticket as it is and the viewer's buttons.
            messages = {t.key: self._render(session, note, t) for t in targets if t.key not in done}
        outcomes: dict[str, SendResult] = {}
        for target in targets:
            if target.key in done:
                continue
            sender = self.senders.get(target.channel)
            if sender is None:
                stats.skipped_channels.add(target.channel)
                outcomes[target.key] = SendResult.unreachable(f"no sender for {target.channel}")
                continue
            message = messages[target.key]
            try:
                outcomes[target.key] = sender.send(target, message, note_id)
            except Exception as exc:  # a sender bug or network error: retry later
                log.warning("sender %s failed: %s", target.channel, type(exc).__name__)
                outcomes[target.key] = SendResult.retry(30, type(exc).__name__)
        self._record(note_id, targets, done, outcomes, stats, resident)

    def _render(self, session: Session, note: Notification, target: Target) -> Outbound:
        viewer = None
        if target.audience == "staff" and target.identity_id is not None:
            identity = session.get(ChatIdentity, target.identity_id)
            viewer = session.get(Staff, identity.staff_id) if identity and identity.staff_id else None
        return render_notification(note.kind, note.params, target.lang, target.audience, session=session,
                                   viewer=viewer, community_id=note.community_id, tz=self.settings_tz,
                                   now=self.clock.now())

    def _record(self, note_id: int, targets: list[Target], done: set[str], outcomes: dict[str, SendResult],
                stats: DeliveryStats, resident: bool) -> None:
        with transaction(self.session_factory) as session:
            note = session.get(Notification, note_id)
            assert note is not None
            sent = done | {k for k, r in outcomes.items() if r.status == "sent"}
            for target in targets:
                result = outcomes.get(target.key)
                if result is not None and result.status == "unreachable" and target.identity_id \
                        and not result.error.startswith("no sender"):
                    identity = session.get(ChatIdentity, target.identity_id)
                    if identity is not None:
                        identity.unreachable = True
            retries = [r for r in outcomes.values() if r.status == "retry"]
            note.params = {**note.params, "_done": sorted(sent)}
            if retries:
                outbox.mark_retry(session, self.clock, note_id, retries[0].error,
                                  max(r.retry_after for r in retries), MAX_ATTEMPTS)
                stats.retried += 1
            elif sent:
                outbox.mark_sent(session, self.clock, note_id)
                stats.sent += 1
            else:
                reasons = "; ".join(r.error for r in outcomes.values()) or "no chat account"
                outbox.mark_unreachable(session, self.clock, note_id, reasons)
                stats.unreachable += 1
                if resident:
                    self._tell_staff(session, note, reasons)

    def _tell_staff(self, session: Session, note: Notification, reason: str) -> None:
        text = render(note.kind, "zh", **note.params)[:300]
        outbox.enqueue(session, self.clock, note.community_id, Recipient.dept(Department.CUSTOMER_SERVICE),
                       "delivery.unreachable", {"reason": reason[:100], "text": text,
                                                "resident_id": note.resident_id, "ticket_id": note.ticket_id},
                       note.ticket_id)
