"""The parameters a ticket contributes to catalogue messages (numbers, names, local times)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.catalogue import name
from backend.models import Staff, Ticket


def local_time(dt: datetime | None, tz: str) -> str:
    """A naive-UTC timestamp shown in the community's local time, e.g. 12-01 17:15."""
    if dt is None:
        return ""
    return dt.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def staff_label(staff: Staff | None) -> str:
    return f"{staff.name}（{staff.phone}）" if staff and staff.phone else (staff.name if staff else name("nobody"))


def ticket_params(ticket: Ticket, tz: str, **extra: Any) -> dict[str, Any]:
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
        "respond_due": local_time(ticket.respond_due_at, tz),
        "resolve_due": local_time(ticket.resolve_due_at, tz),
    }
    params.update(extra)
    return params
