"""Complaint and suggestion dialogues: category from the words, anonymity for neighbour complaints, corrections."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import Ticket


def only_ticket(session_factory) -> Ticket:
    with session_factory() as s:
        return s.scalar(select(Ticket))


def bound(chat, user: str, address: str = "3-2-1502", phone: str = "13900321502"):
    person = chat(user)
    person.say("/bind")
    person.say(address)
    assert "绑定成功" in person.say(phone)
    return person


def test_noise_complaint_asks_anonymity_with_buttons(chat, session_factory):
    amy = bound(chat, "u-amy")
    reply = amy.say("楼上邻居半夜噪音太大了")
    assert "保密" in reply
    assert ("🙈 匿名（不透露给邻居）", "f:anon:1") in amy.buttons()
    reply = amy.press("f:anon:1")
    assert "工单号 #1" in reply and "噪音扰民" in reply and "不会向邻居透露" in reply
    t = only_ticket(session_factory)
    assert t.kind == "complaint" and t.category.code == "noise" and t.anonymous and t.department == "security"
    assert t.household_id is not None and t.owner_id is not None


def test_anonymity_typed(chat, session_factory):
    ben = bound(chat, "u-ben")
    ben.say("邻居家的狗到处拉屎")
    assert "工单号" in ben.say("不用匿名")
    t = only_ticket(session_factory)
    assert t.category.code == "pets" and not t.anonymous


def test_clear_complaint_completes_in_one_turn(chat, session_factory):
    cy = chat("u-cy")  # not bound: complaints need no household
    reply = cy.say("楼道里的垃圾好几天没人收")
    assert "工单号 #1" in reply and "保洁卫生" in reply
    t = only_ticket(session_factory)
    assert t.category.code == "cleaning" and t.department == "environment" and "楼道" in t.location


def test_service_complaint(chat, session_factory):
    reply = chat("u-di").say("保安态度太差了")
    assert "服务态度" in reply
    assert only_ticket(session_factory).department == "customer_service"


def test_unclear_complaint_asks_the_category_and_accepts_typing(chat, session_factory):
    ed = chat("u-ed")
    assert "具体情况" in ed.say("我要投诉")
    reply = ed.say("这个月已经第三次了，一直没人管")
    assert "哪一类" in reply and ("🚗 停车", "f:cat:parking") in ed.buttons()
    assert "工单号" in ed.say("停车")
    assert only_ticket(session_factory).category.code == "parking"


def test_category_button(chat, session_factory):
    fi = chat("u-fi")
    fi.say("我要投诉")
    fi.say("这个月已经第三次了，一直没人管")
    assert "工单号" in fi.press("f:cat:greening")
    assert only_ticket(session_factory).category.code == "greening"


def test_place_correction_after_the_complaint(chat, session_factory):
    gus = chat("u-gus")
    gus.say("有车堵住了5号楼的消防通道")
    assert "已更正" in gus.say("不对，是6号楼的消防通道")
    t = only_ticket(session_factory)
    assert t.category.code == "parking" and "6号楼" in t.location


def test_cancel_midway_and_after(chat, session_factory):
    hal = chat("u-hal")
    hal.say("我要投诉")
    assert "已取消" in hal.say("算了")
    assert only_ticket(session_factory) is None
    hal.say("楼道里的垃圾好几天没人收")
    assert "确定要撤销" in hal.say("算了不投诉了，取消吧")
    assert only_ticket(session_factory).status == "new"
    assert "已取消工单" in hal.say("是的")
    assert only_ticket(session_factory).status == "cancelled"


def test_suggestion(chat, session_factory):
    ian = chat("u-ian")
    reply = ian.say("建议小区多装几个充电桩")
    assert "感谢您的建议" in reply and "#1" in reply
    t = only_ticket(session_factory)
    assert t.kind == "suggestion" and t.category.code == "suggestion"


def test_suggestion_asked_for_then_given(chat, session_factory):
    jo = chat("u-jo")
    assert "您的建议" in jo.say("我想提个建议")
    assert "感谢您的建议" in jo.say("希望周末能开放会所的乒乓球室")
    assert "乒乓球" in only_ticket(session_factory).description


def test_switch_to_status_and_back(chat, session_factory):
    kim = bound(chat, "u-kim")
    kim.say("楼上邻居半夜噪音太大了")
    reply = kim.say("我的报修到哪一步了")
    assert "没有进行中的工单" in reply and "继续" in reply and "保密" in reply
    assert "工单号" in kim.press("f:anon:0")
