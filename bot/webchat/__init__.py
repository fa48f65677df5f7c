"""The web chat channel: the /chat page, its JSON API under /api/webchat, /media for its images, and the
notices' public pages /n/<token> (what WeChat template messages link to)."""

from __future__ import annotations

from fastapi import FastAPI

CHANNEL = "web"


def mount(app: FastAPI) -> None:
    from bot.webchat.api import router as api_router
    from bot.webchat.media import router as media_router
    from bot.webchat.notice_page import router as notice_page_router
    from bot.webchat.page import router as page_router

    app.include_router(api_router, prefix="/api/webchat")
    app.include_router(page_router)
    app.include_router(media_router)
    app.include_router(notice_page_router)
