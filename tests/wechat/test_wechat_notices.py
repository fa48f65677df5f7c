"""Long notices on WeChat, against the fake WeChat API on 127.0.0.1 (it refuses 客服 text over 2,048 bytes).

A notice whose text is over one customer-service message arrives as numbered parts inside the window,
or as a template message linking to its public page; a part failing mid-way is never sent twice.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from backend.db import transaction
from backend.models import ChannelQuota, Notice, NoticeDelivery
from backend.ratelimit import LocalLimits, Rate
from backend.services import notice_text, notices
from bot.app import create_app
from bot.delivery.broadcast import BroadcastEngine
from bot.wechat.notice_sender import WeChatNoticeBroadcast
from bot.wechat.sender import WeChatSender
from tests.bot import broadcast_setup as bs

CS = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
BASE = "https://wy.example.com"
LONG_BODY = "\n".join(f"第{i:02d}项：3栋{i}层走廊消防通道清理，请住户于周五前移走杂物，以免影响消防安全。"
                      for i in range(1, 41))  # 4,474 bytes with the heading: three parts
NOTICE_TEMPLATE = {"id": "TPL-NOTICE", "fields": {"thing1": "{title}", "thing2": "{category_label}",
                                                 "time3": "{expires}"}}


@pytest.fixture
def wx(wx_settings):
    wx_settings.public_url = BASE
    return wx_settings


def _world(session_factory, clock, residents: int = 1, expires_at=None, **notice) -> tuple[int, list[str]]:
    """A community of WeChat followers (openids o-0, o-1, ...) and one notice due now to all of them."""
    now = clock.now()
    with transaction(session_factory) as s:
        place = bs.community(s, now)
        bs.add_residents(s, place, residents, now, ("wechat",))
        note = bs.notice(s, place, now, **{"title": "消防通道清理通知", "body": LONG_BODY, "category": "safety",
                                           **notice})
        note.expires_at = expires_at
        return note.id, [f"o-{i}" for i in range(residents)]


def _window(settings, session_factory, clock, openid: str, remaining: int | None = None) -> None:
    """The resident wrote to the account (48 h, 5 sends); `remaining` as if some were spent since."""
    sender = WeChatSender(settings, session_factory, clock)
    with transaction(session_factory) as s:
        sender.open_window(s, openid, "message")
        if remaining is not None:
            s.execute(update(ChannelQuota).where(ChannelQuota.recipient == openid).values(remaining=remaining))


def _left(session_factory, openid: str) -> int:
    with session_factory() as s:
        return s.scalar(select(ChannelQuota.remaining).where(ChannelQuota.recipient == openid))


def _deliver(settings, session_factory, clock) -> None:
    sender = WeChatNoticeBroadcast(WeChatSender(settings, session_factory, clock), LocalLimits(),
                                   Rate.per_second(1000))
    BroadcastEngine(session_factory, clock, settings, {"wechat": sender}, worker_id="test").run_until_idle(timeout=30)


def _row(session_factory, notice_id: int, openid: str) -> NoticeDelivery:
    with session_factory() as s:
        return s.scalar(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id,
                                                     NoticeDelivery.chat_id == openid))


def _notice(session_factory, notice_id: int) -> Notice:
    with session_factory() as s:
        found = s.get(Notice, notice_id)
        s.expunge(found)
        return found


def _words(content: str) -> str:
    """A part's words: without its number and the 收到 link."""
    return re.sub(r"^（\d+/\d+）", "", content.split("\n<a href=", 1)[0])


def _contents(fake_api) -> list[str]:
    return [c.body["text"]["content"] for c in fake_api.to(CS)]


def test_a_three_part_notice_arrives_whole_and_in_order_inside_the_window(wx, session_factory, clock, fake_api):
    notice_id, (openid,) = _world(session_factory, clock)
    _window(wx, session_factory, clock, openid)
    _deliver(wx, session_factory, clock)
    contents = _contents(fake_api)
    assert [c[:5] for c in contents] == ["（1/3）", "（2/3）", "（3/3）"]
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert {c.body["touser"] for c in fake_api.to(CS)} == {openid}
    text = notice_text.text(_notice(session_factory, notice_id))
    assert "".join(_words(c) for c in contents).replace("\n", "") == text.replace("\n", "")  # whole, in order
    assert f"nack:{notice_id}" in contents[-1] and not any("nack:" in c for c in contents[:-1])  # 收到 on the last
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.via, row.external_id, row.attempts) == ("sent", "cs_parts", "parts:3/3", 1)
    assert (row.parts_sent, row.parts_total) == (3, 3)
    assert _left(session_factory, openid) == 2  # the three sends taken together
    assert fake_api.to(TEMPLATE) == []


def test_a_short_notice_inside_the_window_stays_one_message(wx, session_factory, clock, fake_api):
    notice_id, (openid,) = _world(session_factory, clock, body="明天 9:00-12:00 停水，请提前储水。")
    _window(wx, session_factory, clock, openid)
    _deliver(wx, session_factory, clock)
    [content] = _contents(fake_api)
    assert content.startswith("【安全提示】消防通道清理通知\n\n明天") and "（1/" not in content
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.via) == ("sent", "customer_service") and _left(session_factory, openid) == 4


