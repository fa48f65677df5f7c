"""The parameters a ticket contributes to catalogue messages (numbers, names, local times)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.catalogue import name
from backend.models import Staff, Ticket

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# (first hour, word): 凌晨 0-5, 早上 6-8, 上午 9-11, 中午 12, 下午 13-17, 晚上 18-23
_DAY_PARTS = ((0, "凌晨"), (6, "早上"), (9, "上午"), (12, "中午"), (13, "下午"), (18, "晚上"))


def local_time(dt: datetime | None, tz: str, lang: str = "zh") -> str:
    """A naive-UTC timestamp in the community's local time as people read it: 12月5日 上午9:00."""
    if dt is None:
        return ""
    return spoken_time(dt.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)), lang)


def spoken_time(local: datetime, lang: str = "zh") -> str:
    """A local time as people say it: 12月5日 上午9:00 / Dec 5, 9:00 AM (never ISO)."""
    if lang == "en":
        hour = local.hour % 12 or 12
        return f"{_MONTHS_EN[local.month - 1]} {local.day}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    part = next(word for first, word in reversed(_DAY_PARTS) if local.hour >= first)
    hour = local.hour if local.hour <= 12 else local.hour - 12
    return f"{local.month}月{local.day}日 {part}{hour}:{local.minute:02d}"


def spoken_iso(value: str, lang: str = "zh") -> str:
    """An ISO local time ("2026-12-05T09:00", as the NLU gives it) as people read it; other text unchanged."""
    try:
        return spoken_time(datetime.fromisoformat(value), lang)
    except ValueError:
        return value


def staff_label(staff: Staff | None) -> str:
    return f"{staff.name}（{staff.phone}）" if staff and staff.phone else (staff.name if staff else name("nobody"))


def ticket_params(ticket: Ticket, tz: str, lang: str = "zh", **extra: Any) -> dict[str, Any]:
    cat = ticket.category
    params: dict[str, Any] = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "kind": ticket.kind,
        "kind_zh": name(f"kind.{ticket.kind}"),
        "kind_en": name(f"kind.{ticket.kind}", "en"),
        "category_zh": cat.name_zh if cat else "",
        "category_en": cat.name_en if cat else "",
        "location": ticket.location or "—",
        "description": (ticket.description or "")[:200],
        "status": ticket.status,
        "status_zh": name(f"status.{ticket.status}"),
        "status_en": name(f"status.{ticket.status}", "en"),
        "respond_due": local_time(ticket.respond_due_at, tz, lang),
        "resolve_due": local_time(ticket.resolve_due_at, tz, lang),
    }
    params.update(extra)
    return params
