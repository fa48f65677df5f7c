"""Dialogue fixtures: the real built-in NLU (trained once, cached) and the demo community."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.services.demo import seed_demo
from handlers.conversation import Conversation
from handlers.messages import Inbound, InboundAttachment, Outbound
from nlu import load_nlu

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


@pytest.fixture(scope="session")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def demo(session_factory, clock, settings):
    settings.demo_mode = True
    with session_factory() as s:
        community = seed_demo(s, settings, clock)
        s.commit()
        return community


@pytest.fixture
def conversation(session_factory, nlu, clock, settings, demo):
    return Conversation(session_factory, nlu, clock, settings)


class Chat:
    """One person talking: say() and press() return the texts of the replies; `last` keeps the Outbounds."""

    def __init__(self, conversation: Conversation, user: str, channel: str = "web") -> None:
        self.conversation, self.user, self.channel = conversation, user, channel
        self.last: list[Outbound] = []

    def _send(self, **kw) -> str:
        inbound = Inbound(channel=self.channel, chat_id=self.user, sender_id=self.user, **kw)
        self.last = self.conversation.handle(inbound)
        return "\n".join(o.text for o in self.last)

    def say(self, text: str) -> str:
        return self._send(text=text)

    def say_confirmed(self, text: str) -> str:
        """Say it, and confirm if asked (the policy asks when the parse is only fairly sure)."""
        reply = self.say(text)
        return self.say("确认") if "请确认" in reply else reply

    def press(self, payload: str) -> str:
        return self._send(payload=payload)

    def photo(self, url: str) -> str:
        return self._send(attachments=(InboundAttachment("photo", url=url, content_type="image/jpeg"),))

    def buttons(self) -> list[tuple[str, str]]:
        return [(b.title, b.payload) for o in self.last for b in o.buttons]


@pytest.fixture
def chat(conversation):
    def make(user: str, channel: str = "web") -> Chat:
        return Chat(conversation, user, channel)

    return make
