"""`guanjia chat --user ID`: talk to the assistant in a terminal, one line at a time.

Replies print with numbered buttons (typing the number presses it); messages pushed to this
chat (the channel's inbox) print before each prompt. /quit or end of input leaves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import typer
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock, SystemClock
from backend.db import make_engine, make_session_factory
from backend.models import ChannelMessage
from bot.cli.common import fail, load_settings
from bot.delivery import inbox
from handlers.conversation import Conversation
from handlers.messages import Inbound

QUIT = frozenset({"/quit", "/exit", "/q"})
PROMPT = "> "
BACKLOG = 5  # pushed messages from before this session shown at the start


class TerminalChat:
    """One person's chat on an inbox channel: send lines or button numbers, collect what was pushed."""

    def __init__(self, conversation: Conversation, session_factory: sessionmaker[Session], clock: Clock,
                 user: str, channel: str = "terminal", deliver: Callable[[], Any] | None = None) -> None:
        self.conversation, self.session_factory, self.clock = conversation, session_factory, clock
        self.user, self.channel, self.deliver = user, channel, deliver
        self.buttons: list[tuple[str, str]] = []  # (title, payload) of what was shown last, numbered from 1
        with session_factory() as session:  # the last few from before, then what arrives from now on
            self.cursor = session.scalar(
                select(ChannelMessage.id).where(ChannelMessage.channel == channel, ChannelMessage.chat_id == user,
                                                ChannelMessage.pushed.is_(True))
                .order_by(ChannelMessage.id.desc()).offset(BACKLOG).limit(1)) or 0

    def pushed(self) -> list[dict[str, Any]]:
        if self.deliver is not None:
            self.deliver()
        with self.session_factory() as session:
            rows = inbox.fetch(session, self.channel, self.user, self.cursor)
        if rows:
            self.cursor = rows[-1].id
        return [row.body for row in rows]

    def send(self, line: str) -> list[dict[str, Any]]:
        """A typed line; a number that matches a shown button presses that button."""
        payload = None
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            payload = self.buttons[int(line) - 1][1]
        inbound = Inbound(channel=self.channel, chat_id=self.user, sender_id=self.user,
                          text="" if payload else line, payload=payload, received_at=self.clock.now())
        return [o.as_json() for o in self.conversation.handle(inbound)]

    def render(self, messages: Iterable[dict[str, Any]], pushed: bool = False) -> str:
        """Messages as text, their buttons numbered; those numbers are what the next line may press."""
        lines: list[str] = []
        shown: list[tuple[str, str]] = []
        for message in messages:
            prefix = "🔔 " if pushed else ""
            lines.append(prefix + message["text"])
            if message.get("image_url"):
                lines.append(f"   [图片] {message['image_url']}")
            for button in message.get("buttons") or []:
                shown.append((button["title"], button["payload"]))
                lines.append(f"   [{len(shown)}] {button['title']}")
        if shown:
            self.buttons = shown
        return "\n".join(lines)


def repl(chat: TerminalChat, lines: Iterable[str], echo: Callable[[str], None], prompt: Callable[[], None]) -> None:
    for_each = iter(lines)
    while True:
        news = chat.pushed()
        if news:
            echo(chat.render(news, pushed=True))
        prompt()
        line = next(for_each, None)
        if line is None or line.strip().lower() in QUIT:
            echo("再见！")
            return
        line = line.strip()
        if line:
            echo(chat.render(chat.send(line)))


def chat(
    user: str = typer.Option(..., "--user", "-u", help="Who you are in this chat, e.g. u-demo."),
    channel: str = typer.Option("terminal", "--channel", help="terminal, or web to be a web chat user "
                                "(in demo mode web users staff:<login> are that staff member)."),
    deliver: bool = typer.Option(True, "--deliver/--no-deliver",
                                 help="Deliver due notifications before each prompt (no separate worker needed)."),
) -> None:
    """Chat with the assistant in the terminal: numbered buttons, pushed messages before each prompt; /quit leaves."""
    if channel not in ("terminal", "web"):
        raise fail("--channel must be terminal or web")
    if not user or len(user) > 64:
        raise fail("--user must be 1–64 characters")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("community"):
            raise fail(f"database {engine.url!r} has no tables yet: run `guanjia demo --no-serve` or "
                       "`guanjia db upgrade` first")
        from nlu import load_nlu

        factory, clock = make_session_factory(engine), SystemClock()
        nlu = load_nlu(settings.nlu, cache_dir=settings.nlu_cache_dir, timeout=settings.nlu_timeout_seconds)
        conversation = Conversation(factory, nlu, clock, settings)
        delivery = None
        if deliver:
            from bot.delivery.dispatcher import Dispatcher
            from bot.senders import build_senders

            dispatcher = Dispatcher(factory, clock, build_senders(settings, factory, clock))
            delivery = dispatcher.deliver_once
        session = TerminalChat(conversation, factory, clock, user, channel, delivery)
        typer.echo(f"管家 · {channel} 聊天（用户 {user}）。输入消息，数字按按钮，/quit 退出。")
        repl(session, sys.stdin, typer.echo, lambda: typer.echo(PROMPT, nl=False))
    finally:
        engine.dispose()
