"""My tasks, overdue tickets for supervisors, today's visitors and code checks at the gate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from backend.models import Notification, VisitorPass


def bound(chat, user: str = "u-bob", address: str = "三号楼二单元1502", phone: str = "13900321502"):
    bob = chat(user)
    bob.say("/bind")
    bob.say(address)
    assert "绑定成功" in bob.say(phone)
    return bob


def test_my_tasks_nearest_deadline_first_with_a_count(chat, clock):
    bob = bound(chat)
    bob.say("厨房水管漏水了")  # plumbing
    clock.advance(minutes=5)
    assert "工单号 #2" in bound(chat, "u-amy", "3-1-0801", "13900310801").say("卫生间水管漏水了")
    tech1 = chat("staff:tech1")
    assert "没有未完成的任务" in tech1.press("m:tasks")
    tech1.say("接单 2")
    tech1.say("接单 1")
    reply = tech1.press("m:tasks")
    assert "您有 2 项未完成任务" in reply
    cards = tech1.last[1:]
    assert [c.meta["ticket_id"] for c in cards] == sorted(c.meta["ticket_id"] for c in cards)
    assert all(c.buttons for c in cards)
    assert "您有 2 项" in tech1.say("我的任务")
    assert "您有 2 项" in tech1.say("/tasks")
    assert "您有 2 项" in tech1.say("tasks")


def test_tasks_are_staff_only(chat):
    assert "仅限物业员工" in chat("u-zed").press("m:tasks")


def test_overdue_for_the_engineering_supervisor_after_time_passes(chat, clock):
    bob = bound(chat)
    bob.say("厨房水管漏水了")
    lead = chat("staff:eng-lead")
    assert "没有超时工单" in lead.press("m:overdue")
    clock.advance(hours=30)
    reply = lead.press("m:overdue")
    assert "工程部有 1 张超时工单" in reply and "已超时" in reply
    assert "1 张超时工单" in lead.say("超时工单")
    assert "全小区有 1 张超时工单" in chat("staff:manager").say("overdue")
    assert "没有超时工单" in chat("staff:env-lead").say("超时工单")


def test_an_agent_asking_for_overdue_is_politely_refused(chat):
    reply = chat("staff:tech1").press("m:overdue")
    assert "部门主管和项目经理" in reply
    assert "部门主管和项目经理" in chat("staff:cs1").say("超时工单")


def test_guard_sees_todays_visitors_and_verifies_a_code(chat, clock, session_factory):
    kim = bound(chat, "u-kim")
    kim.say_confirmed("明天下午张阿姨来看我，两个人，不开车")
    with session_factory() as s:
        code = s.scalar(select(VisitorPass.code))
    assert code
    clock.set(datetime(2026, 12, 2, 6, 30))  # 14:30 in Shanghai
    guard = chat("staff:guard1")
    reply = guard.press("m:visitors_today")
    assert "今日预约访客 1 位（已到 0）" in reply and "张阿姨" in reply and "3-2-1502" in reply
    assert code not in reply  # the code is the visitor's key, never listed
    reply = guard.say(code)
    assert "核验通过" in reply and "张阿姨" in reply and "2人" in reply
    assert "已于" in guard.say(f"核验 {code}")  # used already: a clear message
    assert "已到 1" in guard.say("今日访客")
    with session_factory() as s:
        assert s.scalar(select(Notification).where(Notification.kind == "visitor.arrived")) is not None
    assert "没有找到通行码" in guard.say("verify 000000" if code != "000000" else "verify 111111")


def test_only_the_gate_checks_codes(chat):
    tech1 = chat("staff:tech1")
    assert "仅限秩序维护部" in tech1.say("核验 123456")
    assert "仅限秩序维护部" in tech1.press("m:visitors_today")
    assert "仅限秩序维护部" not in tech1.say("123456")  # a bare number from a technician is not a code check
