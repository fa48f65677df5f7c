"""POST /telegram/webhook inside the FastAPI app: the secret header checked, the update handled once, 200.

Telegram repeats a webhook call on any non-2xx answer, so after the secret check every update is
answered 200 (handler errors go to PTB's error handler; duplicates are dropped by update_id).
https://core.telegram.org/bots/api#setwebhook
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from telegram import Update
from telegram.ext import Application

from backend.settings import Settings
from bot.telegram.application import build_application
from bot.telegram.channel import BOT_DATA_KEY
from nlu.api import BadJson, guarded_json

log = logging.getLogger("guanjia.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def secret_ok(given: str | None, expected: str) -> bool:
    """A webhook without a configured secret accepts nothing: anyone could post forged updates."""
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


class _Runtime:
    """The webhook's Application, built on first use in the serving event loop (and rebuilt if that changes)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.application: Application | None = None  # type: ignore[type-arg]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lock: asyncio.Lock | None = None

    async def get(self, state: Any) -> Application:  # type: ignore[type-arg]
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self.application, self.loop, self.lock = None, loop, asyncio.Lock()
        assert self.lock is not None
        async with self.lock:
            if self.application is None:
                conversation = await asyncio.to_thread(state.get_conversation)
                application = build_application(self.settings, conversation, polling=False)
                await application.initialize()  # getMe: the bot's id and username
                await asyncio.to_thread(application.bot_data[BOT_DATA_KEY].prune)
                self.application = application
        return self.application

    async def close(self) -> None:
        """Release the Bot API client when the web app stops (only in the loop that built it)."""
        if self.application is not None and self.loop is asyncio.get_running_loop():
            await self.application.shutdown()
        self.application = None


def make_router(settings: Settings) -> APIRouter:
    runtime = _Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        await runtime.close()

    router = APIRouter(prefix="/telegram", tags=["telegram"], lifespan=lifespan)

    @router.post("/webhook", include_in_schema=True)
    async def telegram_webhook(request: Request) -> JSONResponse:
        """Receive one Update from Telegram (checked against GUANJIA_TELEGRAM_WEBHOOK_SECRET)."""
        if not secret_ok(request.headers.get(SECRET_HEADER), settings.telegram_webhook_secret):
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        try:
            data = guarded_json(await request.body())  # depth-capped, lone surrogates replaced
        except BadJson:
            return JSONResponse({"ok": False, "error": "not JSON"}, status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return JSONResponse({"ok": False, "error": "not an Update"}, status_code=400)
        application = await runtime.get(request.app.state)
        try:
            update = Update.de_json(data, application.bot)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # PTB on fields of the wrong shape
            log.warning("telegram webhook: malformed update %s (%s)", data.get("update_id"), type(exc).__name__)
            return JSONResponse({"ok": True})  # answering 2xx: a retry would be just as malformed
        await application.process_update(update)
        return JSONResponse({"ok": True})

    return router


def mount(app: Any) -> None:
    """Include POST /telegram/webhook when a bot token is configured."""
    settings: Settings = app.state.settings
    if settings.telegram_token:
        app.include_router(make_router(settings))
