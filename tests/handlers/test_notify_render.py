"""Outbox rows rendered as chat messages: task cards for staff, r-buttons for residents, nothing personal in groups."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backend.models import Notification, Staff, Ticket
from handlers import payloads
from handlers.notify_render import TASK_KINDS, render, task_card

PHONE = re.compile(r"1[3-9]\d{9}|1[3-9]\d\*{4}\d{4}")


def report_leak(chat) -> None:
    bob = chat("u-bob")
    bob.say("/bind")
    bob.say("三号楼二单元1502")
    bob.say("13900321502")
    assert "工单号 #1" in bob.say("厨房水管漏水了")


def note_of(session, kind: str) -> Notification:
    return session.scalar(select(Notification).where(Notification.kind == kind).order_by(Notification.id))


def payloads_of(out) -> list[str]:
    return [b.payload for b in out.buttons]


def test_department_task_becomes_a_card_with_accept(chat, session_factory):
    report_leak(chat)
    with session_factory() as s:
        note = note_of(s, "ticket.new_task")
        assert note.recipient_type == "department" and note.department == "engineering"
        tid = note.params["ticket_id"]
        bare = render(note.kind, note.params, "zh", "staff")
        assert "新工单 #1" in bare.text and "水管" in bare.text
        assert payloads_of(bare) == [f"t:a:{tid}", f"t:v:{tid}"]
        assert bare.meta["commands"] == ["接单 1", "详情 1"]  # the fallback of every button
        live = render(note.kind, note.params, "zh", "staff", session=s)
        assert "139****1502" in live.text and "13900321502" not in live.text
        assert "3-2-1502" in live.text and f"t:a:{tid}" in payloads_of(live)
        assert live.meta["ticket_id"] == tid and live.meta["kind"] == "ticket.new_task"


def test_owner_card_offers_contact_and_live_buttons(chat, session_factory):
    report_leak(chat)
    with session_factory() as s:
        note = note_of(s, "ticket.you_own")  # building 3's steward, cs1
        owner = s.get(Staff, note.staff_id)
        out = render(note.kind, note.params, "zh", "staff", session=s, viewer=owner)
        tid = note.params["ticket_id"]
        assert {f"t:a:{tid}", f"t:x:{tid}", f"t:p:{tid}", f"t:v:{tid}"} <= set(payloads_of(out))
        tech = s.scalar(select(Staff).where(Staff.login == "tech1"))
        other = task_card(s.get(Ticket, tid), tech, "zh")
        assert f"t:p:{tid}" not in payloads_of(other) and "139****1502" in other.text


def test_group_rendering_carries_no_phone_and_no_name(chat, session_factory):
    report_leak(chat)
    with session_factory() as s:
        for kind in ("ticket.new_task", "ticket.you_own"):
            note = note_of(s, kind)
            for out in (render(kind, note.params, "zh", "group"), render(kind, note.params, "zh", "group", session=s)):
                assert not PHONE.search(out.text), out.text
                assert "张敏" not in out.text and "处理人" not in out.text
                assert all(p.split(":")[1] in ("a", "v") for p in payloads_of(out))
        params = {**note.params, "owner": "张敏（13800000012）", "description": "漏水 电话13912345678"}
        out = render("ticket.escalated", {**params, "deadline_zh": "解决", "due": "12-01 17:00"}, "zh", "group")
        assert not PHONE.search(out.text) and "张敏" not in out.text


def test_binding_request_buttons_and_group_privacy():
    params = {"request_id": 7, "household": "2-1-0302", "phone": "138****5678", "name": "赵六"}
    staff = render("bind.request_staff", params, "zh", "staff")
    assert payloads_of(staff) == ["b:ok:7", "b:no:7"] and "赵六" in staff.text
    assert [b.title for b in staff.buttons] == ["✅ 通过", "❌ 拒绝"]
    group = render("bind.request_staff", params, "zh", "group")
    assert payloads_of(group) == ["b:ok:7", "b:no:7"]
    assert "赵六" not in group.text and "5678" not in group.text and "2-1-0302" in group.text


def test_resident_buttons_by_kind():
    p = {"ticket_id": 42, "number": 9, "note": "已更换阀门"}
    resolved = render("ticket.resolved", p, "zh", "resident")
    assert payloads_of(resolved) == ["r:ok:42", "r:reopen:42"]
    assert [b.title for b in resolved.buttons] == ["✅ 已解决", "❌ 没修好"]
    assert payloads_of(render("ticket.accepted", p, "zh", "resident")) == ["r:view:42", "r:chase:42"]
    assert payloads_of(render("ticket.closed", p, "zh", "resident")) == [f"r:rate:42:{n}" for n in range(1, 6)]
    assert payloads_of(render("ticket.created_for_you", p, "en", "resident")) == ["r:view:42", "r:cancel:42"]
    assert render("ticket.resolved", p, "en", "resident").buttons[0].title == "✅ Fixed"
    assert render("bind.approved", {"household": "1-1-0101"}, "zh", "resident").buttons == []


@pytest.mark.parametrize("kind", sorted(TASK_KINDS))
def test_every_task_kind_renders_for_staff_and_group(kind):
    params = {"ticket_id": 123456789012, "number": 1024, "description": "d", "location": "l", "due": "x",
              "owner": "o", "deadline_zh": "响应", "note": "n"}
    for audience in ("staff", "group"):
        out = render(kind, params, "both", audience)
        assert out.text and out.buttons and out.buttons[-1].payload == "t:v:123456789012"
        assert all(payloads.parse(b.payload) is not None for b in out.buttons)
        assert len(out.meta["commands"]) == len(out.buttons)


def test_unknown_audience_is_refused():
    with pytest.raises(ValueError):
        render("ticket.resolved", {"ticket_id": 1}, "zh", "everyone")
