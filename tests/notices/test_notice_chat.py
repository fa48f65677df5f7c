"""Notices in chat, as tables of turns: staff compose with /notice or 发通知; residents acknowledge, ask, mute.

Each turn: (who, what they send, a regex the reply must match). `who` is a web chat id; what they send is
text, or "press:<payload>" for a button.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.models import ChatIdentity, Notice, NoticeDelivery, NoticeMute
from backend.services import notices
from handlers.conversation import Conversation
from handlers.messages import Inbound
from nlu import load_nlu

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


@pytest.fixture(scope="module")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def talk(session_factory, nlu, clock, settings, nw):
    with session_factory() as s:
        for login, staff in nw.world.staff.items():
            s.add(ChatIdentity(community_id=nw.community_id, channel="web", external_id=f"staff-{login}",
                               staff_id=staff.id, created_at=clock.now()))
        s.commit()
    conversation = Conversation(session_factory, nlu, clock, settings)

    def run(turns: list[tuple[str, str, str]]) -> list[str]:
        said = []
        for who, text, expect in turns:
            if text.startswith("press:"):
                inbound = Inbound(channel="web", chat_id=who, sender_id=who, payload=text[len("press:"):])
            else:
                inbound = Inbound(channel="web", chat_id=who, sender_id=who, text=text)
            reply = "\n".join(o.text for o in conversation.handle(inbound))
            assert re.search(expect, reply), f"{who} said {text[:40]!r}: expected /{expect}/, got:\n{reply}"
            said.append(reply)
        return said

    return run


def _notices(session_factory) -> list[Notice]:
    with session_factory() as s:
        return list(s.scalars(select(Notice).order_by(Notice.id)))


def test_compose_with_buttons_now(talk, session_factory, nw):
    talk([
        ("staff-cs1", "/notice", "请选择类别"),
        ("staff-cs1", "press:f:cat:outage", "标题"),
        ("staff-cs1", "1栋停水通知", "正文"),
        ("staff-cs1", "因管道检修，今天 13:00-17:00 1栋停水，请提前储水。", "发给谁"),
        ("staff-cs1", "1栋", "什么时候发"),
        ("staff-cs1", "press:f:urgent", r"请确认通知[\s\S]*🚨紧急 1栋停水通知[\s\S]*对象：1栋[\s\S]*住户 3 人，可送达 2 人"
                                       r"（Telegram 1、网页 1、微信 1），无法送达 1 人（已屏蔽 1）[\s\S]*"
                                       r"\n微信住户：48小时客服窗口内收到 1 条消息；窗口外无法送达（未配置通知的模板消息）"),
        ("staff-cs1", "press:f:yes", r"通知 #\d+ 已安排立即发送，共 3 位住户"),
    ])
    [notice] = _notices(session_factory)
    assert (notice.status, notice.urgent, notice.category, notice.audience, notice.created_by) == (
        "scheduled", True, "outage", {"buildings": ["1"]}, nw.world.staff["cs1"].id)


def test_a_long_notice_preview_says_wechat_residents_get_it_in_parts_or_by_link(talk, settings):
    settings.wechat_templates = {"notice": "TPL-NOTICE"}
    body = "\n".join(f"第{i}项：1栋{i}层消防通道清理，请住户于周五前移走杂物，以免影响消防安全。" for i in range(1, 21))
    talk([
        ("staff-cs1", "/notice", "请选择类别"),
        ("staff-cs1", "press:f:cat:safety", "标题"),
        ("staff-cs1", "消防通道清理", "正文"),
        ("staff-cs1", body, "发给谁"),
        ("staff-cs1", "1栋", "什么时候发"),
        ("staff-cs1", "现在发送", r"微信住户：正文较长，客服窗口内剩余条数够时分 2 条收到（1/2…）；不够或在窗口外收到模板消息，"
                                 r"点开链接阅读全文。"),
    ])


def test_compose_typed_with_a_time_and_corrections(talk, session_factory, clock):
    talk([
        ("staff-manager", "发通知", "请选择类别"),
        ("staff-manager", "八卦", "请选择类别：停水停电"),
        ("staff-manager", "活动", "标题"),
        ("staff-manager", "取消本周六亲子活动", "正文"),  # "取消…" is a title here, not a change of mind
        ("staff-manager", "因天气原因，本周六的亲子运动会取消，改期另行通知。", "发给谁"),
        ("staff-manager", "火星", "看不懂通知对象「火星」"),
        ("staff-manager", "9栋", "小区里没有9栋"),
        ("staff-manager", "2栋9层", "没有匹配到任何人"),
        ("staff-manager", "活动#1、业主群", "什么时候发"),
        ("staff-manager", "昨天上午9点", "已经过去"),
        ("staff-manager", "明天", "具体几点"),
        ("staff-manager", "明天上午9点", r"对象：活动#1报名者、业主群[\s\S]*时间：12月2日 上午9:00[\s\S]*群 1 个"),
        ("staff-manager", "确认", r"已安排12月2日 上午9:00发送"),
    ])
    [notice] = _notices(session_factory)
    assert notice.scheduled_at == clock.now().replace(hour=1) + timedelta(days=1)  # 09:00 Shanghai = 01:00 UTC
    assert (notice.title, notice.urgent) == ("取消本周六亲子活动", False)


def test_cancel_and_refusals(talk, session_factory):
    talk([
        ("staff-cs-lead", "发通知", "请选择类别"),
        ("staff-cs-lead", "press:f:cat:tip", "标题"),
        ("staff-cs-lead", "标" * 101, "标题最多 100 字"),
        ("staff-cs-lead", "降温提醒", "正文"),
        ("staff-cs-lead", "冷" * 2500, "超过聊天单条消息 2000 字的上限"),
        ("staff-cs-lead", "明天降温，注意保暖。", "发给谁"),
        ("staff-cs-lead", "全小区", "什么时候发"),
        ("staff-cs-lead", "现在", "请确认通知"),
        ("staff-cs-lead", "press:f:no", "已取消发通知"),
        ("staff-tech1", "发通知", "没有权限"),
        ("staff-guard1", "/notice", "没有权限"),
    ])
    assert _notices(session_factory) == []


def test_residents_ack_ask_and_mute(talk, session_factory, clock, nw, settings):
    with session_factory() as s:
        outage, _ = notices.create(s, clock, nw.community_id, notices.Draft(
            title="1栋停水", body="今天 9:00-17:00 停水。", category="outage", audience={"buildings": ["1"]},
            expires_at=clock.now() + timedelta(hours=10)), created_by=None, media_dir=settings.media_dir)
        outage.status = "sent"
        s.add(NoticeDelivery(notice_id=outage.id, resident_id=nw.rid("1"), channel="web", chat_id="web-1",
                             status="sent", next_attempt_at=clock.now(), sent_at=clock.now()))
        s.commit()
        notice_id = outage.id
    clock.advance(minutes=10)
    talk([
        ("web-1", f"press:nack:{notice_id}", "已确认收到「1栋停水」"),
        ("web-1", f"press:nack:{notice_id}", "已确认收到"),  # twice: still thanked, first time kept
        ("web-1", "press:nack:99999", "按钮已过期|已失效|stale|过期"),
        ("web-1", "最近有什么通知", r"最近的通知[\s\S]*停水停电/设施维护】1栋停水"),
        ("web-1", "停水到几点", r"关于停水停电的最新通知[\s\S]*9:00-17:00"),
        ("web-1", "不要再发活动通知", "不再给您发送「社区活动」类通知"),
        ("web-1", "不要再发活动通知", "已经关闭了"),
        ("web-1", "别再发安全提示了", "安全提示关系到您和家人的安全，不能关闭"),
        ("web-1", "不要再发通知了", "可以关闭的通知[\\s\\S]*目前已关闭：社区活动"),
        ("web-1", "恢复活动通知", "已恢复接收「社区活动」"),
        ("web-1", "恢复活动通知", "没有关闭"),
    ])
    with session_factory() as s:
        row = s.scalar(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id))
        assert row.acked_at == clock.now() - timedelta(minutes=10) + timedelta(minutes=10)
        assert s.scalars(select(NoticeMute)).all() == []


def test_another_residents_notice_cannot_be_acknowledged(talk, session_factory, clock, nw, settings):
    with session_factory() as s:
        notice, _ = notices.create(s, clock, nw.community_id, notices.Draft(
            title="5楼通知", body="x", category="tip", audience={"floors": [5]}), created_by=None,
            media_dir=settings.media_dir)
        s.add(NoticeDelivery(notice_id=notice.id, resident_id=nw.rid("五楼"), channel="telegram", chat_id="501",
                             status="sent", next_attempt_at=clock.now()))
        s.commit()
        notice_id = notice.id
    talk([("web-1", f"press:nack:{notice_id}", "按钮已过期|已失效|过期")])
    with session_factory() as s:
        assert s.scalar(select(NoticeDelivery.acked_at)) is None


def test_no_outage_notice_says_so_and_offers_a_repair(talk):
    # Without a current outage notice "停水到几点" is answered truthfully (not with the office hours), and what is
    # happening now can be reported; "停水了" alone is still a repair for the assistant.
    [reply] = talk([("web-1", "停水到几点", r"目前没有计划停水停电的通知[\s\S]*报修")])
    assert "关于停水停电的最新通知" not in reply and "办公" not in reply
    talk([("web-1", "最近有什么通知", "目前没有新的通知")])


@pytest.mark.parametrize("text", ["不要再发缴费提醒", "别再催缴了", "恢复缴费提醒"])
def test_arrears_reminder_wording_is_left_to_the_reminders(talk, session_factory, text):
    """催缴 reminders have their own opt-out (the events/arrears work); notices never take those words."""
    [reply] = talk([("web-1", text, r"[\s\S]*")])
    assert "类通知" not in reply and "可以关闭的通知" not in reply
    with session_factory() as s:
        assert s.scalars(select(NoticeMute)).all() == []
