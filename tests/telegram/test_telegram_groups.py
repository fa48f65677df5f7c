"""Department work groups and the owners' group: registration, task cards, accepting, privacy."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.models import GroupChat, Notification, Staff, Ticket
from bot.app import create_app
from tests.telegram import updates as tg
from tests.telegram.conftest import SECRET
from tests.telegram.fake_bot_api import BOT_USERNAME

pytestmark = [pytest.mark.asyncio, pytest.mark.filterwarnings("error")]

ENGINEERING = tg.group_chat(-100111, "工程部工作群")
OWNERS = tg.group_chat(-100222, "和谐家园业主群")
LEAD, TECH1, TECH2, MANAGER = tg.user(2001, "周明"), tg.user(2002, "吴涛"), tg.user(2003, "徐斌"), tg.user(2004, "王建国")
RESIDENT = tg.user(3001, "住户甲")


async def engineering_group(tgbot) -> None:
    await tgbot.bind_staff("eng-lead", LEAD)
    assert "工程部" in await tgbot.register_group(ENGINEERING, LEAD, "工程部")


async def report_lift_repair(tgbot, who=RESIDENT) -> Ticket:
    await tgbot.feed(tg.text(who, "/start demo"))
    await tgbot.feed(tg.text(who, "5号楼电梯按钮坏了"))
    with tgbot.session_factory() as s:
        return s.scalar(select(Ticket).order_by(Ticket.id.desc()))


def card_in_group(tgbot, chat) -> tuple[int, list[dict]]:
    cards = [c for c in tgbot.api.sent("sendMessage", chat["id"]) if c.buttons]
    assert cards, "no task card in the group"
    call = cards[-1]
    message_id = next(m for m in _sent_message_ids(tgbot, call))
    return message_id, call.buttons


def _sent_message_ids(tgbot, call):
    with tgbot.session_factory() as s:
        from backend.models import ChannelMessage

        for row in s.scalars(select(ChannelMessage).where(ChannelMessage.chat_id == call.chat_id)
                             .order_by(ChannelMessage.id.desc())):
            yield int(row.external_id.rsplit(":", 1)[1])


async def test_register_group_needs_a_bound_manager_or_supervisor(tgbot, session_factory):
    stranger = tg.user(2999)
    assert "只有" in await tgbot.register_group(ENGINEERING, stranger, "工程部")
    await tgbot.bind_staff("tech1", TECH1)  # an agent, not a supervisor
    assert "只有" in await tgbot.register_group(ENGINEERING, TECH1, "工程部")
    await tgbot.bind_staff("eng-lead", LEAD)
    assert "用法" in await tgbot.register_group(ENGINEERING, LEAD, "财务部")
    assert "工程部" in await tgbot.register_group(ENGINEERING, LEAD, "engineering")
    with session_factory() as s:
        group = s.scalar(select(GroupChat))
        assert (group.purpose, group.department, group.active) == ("department", "engineering", True)


async def test_private_repair_reaches_the_engineering_group_as_a_card(tgbot, deliver):
    await engineering_group(tgbot)
    ticket = await report_lift_repair(tgbot)
    stats = await deliver()
    assert stats.sent >= 1
    _message_id, buttons = card_in_group(tgbot, ENGINEERING)
    assert f"t:a:{ticket.id}" in [b["callback_data"] for b in buttons]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    card_text = tgbot.api.sent("sendMessage", ENGINEERING["id"])[-1]["text"]
    assert str(ticket.number) in card_text and "住户甲" not in card_text


async def test_two_staff_press_accept_at_once_one_wins_card_edited_resident_told(tgbot, deliver, session_factory):
    await engineering_group(tgbot)
    await tgbot.bind_staff("tech1", TECH1)
    await tgbot.bind_staff("tech2", TECH2)
    ticket = await report_lift_repair(tgbot)
    await deliver()
    message_id, _ = card_in_group(tgbot, ENGINEERING)
    tgbot.api.clear()
    await asyncio.gather(
        tgbot.feed(tg.press(TECH1, f"t:a:{ticket.id}", chat=ENGINEERING, message_id=message_id)),
        tgbot.feed(tg.press(TECH2, f"t:a:{ticket.id}", chat=ENGINEERING, message_id=message_id)),
    )
    with session_factory() as s:
        won = s.get(Ticket, ticket.id)
        winner = s.get(Staff, won.assignee_id)
    assert won.status == "accepted" and winner.login in ("tech1", "tech2")
    edits = tgbot.api.sent("editMessageText", ENGINEERING["id"])
    assert edits and all(int(e["message_id"]) == message_id for e in edits)
    assert winner.name in edits[-1]["text"]
    assert f"t:a:{ticket.id}" not in [b.get("callback_data") for b in edits[-1].buttons]
    answers = tgbot.api.sent("answerCallbackQuery")
    assert len(answers) == 2
    assert any(winner.name in (a.get("text") or "") for a in answers)  # the loser is told who has it
    assert not [c for c in tgbot.api.sent("sendMessage", ENGINEERING["id"])]  # no new group messages
    await deliver()
    assert any("受理" in t or "接单" in t or winner.name in t for t in tgbot.api.texts(RESIDENT["id"]))


async def test_old_forged_and_foreign_buttons_are_answered(tgbot, deliver):
    await engineering_group(tgbot)
    ticket = await report_lift_repair(tgbot)
    await deliver()
    message_id, _ = card_in_group(tgbot, ENGINEERING)
    stranger = tg.user(2998, "路人")
    for data in (f"t:a:{ticket.id}", "t:a:99999999", "x" * 64, "t:a:1:2:3:4"):
        await tgbot.feed(tg.press(stranger, data, chat=ENGINEERING, message_id=message_id))
    assert len(tgbot.api.sent("answerCallbackQuery")) == 4
    with tgbot.session_factory() as s:
        assert s.get(Ticket, ticket.id).assignee_id is None


async def test_bot_removed_from_group_deactivates_it(tgbot, session_factory, deliver):
    await engineering_group(tgbot)
    await tgbot.feed(tg.bot_membership(ENGINEERING, LEAD, "member", "kicked"))
    with session_factory() as s:
        assert s.scalar(select(GroupChat)).active is False
    tgbot.api.clear()
    await report_lift_repair(tgbot)
    await deliver()
    assert not tgbot.api.sent(chat_id=ENGINEERING["id"])


async def test_unregistered_group_and_chatter_are_left_alone(tgbot, session_factory):
    somewhere = tg.group_chat(-100333, "随便一个群")
    await tgbot.feed(tg.text(RESIDENT, "5号楼电梯按钮坏了", chat=somewhere))
    await tgbot.feed(tg.text(RESIDENT, f"@{BOT_USERNAME} 5号楼电梯按钮坏了", chat=somewhere))
    assert not tgbot.api.sent(chat_id=somewhere["id"])
    with session_factory() as s:
        assert s.scalar(select(Ticket)) is None


async def test_owners_group_repair_gets_the_number_in_the_group_and_details_in_private(tgbot, session_factory):
    await tgbot.bind_staff("manager", MANAGER)
    assert "业主群" in await tgbot.register_group(OWNERS, MANAGER)
    await tgbot.feed(tg.text(RESIDENT, "/start demo"))
    tgbot.api.clear()
    await tgbot.feed(tg.text(RESIDENT, "今天天气不错", chat=OWNERS))  # chatter: left alone
    assert not tgbot.api.sent(chat_id=OWNERS["id"])
    await tgbot.feed(tg.text(RESIDENT, f"@{BOT_USERNAME} 5号楼电梯按钮坏了", chat=OWNERS))
    with session_factory() as s:
        ticket = s.scalar(select(Ticket))
    group_texts = tgbot.api.texts(OWNERS["id"])
    assert group_texts == [f"已登记工单 #{ticket.number}，详情请查看私聊。"]
    assert any("工单号" in t for t in tgbot.api.texts(RESIDENT["id"]))


async def test_owners_group_resident_who_never_started_gets_a_deep_link(tgbot, session_factory):
    await tgbot.bind_staff("manager", MANAGER)
    await tgbot.register_group(OWNERS, MANAGER)
    newcomer = tg.user(3002, "新住户")
    tgbot.api.unstarted.add("3002")
    await tgbot.feed(tg.text(newcomer, "电梯按钮坏了，5号楼的", chat=OWNERS, reply_to_bot=True))
    reply = tgbot.api.sent("sendMessage", OWNERS["id"])[-1]
    assert "#" in reply["text"] or "私聊" in reply["text"]
    assert reply.buttons[0]["url"] == f"https://t.me/{BOT_USERNAME}?start=demo"
    assert "新住户" not in reply["text"]


async def test_department_notification_without_group_goes_to_duty_staff(tgbot, deliver, session_factory):
    await tgbot.bind_staff("tech1", TECH1)
    await report_lift_repair(tgbot)
    await deliver()
    with session_factory() as s:
        notes = list(s.scalars(select(Notification).where(Notification.department == "engineering")))
    assert notes and all(n.status in ("sent", "unreachable") for n in notes)
    assert any(c.buttons for c in tgbot.api.sent("sendMessage", TECH1["id"]))


async def test_bot_added_to_a_new_group_says_how_to_register_it(tgbot):
    newgroup = tg.group_chat(-100444, "新群")
    await tgbot.feed(tg.bot_membership(newgroup, MANAGER, "left", "member"))
    assert any("/register_group" in t for t in tgbot.api.texts(newgroup["id"]))


async def test_a_group_that_becomes_a_supergroup_keeps_its_registration(tgbot, session_factory):
    await engineering_group(tgbot)
    await tgbot.feed(tg.update(message={"message_id": 9, "date": 0, "chat": ENGINEERING, "from": LEAD,
                                        "migrate_to_chat_id": -100999}))
    with session_factory() as s:
        assert s.scalar(select(GroupChat)).chat_id == "-100999"


async def test_group_button_press_through_the_webhook(tgbot, deliver, tg_settings, clock, session_factory, nlu):
    await engineering_group(tgbot)
    await tgbot.bind_staff("tech1", TECH1)
    ticket = await report_lift_repair(tgbot)
    await deliver()
    message_id, _ = card_in_group(tgbot, ENGINEERING)
    app = create_app(tg_settings, clock=clock, session_factory=session_factory, nlu=nlu)
    press = tg.press(TECH1, f"t:a:{ticket.id}", chat=ENGINEERING, message_id=message_id)

    def post() -> int:
        with TestClient(app) as client:
            return client.post("/telegram/webhook", json=press,
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code

    assert await asyncio.to_thread(post) == 200
    with session_factory() as s:
        assert s.get(Ticket, ticket.id).assignee_id is not None
    assert tgbot.api.sent("editMessageText", ENGINEERING["id"])
