"""The broadcast engine in one process: fan-out in batches, once; delivery to a fake Telegram and the web chat."""

from __future__ import annotations

import time

from sqlalchemy import func, select, update

from backend.db import transaction
from backend.models import ChannelMessage, ChatIdentity, GroupChat, Notice, NoticeDelivery, NoticeMute
from bot.delivery import fanout
from bot.delivery.broadcast import BroadcastEngine
from bot.delivery.broadcast_senders import TelegramBroadcast, WebPush
from bot.telegram.limiter import RateLimiter
from tests.bot import broadcast_setup as bs
from tests.telegram.conftest import TOKEN, fast_limiter
from tests.telegram.fake_bot_api import FakeBotApi


def _engine(session_factory, clock, settings, api: FakeBotApi | None = None, limiter: RateLimiter | None = None):
    senders = {"web": WebPush(session_factory, clock)}
    if api is not None:
        settings.telegram_token, settings.telegram_api_url = TOKEN, api.url
        senders["telegram"] = TelegramBroadcast(settings, session_factory, clock, limiter=limiter or fast_limiter())
    return BroadcastEngine(session_factory, clock, settings, senders, worker_id="test")


def _rows(session_factory, notice_id: int) -> list[NoticeDelivery]:
    with session_factory() as s:
        return list(s.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id)
                              .order_by(NoticeDelivery.id)))


def test_fan_out_writes_a_batch_per_transaction_and_a_replayed_batch_adds_nothing(session_factory, clock):
    now = clock.now()
    with transaction(session_factory) as s:
        place = bs.community(s, now)
        ids = bs.add_residents(s, place, 7, now, ("telegram", "web"))
        bs.add_residents(s, place, 1, now, (), start=7)  # never bound
        blocked = bs.add_residents(s, place, 1, now, ("telegram",), start=8)[0]
        s.execute(update(ChatIdentity).where(ChatIdentity.resident_id == blocked).values(unreachable=True))
        muted = ids[0]
        s.add(NoticeMute(resident_id=muted, category="outage", created_at=now))
        note_id = bs.notice(s, place, now).id
        safety_id = bs.notice(s, place, now, category="safety", title="防火提示").id
    stats = fanout.FanoutStats()
    token = "w#1"
    assert fanout.claim_notice(session_factory, clock, token, 30) == note_id
    assert fanout.claim_notice(session_factory, clock, "w#2", 30) == safety_id  # the first is taken
    cursors = []
    while not fanout.fan_out_batch(session_factory, clock, note_id, token, 30, 3, stats):
        with session_factory() as s:
            cursors.append(s.get(Notice, note_id).fanout_cursor)
    assert len(cursors) == 2 and cursors == sorted(cursors)  # 8 residents left in pages of 3: 3 transactions
    rows = _rows(session_factory, note_id)
    assert len(rows) == 6 * 2 + 2 and stats.rows == len(rows)  # muted one left out; two unreachable rows
    unreachable = {r.chat_id: r.error for r in rows if r.status == "unreachable"}
    assert set(unreachable) == {f"resident:{ids[-1] + 1}", f"resident:{blocked}"}
    assert "未绑定" in unreachable[f"resident:{ids[-1] + 1}"] and "屏蔽" in unreachable[f"resident:{blocked}"]
    with session_factory() as s:
        note = s.get(Notice, note_id)
        assert (note.status, note.recipients, note.claimed_by) == ("sending", len(rows), None)
    # A worker that died before committing its cursor replays the batch: nothing is written twice.
    with transaction(session_factory) as s:
        s.execute(update(Notice).where(Notice.id == note_id).values(status="fanning", fanout_cursor=0,
                                                                    claimed_by=token))
    assert fanout.fan_out_batch(session_factory, clock, note_id, token, 30, 100, stats)
    assert len(_rows(session_factory, note_id)) == len(rows)
    # A worker whose lease was taken over writes nothing more.
    with transaction(session_factory) as s:
        s.execute(update(Notice).where(Notice.id == safety_id).values(claimed_by="someone else"))
    try:
        fanout.fan_out_batch(session_factory, clock, safety_id, "w#2", 30, 3, stats)
        raise AssertionError("a lost claim must stop the fan-out")
    except fanout.LostClaim:
        pass
    assert _rows(session_factory, safety_id) == []
    with transaction(session_factory) as s:
        s.execute(update(Notice).where(Notice.id == safety_id).values(claimed_by="w#2"))
    while not fanout.fan_out_batch(session_factory, clock, safety_id, "w#2", 30, 3, stats):
        pass
    assert any(r.resident_id == muted for r in _rows(session_factory, safety_id))  # safety ignores mutes


