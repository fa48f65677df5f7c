"""Residents in private chats, through the real PTB Application against the fake Bot API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.models import Attachment, ChatIdentity, Ticket
from tests.telegram import updates as tg

pytestmark = [pytest.mark.asyncio, pytest.mark.filterwarnings("error")]


async def test_start_with_community_code_joins_and_offers_the_menu(tgbot, session_factory):
    alice = tg.user(1001, "Alice")
    await tgbot.feed(tg.text(alice, "/start demo"))
    texts = tgbot.api.texts(1001)
    assert any("物业管家" in t for t in texts)
    last = tgbot.api.sent("sendMessage", 1001)[-1]
    keyboard = last["reply_markup"]["keyboard"]  # the menu as a reply keyboard
    assert any("报修" in key["text"] for row in keyboard for key in row)
    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "1001"))
        assert identity is not None and identity.channel == "telegram" and identity.resident_id


async def test_reply_keyboard_title_acts_as_its_button(tgbot):
    bob = tg.user(1002)
    await tgbot.feed(tg.text(bob, "/menu"))
    tgbot.api.clear()
    await tgbot.feed(tg.text(bob, "🔧 报修"))
    assert any("哪里" in t or "什么" in t for t in tgbot.api.texts(1002))


async def test_public_repair_with_photo_and_location(tgbot, session_factory):
    carol = tg.user(1003)
    tgbot.api.add_file("photo-1", b"\xff\xd8\xff real-ish jpeg bytes")
    await tgbot.feed(tg.text(carol, "5号楼电梯按钮坏了"))
    assert any("工单号" in t for t in tgbot.api.texts(1003))
    await tgbot.feed(tg.photo(carol, "photo-1"))
    with session_factory() as s:
        ticket = s.scalar(select(Ticket).order_by(Ticket.id.desc()))
        photos = list(s.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
    assert ticket.department == "engineering"
    assert photos and photos[0].url.startswith("/media/tg/")
    stored = tgbot.settings.media_dir / "tg" / photos[0].url.rsplit("/", 1)[-1]
    assert stored.read_bytes() == b"\xff\xd8\xff real-ish jpeg bytes"
    assert tgbot.api.sent("getFile")


async def test_shared_location_becomes_the_place_of_a_repair(tgbot, session_factory):
    dave = tg.user(1004)
    await tgbot.feed(tg.text(dave, "我要报修"))
    await tgbot.feed(tg.location(dave, 31.2304, 121.4737))
    assert tgbot.api.texts(1004)


async def test_voice_is_answered_with_a_request_for_text(tgbot):
    erin = tg.user(1005)
    await tgbot.feed(tg.voice(erin))
    assert any("文字" in t for t in tgbot.api.texts(1005))


async def test_edited_message_changes_nothing_and_is_explained(tgbot, session_factory):
    frank = tg.user(1006)
    await tgbot.feed(tg.edited(frank, "5号楼电梯按钮坏了"))
    assert any("新消息" in t for t in tgbot.api.texts(1006))
    with session_factory() as s:
        assert s.scalar(select(Ticket)) is None


async def test_duplicate_update_is_ignored(tgbot, session_factory):
    gina = tg.user(1007)
    update = tg.text(gina, "5号楼电梯按钮坏了")
    await tgbot.feed(update)
    sent = len(tgbot.api.sent(chat_id=1007))
    await tgbot.feed(update)  # a webhook retry, or a restart replaying getUpdates
    assert len(tgbot.api.sent(chat_id=1007)) == sent
    with session_factory() as s:
        assert len(list(s.scalars(select(Ticket)))) == 1


async def test_unknown_user_and_garbage_do_not_crash(tgbot):
    stranger = tg.user(1008, "陌生人")
    await tgbot.feed(tg.text(stranger, "\x00<script>" + "哈" * 5000))
    await tgbot.feed(tg.press(stranger, "t:a:999999", chat=tg.private_chat(stranger), message_id=5))
    await tgbot.feed(tg.press(stranger, "💥" * 10, chat=tg.private_chat(stranger), message_id=5))
    assert len(tgbot.api.sent("answerCallbackQuery")) == 2
    assert tgbot.api.texts(1008)


async def test_old_update_ids_are_forgotten_at_start_up(tgbot, session_factory, clock):
    from backend.models import ProcessedUpdate

    await tgbot.feed(tg.text(tg.user(1009), "你好"))
    clock.advance(days=15)
    await tgbot.feed(tg.text(tg.user(1009), "谢谢"))
    channel = tgbot.application.bot_data["guanjia"]
    assert channel.prune() == 1
    with session_factory() as s:
        assert len(list(s.scalars(select(ProcessedUpdate)))) == 1
