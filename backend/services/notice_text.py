"""A notice as residents read it in a chat: its text (heading, body, expiry), its WeChat parts, its page.

One text for every channel: the broadcast engine renders it per language (bot/delivery/notice_render.py
adds the buttons and the image), and the notices service renders the same text for the preview. So the
number of WeChat parts the preview announces is the number the WeChat sender sends.

WeChat's customer-service (客服) text holds 2,048 bytes. A longer text goes as numbered parts
(（1/3）…), each at most `WECHAT_PART_BYTES`: room is kept in every part for its number and, in the last,
for the 收到/报名 links. Where the parts cannot go (outside the 48-hour window, or too few sends left in
it), WeChat residents get a template message whose link opens the notice's public page, `/n/<token>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from backend.catalogue import register, render

CATEGORIES = ("outage", "safety", "fee", "event", "tip")
PAGE_PREFIX = "/n/"
WECHAT_MAX_BYTES = 2048  # one customer-service text message (UTF-8)
# Kept free in every part: its number "（12/12）" (11 bytes) and, in the last part, the 收到 and 报名 menu
# links (about 210 bytes with ids of 19 digits, in English).
WECHAT_PART_RESERVE = 272
WECHAT_PART_BYTES = WECHAT_MAX_BYTES - WECHAT_PART_RESERVE

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
    "broadcast.part": ("（{i}/{n}）", "({i}/{n}) "),
    "notices.wechat.outside_template": ("收到模板消息，点开链接阅读全文。",
                                        "a template message whose link opens the full text."),
    "notices.wechat.outside_none": ("无法送达（未配置通知的模板消息）。",
                                    "they cannot be reached (no template message is configured for notices)."),
    "notices.wechat.one": ("微信住户：48小时客服窗口内收到 1 条消息；窗口外{outside}",
                           "WeChat residents: one message inside the 48-hour customer-service window; outside it, "
                           "{outside_en}"),
    "notices.wechat.parts_template": (
        "微信住户：正文较长，客服窗口内剩余条数够时分 {n} 条收到（1/{n}…）；不够或在窗口外{outside}",
        "WeChat residents: the text is long; inside the customer-service window, with {n} sends left, it arrives "
        "as {n} numbered messages; otherwise, {outside_en}"),
    "notices.wechat.parts_none": (
        "微信住户：正文较长，客服窗口内剩余条数够时分 {n} 条收到（1/{n}…），不够时收到 1 条带全文链接的消息；"
        "窗口外{outside}",
        "WeChat residents: the text is long; inside the customer-service window, with {n} sends left, it arrives "
        "as {n} numbered messages, with fewer as one message linking to the full text; outside it, {outside_en}"),
})


class Readable(Protocol):
    """A notice, or a draft of one: what its text is made of."""

    title: str
    body: str
    category: str
    urgent: bool
    expires_at: datetime | None


def category_label(category: str, lang: str = "zh") -> str:
    key = f"broadcast.category.{category}" if category in CATEGORIES else "broadcast.category.other"
    return render(key, lang)


def local(at: datetime, tz: str) -> str:
    """A stored time (naive UTC) as the community's local 'YYYY-MM-DD HH:MM'."""
    zone = ZoneInfo(tz)
    moment = at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone) if at.tzinfo is None else at.astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M")


def heading(notice: Readable, lang: str = "zh") -> str:
    return render("broadcast.heading", lang, category=category_label(notice.category, lang),
                  urgent=render("broadcast.urgent", lang) if notice.urgent else "", title=notice.title)


def text(notice: Readable, lang: str = "zh", tz: str = "Asia/Shanghai") -> str:
    """【category】【紧急】title, the body, "有效期至 …": the words every channel shows."""
    parts = [heading(notice, lang), notice.body.strip()]
    if notice.expires_at is not None:
        parts.append(render("broadcast.expires", lang, expires=local(notice.expires_at, tz)))
    return "\n\n".join(p for p in parts if p)


def split_text(value: str, max_bytes: int = WECHAT_MAX_BYTES) -> list[str]:
    """The text in parts of at most `max_bytes` UTF-8 bytes, cut at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in value.splitlines(keepends=True):
        while len(line.encode()) > max_bytes:  # one line longer than a part: cut it by characters
            head = line
            while len(head.encode()) > max_bytes:
                head = head[: max(1, len(head) * max_bytes // len(head.encode()) - 1)]
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
            line = line[len(head):]
        if len((current + line).encode()) > max_bytes:
            parts.append(current)
            current = ""
        current += line
    if current or not parts:
        parts.append(current)
    return [p.rstrip("\n") for p in parts]


def wechat_parts(value: str) -> list[str]:
    """The customer-service messages a WeChat resident gets for this text: one, or several to number."""
    return split_text(value, WECHAT_PART_BYTES)


def part_label(index: int, count: int, lang: str = "zh") -> str:
    """（2/3）: the number a part starts with (index from 1)."""
    return render("broadcast.part", lang, i=index, n=count)


def page_path(token: str) -> str:
    return f"{PAGE_PREFIX}{token}"


def page_url(base_url: str, token: str) -> str:
    """The absolute link to a notice's public page; '' without a token."""
    return f"{base_url.rstrip('/')}{page_path(token)}" if token else ""


@dataclass(frozen=True)
class WeChatPlan:
    """What a WeChat resident gets for a notice: `parts` customer-service messages inside the window (1: one
    message), and whether a template message (with the page link) reaches those outside it."""

    parts: int
    template: bool

    def as_dict(self) -> dict[str, Any]:
        return {"parts": self.parts,
                "inside_window": "one_message" if self.parts == 1 else "parts",
                "outside_window": "template_link" if self.template else "unreachable",
                "description": self.describe("zh"), "description_en": self.describe("en")}

    def describe(self, lang: str = "zh") -> str:
        outside = "notices.wechat.outside_template" if self.template else "notices.wechat.outside_none"
        key = ("notices.wechat.one" if self.parts == 1 else
               "notices.wechat.parts_template" if self.template else "notices.wechat.parts_none")
        return render(key, lang, n=self.parts, outside=render(outside, "zh"), outside_en=render(outside, "en"))


def wechat_plan(notice: Readable, kind: str, templates: dict[str, Any]) -> WeChatPlan:
    """The plan for the notice as composed (Chinese, residents' default), with the configured templates
    (settings.wechat_templates, keyed by the notice's kind)."""
    return WeChatPlan(len(wechat_parts(text(notice))), bool(templates.get(kind)))