def test_too_few_window_sends_get_a_template_message_linking_to_the_whole_notice(wx, session_factory, clock,
                                                                                  fake_api):
    wx.wechat_templates = {"notice": NOTICE_TEMPLATE}
    notice_id, (short_of_sends, outside) = _world(session_factory, clock, residents=2,
                                                  expires_at=clock.now() + timedelta(days=2))
    _window(wx, session_factory, clock, short_of_sends, remaining=2)  # two sends left, three parts
    _deliver(wx, session_factory, clock)
    assert fake_api.to(CS) == []  # no part goes when not all can
    assert _left(session_factory, short_of_sends) == 2  # and nothing was spent
    notice = _notice(session_factory, notice_id)
    link = f"{BASE}/n/{notice.page_token}"
    calls = fake_api.to(TEMPLATE)
    assert sorted(c.body["touser"] for c in calls) == [short_of_sends, outside]
    for call in calls:
        assert call.body["template_id"] == "TPL-NOTICE" and call.body["url"] == link
        assert call.body["data"]["thing1"]["value"] == "消防通道清理通知"
        assert call.body["data"]["thing2"]["value"] == "安全提示"
        assert call.body["data"]["time3"]["value"] == notice_text.local(notice.expires_at, wx.timezone)
        assert all(len(v["value"]) <= 20 for v in call.body["data"].values())
    for openid in (short_of_sends, outside):
        row = _row(session_factory, notice_id, openid)
        assert (row.status, row.via) == ("sent", "template") and row.external_id
    # The link shows the whole text.
    with TestClient(create_app(wx, clock=clock, session_factory=session_factory)) as client:
        page = client.get(link.removeprefix(BASE))
    assert page.status_code == 200
    assert all(line in page.text for line in LONG_BODY.splitlines())


def test_a_short_notice_outside_the_window_carries_the_link_too(wx, session_factory, clock, fake_api):
    wx.wechat_templates = {"notice": "TPL-SIMPLE"}
    notice_id, (openid,) = _world(session_factory, clock, body="明天停水。")
    _deliver(wx, session_factory, clock)
    [call] = fake_api.to(TEMPLATE)
    assert call.body["touser"] == openid
    assert call.body["url"] == f"{BASE}/n/{_notice(session_factory, notice_id).page_token}"
    assert call.body["data"] == {"thing1": {"value": "【安全提示】消防通道清理通知"}}


def test_without_a_template_a_long_notice_goes_as_one_message_with_the_link(wx, session_factory, clock, fake_api):
    notice_id, (one_send, outside) = _world(session_factory, clock, residents=2)
    _window(wx, session_factory, clock, one_send, remaining=1)
    _deliver(wx, session_factory, clock)
    [content] = _contents(fake_api)
    link = f"{BASE}/n/{_notice(session_factory, notice_id).page_token}"
    assert content.startswith("【安全提示】消防通道清理通知\n\n全文较长，请点击阅读：" + link)
    assert f"nack:{notice_id}" in content and _left(session_factory, one_send) == 0
    row = _row(session_factory, notice_id, one_send)
    assert (row.status, row.via) == ("sent", "cs_link")
    row = _row(session_factory, notice_id, outside)
    assert row.status == "unreachable" and "no template for notice" in row.error


def test_a_part_failing_midway_is_never_sent_twice_and_the_retry_sends_the_rest(wx, session_factory, clock,
                                                                                 fake_api):
    notice_id, (openid,) = _world(session_factory, clock)
    _window(wx, session_factory, clock, openid)
    fake_api.script[CS] = [0, 45011]  # part 1 goes, part 2: "frequency limit" (busy)
    _deliver(wx, session_factory, clock)
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.external_id, row.parts_sent, row.parts_total) == ("queued", "parts:1/3", 1, 3)
    assert "45011" in row.error and "parts 1/3 delivered" in row.error
    assert _left(session_factory, openid) == 4  # 3 taken; the refused one and the unsent one given back
    clock.advance(seconds=61)
    _deliver(wx, session_factory, clock)
    contents = _contents(fake_api)
    delivered = [contents[0], *contents[2:]]  # the second call was refused
    assert [c[:5] for c in contents] == ["（1/3）", "（2/3）", "（2/3）", "（3/3）"]
    assert [c[:5] for c in delivered] == ["（1/3）", "（2/3）", "（3/3）"]  # part 1 once, the text whole
    text = notice_text.text(_notice(session_factory, notice_id))
    assert "".join(_words(c) for c in delivered).replace("\n", "") == text.replace("\n", "")
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.via, row.external_id, row.attempts) == ("sent", "cs_parts", "parts:3/3", 2)
    assert _left(session_factory, openid) == 2


