"""The outbox's Telegram sender: 429 retry_after, 403 unreachable, network retries, long texts, card edits."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.models import ChatIdentity, Community, GroupChat, Notification
from bot.delivery.sender import Target
from handlers.messages import Button, Outbound
from tests.telegram import updates as tg
from tests.telegram.conftest import TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.filterwarnings("error")]

RESIDENT = tg.user(4001, "住户乙")


async def resident_with_pending_notice(tgbot, session_factory):
    """A resident with one notification waiting in the outbox (their ticket was accepted)."""
    await tgbot.feed(tg.text(RESIDENT, "/start demo"))
    await tgbot.feed(tg.text(RESIDENT, "5号楼电梯按钮坏了"))
    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == str(RESIDENT["id"])))
        note = Notification(community_id=identity.community_id, created_at=tgbot.clock.now(),
                            recipient_type="resident", resident_id=identity.resident_id, kind="chat.thank",
                            params={}, status="pending", attempts=0, next_attempt_at=tgbot.clock.now())
        # everything else already out of the way: only this row is due
        for other in s.scalars(select(Notification)):
            other.status = "sent"
        s.add(note)
        s.commit()
        return note.id


async def test_429_retry_after_is_honoured(tgbot, deliver, session_factory, clock):
    note_id = await resident_with_pending_notice(tgbot, session_factory)
    tgbot.api.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7, chat_id=RESIDENT["id"])
    stats = await deliver()
    assert stats.retried == 1 and stats.sent == 0
    with session_factory() as s:
        note = s.get(Notification, note_id)
        assert note.status == "pending" and note.next_attempt_at == clock.now() + timedelta(seconds=7)
    clock.advance(seconds=3)
    assert (await deliver()).sent == 0  # not before retry_after has passed
    clock.advance(seconds=5)
    assert (await deliver()).sent == 1
    assert tgbot.api.texts(RESIDENT["id"])[-1] == "不客气，有需要随时找我！"


async def test_in_chat_reply_waits_out_a_short_429(tgbot):
    tgbot.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=RESIDENT["id"])
    await tgbot.feed(tg.text(RESIDENT, "谢谢"))
    calls = tgbot.api.sent("sendMessage", RESIDENT["id"])
    assert len(calls) >= 2 and calls[1].at - calls[0].at >= 1.0  # the same message again, after retry_after
    assert calls[0]["text"] == calls[1]["text"]


async def test_403_marks_the_resident_unreachable_and_tells_staff(tgbot, deliver, session_factory):
    note_id = await resident_with_pending_notice(tgbot, session_factory)
    tgbot.api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=RESIDENT["id"])
    stats = await deliver()
    assert stats.unreachable == 1
    with session_factory() as s:
        assert s.get(Notification, note_id).status == "unreachable"
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == str(RESIDENT["id"])))
        assert identity.unreachable is True
        told = s.scalar(select(Notification).where(Notification.kind == "delivery.unreachable"))
        assert told is not None and told.department == "customer_service"


async def test_network_errors_are_retried_with_backoff(tgbot, sender):
    tgbot.api.fail("sendMessage", 502, "Bad Gateway", chat_id=RESIDENT["id"])
    result = sender.send(Target("telegram", str(RESIDENT["id"]), "resident"), Outbound("你好"))
    assert result.status == "sent"
    assert len(tgbot.api.sent("sendMessage", RESIDENT["id"])) == 2


async def test_long_text_is_split_and_buttons_ride_on_the_last_part(tgbot, sender):
    text = "\n".join(f"第{i}行：" + "物业通知内容" * 20 for i in range(100))
    result = sender.send(Target("telegram", str(RESIDENT["id"]), "resident"),
                         Outbound(text, [Button("📋 进度", "r:view:1")]))
    assert result.status == "sent"
    parts = tgbot.api.sent("sendMessage", RESIDENT["id"])
    assert len(parts) > 1 and all(len(p["text"]) <= 4096 for p in parts)
    assert "".join(p["text"] for p in parts).replace("\n", "") == text.replace("\n", "")
    assert parts[-1].buttons and not any(p.buttons for p in parts[:-1])


async def test_edit_of_replaces_the_remembered_card(tgbot, sender, session_factory):
    group = Target("telegram", "-100555", "group", group_id=1)
    await tgbot.feed(tg.text(RESIDENT, "5号楼电梯按钮坏了"))
    with session_factory() as s:
        note = s.scalar(select(Notification).where(Notification.department == "engineering"))
        ticket_id = note.ticket_id
    first = sender.send(group, Outbound("新工单", [Button("✋ 接单", f"t:a:{ticket_id}")]), note.id)
    message_id = int(first.external_id.rsplit(":", 1)[1])
    second = sender.send(group, Outbound("已接单", meta={"edit_of": ticket_id}), None)
    assert second.external_id == first.external_id
    edit = tgbot.api.sent("editMessageText", "-100555")[-1]
    assert int(edit["message_id"]) == message_id and edit["text"] == "已接单"


async def test_group_that_removed_the_bot_is_unreachable_and_deactivated(tgbot, sender, session_factory, clock):
    with session_factory() as s:
        group = GroupChat(community_id=s.scalar(select(Community.id)), channel="telegram", chat_id="-100666", purpose="department",
                          department="engineering", created_at=clock.now())
        s.add(group)
        s.commit()
        group_id = group.id
    tgbot.api.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat", chat_id="-100666")
    result = sender.send(Target("telegram", "-100666", "group", group_id=group_id), Outbound("新工单"))
    assert result.status == "unreachable"
    with session_factory() as s:
        assert s.get(GroupChat, group_id).active is False


async def test_the_token_never_reaches_the_log(tgbot, sender, caplog):
    caplog.set_level(logging.DEBUG)
    tgbot.api.fail("sendMessage", 502, "Bad Gateway", chat_id=RESIDENT["id"])
    sender.send(Target("telegram", str(RESIDENT["id"]), "resident"), Outbound("你好"))
    await tgbot.feed(tg.text(RESIDENT, "你好"))
    logging.getLogger("test").info("url was %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    assert caplog.records and TOKEN not in caplog.text
