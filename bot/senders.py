"""Which senders this process has: the inbox channels always, platforms when configured."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.settings import Settings
from bot.delivery.inbox import InboxSender
from bot.delivery.sender import Sender
from bot.telegram import sender as telegram_sender
from bot.wechat import sender as wechat_sender
from bot.wecom import sender as wecom_sender

SenderFactory = Callable[[Settings, sessionmaker[Session], Clock], Sender | None]

# Platform channels append their factory here (returning None when not configured).
FACTORIES: list[SenderFactory] = []
FACTORIES.append(telegram_sender.factory)
FACTORIES += [wechat_sender.factory, wecom_sender.factory]


def build_senders(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> dict[str, Sender]:
    senders: dict[str, Sender] = {
        "web": InboxSender("web", session_factory, clock),
        "terminal": InboxSender("terminal", session_factory, clock),
    }
    for factory in FACTORIES:
        sender = factory(settings, session_factory, clock)
        if sender is not None:
            senders[sender.channel] = sender
    return senders
