"""Exactly-once delivery in one process: leases renewed while sending, claims fencing every write, idempotent inbox."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.models import ChannelMessage, ChatIdentity, Delivery, Notification, Resident
from backend.services import outbox
from backend.services.demo import seed_demo
from backend.services.outbox import Recipient
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.inbox import InboxSender
from bot.delivery.sender import SendResult, Target
from handlers.messages import Outbound

PARAMS = {"number": 7, "assignee": "吴涛", "owner": "张敏"}


class Killed(BaseException):
    """The worker process dies here (not an Exception: nothing in the dispatcher catches it)."""


@pytest.fixture
def community(session_factory, clock, settings):
    with transaction(session_factory) as s:
        return seed_demo(s, settings, clock)


def _residents(session_factory, clock, community, count: int, channel: str = "fax") -> list[int]:
    """`count` residents with one chat each, and one notification to each; the notification ids."""
    with transaction(session_factory) as s:
        ids = []
        for i in range(count):
            resident = Resident(community_id=community.id, name=f"住户{i}", created_at=clock.now())
            s.add(resident)
            s.flush()
            s.add(ChatIdentity(community_id=community.id, channel=channel, external_id=f"{channel}-{i}",
                               resident_id=resident.id, created_at=clock.now()))
            note = outbox.enqueue(s, clock, community.id, Recipient.resident(resident.id), "ticket.accepted",
                                  {**PARAMS, "number": 100 + i})
            s.flush()
            ids.append(note.id)
        return ids


class Platform:
    """A fake platform at the machine's edge; `during_send` runs inside a send (a stall, a second worker)."""

    channel = "fax"

    def __init__(self) -> None:
        self.received: list[str] = []
        self.during_send = None

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        self.received.append(target.chat_id)  # the request has left the socket
        if self.during_send is not None:
            hook, self.during_send = self.during_send, None
            hook()
        return SendResult.sent(f"msg-{len(self.received)}")


def test_a_slow_batch_keeps_its_lease_and_a_second_worker_takes_nothing(session_factory, clock, community):
    ids = _residents(session_factory, clock, community, 6)
    fax = Platform()
    a = Dispatcher(session_factory, clock, {"fax": fax}, worker_id="a", lease_seconds=60, batch=6)
    b = Dispatcher(session_factory, clock, {"fax": fax}, worker_id="b", lease_seconds=60, batch=6)
    b_claims: list[int] = []

    class Slow(Platform):
        def send(self, target, message, notification_id=None):
            result = fax.send(target, message, notification_id)
            clock.advance(seconds=25)  # 6 sends x 25 s: the batch outlives one 60 s lease by far
            b_claims.append(b.deliver_once().sent)
            return result

    a.senders["fax"] = Slow()
    assert a.deliver_once().sent == 6
    assert b_claims == [0] * 6
    assert Counter(fax.received) == {f"fax-{i}": 1 for i in range(6)}
    with session_factory() as s:
        assert set(s.scalars(select(Notification.status).where(Notification.id.in_(ids)))) == {"sent"}
        assert sorted(s.scalars(select(Delivery.external_id))) == sorted(f"msg-{i}" for i in range(1, 7))


def test_a_stalled_worker_loses_its_claim_and_writes_nothing_after(session_factory, clock, community):
    ids = _residents(session_factory, clock, community, 4)
    fax = Platform()
    a = Dispatcher(session_factory, clock, {"fax": fax}, worker_id="a", lease_seconds=60, batch=4)
    b = Dispatcher(session_factory, clock, {"fax": fax}, worker_id="b", lease_seconds=60, batch=4)
    b_stats = []

    def stall_then_b_takes_over() -> None:
        clock.advance(seconds=61)  # A hangs in its first send past the lease
        b_stats.append(b.deliver_once())

    fax.during_send = stall_then_b_takes_over
    a_stats = a.deliver_once()
    assert b_stats[0].sent == 4
    assert a_stats.sent == 0 and a_stats.lost == 1  # its in-flight write refused; the rest it finds done
    # Only the send in flight when A stalled reached the platform twice, and it is on record as in doubt.
    assert Counter(fax.received).most_common(1)[0][1] == 2 and len(fax.received) == 5
    with session_factory() as s:
        assert s.scalar(select(func.sum(Delivery.in_doubt))) == 1
        notes = list(s.scalars(select(Notification).where(Notification.id.in_(ids))))
        assert {n.status for n in notes} == {"sent"} and {n.claimed_by for n in notes} == {None}


def test_old_claims_cannot_mark_rows_they_no_longer_hold(session_factory, clock, community):
    [note_id] = _residents(session_factory, clock, community, 1)
    with transaction(session_factory) as s:
        outbox.claim_due(s, clock, "old-claim", lease_seconds=60)
    clock.advance(seconds=61)
    with transaction(session_factory) as s:
        assert [n.id for n in outbox.claim_due(s, clock, "new-claim", lease_seconds=60)] == [note_id]
    with transaction(session_factory) as s:
        assert not outbox.mark_sent(s, clock, note_id, claim="old-claim")
        assert not outbox.mark_retry(s, clock, note_id, "x", 1, claim="old-claim")
        assert not outbox.mark_unreachable(s, clock, note_id, "x", claim="old-claim")
        assert outbox.renew(s, clock, "old-claim", 60) == 0
        assert outbox.mark_sent(s, clock, note_id, claim="new-claim")
    with session_factory() as s:
        assert s.get(Notification, note_id).status == "sent"


def test_web_chat_never_duplicates_even_when_the_worker_dies_after_writing(session_factory, clock, community):
    [note_id] = _residents(session_factory, clock, community, 1, channel="web")
    inbox = InboxSender("web", session_factory, clock)

    class DiesAfterSending:
        channel = "web"

        def send(self, target, message, notification_id=None):
            inbox.send(target, message, notification_id)
            raise Killed

    with pytest.raises(Killed):
        Dispatcher(session_factory, clock, {"web": DiesAfterSending()}, worker_id="a").deliver_once()
    clock.advance(seconds=61)
    assert Dispatcher(session_factory, clock, {"web": inbox}, worker_id="b").deliver_once().sent == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ChannelMessage)
                        .where(ChannelMessage.notification_id == note_id)) == 1
        delivery = s.scalar(select(Delivery))
        assert (delivery.status, delivery.in_doubt, delivery.attempts) == ("sent", 1, 2)
        assert s.get(Notification, note_id).status == "sent"


def test_a_worker_dying_before_the_send_leaves_causes_no_duplicate(session_factory, clock, community):
    [note_id] = _residents(session_factory, clock, community, 1)
    fax = Platform()

    class DiesBeforeSending:
        channel = "fax"

        def send(self, target, message, notification_id=None):
            raise Killed

    with pytest.raises(Killed):
        Dispatcher(session_factory, clock, {"fax": DiesBeforeSending()}, worker_id="a").deliver_once()
    assert Dispatcher(session_factory, clock, {"fax": fax}, worker_id="b").deliver_once().sent == 0  # leased
    clock.advance(seconds=61)
    assert Dispatcher(session_factory, clock, {"fax": fax}, worker_id="b").deliver_once().sent == 1
    assert fax.received == ["fax-0"]
    with session_factory() as s:
        assert s.get(Notification, note_id).status == "sent"
