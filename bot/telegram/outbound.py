"""Outbound -> Bot API calls: text split at 4,096 characters, buttons as an inline keyboard, photos as files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.telegram import keyboards, limits
from handlers.messages import Outbound

MEDIA_PREFIX = "/media/"


@dataclass
class Call:
    """One Bot API call: its method and keyword arguments (without chat_id)."""

    method: str  # send_message | send_photo
    kwargs: dict[str, Any] = field(default_factory=dict)


def split_text(text: str, limit: int = limits.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break (or a space) where there is one."""
    text = text or ""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = text.rfind(" ", limit // 2, limit)
        if cut < 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    if text or not pieces:
        pieces.append(text)
    return pieces


def media_file(url: str, media_dir: Path) -> Path | None:
    """A /media/... url stored by this deployment -> the file, refusing paths that leave media_dir."""
    if not url.startswith(MEDIA_PREFIX):
        return None
    root = media_dir.resolve()
    path = (root / url[len(MEDIA_PREFIX):]).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def calls_for(out: Outbound, media_dir: Path, *, reply_menu: bool = False) -> list[Call]:
    """The calls that show one Outbound; the keyboard rides on the last one."""
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
    if reply_menu:
        markup = keyboards.reply_menu(out.buttons)
    if markup is None:
        markup = keyboards.inline(out.buttons)
    calls: list[Call] = []
    text = out.text or ""
    if out.image_url:
        local = media_file(out.image_url, media_dir)
        photo: Any = local.read_bytes() if local is not None else out.image_url
        if local is None and not out.image_url.startswith("https://"):
            photo = None  # neither our file nor a public URL: send the text alone
        if photo is not None:
            caption = text if len(text) <= limits.MAX_CAPTION_LENGTH else ""
            calls.append(Call("send_photo", {"photo": photo, "caption": caption or None}))
            if caption:
                text = ""
    if text or not calls:
        calls += [Call("send_message", {"text": piece}) for piece in split_text(text or "…")]
    if markup is not None:
        calls[-1].kwargs["reply_markup"] = markup
    return calls


def edit_kwargs(out: Outbound) -> dict[str, Any]:
    """editMessageText arguments for a card replaced in place (one message: cut, not split)."""
    text = out.text[: limits.MAX_TEXT_LENGTH] or "…"
    return {"text": text, "reply_markup": keyboards.inline(out.buttons)}
