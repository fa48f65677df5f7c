"""Telegram fixtures: a fake Bot API server, the real PTB Application on it, the demo community, the real NLU."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from telegram import Update

from backend.models import Staff
from backend.services.demo import seed_demo
from backend.services.invites import create_invite
from bot.telegram.application import build_application
from bot.telegram.limiter import RateLimiter
from handlers.conversation import Conversation
from nlu import load_nlu
from tests.telegram import updates as tg
from tests.telegram.fake_bot_api import FakeBotApi

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"
TOKEN = "123456789:AAtest-token_for-the-fake-api"
SECRET = "webhook_secret-123"
SPEEDUP = 1000.0  # the limiter's clock runs this much faster, so its limits cost no test time


def fast_limiter() -> RateLimiter:
    return RateLimiter(now=lambda: time.monotonic() * SPEEDUP)


@pytest.fixture(scope="session")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi(TOKEN).start()
    yield api
    api.stop()


@pytest.fixture
def tg_settings(settings, fake_api):
    settings.telegram_token = TOKEN
    settings.telegram_api_url = fake_api.url
    settings.telegram_webhook_secret = SECRET
    return settings


@pytest.fixture
def demo(session_factory, clock, tg_settings):
    with session_factory() as s:
        community = seed_demo(s, tg_settings, clock)
        s.commit()
        return community


@pytest.fixture
def conversation(session_factory, nlu, clock, tg_settings, demo):
    return Conversation(session_factory, nlu, clock, tg_settings)


class Bot:
    """The running Application, fed real Update JSON."""

    def __init__(self, application: Any, api: FakeBotApi, session_factory: Any, clock: Any, settings: Any) -> None:
        self.application, self.api = application, api
        self.session_factory, self.clock, self.settings = session_factory, clock, settings

    async def feed(self, data: dict[str, Any]) -> dict[str, Any]:
        await self.application.process_update(Update.de_json(data, self.application.bot))
        return data

    async def bind_staff(self, login: str, user: dict[str, Any]) -> None:
        """The staff member redeems an invite code in a private chat (/bind CODE)."""
        with self.session_factory() as s:
            member = s.scalar(select(Staff).where(Staff.login == login))
            code = create_invite(s, member, self.clock, self.settings)
            s.commit()
        await self.feed(tg.text(user, f"/bind {code}"))
        assert "绑定成功" in self.api.texts(user["id"])[-1]

    async def register_group(self, chat: dict[str, Any], by: dict[str, Any], argument: str = "") -> str:
        await self.feed(tg.text(by, f"/register_group {argument}".strip(), chat=chat))
        return self.api.texts(chat["id"])[-1]


@pytest_asyncio.fixture
async def tgbot(tg_settings, conversation, fake_api, session_factory, clock) -> AsyncIterator[Bot]:
    application = build_application(tg_settings, conversation, polling=False, limiter=fast_limiter())
    async with application:
        yield Bot(application, fake_api, session_factory, clock, tg_settings)


@pytest.fixture
def sender(tg_settings, session_factory, clock):
    from bot.telegram.sender import TelegramSender

    out = TelegramSender(tg_settings, session_factory, clock, limiter=fast_limiter())
    yield out
    out.close()


@pytest.fixture
def deliver(sender, session_factory, clock):
    """One delivery round of the outbox through the Telegram sender (as the worker does it)."""
    import asyncio

    from bot.delivery.dispatcher import Dispatcher

    dispatcher = Dispatcher(session_factory, clock, {"telegram": sender}, worker_id="test")

    async def run():
        return await asyncio.to_thread(dispatcher.deliver_once)

    return run
