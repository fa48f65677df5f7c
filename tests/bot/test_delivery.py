"""The outbox dispatcher with fake senders at the machine's edge: retries, unreachable people, leases, two workers."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.domain import Department
from backend.models import ChannelMessage, ChatIdentity, Notification, Resident, Staff
from backend.services import outbox
from backend.services.demo import seed_demo
from backend.services.outbox import Recipient
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.inbox import InboxSender
from bot.delivery.sender import SendResult, Target
from handlers.messages import Outbound

PARAMS = {"number": 7, "assignee": "吴涛", "owner": "张敏"}


class FakeSender:
    """A platform that answers with the scripted results in turn (the last one repeats)."""

    def __init__(self, channel: str, *results: SendResult) -> None:
        self.channel = channel
        self.results = list(results) or [SendResult.sent()]
        self.calls: list[tuple[str, str, int | None]] = []
        self.lock = threading.Lock()

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        with self.lock:
            self.calls.append((target.chat_id, message.text, notification_id))
            return self.results.pop(0) if len(self.results) > 1 else self.results[0]


class CountingInbox(InboxSender):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[int | None] = []
        self.lock = threading.Lock()

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        result = super().send(target, message, notification_id)
        with self.lock:
            self.sent.append(notification_id)
        return result


@pytest.fixture
def community(session_factory, clock, settings):
    with transaction(session_factory) as s:
        return seed_demo(s, settings, clock)


def _resident(session_factory, clock, community, *accounts: tuple[str, str]) -> int:
    with transaction(session_factory) as s:
        resident = Resident(community_id=community.id, name="测试住户", created_at=clock.now())
        s.add(resident)
        s.flush()
        for channel, external in accounts:
            s.add(ChatIdentity(community_id=community.id, channel=channel, external_id=external,
                               resident_id=resident.id, created_at=clock.now()))
        return resident.id


def _staff_on_web(session_factory, clock, community, login: str) -> None:
    with transaction(session_factory) as s:
        staff = s.scalar(select(Staff).where(Staff.community_id == community.id, Staff.login == login))
        s.add(ChatIdentity(community_id=community.id, channel="web", external_id=f"staff:{login}",
                           staff_id=staff.id, created_at=clock.now()))


def _enqueue(session_factory, clock, community, resident_id: int, count: int = 1) -> list[int]:
    with transaction(session_factory) as s:
        notes = [outbox.enqueue(s, clock, community.id, Recipient.resident(resident_id), "ticket.accepted",
                                {**PARAMS, "number": 7 + i}) for i in range(count)]
        s.flush()
        return [n.id for n in notes]


def _note(session_factory, note_id: int) -> Notification:
    with session_factory() as s:
        return s.get(Notification, note_id)


def test_retry_waits_then_sends_once(session_factory, clock, community):
    rid = _resident(session_factory, clock, community, ("fax", "f-1"))
    fax = FakeSender("fax", SendResult.retry(30, "429 too many"), SendResult.sent("m-1"))
    dispatcher = Dispatcher(session_factory, clock, {"fax": fax})
    [note_id] = _enqueue(session_factory, clock, community, rid)

    assert dispatcher.deliver_once().retried == 1
    note = _note(session_factory, note_id)
    assert note.status == "pending" and note.attempts == 1 and "429" in note.error
    assert dispatcher.deliver_once().sent == 0  # not due yet
    clock.advance(seconds=31)
    assert dispatcher.deliver_once().sent == 1
    assert _note(session_factory, note_id).status == "sent"
    assert len(fax.calls) == 2 and "已受理" in fax.calls[0][1]
    assert dispatcher.deliver_once().sent == 0


def test_a_retry_resends_only_to_the_chats_that_failed(session_factory, clock, community):
    rid = _resident(session_factory, clock, community, ("fax", "f-2"), ("web", "u-2"))
    fax = FakeSender("fax", SendResult.retry(10, "timeout"), SendResult.sent())
    web = CountingInbox("web", session_factory, clock)
    dispatcher = Dispatcher(session_factory, clock, {"fax": fax, "web": web})
    [note_id] = _enqueue(session_factory, clock, community, rid)
    dispatcher.deliver_once()
    clock.advance(seconds=11)
    dispatcher.deliver_once()
    assert web.sent == [note_id] and len(fax.calls) == 2
    assert _note(session_factory, note_id).status == "sent"


def test_unreachable_resident_is_marked_and_customer_service_told(session_factory, clock, community):
    rid = _resident(session_factory, clock, community, ("fax", "f-3"))
    _staff_on_web(session_factory, clock, community, "cs1")
    fax = FakeSender("fax", SendResult.unreachable("user blocked the bot"))
    web = CountingInbox("web", session_factory, clock)
    dispatcher = Dispatcher(session_factory, clock, {"fax": fax, "web": web})
    [note_id] = _enqueue(session_factory, clock, community, rid)

    assert dispatcher.deliver_once().unreachable == 1
    note = _note(session_factory, note_id)
    assert note.status == "unreachable" and "blocked" in note.error
    with session_factory() as s:
        assert s.scalar(select(ChatIdentity.unreachable).where(ChatIdentity.external_id == "f-3")) is True
        alert = s.scalar(select(Notification).where(Notification.kind == "delivery.unreachable"))
        assert alert.department == Department.CUSTOMER_SERVICE and alert.params["resident_id"] == rid

    dispatcher.deliver_once()  # the alert reaches customer service's web chat
    with session_factory() as s:
        body = s.scalar(select(ChannelMessage.body).where(ChannelMessage.chat_id == "staff:cs1"))
    assert "无法通知住户" in body["text"] and "#7" in body["text"]

    # the blocked account is not tried again; the next message goes straight to customer service
    _enqueue(session_factory, clock, community, rid)
    dispatcher.deliver_once()
    assert len(fax.calls) == 1


def test_a_resident_with_no_chat_at_all_is_reported_too(session_factory, clock, community):
    rid = _resident(session_factory, clock, community)
    dispatcher = Dispatcher(session_factory, clock, {})
    [note_id] = _enqueue(session_factory, clock, community, rid)
    dispatcher.deliver_once()
    assert _note(session_factory, note_id).status == "unreachable"
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(Notification.kind == "delivery.unreachable")) == 1


def test_staff_nobody_can_reach_are_not_reported_as_residents(session_factory, clock, community):
    with transaction(session_factory) as s:
        staff = s.scalar(select(Staff).where(Staff.login == "tech2"))
        note = outbox.enqueue(s, clock, community.id, Recipient.staff(staff.id), "ticket.accepted_owner", PARAMS)
        s.flush()
        note_id = note.id
    Dispatcher(session_factory, clock, {}).deliver_once()
    assert _note(session_factory, note_id).status == "unreachable"
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(Notification.kind == "delivery.unreachable")) == 0


def test_a_crashed_workers_lease_expires_and_another_delivers(session_factory, clock, community):
    rid = _resident(session_factory, clock, community, ("web", "u-lease"))
    [note_id] = _enqueue(session_factory, clock, community, rid)
    with transaction(session_factory) as s:  # worker A claims, then dies before sending
        assert [n.id for n in outbox.claim_due(s, clock, "worker-a", lease_seconds=60)] == [note_id]
    web = CountingInbox("web", session_factory, clock)
    b = Dispatcher(session_factory, clock, {"web": web}, worker_id="worker-b")
    assert b.deliver_once().sent == 0 and web.sent == []  # still leased to A
    clock.advance(seconds=61)
    assert b.deliver_once().sent == 1 and web.sent == [note_id]
    assert b.deliver_once().sent == 0


def test_two_dispatchers_at_once_send_every_row_exactly_once(session_factory, clock, community):
    rid = _resident(session_factory, clock, community, ("web", "u-many"))
    ids = _enqueue(session_factory, clock, community, rid, count=40)
    web = CountingInbox("web", session_factory, clock)
    dispatchers = [Dispatcher(session_factory, clock, {"web": web}, worker_id=f"w{i}") for i in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(d: Dispatcher) -> None:
        try:
            start.wait()
            while d.deliver_once(limit=5).sent:
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(web.sent) == sorted(ids)  # each once
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(ChannelMessage.chat_id == "u-many")) == 40
        assert set(s.scalars(select(Notification.status).where(Notification.id.in_(ids)))) == {"sent"}


def test_staff_card_is_rendered_live_with_masked_phone_and_viewer_buttons(session_factory, clock, settings):
    """Delivery renders staff notifications against the ticket as it is now, for that viewer."""
    from backend.models import ChatIdentity
    from backend.services.actor import Actor
    from backend.services.tickets import NewTicket, TicketService
    from bot.delivery.dispatcher import Dispatcher
    from tests.builders import build_world

    with session_factory() as s:
        world = build_world(s, clock, settings)
        resident = world.residents["1"]
        s.add(ChatIdentity(community_id=world.community.id, channel="web", external_id="cs1-web",
                           staff_id=world.staff["cs1"].id, created_at=clock.now()))
        TicketService(s, clock, settings).create(
            Actor.of_resident(resident), NewTicket(kind="repair", description="水管漏水", household_id=resident.household_id))
        s.commit()

    class Recorder:
        channel = "web"

        def __init__(self):
            self.sent = []

        def send(self, target, message, notification_id=None):
            from bot.delivery.sender import SendResult

            self.sent.append((target, message))
            return SendResult.sent()

    recorder = Recorder()
    Dispatcher(session_factory, clock, {"web": recorder}).deliver_once()
    cards = [m for t, m in recorder.sent if t.chat_id == "cs1-web"]
    assert cards, "the steward gets the you-own card"
    assert "****" in cards[0].text  # the reporter's phone, masked
    assert any(b.payload.startswith("t:") for b in cards[0].buttons)
