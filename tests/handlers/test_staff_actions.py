"""Task-card buttons through the real conversation: accept, race, transfer, start, resolve, close, phone."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import Attachment, Notification, Staff, Ticket, TicketEvent
from handlers.notify_render import render


def report_leak(chat) -> int:
    """u-bob binds 3-2-1502 (phone 13900321502) and reports a leak: ticket #1, engineering, owner cs1."""
    bob = chat("u-bob")
    bob.say("/bind")
    bob.say("三号楼二单元1502")
    bob.say("13900321502")
    assert "工单号 #1" in bob.say("厨房水管漏水了")
    return 1


def ticket_id(session_factory, number: int = 1) -> int:
    with session_factory() as s:
        return s.scalar(select(Ticket.id).where(Ticket.number == number))


def the_ticket(session_factory, number: int = 1) -> Ticket:
    with session_factory() as s:
        return s.scalar(select(Ticket).where(Ticket.number == number))


def staff_id(session_factory, login: str) -> int:
    with session_factory() as s:
        return s.scalar(select(Staff.id).where(Staff.login == login))


def payloads_of(chat) -> list[str]:
    return [p for _, p in chat.buttons()]


def test_accept_race_transfer_start_resolve_and_the_resident_hears(chat, session_factory):
    report_leak(chat)
    tid = ticket_id(session_factory)
    tech1, tech2 = chat("staff:tech1"), chat("staff:tech2")

    reply = tech1.press(f"t:a:{tid}")
    assert "已接单" in reply and "处理人：吴涛" in reply and "负责人：张敏" in reply
    card = tech1.last[-1]
    assert card.meta["edit_of"] == tid
    assert {f"t:s:{tid}", f"t:d:{tid}", f"t:x:{tid}", f"t:p:{tid}"} <= set(payloads_of(tech1))
    assert f"t:a:{tid}" not in payloads_of(tech1)

    reply = tech2.press(f"t:a:{tid}")
    assert "已由 吴涛 接单" in reply
    assert tech2.last[-1].meta["edit_of"] == tid and f"t:a:{tid}" not in payloads_of(tech2)
    assert "已经是您在处理" in tech1.press(f"t:a:{tid}")

    reply = tech1.press(f"t:x:{tid}")
    assert "转派给谁" in reply
    tech2_id = staff_id(session_factory, "tech2")
    assert f"t:xp:{tid}:{tech2_id}" in payloads_of(tech1) and f"t:xd:{tid}:environment" in payloads_of(tech1)
    assert "附言" in tech1.press(f"t:xp:{tid}:{tech2_id}")
    reply = tech1.say("阀门需要更换，请带工具")
    assert "已转派给 徐斌" in reply and "处理人：徐斌" in reply and "负责人：张敏" in reply
    with session_factory() as s:
        event = s.scalar(select(TicketEvent).where(TicketEvent.action == "transfer"))
        assert event.note == "阀门需要更换，请带工具"
        mine = s.scalar(select(Notification).where(Notification.kind == "ticket.assigned_to_you"))
        assert mine.staff_id == tech2_id

    assert "已开始处理" in tech2.press(f"t:s:{tid}")
    assert the_ticket(session_factory).status == "in_progress"

    assert "处理结果" in tech2.press(f"t:d:{tid}")
    assert "照片" in tech2.say("已更换阀门，试水正常")  # a note, not a new repair report
    assert ("跳过", "f:skip") in tech2.buttons()
    reply = tech2.photo("https://media.example/done.jpg")
    assert "已办结" in reply and "已解决待确认" in reply
    with session_factory() as s:
        t = s.get(Ticket, tid)
        assert t.status == "resolved" and s.scalar(select(Attachment.url).where(Attachment.event_id.is_not(None))) \
            == "https://media.example/done.jpg"
        note = s.scalar(select(Notification).where(Notification.kind == "ticket.resolved"))
        assert note.recipient_type == "resident" and note.params["note"] == "已更换阀门，试水正常"
        out = render(note.kind, note.params, "zh", "resident")
        assert "已更换阀门" in out.text
        assert [b.payload for b in out.buttons] == [f"r:ok:{tid}", f"r:reopen:{tid}"]


