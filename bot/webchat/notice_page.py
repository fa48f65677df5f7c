"""GET /n/<token>: a notice's public read-only page, the link WeChat template messages carry.

The token is the notice's own unguessable `page_token` (made with the notice); the page is served
only while the notice is live (published, not cancelled, not expired): otherwise a plain page says
why, 404 (unknown, not published yet) or 410 (cancelled, expired). Everything the office wrote is
escaped (Jinja autoescaping), the body keeps its line breaks (CSS, not markup), and the page runs no
script at all (its Content-Security-Policy allows none). The notice's image is served under the same
token (/n/<token>/image), only while the notice is live, never by a path anyone could guess.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from backend.catalogue import register, render
from backend.models import Community
from backend.services import notice_text, notices
from bot.webchat.media import INLINE_TYPES, inside

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
GONE = {"unknown": 404, "cancelled": 410, "expired": 410}
HEADERS = {
    "Cache-Control": "no-store",  # it may be withdrawn any minute
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
}

register({
    "noticepage.title": ("通知公告", "Notice"),
    "noticepage.urgent": ("紧急", "Urgent"),
    "noticepage.published": ("发布时间：{when}", "Published: {when}"),
    "noticepage.valid_until": ("有效期至：{when}", "Valid until: {when}"),
    "noticepage.image": ("通知图片", "Notice image"),
    "noticepage.from": ("{community} 物业服务中心", "{community} property office"),
    "noticepage.unknown": ("找不到这条通知，链接可能有误。", "This notice was not found; the link may be wrong."),
    "noticepage.cancelled": ("这条通知已撤回。", "This notice was withdrawn."),
    "noticepage.expired": ("这条通知已过期（有效期至 {when}）。", "This notice has expired (it was valid until {when})."),
})


def both(key: str, **params: Any) -> tuple[str, str]:
    return render(key, "zh", **params), render(key, "en", **params)


@router.get("/n/{token}")
def notice_page(token: str, request: Request) -> HTMLResponse:
    state = request.app.state
    tz = state.settings.timezone
    with state.session_factory() as session:
        notice, reason = notices.for_page(session, state.clock, token)
        if reason:
            when = notice_text.local(notice.expires_at, tz) if notice is not None and notice.expires_at else ""
            return templates.TemplateResponse(request, "notice_page.html", {
                "notice": None, "heading": both("noticepage.title"), "why": both(f"noticepage.{reason}", when=when),
            }, status_code=GONE[reason], headers=HEADERS)
        community = session.get(Community, notice.community_id)
        context = {
            "notice": notice, "heading": both("noticepage.title"),
            "category": (notice_text.category_label(notice.category), notice_text.category_label(notice.category,
                                                                                                 "en")),
            "urgent": both("noticepage.urgent") if notice.urgent else None,
            "source": both("noticepage.from", community=community.name) if community is not None else None,
            "published": both("noticepage.published", when=notice_text.local(notice.scheduled_at, tz)),
            "valid": (both("noticepage.valid_until", when=notice_text.local(notice.expires_at, tz))
                      if notice.expires_at is not None else None),
            "image": f"{notice_text.page_path(token)}/image" if notice.image_path else "",
            "image_alt": both("noticepage.image"),
        }
        return templates.TemplateResponse(request, "notice_page.html", context, headers=HEADERS)


@router.get("/n/{token}/image")
def notice_image(token: str, request: Request) -> FileResponse:
    state = request.app.state
    with state.session_factory() as session:
        notice, reason = notices.for_page(session, state.clock, token)
        relative = notice.image_path if notice is not None and not reason else ""
    target = inside(Path(state.settings.media_dir), relative) if relative else None
    content_type = mimetypes.guess_type(target.name)[0] if target is not None else None
    if target is None or content_type not in INLINE_TYPES:
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(target, media_type=content_type, headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})
