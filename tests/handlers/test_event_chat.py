"""Events and reminders in chat: the check-in code and QR, staff checking in at the door, the waiting list
withdrawn in words, the arrears opt-out button."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import ArrearsReminder, CommunityEvent, EventSignup, Resident
from handlers.notify_render import render


def clinic_id(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(select(CommunityEvent.id).where(CommunityEvent.title == "义诊"))


def test_check_in_at_the_door_by_code_and_by_the_qr_text(chat, session_factory, clock):
    event_id = clinic_id(session_factory)
    resident = chat("resident:3-2-1502")
    reply = resident.press(f"e:join:{event_id}")
    assert "签到码：" in reply
    image = resident.last[0].image_url
    assert image and image.startswith("/media/event/")
    with session_factory() as s:
        code = s.scalar(select(EventSignup.checkin_code).where(EventSignup.event_id == event_id))
    assert f"签到码 {code}" in resident.say("还有什么活动")
    guard, tech = chat("staff:guard1"), chat("staff:tech1")
    assert "还未到签到时间" in guard.say(f"签到 {code}")
    with session_factory() as s:
        starts = s.get(CommunityEvent, event_id).starts_at
    clock.advance(seconds=(starts - clock.now()).total_seconds() - 600)
    assert "仅限客服和秩序维护部" in tech.say(f"签到 {code}")
    assert "请发送「签到 6位签到码」" in guard.say("/checkin 12")
    assert "没有找到签到码 000000" in guard.say("签到 000000")  # codes run 100000–999999
    done = guard.say(f"CHECKIN {code}")  # what a scanner reads from the QR
    assert "✅ 签到成功：「义诊」" in done and "3-2-1502" in done
    assert "已于" in chat("staff:cs1").say(f"/checkin {code}")
    assert "已于" in guard.say(code)  # a bare code at the door: the event's, not a visitor's
    assert "通行码" in guard.say("000000")  # a bare code that is no event's: the visitor check answers


def test_a_place_on_the_waiting_list_is_withdrawn_in_words(chat, session_factory):
    event_id = clinic_id(session_factory)
    with session_factory() as s:
        s.get(CommunityEvent, event_id).capacity = 1
        s.commit()
    chat("resident:6-1-0801").press(f"e:join:{event_id}")
    me = chat("resident:3-2-1502")
    assert "名额已满" in me.press(f"e:join:{event_id}")
    assert ("登记候补", f"e:wait:{event_id}:1") in me.buttons()
    assert "第1位" in me.say("好的")
    assert "确定要取消「义诊」" in me.say("取消报名义诊")
    assert "已取消「义诊」的报名" in me.say("确认取消报名")


def test_the_arrears_reminder_button_stops_them(chat, session_factory):
    out = render("arrears.reminder", {"household": "6-1-0801", "lines": "· 物业费", "lines_en": "", "total": "1元"},
                 "zh", "resident")
    assert [b.payload for b in out.buttons] == ["ar:off"] and "温馨提示" in out.text
    resident = chat("resident:6-1-0801")
    assert "不再向您家发送缴费提醒" in resident.press("ar:off")
    assert "已关闭" in resident.press("ar:off")
    with session_factory() as s:
        who = s.scalar(select(ArrearsReminder.opted_out_by))
        assert s.get(Resident, who).household_id is not None
    assert "已恢复" in resident.say("恢复缴费提醒")


def test_the_event_form_takes_bad_answers_without_breaking(chat, session_factory):
    manager = chat("staff:manager")
    assert "活动名称是什么" in manager.say("发活动")
    assert "什么时间开始" in manager.say("周末亲子运动会" + "长" * 300)
    assert "没看懂这个时间" in manager.say("随便")
    assert "在哪里举行" in manager.say("2020-01-01 10:00")  # in the past: refused when publishing
    assert "名额多少人" in manager.say("😀")
    assert "请回复一个数字" in manager.say("-5")
    assert "报名截止" in manager.say("30人")
    assert "每人费用" in manager.say("跳过")
    assert "请回复金额" in manager.say("好多钱")
    assert "每户最多" in manager.say("免费")
    assert "邀请谁" in manager.say("不限")
    assert "没看懂发送对象" in manager.say("火星")
    preview = manager.say("全小区")
    assert "请确认活动并发送邀请" in preview and "周末亲子运动会" in preview
    refused = manager.press("f:yes")
    assert "已过" in refused and "已发布" not in refused
    with session_factory() as s:
        assert s.scalar(select(CommunityEvent.id).where(CommunityEvent.title.like("周末亲子%"))) is None
    assert "已取消发布活动" in manager.say("取消")
    assert "仅限项目经理和客服主管" in chat("staff:guard1").say("/event")
    assert "活动" in chat("resident:3-2-1502").say("发活动")  # a resident asking: the events list, no form
