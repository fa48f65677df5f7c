"""A message that fails midway: its work is undone, the person is told, the chat carries on."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.db import transaction
from backend.models import ChatIdentity, DialogueState, FaqEntry, Notification, Ticket
from handlers.flows.repair import Repair
from handlers.messages import Inbound


def _bind(person) -> None:
    person.say("/bind")
    person.say("三号楼二单元1502")
    assert "绑定成功" in person.say("13900321502")


def _break_confirmation(monkeypatch) -> None:
    def boom(self, ctx, ticket):  # the ticket row exists by now
        raise RuntimeError("confirmation failed")

    monkeypatch.setattr(Repair, "confirm", boom)


def test_failure_after_a_ticket_was_written_undoes_it_and_says_so(chat, session_factory, monkeypatch, clock):
    bob = chat("u-bob-fail")
    _bind(bob)
    _break_confirmation(monkeypatch)
    reply = bob.say("厨房水管漏水了")
    assert "系统暂时出了点问题" in reply and "工单号" not in reply
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
        state = s.scalar(select(DialogueState).where(DialogueState.chat_key == "u-bob-fail"))
        assert state.updated_at == clock.now() and state.flow is None
    monkeypatch.undo()
    assert "工单号 #1" in bob.say("厨房水管漏水了")


def test_first_message_that_fails_still_leaves_the_person_known(chat, session_factory, monkeypatch):
    def boom(self, ctx):
        raise RuntimeError("parse failed")

    from handlers.conversation import Conversation

    monkeypatch.setattr(Conversation, "_dispatch", boom)
    reply = chat("u-new-fail").say("你好")
    assert "欢迎使用和谐家园" in reply and "系统暂时出了点问题" in reply
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ChatIdentity)
                        .where(ChatIdentity.external_id == "u-new-fail")) == 1


def test_failure_inside_a_channels_transaction_keeps_the_channels_work(conversation, session_factory, monkeypatch,
                                                                      chat, demo, clock):
    _bind(chat("u-carol-fail", channel="telegram"))
    _break_confirmation(monkeypatch)
    inbound = Inbound(channel="telegram", chat_id="u-carol-fail", sender_id="u-carol-fail", text="厨房水管漏水了")
    with transaction(session_factory) as s:
        s.add(FaqEntry(community_id=demo.id, question="channel row", answer="kept", updated_at=clock.now()))
        replies = conversation.handle_in(s, inbound)
    assert "系统暂时出了点问题" in replies[-1].text
    assert all("工单号" not in r.text for r in replies)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(FaqEntry.answer).where(FaqEntry.question == "channel row")) == "kept"
