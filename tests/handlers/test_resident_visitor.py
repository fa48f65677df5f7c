"""Visitor registration dialogues: one-turn passes, questions for what is missing, corrections, cancel, the gate."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from backend.errors import IllegalMove
from backend.models import Notification, Staff, VisitorPass
from backend.services import visitors


def bound(chat, user: str, address: str = "3-2-1502", phone: str = "13900321502"):
    person = chat(user)
    person.say("/bind")
    person.say(address)
    assert "绑定成功" in person.say(phone)
    return person


def only_pass(session_factory) -> VisitorPass:
    with session_factory() as s:
        return s.scalar(select(VisitorPass))


def test_all_details_in_one_message_give_a_pass_with_code_and_qr(chat, session_factory, settings):
    amy = bound(chat, "u-amy")
    reply = amy.say("明天下午张阿姨来看我，三个人，车牌粤B12345")
    assert "访客登记成功" in reply and "张阿姨" in reply and "3人" in reply and "粤B12345" in reply
    assert "12月2日 下午1:00–晚上6:00" in reply
    p = only_pass(session_factory)
    assert len(p.code) == 6 and p.code.isdigit() and p.code in reply
    assert p.people == 3 and p.plate == "粤B12345"
    # stored in UTC: 13:00 Shanghai is 05:00 UTC
    assert p.valid_from == datetime(2026, 12, 2, 5, 0) and p.valid_until == datetime(2026, 12, 2, 10, 0)
    out = amy.last[-1]
    assert out.image_url == f"/media/pass/{p.image_token}.png" and len(p.image_token) >= 32  # unguessable
    assert (settings.media_dir / "pass" / f"{p.image_token}.png").read_bytes().startswith(b"\x89PNG")
    assert ("取消这次登记", f"v:cancel:{p.id}") in amy.buttons()


def test_missing_name_and_day_are_asked_with_buttons(chat, session_factory):
    ben = bound(chat, "u-ben")
    assert "怎么称呼" in ben.say("我要登记访客")
    reply = ben.say("王师傅")
    assert "哪天来" in reply
    assert ("明天", "f:day:1") in ben.buttons()
    assert "开车" in ben.press("f:day:1")  # the gate lets a car in only by its plate
    assert ("🚶 不开车", "f:nocar") in ben.buttons()
    reply = ben.press("f:nocar")
    assert "访客登记成功" in reply and "王师傅" in reply and "12月2日 凌晨0:00–晚上11:59" in reply and "1人" in reply


def test_typed_day_and_relation_as_visitor(chat, session_factory):
    cat = bound(chat, "u-cat")
    assert "哪天来" in cat.say("我妈要来，帮我登记一下访客")
    assert "开车" in cat.say("后天上午")
    reply = cat.say("粤B12345")
    assert "粤B12345" in reply and "妈妈" in reply and "12月3日 上午9:00–中午12:00" in reply


def test_correction_after_the_pass_keeps_the_code(chat, session_factory):
    dan = bound(chat, "u-dan")
    dan.say("明天下午张阿姨来看我，不开车")
    code = only_pass(session_factory).code
    reply = dan.say("不对，是3个人")
    assert "已更正" in reply and "3人" in reply and code in reply
    reply = dan.say("不对，是后天上午")
    assert "12月3日 上午9:00–中午12:00" in reply
    p = only_pass(session_factory)
    assert p.people == 3 and p.code == code and p.valid_from == datetime(2026, 12, 3, 1, 0)


def test_cancel_midway_and_cancel_the_pass(chat, session_factory):
    eve = bound(chat, "u-eve")
    eve.say("我要登记访客")
    assert "已取消" in eve.say("算了不登记了")
    assert only_pass(session_factory) is None
    eve.say("明天上午李师傅来送家具，走路来")
    p = only_pass(session_factory)
    assert "确定要取消" in eve.press(f"v:cancel:{p.id}")
    assert only_pass(session_factory).status == "active"
    reply = eve.press(f"v:cancelok:{p.id}")
    assert "已取消" in reply and p.code in reply
    assert only_pass(session_factory).status == "cancelled"


def test_cancel_in_words_after_the_pass_cancels_it(chat, session_factory):
    fay = bound(chat, "u-fay")
    fay.say("明天下午张阿姨来看我，不开车")
    assert "确定要取消" in fay.say("取消刚才的登记")
    assert "作废" in fay.say("确认")
    assert only_pass(session_factory).status == "cancelled"
    fay.say_confirmed("后天下午王阿姨来 不开车")
    fay.say("谢谢")
    assert "确定要取消" in fay.say("取消访客登记")  # outside the form: the one active pass
    assert "作废" in fay.say("好的")
    with session_factory() as s:
        assert {p.status for p in s.scalars(select(VisitorPass))} == {"cancelled"}


def test_unbound_user_binds_then_the_registration_continues(chat, session_factory):
    gus = chat("u-gus")
    reply = gus.say("明天下午张阿姨来看我 不开车")
    assert "先绑定" in reply
    gus.say("6-1-0801")
    reply = gus.say("13900610801")
    assert "绑定成功" in reply and "访客登记成功" in reply and "张阿姨" in reply


def test_topic_switch_to_fees_midway_then_back(chat, session_factory):
    hal = bound(chat, "u-hal", "6-1-0801", "13900610801")
    assert "怎么称呼" in hal.say("我要登记访客")
    reply = hal.say("我家物业费还欠多少")
    assert "823.20" in reply and "继续" in reply and "怎么称呼" in reply
    assert "哪天来" in hal.say("赵阿姨")
    assert "开车" in hal.say("明天上午")
    assert "访客登记成功" in hal.say("不开车")


def test_another_household_cannot_cancel_a_pass(chat, session_factory):
    ian = bound(chat, "u-ian")
    ian.say("明天下午张阿姨来看我，不开车")
    p = only_pass(session_factory)
    jo = bound(chat, "u-jo", "1-1-0101", "13900110101")
    assert "找不到" in jo.press(f"v:cancel:{p.id}")
    assert only_pass(session_factory).status == "active"


def test_guard_verifies_the_code_and_the_resident_is_told(chat, session_factory, clock, settings):
    kim = bound(chat, "u-kim")
    kim.say_confirmed("明天下午张阿姨来看我，两个人，不开车")
    p = only_pass(session_factory)
    with session_factory() as s:
        guard = s.scalar(select(Staff).where(Staff.login == "guard1"))
        with pytest.raises(IllegalMove) as early:
            visitors.verify_code(s, clock, settings, guard, p.code)
        assert early.value.key == "error.pass_too_early"
        clock.set(datetime(2026, 12, 2, 6, 30))  # 14:30 in Shanghai
        assert [x.id for x in visitors.todays_expected(s, clock, settings, guard.community_id)] == [p.id]
        arrived = visitors.verify_code(s, clock, settings, guard, p.code)
        assert arrived.status == "arrived" and arrived.verified_by == guard.id
        with pytest.raises(IllegalMove) as again:
            visitors.verify_code(s, clock, settings, guard, p.code)
        assert again.value.key == "error.pass_used"
        with pytest.raises(IllegalMove):
            visitors.verify_code(s, clock, settings, guard, "000000" if p.code != "000000" else "111111")
        s.commit()
    with session_factory() as s:
        note = s.scalar(select(Notification).where(Notification.kind == "visitor.arrived"))
        assert note.resident_id == p.resident_id and note.params["visitor"] == "张阿姨"
        assert note.params["time"] == "14:30"


def test_past_time_is_refused(chat, clock):
    clock.set(datetime(2026, 12, 1, 9, 0))  # 17:00 in Shanghai
    lee = bound(chat, "u-lee")
    assert "已经过去" in lee.say("今天上午张阿姨来")