def test_a_notice_reaches_every_chat_once_with_its_buttons_and_is_pinned_in_the_owners_group(
        session_factory, clock, settings):
    api = FakeBotApi(TOKEN).start()
    try:
        now = clock.now()
        with transaction(session_factory) as s:
            place = bs.community(s, now)
            bs.add_residents(s, place, 5, now, ("telegram", "web"))
            s.add(GroupChat(community_id=place.id, channel="telegram", chat_id="-100777", purpose="owners",
                            title="业主群", created_at=now))
            note_id = bs.notice(s, place, now, audience={"community": True, "groups": True}).id
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=bs.TELEGRAM_BASE + 4)
        stats = _engine(session_factory, clock, settings, api).run_until_idle(timeout=30)
        assert stats.sent == 10 and stats.unreachable == 1
        private = [c for c in api.delivered() if not c.chat_id.startswith("-")]
        assert sorted(c.chat_id for c in private) == [str(bs.TELEGRAM_BASE + i) for i in range(4)]
        first = private[0]
        assert "【停水停电/设施维护】停水通知" in first["text"] and "储水" in first["text"]
        assert [(b["text"], b["callback_data"]) for b in first.buttons] == [("收到", f"nack:{note_id}")]
        group = api.delivered()[-1] if api.delivered()[-1].chat_id == "-100777" else \
            next(c for c in api.delivered() if c.chat_id == "-100777")
        assert group.buttons == []  # no acknowledgement in a group
        assert [c.chat_id for c in api.sent("pinChatMessage")] == ["-100777"]
        rows = _rows(session_factory, note_id)
        by_chat = {r.chat_id: r for r in rows}
        assert by_chat["-100777"].via == "group_pinned" and by_chat[str(bs.TELEGRAM_BASE)].via == "private"
        assert by_chat[str(bs.TELEGRAM_BASE + 4)].status == "unreachable"
        assert "403" in by_chat[str(bs.TELEGRAM_BASE + 4)].error
        assert {r.status for r in rows if r.channel == "web"} == {"sent"}
        with session_factory() as s:
            assert s.get(Notice, note_id).status == "sent"
            assert s.scalar(select(ChatIdentity.unreachable).where(
                ChatIdentity.external_id == str(bs.TELEGRAM_BASE + 4)))
            pushed = s.scalar(select(func.count()).select_from(ChannelMessage).where(
                ChannelMessage.notice_id == note_id, ChannelMessage.channel == "web"))
        assert pushed == 5
        # Running again sends nothing more.
        assert _engine(session_factory, clock, settings, api).run_until_idle(timeout=10).sent == 0
        assert len(api.delivered()) == 5
    finally:
        api.stop()


def test_urgent_notices_go_first_and_429_is_retried_after_retry_after(session_factory, clock, settings):
    api = FakeBotApi(TOKEN).start()
    try:
        now = clock.now()
        with transaction(session_factory) as s:
            place = bs.community(s, now)
            bs.add_residents(s, place, 4, now, ("telegram",))
            routine = bs.notice(s, place, now, title="温馨提示", category="tip").id
        settings.broadcast_concurrency = settings.broadcast_lanes = 1  # one send at a time: the order shows
        # The limiter's own time runs 10,000x: the chat's 5 s pause after the 429 is over (0.5 ms) by its routine
        # turn, however fast the engine gets there; the 429'd row itself waits its retry_after on the clock.
        engine = _engine(session_factory, clock, settings, api,
                         limiter=RateLimiter(now=lambda: time.monotonic() * 10_000))
        engine.fan_out_once()
        with transaction(session_factory) as s:
            urgent = bs.notice(s, place, now, title="紧急停水", urgent=True).id
        engine.fan_out_once()
        api.fail("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5,
                 chat_id=bs.TELEGRAM_BASE + 1)
        engine.run_until_idle(timeout=30)
        order = [("紧急" in c["text"], c.chat_id) for c in api.delivered()]
        assert [u for u, _ in order] == [True] * 3 + [False] * 4  # one urgent message is waiting out its 429
        assert str(bs.TELEGRAM_BASE + 1) not in [chat for u, chat in order if u]
        row = next(r for r in _rows(session_factory, urgent) if r.chat_id == str(bs.TELEGRAM_BASE + 1))
        assert (row.status, row.attempts) == ("queued", 1) and "429" in row.error
        assert (row.next_attempt_at - now).total_seconds() == 5
        clock.advance(seconds=5)
        _engine(session_factory, clock, settings, api).run_until_idle(timeout=30)
        assert sum(1 for c in api.delivered() if c.chat_id == str(bs.TELEGRAM_BASE + 1)) == 2  # one per notice
        with session_factory() as s:
            assert {s.get(Notice, urgent).status, s.get(Notice, routine).status} == {"sent"}
    finally:
        api.stop()


def test_a_send_that_keeps_failing_ends_failed_with_the_platforms_error(session_factory, clock, settings):
    api = FakeBotApi(TOKEN).start()
    try:
        settings.broadcast_max_attempts = 3
        now = clock.now()
        with transaction(session_factory) as s:
            place = bs.community(s, now)
            bs.add_residents(s, place, 1, now, ("telegram",))
            note_id = bs.notice(s, place, now).id
        api.fail("sendMessage", 502, "Bad Gateway", times=10)
        for _ in range(3):
            _engine(session_factory, clock, settings, api).run_until_idle(timeout=10)
            clock.advance(minutes=10)
        (row,) = _rows(session_factory, note_id)
        assert (row.status, row.attempts, row.error) == ("failed", 3, "telegram 502: Bad Gateway")
        with session_factory() as s:
            assert s.get(Notice, note_id).status == "sent"  # every row final: the record says who failed
    finally:
        api.stop()