def test_resolve_with_skip_and_close_by_the_owner(chat, session_factory):
    report_leak(chat)
    tid = ticket_id(session_factory)
    tech1 = chat("staff:tech1")
    tech1.press(f"t:a:{tid}")
    tech1.press(f"t:d:{tid}")
    tech1.say("已疏通")
    assert "已办结" in tech1.press("f:skip")
    cs1 = chat("staff:cs1")  # the steward, first responsible
    assert f"t:c:{tid}" in (cs1.press(f"t:v:{tid}") and payloads_of(cs1))
    assert "已关闭" in cs1.press(f"t:c:{tid}")
    assert the_ticket(session_factory).status == "closed"
    reply = cs1.press(f"t:c:{tid}")
    assert "不能关闭" in reply  # the status forbids it: a clear message, the card as it is


def test_details_show_history(chat, session_factory):
    report_leak(chat)
    tid = ticket_id(session_factory)
    tech1 = chat("staff:tech1")
    tech1.press(f"t:a:{tid}")
    reply = tech1.press(f"t:v:{tid}")
    assert "处理记录" in reply and "吴涛 接单" in reply and "住户 提交" in reply


def test_masked_phone_and_reveal_only_for_owner_assignee_and_supervisor(chat, session_factory):
    report_leak(chat)
    tid = ticket_id(session_factory)
    tech1, tech3 = chat("staff:tech1"), chat("staff:tech3")
    reply = tech3.press(f"t:v:{tid}")
    assert "139****1502" in reply and "13900321502" not in reply
    assert f"t:p:{tid}" not in payloads_of(tech3)
    assert "只有工单的负责人" in tech3.press(f"t:p:{tid}")  # a forged press
    tech1.press(f"t:a:{tid}")
    assert "13900321502" in tech1.press(f"t:p:{tid}")
    assert "13900321502" in chat("staff:cs1").press(f"t:p:{tid}")  # owner
    assert "13900321502" in chat("staff:eng-lead").press(f"t:p:{tid}")  # supervisor
    assert "13900321502" not in chat("staff:tech2").say("电话 1")
    with session_factory() as s:
        viewed = list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == tid)))
        assert sum(1 for e in viewed if e.data.get("phone_viewed")) == 3


def test_cleaner_cannot_resolve_an_engineering_ticket_of_someone_else(chat, session_factory):
    report_leak(chat)
    tid = ticket_id(session_factory)
    chat("staff:tech1").press(f"t:a:{tid}")
    cleaner = chat("staff:cleaner1")
    reply = cleaner.press(f"t:d:{tid}")
    assert "由 吴涛 负责处理" in reply and "不能办结" in reply
    assert "不能办结" in cleaner.say("完成 1 已修好")
    assert "没有权限" in cleaner.press(f"t:s:{tid}") or "不能开始处理" in cleaner.press(f"t:s:{tid}")
    assert the_ticket(session_factory).status == "accepted"


def test_transfer_to_a_department_then_someone_there_accepts(chat, session_factory):
    report_leak(chat)
    tid = ticket_id(session_factory)
    tech1 = chat("staff:tech1")
    tech1.press(f"t:a:{tid}")
    tech1.press(f"t:xd:{tid}:environment")
    reply = tech1.press("f:skip")
    assert "已转派给 环境部" in reply
    with session_factory() as s:
        t = s.get(Ticket, tid)
        assert t.department == "environment" and t.assignee_id is None
    assert "已接单" in chat("staff:cleaner1").press(f"t:a:{tid}")


def test_forged_stale_and_foreign_buttons_get_a_clear_message(chat, session_factory):
    report_leak(chat)
    tech1 = chat("staff:tech1")
    assert "找不到这张工单" in tech1.press("t:a:999999")
    assert "失效" in tech1.press("t:zz:1")
    assert "失效" in tech1.press("t:a:abc")
    assert "失效" in tech1.press("t:xd:1:nowhere")
    assert "仅限物业员工" in chat("u-mallory").press(f"t:a:{ticket_id(session_factory)}")
    tid = ticket_id(session_factory)
    assert "不能开始处理" in tech1.press(f"t:s:{tid}")  # not accepted yet: the status forbids it
