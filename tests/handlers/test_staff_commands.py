"""Text-command fallbacks for every task-card button, by ticket NUMBER, in Chinese and English."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.models import Ticket, TicketEvent
from handlers.messages import Inbound


def report(chat, user: str = "u-bob", text: str = "厨房水管漏水了") -> None:
    bob = chat(user)
    bob.say("/bind")
    bob.say("三号楼二单元1502")
    bob.say("13900321502")
    assert "工单号" in bob.say(text)


def ticket(session_factory, number: int = 1) -> Ticket:
    with session_factory() as s:
        return s.scalar(select(Ticket).where(Ticket.number == number))


def test_chinese_commands_walk_a_ticket_through(chat, session_factory):
    report(chat)
    tech1 = chat("staff:tech1")
    assert "已接单" in tech1.say("接单 1")
    assert ticket(session_factory).status == "accepted"
    assert "已由 吴涛 接单" in chat("staff:tech2").say("接单1")
    assert "已开始处理" in tech1.say("开始 #1")
    assert "处理记录" in tech1.say("详情 1")
    assert "已转派给 徐斌" in tech1.say("转派 1 tech2 需要两个人")
    assert "已转派给 吴涛" in chat("staff:tech2").say("转派 1 吴涛")
    assert "已办结" in tech1.say("完成 1 已更换阀门")
    t = ticket(session_factory)
    assert t.status == "resolved"
    with session_factory() as s:
        notes = [e.note for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
        assert "需要两个人" in notes and "已更换阀门" in notes
    assert "已关闭" in chat("staff:cs1").say("关闭 1")


def test_english_commands(chat, session_factory):
    report(chat)
    tech1 = chat("staff:tech1")
    assert "已接单" in tech1.say("accept 1")
    assert "转派给谁" in tech1.say("transfer 1")  # no target: the same choice as the button
    assert "transferred to engineering" in tech1.say("transfer 1 to engineering")  # English is answered in English
    assert "已接单" in tech1.say("ACCEPT #1")
    assert "已开始处理" in tech1.say("start 1")
    assert "处理结果" in tech1.say("done 1")  # no note: asks, like the button
    tech1.say("valve replaced")
    assert "已办结" in tech1.say("skip")
    assert ticket(session_factory).status == "resolved"


def test_department_by_chinese_name_and_unknown_target(chat, session_factory):
    report(chat)
    tech1 = chat("staff:tech1")
    tech1.say("接单 1")
    assert "没有找到同事或部门「火星部」" in tech1.say("转派 1 火星部")
    assert "已转派给 环境部" in tech1.say("转派 1 环境部")
    assert ticket(session_factory).department == "environment"


def test_numbers_are_ticket_numbers_of_this_community(chat, session_factory):
    report(chat)
    tech1 = chat("staff:tech1")
    assert "没有工单 #99" in tech1.say("接单 99")
    tid = ticket(session_factory).id
    assert tid != 99


def test_residents_do_not_get_staff_commands(chat, session_factory):
    report(chat)
    reply = chat("u-bob").say("接单 1")
    assert "已接单" not in reply
    assert ticket(session_factory).status == "new"


def test_phone_fallback_and_card_commands_match_buttons(chat, session_factory):
    report(chat)
    tech1 = chat("staff:tech1")
    tech1.say("接单 1")
    card = tech1.last[-1]
    assert len(card.meta["commands"]) == len(card.buttons)
    assert "电话 1" in card.meta["commands"]
    assert "13900321502" in tech1.say("电话 1")


def test_group_press_keeps_the_card_free_of_personal_data(conversation, chat, session_factory):
    report(chat)
    tid = ticket(session_factory).id
    replies = conversation.handle(Inbound(channel="web", chat_id="group:eng", sender_id="staff:tech1",
                                          payload=f"t:a:{tid}", is_group=True))
    text = "\n".join(o.text for o in replies)
    assert "已接单" in text and not re.search(r"1[3-9]\d(\d{4}|\*{4})\d{4}", text)
    assert "吴涛" not in text.split("\n", 1)[1] and "3-2-1502" in text
    assert all(not b.payload.startswith("t:p:") for o in replies for b in o.buttons)
    replies = conversation.handle(Inbound(channel="web", chat_id="group:eng", sender_id="staff:tech1",
                                          payload=f"t:p:{tid}", is_group=True))
    reveal = [o for o in replies if "13900321502" in o.text]
    assert reveal and all(o.private for o in reveal)
