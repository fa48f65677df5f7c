"""A notice as one Outbound: category label, title, body, expiry and image; "收到" (and "报名") buttons.

Rendered once per (notice, language, audience) by the broadcast engine, not once per recipient.
Residents get a "收到" button (payload `nack:<notice id>`, handled by the notices flow); an
invitation also carries the events flow's sign-up button (`e:join:<event id>`). Groups and staff
get the text alone: an acknowledgement in a group would not say who read it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.catalogue import register, render
from backend.models import Notice
from handlers import payloads
from handlers.messages import Button, Outbound

MEDIA_PREFIX = "/media/"
CATEGORIES = ("outage", "safety", "fee", "event", "tip")

register({
    "broadcast.category.outage": ("停水停电/设施维护", "Outage / maintenance"),
    "broadcast.category.safety": ("安全提示", "Safety"),
    "broadcast.category.fee": ("费用", "Fees"),
    "broadcast.category.event": ("社区活动", "Community event"),
    "broadcast.category.tip": ("温馨提示", "Tip"),
    "broadcast.category.other": ("通知", "Notice"),
    "broadcast.urgent": ("【紧急】", "[URGENT] "),
    "broadcast.heading": ("【{category}】{urgent}{title}", "[{category}] {urgent}{title}"),
    "broadcast.expires": ("有效期至 {expires}", "Valid until {expires}"),
    "broadcast.ack": ("收到", "Got it"),
    "broadcast.signup": ("报名", "Sign up"),
})


def category_label(category: str, lang: str = "zh") -> str:
    key = f"broadcast.category.{category}" if category in CATEGORIES else "broadcast.category.other"
    return render(key, lang)


def ack_payload(notice_id: int) -> str:
    return f"nack:{notice_id}"


def render_notice(notice: Notice, lang: str = "zh", audience: str = "resident",
                  tz: str = "Asia/Shanghai") -> Outbound:
    lang = lang if lang in ("zh", "en") else "zh"
    heading = render("broadcast.heading", lang, category=category_label(notice.category, lang),
                     urgent=render("broadcast.urgent", lang) if notice.urgent else "", title=notice.title)
    parts = [heading, notice.body.strip()]
    if notice.expires_at is not None:
        parts.append(render("broadcast.expires", lang, expires=_local(notice.expires_at, tz)))
    buttons: list[Button] = []
    if audience == "resident":
        buttons.append(Button(render("broadcast.ack", lang), ack_payload(notice.id)))
        if notice.kind == "invitation" and notice.event_id is not None:
            buttons.append(Button(render("broadcast.signup", lang), payloads.make("e", "join", notice.event_id)))
    image = f"{MEDIA_PREFIX}{notice.image_path.lstrip('/')}" if notice.image_path else None
    return Outbound("\n\n".join(p for p in parts if p), buttons, image_url=image,
                    meta={"kind": notice.kind, "notice_id": notice.id, "category": notice.category})


def _local(at: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    local = at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone) if at.tzinfo is None else at.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M")
