"""Binding, repair and emergency dialogues through the real NLU, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import DialogueState, Notification, Resident, Ticket


def test_greeting_for_a_new_user_offers_the_menu(chat):
    alice = chat("u-alice")
    reply = alice.say("你好")
    assert "欢迎使用和谐家园" in reply and "报修" in reply
    assert ("🔧 报修", "m:repair") in alice.buttons()


def test_bind_with_registered_phone_then_repair_in_one_turn(chat, session_factory):
    bob = chat("u-bob")
    assert "楼栋、单元和房号" in bob.say("/bind")
    assert "手机号" in bob.say("三号楼二单元1502")
    assert "绑定成功" in bob.say("139 0032 1502")
    reply = bob.say("厨房水管漏水了，明天下午三点来修")
    assert "工单号 #1" in reply and "3-2-1502" in reply and "水管" in reply
    with session_factory() as s:
        t = s.scalar(select(Ticket))
        assert t.category.code == "plumbing" and t.location == "3-2-1502"
        assert t.owner_id is not None  # building 3's steward, cs1
        assert t.preferred_time.startswith("2026-12-02T15:00")


def test_unbound_home_repair_asks_to_bind_then_continues(chat, session_factory):
    carol = chat("u-carol")
    reply = carol.say("我家卫生间马桶堵了")
    assert "先绑定" in reply and "楼栋" in reply
    carol.say("6-1-0801")
    reply = carol.say("13900610801")
    assert "绑定成功" in reply and "继续" in reply and "工单号" in reply
    with session_factory() as s:
        t = s.scalar(select(Ticket))
        assert t.location == "6-1-0801" and "马桶" in t.description


def test_wrong_phone_becomes_a_request_customer_service_approves(chat, session_factory):
    dave = chat("u-dave")
    dave.say("/bind")
    reply = dave.say("2号楼1单元0302 手机13812345678")
    assert "审核" in reply
    with session_factory() as s:
        note = s.scalar(select(Notification).where(Notification.kind == "bind.request_staff"))
        request_id = note.params["request_id"]
    cs1 = chat("staff:cs1")
    assert "已通过" in cs1.press(f"b:ok:{request_id}")
    with session_factory() as s:
        resident = s.scalar(select(Resident).where(Resident.phone == "13812345678"))
        assert resident.household_id is not None


def test_public_area_repair_and_correction(chat, session_factory):
    erin = chat("u-erin")
    reply = erin.say("5号楼电梯按钮坏了")
    assert "工单号" in reply and "5号楼电梯" in reply
    assert "已更正" in erin.say("不对，是6号楼电梯")
    with session_factory() as s:
        t = s.scalar(select(Ticket))
        assert t.location == "6号楼电梯" and t.category.code == "lift"


def test_emergency_creates_at_once_gives_hotline_then_asks_where(chat, session_factory):
    frank = chat("u-frank")
    reply = frank.say("有人被困在电梯里了 快来人")
    assert "工单号 #1" in reply and "400-800-1234" in reply
    reply2 = frank.say("2号楼1单元的电梯")
    assert "位置已通知" in reply2
    with session_factory() as s:
        t = s.scalar(select(Ticket))
        assert t.kind == "emergency" and "2号楼" in t.location
        depts = set(s.scalars(select(Notification.department).where(Notification.kind == "ticket.emergency_alert")))
        assert {"security", "engineering"} <= depts


def test_cancel_midway_and_state_survives_a_restart(chat, conversation, session_factory, nlu, clock, settings):
    from handlers.conversation import Conversation

    gina = chat("u-gina")
    assert "哪里坏了" in gina.say("我要报修")
    # a new process: same database, new Conversation
    gina.conversation = Conversation(session_factory, nlu, clock, settings)
    assert "家里" in gina.say("灯不亮了")  # asks: home or common area?
    assert "取消" in gina.say("算了不报了")
    with session_factory() as s:
        assert s.scalar(select(Ticket)) is None
        state = s.scalar(select(DialogueState).where(DialogueState.chat_key == "u-gina"))
        assert state.flow is None


def test_idle_form_expires_politely(chat, clock):
    hank = chat("u-hank")
    hank.say("我要报修")
    clock.advance(hours=2)
    assert "太久没有继续" in hank.say("你好")


def test_garbage_and_forged_buttons_do_not_crash(chat):
    ivy = chat("u-ivy")
    assert ivy.say("\x00\x01<script>alert(1)</script>' OR 1=1; --")
    assert "失效" in ivy.press("t:accept:999999")
    assert "失效" in ivy.press("💥" * 100)
    assert ivy.say("哈" * 100_000)


def test_cancel_after_the_repair_was_registered_cancels_the_ticket(chat, session_factory):
    jack = chat("u-jack")
    assert "工单号" in jack.say("3号楼电梯门关不上")
    assert "确定要撤销" in jack.say("算了不报了")  # destructive: confirmed first
    with session_factory() as s:
        assert s.scalar(select(Ticket)).status == "new"
    assert "已取消工单" in jack.say("确认")
    with session_factory() as s:
        assert s.scalar(select(Ticket)).status == "cancelled"


def test_cancel_not_confirmed_keeps_the_ticket(chat, session_factory):
    kim = chat("u-kim")
    assert "工单号" in kim.say("3号楼电梯门关不上")
    assert "确定要撤销" in kim.say("算了不报了")
    assert "不变" in kim.say("不用了")
    with session_factory() as s:
        assert s.scalar(select(Ticket)).status == "new"
