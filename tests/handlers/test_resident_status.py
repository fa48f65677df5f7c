"""Ticket status dialogues: list and detail with history and owner, chase once an hour, cancel, confirm, rate, reopen."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import Notification, Staff, Ticket
from backend.services.actor import Actor
from backend.services.tickets import TicketService


def bound(chat, user: str, address: str = "3-2-1502", phone: str = "13900321502"):
    person = chat(user)
    person.say("/bind")
    person.say(address)
    assert "绑定成功" in person.say(phone)
    return person


def staff_do(session_factory, clock, settings, login: str, move: str, ticket_id: int, **kw) -> None:
    with session_factory() as s:
        staff = s.scalar(select(Staff).where(Staff.login == login))
        getattr(TicketService(s, clock, settings), move)(Actor.of_staff(staff), ticket_id, **kw)
        s.commit()


def first_ticket(session_factory) -> Ticket:
    with session_factory() as s:
        return s.scalar(select(Ticket).order_by(Ticket.id))


def test_status_shows_history_and_owner(chat, session_factory, clock, settings):
    amy = bound(chat, "u-amy")
    amy.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    clock.advance(minutes=5)
    staff_do(session_factory, clock, settings, "tech1", "accept", t.id)
    reply = amy.say("我的报修到哪一步了")
    assert f"工单 #{t.number}" in reply and "已受理" in reply
    assert "负责人：张敏" in reply and "处理人：吴涛" in reply  # building 3's steward owns it
    assert "提交登记" in reply and "吴涛 已受理" in reply
    assert ("⏰ 催单", f"r:chase:{t.id}") in amy.buttons()
    assert "工单 #1" in amy.say("/status")


def test_several_open_tickets_are_listed_with_buttons(chat, session_factory):
    ben = bound(chat, "u-ben")
    ben.say("厨房水管漏水了")
    ben.say("谢谢")
    ben.say("5号楼电梯按钮坏了")
    reply = ben.say("/status")
    assert "2 个进行中的工单" in reply
    payload = ben.buttons()[0][1]
    assert payload.startswith("r:show:") and "工单 #" in ben.press(payload)


def test_another_households_ticket_number_is_not_found(chat, session_factory):
    cat = bound(chat, "u-cat")
    cat.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    dan = bound(chat, "u-dan", "1-1-0101", "13900110101")
    reply = dan.say(f"{t.number}号工单怎么样了")
    assert "没有找到您的工单" in reply and "水管" not in reply
    assert "没有找到您的工单" in dan.say("9999号工单怎么样了")  # same answer as a missing one
    assert "找不到" in dan.press(f"r:chase:{t.id}")
    assert "找不到" in dan.press(f"r:cancel:{t.id}")
    assert first_ticket(session_factory).status == "new"


def test_chase_reminds_the_owner_at_most_once_an_hour(chat, session_factory, clock):
    eve = bound(chat, "u-eve")
    eve.say("厨房水管漏水了")
    eve.say("谢谢")
    t = first_ticket(session_factory)
    assert "已催办" in eve.say("帮我催一下")
    assert "分钟后再催" in eve.say("帮我催一下")
    clock.advance(minutes=61)  # now late too (respond within 30 minutes): the supervisor hears of it
    reply = eve.press(f"r:chase:{t.id}")
    assert "已催办" in reply and "主管" in reply
    with session_factory() as s:
        chased = list(s.scalars(select(Notification).where(Notification.kind == "ticket.chased")))
        lead = s.scalar(select(Staff).where(Staff.login == "cs-lead"))
        owner = s.scalar(select(Staff).where(Staff.login == "cs1"))
    first, later = [n for n in chased if n.created_at < clock.now()], [n for n in chased if n.created_at == clock.now()]
    assert {n.staff_id for n in first} == {owner.id}
    assert lead.id in {n.staff_id for n in later}


def test_resident_cancels_own_open_ticket(chat, session_factory):
    fay = bound(chat, "u-fay")
    fay.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    assert "确定要撤销" in fay.press(f"r:cancel:{t.id}")
    assert first_ticket(session_factory).status == "new"
    assert "已取消工单" in fay.press(f"r:cancelok:{t.id}")
    assert first_ticket(session_factory).status == "cancelled"


def test_cancel_in_words_withdraws_the_ticket(chat, session_factory):
    gus = bound(chat, "u-gus")
    gus.say("厨房水管漏水了")
    gus.say("谢谢")
    assert "确定要撤销" in gus.say("取消刚才的报修")
    assert "已取消工单" in gus.say("确认")
    assert first_ticket(session_factory).status == "cancelled"


def test_confirm_then_rate_five(chat, session_factory, clock, settings):
    hal = bound(chat, "u-hal")
    hal.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    staff_do(session_factory, clock, settings, "tech1", "accept", t.id)
    staff_do(session_factory, clock, settings, "tech1", "resolve", t.id, note="已更换水管接头")
    reply = hal.say("我的报修怎么样了")
    assert "已解决待确认" in reply and "已更换水管接头" in reply
    assert ("✅ 已解决", f"r:ok:{t.id}") in hal.buttons()
    reply = hal.press(f"r:ok:{t.id}")
    assert "感谢确认" in reply and len([b for b in hal.buttons() if b[1].startswith("r:rate:")]) == 5
    assert "感谢您的评价（5分）" in hal.say("5分")
    t = first_ticket(session_factory)
    assert t.status == "closed" and t.rating == 5


def test_low_rating_asks_for_a_comment(chat, session_factory, clock, settings):
    ian = bound(chat, "u-ian")
    ian.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    staff_do(session_factory, clock, settings, "tech1", "accept", t.id)
    staff_do(session_factory, clock, settings, "tech1", "resolve", t.id)
    assert "哪里做得不好" in ian.press(f"r:rate:{t.id}:2")
    assert "已转告负责人" in ian.say("师傅来得太晚了，地上也没收拾")
    t = first_ticket(session_factory)
    assert t.rating == 2 and "太晚" in t.rating_comment and t.status == "closed"
    with session_factory() as s:
        lead = s.scalar(select(Staff).where(Staff.login == "eng-lead"))
        rated = list(s.scalars(select(Notification).where(Notification.kind == "ticket.rated")))
        assert lead.id in {n.staff_id for n in rated}


def test_not_fixed_in_words_reopens(chat, session_factory, clock, settings):
    jo = bound(chat, "u-jo")
    jo.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    staff_do(session_factory, clock, settings, "tech1", "accept", t.id)
    staff_do(session_factory, clock, settings, "tech1", "resolve", t.id)
    reply = jo.say("水管还是漏，根本没修好")
    assert "已重新打开" in reply and f"#{t.number}" in reply
    assert first_ticket(session_factory).status == "reopened"
    with session_factory() as s:
        assert s.scalar(select(Notification).where(Notification.kind == "ticket.reopened")) is not None


def test_reopen_button(chat, session_factory, clock, settings):
    kim = bound(chat, "u-kim")
    kim.say("厨房水管漏水了")
    t = first_ticket(session_factory)
    staff_do(session_factory, clock, settings, "tech1", "accept", t.id)
    staff_do(session_factory, clock, settings, "tech1", "resolve", t.id)
    assert "已重新打开" in kim.press(f"r:reopen:{t.id}")
    assert first_ticket(session_factory).status == "reopened"


def test_no_tickets(chat):
    assert "没有进行中的工单" in bound(chat, "u-lee").say("我的报修到哪一步了")


def test_a_stranger_with_no_tickets_is_asked_to_bind_then_sees_the_homes_tickets(chat):
    mo = chat("u-mo")
    assert "先绑定" in mo.say("我的报修到哪一步了")
    mo.say("3-2-1502")
    reply = mo.say("13900321502")
    assert "绑定成功" in reply and "没有进行中的工单" in reply
