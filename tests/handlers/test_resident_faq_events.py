"""Questions answered from the FAQ (or opened as inquiries) and community events: list, sign up, withdraw."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import CommunityEvent, EventSignup, Ticket


def test_faq_answers_common_questions(chat):
    amy = chat("u-amy")
    assert "8:30–18:00" in amy.say("物业办公时间是几点")
    assert "装修登记" in amy.say("装修需要办什么手续")
    assert "18:00–21:00" in amy.say("垃圾几点扔")
    assert "快递驿站" in amy.say("快递在哪里取")
    assert "挂失" in amy.say("门禁卡丢了怎么补办")
    assert "拴绳" in amy.say("可以养狗吗")


def test_unknown_question_opens_an_inquiry(chat, session_factory):
    ben = chat("u-ben")
    reply = ben.say("业委会什么时候换届选举")
    assert "咨询单 #1" in reply
    with session_factory() as s:
        t = s.scalar(select(Ticket))
        assert t.kind == "inquiry" and t.department == "customer_service" and "业委会" in t.description


def test_events_list_sign_up_and_withdraw(chat, session_factory):
    # The test clock is in December: the demo's weekend event is the winter one (backend.services.events).
    cy = chat("u-cy")
    reply = cy.say("还有什么活动")
    assert "冬日邻里包饺子" in reply and "义诊" in reply and "剩余60个名额" in reply
    with session_factory() as s:
        clinic = s.scalar(select(CommunityEvent).where(CommunityEvent.title == "义诊"))
    assert ("报名 义诊", f"e:join:{clinic.id}") in cy.buttons()
    assert "已为您报名「义诊」1人" in cy.press(f"e:join:{clinic.id}")
    assert "已报名" in cy.press(f"e:join:{clinic.id}")  # once per resident
    assert "您已报名1人" in cy.say("还有什么活动")
    assert "确定要取消「义诊」" in cy.press(f"e:quit:{clinic.id}")
    assert "已取消「义诊」" in cy.press(f"e:quitok:{clinic.id}")
    with session_factory() as s:
        assert s.scalar(select(EventSignup)).status == "withdrawn"


def test_sign_up_in_words_with_people_then_withdraw_in_words(chat, session_factory):
    di = chat("u-di")
    reply = di.say("我要报名包饺子，我们三个人")
    assert "已为您报名「冬日邻里包饺子」3人" in reply
    assert "确定要取消「冬日邻里包饺子」" in di.say("不去了，取消报名")
    assert "已取消「冬日邻里包饺子」" in di.say("对")
    with session_factory() as s:
        assert s.scalar(select(EventSignup)).status == "withdrawn"


def test_capacity_and_deadline(chat, session_factory, clock):
    with session_factory() as s:
        clinic = s.scalar(select(CommunityEvent).where(CommunityEvent.title == "义诊"))
        clinic.capacity = 2
        s.commit()
    chat("u-ed").press(f"e:join:{clinic.id}")
    chat("u-fi").press(f"e:join:{clinic.id}")
    assert "名额已满" in chat("u-gus").press(f"e:join:{clinic.id}")
    clock.advance(days=4, hours=12)  # past the deadline (a day before the start), not yet started
    assert "截止" in chat("u-hal").press(f"e:join:{clinic.id}")
