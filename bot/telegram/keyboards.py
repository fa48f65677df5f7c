"""Outbound buttons as Telegram keyboards: inline buttons carry payloads; the /menu reply keyboard carries titles."""

from __future__ import annotations

from functools import cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from backend.catalogue import render
from bot.telegram import limits
from handlers import payloads
from handlers.flows.smalltalk import RESIDENT_MENU, STAFF_MENU
from handlers.messages import Button

BUTTONS_PER_ROW = 2
SHORT_TITLE = 8  # titles up to this many characters share a row


def _fits(payload: str) -> bool:
    return 0 < len(payload.encode()) <= limits.MAX_CALLBACK_DATA_BYTES


def inline(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """Short titles two to a row, long ones alone; links as URL buttons; oversize payloads are dropped."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if button.payload.startswith(("https://", "http://", "tg://")):
            key = InlineKeyboardButton(button.title, url=button.payload)
        elif _fits(button.payload):
            key = InlineKeyboardButton(button.title, callback_data=button.payload)
        else:
            continue
        short = len(button.title) <= SHORT_TITLE
        if rows and short and len(rows[-1]) < BUTTONS_PER_ROW and len(rows[-1][0].text) <= SHORT_TITLE:
            rows[-1].append(key)
        else:
            rows.append([key])
    return InlineKeyboardMarkup(rows) if rows else None


def reply_menu(buttons: list[Button]) -> ReplyKeyboardMarkup | None:
    """The /menu keyboard under the input field; pressing a key sends its title, mapped back to the payload."""
    titles = [b.title for b in buttons if b.title in _titles()]
    if not titles:
        return None
    rows = [[KeyboardButton(t) for t in titles[i:i + BUTTONS_PER_ROW]] for i in range(0, len(titles), BUTTONS_PER_ROW)]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


@cache
def _titles() -> dict[str, str]:
    """Menu titles in both languages -> their payloads."""
    out = {}
    for item in (*RESIDENT_MENU, *STAFF_MENU):
        for lang in ("zh", "en"):
            out[render(f"menu.{item}", lang)] = payloads.make("m", item)
    return out


def payload_of_title(text: str) -> str | None:
    return _titles().get(text.strip())
