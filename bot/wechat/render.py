"""Outbound -> WeChat text: buttons become tappable bizmsgmenu links whose id is our payload."""

from __future__ import annotations

import html
import time

from wechatpy.replies import TextReply

from bot.wechat.limits import PASSIVE_TEXT_MAX_BYTES
from handlers.messages import Outbound


def cut_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary with an ellipsis."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


def menu_link(title: str, payload: str) -> str:
    # Tapping it sends `title` as a text message carrying bizmsgmenuid=payload (客服消息 菜单消息 format)
    return (f'<a href="weixin://bizmsgmenu?msgmenucontent={html.escape(title)}&amp;msgmenuid={html.escape(payload)}">'
            f"{html.escape(title, quote=False)}</a>")


def as_text(replies: list[Outbound], limit: int = PASSIVE_TEXT_MAX_BYTES) -> str:
    """All replies of one turn as one text (WeChat takes one passive reply), buttons as links."""
    parts = []
    for reply in replies:
        lines = [reply.text] if reply.text else []
        lines += [menu_link(b.title, b.payload) for b in reply.buttons]
        if lines:
            parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    if len(text.encode()) > limit:  # too long with links: keep the words, drop the links
        text = cut_bytes("\n\n".join(r.text for r in replies if r.text), limit)
    return text


def passive_text(to_user: str, from_user: str, content: str) -> str:
    reply = TextReply(source=from_user, target=to_user, content=content, time=int(time.time()))
    return reply.render()