def test_a_spent_daily_quota_holds_the_whole_channel_until_it_resets_at_beijing_midnight(
        wx, session_factory, clock, fake_api):
    wx.wechat_templates = {"notice": "TPL-SIMPLE"}
    notice_id, openids = _world(session_factory, clock, residents=5, body="明天 9:00-12:00 停水，请提前储水。")
    fake_api.script[TEMPLATE] = [45009, 45009]  # "reach max api daily quota limit"
    _deliver(wx, session_factory, clock)
    # The others are not sent into the same refusal: only the one whose turn was booked before the answer came.
    tried = len(fake_api.to(TEMPLATE))
    assert tried <= 2
    beijing = clock.now() + timedelta(hours=8)
    reset = datetime.combine(beijing.date() + timedelta(days=1), time(0, 1)) - timedelta(hours=8)
    rows = [_row(session_factory, notice_id, openid) for openid in openids]
    assert {r.status for r in rows} == {"queued"}
    assert all(abs((r.next_attempt_at - reset).total_seconds()) < 5 for r in rows), [r.next_attempt_at for r in rows]
    assert sum(r.attempts for r in rows) == tried and "daily quota" in rows[0].error
    clock.advance(seconds=(reset - clock.now()).total_seconds() + 1)
    _deliver(wx, session_factory, clock)
    assert {_row(session_factory, notice_id, o).status for o in openids} == {"sent"}
    assert len(fake_api.to(TEMPLATE)) == tried + 5


def test_a_window_closing_midway_sends_the_rest_as_the_link_at_once(wx, session_factory, clock, fake_api):
    wx.wechat_templates = {"notice": NOTICE_TEMPLATE}
    notice_id, (openid,) = _world(session_factory, clock)
    _window(wx, session_factory, clock, openid)
    fake_api.script[CS] = [0, 45047]  # part 2: "out of the window's count"
    _deliver(wx, session_factory, clock)
    assert [c[:5] for c in _contents(fake_api)] == ["（1/3）", "（2/3）"]
    [call] = fake_api.to(TEMPLATE)
    assert call.body["url"] == f"{BASE}/n/{_notice(session_factory, notice_id).page_token}"
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.via) == ("sent", "parts_link") and row.external_id.startswith("parts:1/3+")


def test_a_retry_with_too_few_sends_left_sends_the_link_not_part_one_again(wx, session_factory, clock, fake_api):
    wx.wechat_templates = {"notice": "TPL-SIMPLE"}
    notice_id, (openid,) = _world(session_factory, clock)
    _window(wx, session_factory, clock, openid)
    fake_api.script[CS] = [0, -1]  # part 2: "system busy"
    _deliver(wx, session_factory, clock)
    _window(wx, session_factory, clock, openid, remaining=1)  # meanwhile replies to the resident spent sends
    clock.advance(seconds=61)
    _deliver(wx, session_factory, clock)
    assert [c[:5] for c in _contents(fake_api)] == ["（1/3）", "（2/3）"]  # nothing more by 客服
    [call] = fake_api.to(TEMPLATE)
    assert call.body["url"].endswith(_notice(session_factory, notice_id).page_token)
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.via) == ("sent", "parts_link") and row.external_id.startswith("parts:1/3+")
    assert _left(session_factory, openid) == 1


def test_a_row_that_cannot_finish_says_which_parts_arrived(wx, session_factory, clock, fake_api):
    notice_id, (openid,) = _world(session_factory, clock)  # no template configured
    _window(wx, session_factory, clock, openid)
    fake_api.script[CS] = [0, 43004]  # part 2: the resident unfollowed
    _deliver(wx, session_factory, clock)
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.external_id) == ("unreachable", "parts:1/3")
    assert "recipient gone (43004)" in row.error and "parts 1/3 delivered" in row.error
    assert len(fake_api.to(CS)) == 2
    with session_factory() as s:
        summary = notices.report(s, s.get(Notice, notice_id))
    assert summary.residents_reached == 0 and len(summary.not_reached) == 1  # not claimed as delivered


@pytest.mark.parametrize(("arrived", "resent"), [(2, ["（3/3）"]), (3, [])])
def test_a_worker_killed_midway_repeats_no_part_that_was_written_as_arrived(wx, session_factory, clock, fake_api,
                                                                             arrived, resent):
    notice_id, (openid,) = _world(session_factory, clock)
    _window(wx, session_factory, clock, openid)
    _deliver(wx, session_factory, clock)
    assert len(fake_api.to(CS)) == 3
    # As if the worker had died after `arrived` parts went out, before its outcome was written: the row is
    # found 'sending' under a lapsed claim and queued again, in doubt.
    with transaction(session_factory) as s:
        s.execute(update(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id).values(
            status="sending", claimed_until=clock.now() - timedelta(seconds=1), via="", external_id="",
            sent_at=None, parts_sent=arrived))
    _deliver(wx, session_factory, clock)
    assert [c[:5] for c in _contents(fake_api)[3:]] == resent
    row = _row(session_factory, notice_id, openid)
    assert (row.status, row.via, row.in_doubt, row.parts_sent) == ("sent", "cs_parts", 1, 3)
