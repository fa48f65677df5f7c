"""Conversations typed the way residents type (no buttons), from the first message: the reported breakages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from backend.models import Resident, Ticket

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def tickets(session_factory) -> list[Ticket]:
    with session_factory() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def bound_to(session_factory, user: str) -> str | None:
    from backend.models import ChatIdentity, Household

    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == user))
        resident = s.get(Resident, identity.resident_id) if identity and identity.resident_id else None
        home = s.get(Household, resident.household_id) if resident and resident.household_id else None
        return home.label if home else None


def test_binding_in_one_message_opens_no_ticket(chat, session_factory):
    amy = chat("t-amy")
    assert "绑定成功" in amy.say("帮我绑定下房子 2栋1单元0302 手机13900210302")
    assert bound_to(session_factory, "t-amy") == "2-1-0302"
    assert tickets(session_factory) == []


def test_binding_asked_in_words_then_address_then_phone(chat, session_factory):
    bo = chat("t-bo")
    assert "楼栋" in bo.say("我想绑定房屋")
    assert "单元" in bo.say("3号楼")  # a partial address: the rest is asked, nothing is raised
    assert "手机号" in bo.say("2单元1502")
    assert "绑定成功" in bo.say("13900321502")
    assert tickets(session_factory) == []


def test_a_registered_phone_alone_is_a_binding_attempt(chat, session_factory):
    cy = chat("t-cy")
    reply = cy.say("13900411101")
    assert "再见" not in reply and "楼栋" in reply
    assert "绑定成功" in cy.say("4-1-1101")


def test_owner_of_a_building_says_so(chat, session_factory):
    di = chat("t-di")
    assert "单元" in di.say("您好 我是5栋的业主 想认证一下")
    di.say("2单元1702")
    assert "绑定成功" in di.say("13900521702")


def test_wrong_phone_goes_to_review_and_repeated_tries_lock(chat, session_factory):
    ed = chat("t-ed")
    ed.say("我要绑定房屋 6-1-0801")
    assert "审核" in ed.say("13911110000")
    assert bound_to(session_factory, "t-ed") is None
    for n in range(4):
        ed.say(f"1391111000{n + 1}")
    assert "次数过多" in ed.say("我要绑定房屋 6-1-0801")
    with session_factory() as s:  # customer service is told once, when the lock falls
        from backend.models import Notification

        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "bind.locked_staff")) == 1
    assert "次数过多" in ed.say("13900610801") or bound_to(session_factory, "t-ed") is None


def test_a_stranger_naming_a_flat_binds_before_an_in_home_ticket(chat, session_factory):
    fay = chat("t-fay")
    reply = fay.say("3栋2单元1502 马桶堵了")
    assert "绑定" in reply and "工单号" not in reply
    assert tickets(session_factory) == []
    reply = fay.say("13900321502")
    assert "绑定成功" in reply and "工单号" in reply
    (ticket,) = tickets(session_factory)
    assert ticket.household_id is not None and "马桶" in ticket.description


def test_an_in_home_repair_continues_after_binding_without_asking_again(chat, session_factory):
    gus = chat("t-gus")
    assert "绑定" in gus.say("家里热水器漏水了 地上全是水 师傅能来看看吗")
    gus.say("1号楼2单元0902")
    reply = gus.say("13900120902")
    assert "工单号" in reply and "哪里坏了" not in reply
    assert "热水器" in tickets(session_factory)[0].description


def test_a_public_repair_needs_no_binding(chat, session_factory):
    hal = chat("t-hal")
    assert "工单号" in hal.say("3号楼电梯门关不上")
    assert tickets(session_factory)[0].household_id is None


def test_short_answers_never_raise_or_cancel(chat, session_factory):
    ivy = chat("t-ivy")
    ivy.say("我想绑定房屋")
    ivy.say("3号楼")
    assert tickets(session_factory) == []
    jo = chat("t-jo")
    assert "工单号" in jo.say("3号楼电梯门关不上")
    jo.say("不记得了")
    assert tickets(session_factory)[0].status == "new"


def test_thanks_after_a_ticket_and_status_after_a_finished_repair(chat, session_factory):
    kim = chat("t-kim")
    kim.say("3号楼电梯门关不上")
    reply = kim.say("好的谢谢")
    assert "我在呢" not in reply and "不客气" in reply
    reply = kim.say("我的报修到哪一步了")
    assert "#1" in reply and "继续刚才的报修" not in reply and "哪里坏了" not in reply


def test_typed_equivalents_of_buttons(chat, session_factory):
    lu = chat("t-lu")
    lu.say("3号楼电梯门关不上")
    assert "#1" in lu.say("我的工单")
    assert "已催办" in lu.say("催一下")
    assert "确定要撤销" in lu.say("取消")
    assert "不变" in lu.say("不用了")
    reply = lu.say("转人工")
    assert "客服" in reply and "工单" not in reply
    assert [t.kind for t in tickets(session_factory)] == ["repair"]  # a person is told; nothing is filed


def test_english_prompts_have_no_raw_keys_and_times_are_never_iso(chat, session_factory):
    mo = chat("t-mo")
    reply = mo.say("I want to bind my home in building 3")
    assert "slot." not in reply
    nan = chat("t-nan")
    nan.say("帮我绑定 3-2-1502 13900321502")
    reply = nan.say("厨房水管漏水了 明天上午九点在家")
    assert "工单号" in reply and not ISO.search(reply)
    assert "12月2日 上午9:00" in reply


def test_fee_question_then_noise_then_an_emergency_never_breaks_the_chat(chat, session_factory):
    oz = chat("t-oz")
    oz.say("物业费还欠多少")
    oz.say("\u200b")
    assert "工单号" in oz.say("着火了！")
    for text in ("3-2-1502", "你好", "你好", "我的工单"):
        assert "出了点问题" not in oz.say(text)


def test_emergencies_need_a_danger_word_or_a_sure_parse(chat, session_factory):
    pat = chat("t-pat")
    assert "紧急" in pat.say("电梯里困人了！3号楼")
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.kind == "emergency")) == 1


def test_customer_service_approves_a_binding_in_words(chat, session_factory):
    from backend.models import BindRequest

    quinn = chat("t-quinn")
    quinn.say("帮我绑定 6-1-0802 13911112222")
    with session_factory() as s:
        request = s.scalar(select(BindRequest))
    assert bound_to(session_factory, "t-quinn") is None
    assert "已通过" in chat("staff:cs1").say(f"通过绑定 {request.id}")
    assert bound_to(session_factory, "t-quinn") == "6-1-0802"


def test_odd_characters_are_answered_not_crashed_on(chat, session_factory):
    ray = chat("t-ray")
    ray.say("帮我绑定 3-2-1502 13900321502")
    assert "出了点问题" not in ray.say("/status ①")
    reply = ray.say("厨房水管\ud800漏水了")
    assert "工单号" in reply
    assert "\ud800" not in tickets(session_factory)[0].description


def test_a_second_emergency_within_minutes_is_asked_about(chat, session_factory):
    sam = chat("t-sam")
    assert "工单号" in sam.say("着火了 3号楼楼道冒烟")
    reply = sam.say("着火了 3号楼楼道冒烟")
    assert "新的紧急情况" in reply and len(tickets(session_factory)) == 1
    assert "已补充" in sam.say("不是")
    assert len(tickets(session_factory)) == 1
    sam.say("5号楼电梯困人了")
    assert "工单号" in sam.press("f:again")
    assert len(tickets(session_factory)) == 2


def test_tickets_per_hour_and_messages_per_minute_are_limited(chat, session_factory, settings):
    settings.max_tickets_per_hour = 3
    tom = chat("t-tom")
    for n in range(3):
        assert "工单号" in tom.say(f"{n + 1}号楼电梯门关不上")
    assert "这一小时" in tom.say("4号楼电梯门关不上")
    assert len(tickets(session_factory)) == 3
    settings.max_messages_per_minute = 5
    uma = chat("t-uma")
    replies = [uma.say("你好") for _ in range(6)]
    assert "太快" in replies[-1] and "太快" not in replies[0]
    assert "太快" not in chat("staff:cs1").say("我的任务")  # staff are never limited


def test_a_long_message_with_two_requests_offers_the_second(chat, session_factory):
    vic = chat("t-vic")
    vic.say("帮我绑定 3-2-1502 13900321502")
    reply = vic.say_confirmed("我家厨房的水管已经漏了三天了，地板都泡坏了，麻烦尽快派师傅来修一下。"
                              "另外楼下那个保安每天晚上都在岗亭里睡觉，对业主态度也很差，我要投诉他。")
    assert "工单号" in reply and "一并" in reply
    assert "工单号" in vic.press("a:yes")
    assert sorted(t.kind for t in tickets(session_factory)) == ["complaint", "repair"]
