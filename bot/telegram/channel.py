"""What every Telegram handler shares, and the database side of each update (run in a worker thread).

Each update is one transaction: its update_id is recorded first (a duplicate stops there), then the
conversation or the group bookkeeping runs in the same transaction, so a retried update changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.ext import CallbackContext

from backend.catalogue import name, render
from backend.clock import Clock
from backend.db import transaction
from backend.domain import Role
from backend.models import ChatIdentity, Community, GroupChat, Staff, Ticket
from backend.settings import Settings
from bot.telegram import dedup, groups
from bot.telegram import texts as _texts  # noqa: F401  (registers the texts)
from bot.telegram.inbound import BotIdentity
from bot.telegram.limiter import RateLimiter, process_limiter
from handlers.conversation import Conversation
from handlers.messages import Inbound, Outbound

BOT_DATA_KEY = "guanjia"


@dataclass
class Turn:
    """The outcome of one update: the replies, and what the Telegram side needs to place them."""

    replies: list[Outbound] = field(default_factory=list)
    group_purpose: str | None = None  # owners | department | None (a private chat)
    community_code: str = ""
    new_tickets: list[int] = field(default_factory=list)  # numbers of tickets this message opened
    holders: dict[int, str] = field(default_factory=dict)  # ticket id -> who has it (for group cards)


class TelegramChannel:
    def __init__(self, conversation: Conversation, settings: Settings, limiter: RateLimiter | None = None) -> None:
        self.conversation = conversation
        self.settings = settings
        self.limiter = limiter or process_limiter(settings)

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.conversation.session_factory

    @property
    def clock(self) -> Clock:
        return self.conversation.clock

    @staticmethod
    def of(context: CallbackContext) -> TelegramChannel:  # type: ignore[type-arg]
        return context.application.bot_data[BOT_DATA_KEY]

    @staticmethod
    def me(bot: Bot) -> BotIdentity:
        return BotIdentity(bot.id, bot.username or "")

    # ---- conversations ------------------------------------------------------------------

    def converse(self, update_id: int, inbound: Inbound) -> Turn | None:
        """A message or button press; None for a duplicate or a group message that is not ours."""
        with transaction(self.session_factory) as session:
            if not dedup.first_time(session, update_id, self.clock):
                return None
            turn = Turn()
            if inbound.is_group:
                group = groups.active(session, inbound.chat_id)
                if group is None or (not inbound.addressed and not inbound.payload):
                    return turn  # an unregistered group, or chatter not meant for the bot
                community = session.get(Community, group.community_id)
                turn.group_purpose, turn.community_code = group.purpose, community.code if community else ""
                inbound = replace(inbound, community_code=turn.community_code)
                if group.purpose == groups.OWNERS and not inbound.payload:
                    # Residents continue in private: same dialogue as their private chat, replies go there.
                    inbound = replace(inbound, chat_id=inbound.sender_id, is_group=False)
            before = session.scalar(select(func.max(Ticket.id))) or 0
            turn.replies = self.conversation.handle_in(session, inbound)
            if turn.group_purpose == groups.OWNERS:
                turn.new_tickets = self._new_tickets(session, inbound.sender_id, before)
            if turn.group_purpose == groups.DEPARTMENT:
                turn.holders = self._holders(session, turn.replies)
            return turn

    def _new_tickets(self, session: Session, user_id: str, before: int) -> list[int]:
        residents = select(ChatIdentity.resident_id).where(ChatIdentity.channel == dedup.CHANNEL,
                                                           ChatIdentity.external_id == user_id)
        return list(session.scalars(select(Ticket.number).where(Ticket.id > before,
                                                                Ticket.reporter_id.in_(residents))
                                    .order_by(Ticket.id)))

    def _holders(self, session: Session, replies: list[Outbound]) -> dict[int, str]:
        out = {}
        for reply in replies:
            ticket = session.get(Ticket, reply.meta.get("edit_of") or 0)
            holder = session.get(Staff, ticket.assignee_id) if ticket and ticket.assignee_id else None
            if ticket is not None and holder is not None:
                out[ticket.id] = holder.name
        return out

    # ---- group bookkeeping --------------------------------------------------------------

    def register_group(self, update_id: int, user_id: str, chat_id: str, title: str, argument: str) -> str | None:
        """/register_group [department]: the reply, or None for a duplicate."""
        with transaction(self.session_factory) as session:
            if not dedup.first_time(session, update_id, self.clock):
                return None
            staff = groups.registrar(session, user_id)
            if staff is None:
                return render("tg.register_denied")
            department = groups.department_of(argument) if argument else None
            if (argument and department is None) or (not argument and staff.role != Role.MANAGER):
                return render("tg.register_usage")
            group = groups.register(session, self.clock, staff.community_id, chat_id, title, department)
            community = session.get(Community, staff.community_id)
            return self._registered_text(group, community.name if community else "")

    @staticmethod
    def _registered_text(group: GroupChat, community: str) -> str:
        if group.purpose == groups.OWNERS:
            purpose = render("tg.purpose_owners")
        else:
            purpose = render("tg.purpose_department", department=name(f"dept.{group.department}", "zh"))
        return render("tg.group_registered", community=community, purpose=purpose)

    def left_group(self, update_id: int, chat_id: str) -> bool:
        """The bot was removed from (or left) a group."""
        with transaction(self.session_factory) as session:
            return dedup.first_time(session, update_id, self.clock) and groups.deactivate(session, chat_id)

    def joined_group(self, update_id: int, chat_id: str) -> str | None:
        """The bot was added to a group: a hello when the group is not registered yet."""
        with transaction(self.session_factory) as session:
            if not dedup.first_time(session, update_id, self.clock) or groups.active(session, chat_id):
                return None
            community = groups.find_default_community(session, self.settings)
            return render("tg.group_hello", community=community.name if community else "")

    def migrated(self, update_id: int, old_chat_id: str, new_chat_id: str) -> None:
        with transaction(self.session_factory) as session:
            if dedup.first_time(session, update_id, self.clock):
                groups.migrate(session, old_chat_id, new_chat_id)

    def first_time(self, update_id: int) -> bool:
        """Record an update nothing else is done with (edited messages)."""
        with transaction(self.session_factory) as session:
            return dedup.first_time(session, update_id, self.clock)

    def prune(self) -> int:
        with transaction(self.session_factory) as session:
            return dedup.prune(session, self.clock)

    def community_code(self, chat_id: str) -> str:
        """The community of a registered group, else the default one (for deep links)."""
        with self.session_factory() as session:
            group = groups.find(session, chat_id)
            community = session.get(Community, group.community_id) if group else None
            return community.code if community else self.settings.default_community
