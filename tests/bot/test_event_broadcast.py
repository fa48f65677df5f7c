"""An event's notices end to end: event_admin / event_reminders write them, the broadcast engine sends them to a
fake Telegram. The day-before reminder reaches those signed up; a cancellation also the waiting list; never the
withdrawn; an event with only waiting households tells them; one with nobody sends nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.db import transaction
from backend.models import CommunityEvent, EventSignup, Notice
from backend.services import event_admin, event_reminders
from bot.delivery.broadcast import BroadcastEngine
from bot.delivery.broadcast_senders import TelegramBroadcast
from tests.bot import broadcast_setup as bs
from tests.telegram.conftest import TOKEN, fast_limiter
from tests.telegram.fake_bot_api import FakeBotApi


def _send(session_factory, clock, settings, api: FakeBotApi) -> None:
    settings.telegram_token, settings.telegram_api_url = TOKEN, api.url
    senders = {"telegram": TelegramBroadcast(settings, session_factory, clock, limiter=fast_limiter())}
    BroadcastEngine(session_factory, clock, settings, senders, worker_id="test").run_until_idle(timeout=30)


def _event(s, place, now, title: str, statuses: dict[int, str]) -> int:
    """An open event two days ahead with sign-ups: resident id -> signed | waiting | withdrawn."""
    event = CommunityEvent(community_id=place.id, title=title, location="会所", capacity=1, status="open",
                           starts_at=now + timedelta(days=2), audience={"community": True}, created_at=now,
                           updated_at=now)
    s.add(event)
    s.flush()
    for n, (resident_id, status) in enumerate(statuses.items()):
        s.add(EventSignup(community_id=place.id, event_id=event.id, resident_id=resident_id, status=status,
                          people=1, checkin_code=f"{100000 + event.id * 10 + n}" if status == "signed" else "",
                          created_at=now, updated_at=now + timedelta(minutes=n)))
    s.flush()
    return event.id


def _chats(api: FakeBotApi, words: str) -> list[int]:
    """The residents (by their index in add_residents) whose private chat got a message containing `words`."""
    return sorted(int(c.chat_id) - bs.TELEGRAM_BASE for c in api.delivered() if words in c["text"])


def test_reminder_to_signed_up_cancellation_to_signed_up_and_waiting_never_withdrawn(session_factory, clock,
                                                                                     settings):
    api = FakeBotApi(TOKEN).start()
    try:
        now = clock.now()
        with transaction(session_factory) as s:
            place = bs.community(s, now)
            r = bs.add_residents(s, place, 6, now, ("telegram",))
            # 0 signed up, 1 waiting, 2 withdrew, 3 never signed up; 4 alone on the waiting list of another event
            main = _event(s, place, now, "冬至包饺子", {r[0]: "signed", r[1]: "waiting", r[2]: "withdrawn"})
            waiting_only = _event(s, place, now, "义诊", {r[4]: "waiting", r[5]: "withdrawn"})
            nobody = _event(s, place, now, "茶话会", {r[5]: "withdrawn"})

        clock.advance(days=1, hours=1)  # the day before
        assert event_reminders.remind_once(session_factory, clock, settings) == 1  # only the main event
        _send(session_factory, clock, settings, api)
        assert _chats(api, "明天的活动提醒") == [0]  # it asks for the check-in code: not for the waiting list

        with transaction(session_factory) as s:
            notices = [event_admin.cancel(s, clock, settings, None, s.get(CommunityEvent, event_id), "会所漏水")[1]
                       for event_id in (main, waiting_only, nobody)]
            assert notices[2] is None  # nobody signed up or waiting: nothing written
        _send(session_factory, clock, settings, api)
        assert _chats(api, "「冬至包饺子」（原定") == [0, 1]
        assert _chats(api, "「义诊」（原定") == [4]
        assert _chats(api, "茶话会") == []
        text = next(c["text"] for c in api.delivered() if c.chat_id == str(bs.TELEGRAM_BASE + 1) and "取消" in c["text"])
        assert "原因：会所漏水" in text and "您的报名或候补登记随之作废" in text
        with session_factory() as s:
            sent = s.scalars(select(Notice).where(Notice.kind == "event_update").order_by(Notice.id)).all()
            assert [(n.event_id, n.status, n.recipients) for n in sent] == [(main, "sent", 2), (waiting_only, "sent", 1)]
    finally:
        api.stop()
