"""The delivery loop: claim due outbox rows, send each to every chat of its recipient, record the outcome.

Exactly once, under crashes and slow batches:
- a round leases a small batch under a fresh claim id, the fencing token: every later write about a
  row (renewal, per-chat delivery, final mark) names the claim and does nothing once another worker
  has taken the row over (its lease ran out);
- before each send the lease is renewed and a `delivery` row (notification, chat) is written
  `sending`; after it, `sent` with the platform's message id, before the notification is marked;
- a retry, or a worker taking over a crashed worker's row, skips the chats already `sent`; a chat
  found `sending` is a send that may have left the socket when its worker died: it is sent again
  and counted in `delivery.in_doubt` (web chat never duplicates: its inbox row is unique per
  notification and chat).
A resident nobody can reach is marked unreachable and customer service is told: nothing is dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import register, render
from backend.clock import Clock
from backend.db import transaction
from backend.domain import Department
from backend.models import ChatIdentity, Delivery, Notification, Staff
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
FINAL = ("sent", "unreachable")


class LostClaim(Exception):
    """Another worker holds the row now (our lease ran out): stop writing about it."""


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    unreachable: int = 0
    failed: int = 0
    lost: int = 0  # rows taken over by another worker mid-send (our lease ran out)
    skipped_channels: set[str] = field(default_factory=set)


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, senders: Mapping[str, Sender],
                 worker_id: str | None = None, tz: str = "Asia/Shanghai", lease_seconds: float = 60.0,
                 batch: int = 10) -> None:
        self.session_factory = session_factory
        self.settings_tz = tz
        self.clock = clock
        self.senders = dict(senders)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.lease_seconds = lease_seconds
        self.batch = batch

    def new_claim(self) -> str:
        """A fencing token unique to one round of this worker (fits notification.claimed_by)."""
        return f"{self.worker_id[:40]}#{uuid.uuid4().hex[:16]}"

    def deliver_once(self, limit: int | None = None) -> DeliveryStats:
        stats = DeliveryStats()
        claim = self.new_claim()
        with transaction(self.session_factory) as session:
            claimed = [n.id for n in outbox.claim_due(session, self.clock, claim, limit or self.batch,
                                                      self.lease_seconds)]
        if not claimed:
            return stats
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(claim, stop), name="guanjia-lease", daemon=True)
        heartbeat.start()
        try:
            for note_id in claimed:
                try:
                    self._deliver(note_id, claim, stats)
                except LostClaim:
                    log.warning("notification %s was taken over by another worker; leaving it", note_id)
                    stats.lost += 1
                except Exception:  # one bad row must not stop the others
                    log.exception("delivery of notification %s failed", note_id)
                    with transaction(self.session_factory) as session:
                        outbox.mark_retry(session, self.clock, note_id, "internal error", 60, MAX_ATTEMPTS,
                                          claim=claim)
                    stats.failed += 1
        finally:
            stop.set()
            heartbeat.join()
        return stats

    def _heartbeat(self, claim: str, stop: threading.Event) -> None:
        """Renew the whole batch's lease while it is being sent, so a slow send never lets it expire."""
        while not stop.wait(self.lease_seconds / 3):
            try:
                with transaction(self.session_factory) as session:
                    outbox.renew(session, self.clock, claim, self.lease_seconds)
            except Exception:  # the next beat or the per-send renewal tries again
                log.warning("could not renew delivery lease %s", claim, exc_info=True)

    def _deliver(self, note_id: int, claim: str, stats: DeliveryStats) -> None:
        with transaction(self.session_factory) as session:
            note = session.get(Notification, note_id)
            if note is None or note.status != "pending":
                return
            if note.claimed_by != claim:
                raise LostClaim
            targets = targets_for(session, note)
            finished = set(note.params.get("_done", []))  # rows written before per-chat deliveries existed
            finished |= set(session.scalars(select(Delivery.target).where(
                Delivery.notification_id == note_id, Delivery.status.in_(FINAL))))
            resident = note.recipient_type == "resident"
            # Rendered now, inside the session: staff cards show the ticket as it is and the viewer's buttons.
            messages = {t.key: self._render(session, note, t) for t in targets if t.key not in finished}
        outcomes: dict[str, SendResult] = {}
        for target in targets:
            if target.key in finished:
                continue
            sender = self.senders.get(target.channel)
            if sender is None:
                stats.skipped_channels.add(target.channel)
                outcomes[target.key] = SendResult.unreachable(f"no sender for {target.channel}")
                continue
            if not self._begin(note_id, target, claim):
                continue  # finished meanwhile by the worker that held it before us
            try:
                result = sender.send(target, messages[target.key], note_id)
            except Exception as exc:  # a sender bug or network error: retry later
                log.warning("sender %s failed: %s", target.channel, type(exc).__name__)
                result = SendResult.retry(30, type(exc).__name__)
            outcomes[target.key] = result
            self._finish(note_id, target, claim, result)
        self._record(note_id, claim, outcomes, stats, resident)

    def _begin(self, note_id: int, target: Target, claim: str) -> bool:
        """Renew the lease and mark the chat `sending` under our claim; False when it is already finished."""
        key = target.key[:230]
        with transaction(self.session_factory) as session:
            outbox.renew(session, self.clock, claim, self.lease_seconds)  # the rest of the batch waits too
            if not outbox.renew(session, self.clock, claim, self.lease_seconds, note_id):
                raise LostClaim
            now = self.clock.now()
            taken = session.execute(
                update(Delivery)
                .where(Delivery.notification_id == note_id, Delivery.target == key,
                       Delivery.status.in_(("sending", "retry")))
                .values(status="sending", claim=claim, attempts=Delivery.attempts + 1, updated_at=now,
                        in_doubt=Delivery.in_doubt + case((Delivery.status == "sending", 1), else_=0)),
                execution_options={"synchronize_session": False})
            if taken.rowcount:  # type: ignore[attr-defined]
                return True
            if session.scalar(select(Delivery.id).where(Delivery.notification_id == note_id,
                                                        Delivery.target == key)) is not None:
                return False
            session.add(Delivery(notification_id=note_id, target=key, status="sending", claim=claim,
                                 attempts=1, in_doubt=0, external_id="", error="", updated_at=now))
        return True

    def _finish(self, note_id: int, target: Target, claim: str, result: SendResult) -> None:
        """Record one chat's outcome (with the platform's message id) while the claim is still ours."""
        with transaction(self.session_factory) as session:
            done = session.execute(
                update(Delivery)
                .where(Delivery.notification_id == note_id, Delivery.target == target.key[:230],
                       Delivery.claim == claim, Delivery.status == "sending")
                .values(status=result.status, external_id=result.external_id[:100], error=result.error[:300],
                        updated_at=self.clock.now()),
                execution_options={"synchronize_session": False})
            if not done.rowcount:  # type: ignore[attr-defined]
                raise LostClaim
            if result.status == "unreachable" and target.identity_id:
                identity = session.get(ChatIdentity, target.identity_id)
                if identity is not None:
                    identity.unreachable = True

    def _render(self, session: Session, note: Notification, target: Target) -> Outbound:
        viewer = None
        if target.audience == "staff" and target.identity_id is not None:
            identity = session.get(ChatIdentity, target.identity_id)
            viewer = session.get(Staff, identity.staff_id) if identity and identity.staff_id else None
        return render_notification(note.kind, note.params, target.lang, target.audience, session=session,
                                   viewer=viewer, community_id=note.community_id, tz=self.settings_tz,
                                   now=self.clock.now())

    def _record(self, note_id: int, claim: str, outcomes: dict[str, SendResult], stats: DeliveryStats,
                resident: bool) -> None:
        with transaction(self.session_factory) as session:
            note = session.get(Notification, note_id)
            if note is None or note.status != "pending" or note.claimed_by != claim:
                raise LostClaim
            rows = list(session.scalars(select(Delivery).where(Delivery.notification_id == note_id)))
            sent = set(note.params.get("_done", [])) | {d.target for d in rows if d.status == "sent"}
            retries = [r for r in outcomes.values() if r.status == "retry"]
            if retries:
                outbox.mark_retry(session, self.clock, note_id, retries[0].error,
                                  max(r.retry_after for r in retries), MAX_ATTEMPTS, claim=claim)
                stats.retried += 1
            elif sent:
                outbox.mark_sent(session, self.clock, note_id, claim=claim)
                stats.sent += 1
            else:
                reasons = "; ".join(r.error for r in outcomes.values()) \
                    or "; ".join(d.error for d in rows if d.status == "unreachable") or "no chat account"
                outbox.mark_unreachable(session, self.clock, note_id, reasons, claim=claim)
                stats.unreachable += 1
                if resident:
                    self._tell_staff(session, note, reasons)

    def _tell_staff(self, session: Session, note: Notification, reason: str) -> None:
        text = render(note.kind, "zh", **note.params)[:300]
        outbox.enqueue(session, self.clock, note.community_id, Recipient.dept(Department.CUSTOMER_SERVICE),
                       "delivery.unreachable", {"reason": reason[:100], "text": text,
                                                "resident_id": note.resident_id, "ticket_id": note.ticket_id},
                       note.ticket_id)
