"""A notice as one Outbound: its text (backend/services/notice_text.py), image, "收到" (and "报名") buttons.

Rendered once per (notice, language, audience) by the broadcast engine, not once per recipient.
Residents get a "收到" button (payload `nack:<notice id>`, handled by the notices flow); an
invitation also carries the events flow's sign-up button (`e:join:<event id>`). Groups and staff
get the text alone: an acknowledgement in a group would not say who read it.

`meta` carries what a channel may need beyond the text: the notice's kind and id, its public page
token (the WeChat template's link), title, category label and local expiry (template fields).
"""

from __future__ import annotations

from backend.catalogue import register, render
from backend.models import Notice
from backend.services import notice_text
from handlers import payloads
from handlers.messages import Button, Outbound

MEDIA_PREFIX = "/media/"

register({
    "broadcast.ack": ("收到", "Got it"),
    "broadcast.signup": ("报名", "Sign up"),
})


def ack_payload(notice_id: int) -> str:
    return f"nack:{notice_id}"


def render_notice(notice: Notice, lang: str = "zh", audience: str = "resident",
                  tz: str = "Asia/Shanghai") -> Outbound:
    lang = lang if lang in ("zh", "en") else "zh"
    buttons: list[Button] = []
    if audience == "resident":
        buttons.append(Button(render("broadcast.ack", lang), ack_payload(notice.id)))
        if notice.kind == "invitation" and notice.event_id is not None:
            buttons.append(Button(render("broadcast.signup", lang), payloads.make("e", "join", notice.event_id)))
    image = f"{MEDIA_PREFIX}{notice.image_path.lstrip('/')}" if notice.image_path else None
    meta = {"kind": notice.kind, "notice_id": notice.id, "category": notice.category,
            "page_token": notice.page_token or "", "title": notice.title,
            "category_label": notice_text.category_label(notice.category, lang),
            "expires": notice_text.local(notice.expires_at, tz) if notice.expires_at is not None else ""}
    return Outbound(notice_text.text(notice, lang, tz), buttons, image_url=image, meta=meta)
