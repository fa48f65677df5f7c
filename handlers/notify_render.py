"""Outbox row -> chat message: the one place every channel's delivery worker turns a notification into text
and buttons.

    render(kind, params, lang, audience) -> Outbound

`kind` is the catalogue key the backend wrote (ticket.new_task, ticket.resolved, bind.request_staff, ...),
`params` the row's params (ticket kinds carry ticket_id and number), `lang` "zh" | "en" | "both",
`audience` "resident" | "staff" | "group". Given `session` (and the recipient staff member as `viewer`, the
row's `community_id`), ticket kinds to staff and groups become a live task card whose buttons fit the
ticket's status now, not when the row was written. Group messages never carry a name or a phone number.
Outbound.meta: {"kind", "ticket_id"?, "commands"?: text fallbacks of the buttons, same order}.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.catalogue import register
from backend.catalogue import render as catalogue_render
from backend.models import Staff, Ticket
from backend.services import kpi_texts  # noqa: F401  (the weekly KPI digest's text: kpi.weekly_digest)
from handlers import payloads
from handlers.messages import Button, Outbound
from handlers.staff.cards import buttons_for, lang_of, task_card

__all__ = ["AUDIENCES", "TASK_KINDS", "render", "task_card"]

register({
    "notify.btn.ok": ("✅ 已解决", "✅ Fixed"),
    "notify.btn.reopen": ("❌ 没修好", "❌ Not fixed"),
    "notify.btn.view": ("📋 进度", "📋 Progress"),
    "notify.btn.chase": ("⏰ 催办", "⏰ Chase"),
    "notify.btn.cancel": ("✖ 取消工单", "✖ Cancel ticket"),
    "notify.btn.rate": ("{n}⭐", "{n}⭐"),
    "notify.btn.approve": ("✅ 通过", "✅ Approve"),
    "notify.btn.withdraw_event": ("取消报名", "Withdraw"),
    "notify.btn.stop_arrears": ("🔕 不再提醒", "🔕 Stop reminders"),
    "notify.btn.reject": ("❌ 拒绝", "❌ Decline"),
    "notify.bind_request_group": (
        "【绑定申请 #{request_id}】有住户申请绑定 {household}（手机与登记不符），请私信管家查看详情后审核。",
        "[Binding request #{request_id}] Someone asks to bind {household} (phone not registered); "
        "check the details in a private chat before deciding.",
    ),
})

AUDIENCES = frozenset({"resident", "staff", "group"})

# Staff task kinds -> the buttons a card carries when the ticket itself is not at hand.
TASK_KINDS: dict[str, tuple[str, ...]] = {
    "ticket.new_task": ("a", "v"),
    "ticket.emergency_alert": ("a", "v"),
    "ticket.you_own": ("a", "x", "v"),
    "ticket.assigned_to_you": ("s", "d", "x", "v"),
    "ticket.reopened": ("s", "d", "x", "v"),
    "ticket.chased": ("d", "v"),
    "ticket.overdue_owner": ("d", "x", "v"),
    "ticket.remind_due": ("d", "v"),
    "ticket.escalated": ("x", "v"),
}
GROUP_VERBS = frozenset({"a", "v"})  # what anyone in a work group may press

# Resident kinds -> buttons of the "r" scope (r:<verb>:<ticket_id>).
RESIDENT_KINDS: dict[str, tuple[str, ...]] = {
    "ticket.resolved": ("ok", "reopen"),
    "ticket.created_for_you": ("view", "cancel"),
    "ticket.accepted": ("view", "chase"),
    "ticket.transferred": ("view", "chase"),
    "ticket.started": ("view", "chase"),
    "ticket.note_from_staff": ("view",),
    "ticket.auto_closed": ("reopen", "view"),
    "ticket.cancelled": ("view",),
}
# Private messages to residents about other things than tickets, with their buttons.
OTHER_RESIDENT_KINDS: dict[str, Callable[[dict[str, Any], str], list[Button]]] = {
    # promoted from an event's waiting list: withdrawing frees the place for the next household
    "event.promoted": lambda p, lang: [] if _int(p.get("event_id")) is None else [
        Button(_label("notify.btn.withdraw_event", lang), payloads.make("e", "quit", _int(p.get("event_id"))))],
    # an arrears reminder (催缴): the resident may stop them (handlers/flows/reminders.py)
    "arrears.reminder": lambda _p, lang: [Button(_label("notify.btn.stop_arrears", lang), payloads.make("ar", "off"))],
}
RATED_KINDS = frozenset({"ticket.closed"})  # closed without the resident's word: ask for the rating
RATING_SCALE = range(1, 6)

PERSONAL_PARAMS = frozenset({"name", "phone", "reporter", "resident", "visitor_name", "plate", "owner", "assignee"})
_PHONE = re.compile(r"[（(]?\s*1[3-9]\d(?:\d{4}|\*{4})\d{4}\s*[）)]?")
NO_PERSON = "—"


def render(notification_kind: str, params: dict[str, Any], lang: str = "zh", audience: str = "staff", *,
           session: Session | None = None, viewer: Staff | None = None, community_id: int | None = None,
           tz: str | None = None, now: datetime | None = None) -> Outbound:
    """The chat message for one outbox row (see the module docstring for the contract)."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience}")
    kind, group = notification_kind, audience == "group"
    text = _text(kind, params, lang, group)
    ticket_id = _int(params.get("ticket_id"))
    meta: dict[str, Any] = {"kind": kind}
    if ticket_id is not None:
        meta["ticket_id"] = ticket_id
    if kind == "bind.request_staff" and audience != "resident":
        request_id = _int(params.get("request_id"))
        buttons = [] if request_id is None else [
            Button(_label("notify.btn.approve", lang), payloads.make("b", "ok", request_id)),
            Button(_label("notify.btn.reject", lang), payloads.make("b", "no", request_id))]
        return Outbound(text, buttons, meta=meta)
    if ticket_id is None and audience == "resident" and kind in OTHER_RESIDENT_KINDS:
        return Outbound(text, OTHER_RESIDENT_KINDS[kind](params, lang), meta=meta)
    if ticket_id is None:
        return Outbound(text, meta=meta)
    if audience == "resident":
        return Outbound(text, _resident_buttons(kind, ticket_id, lang), meta=meta)
    ticket = session.get(Ticket, ticket_id) if session is not None else None
    if ticket is not None and community_id in (None, ticket.community_id):
        card = task_card(ticket, None if group else viewer, lang, group=group, tz=tz, now=now, headline=text)
        card.meta = {**meta, **card.meta}
        return card
    verbs = [v for v in TASK_KINDS.get(kind, ("v",)) if not group or v in GROUP_VERBS]
    buttons, commands = buttons_for(ticket_id, _int(params.get("number")), verbs, lang)
    return Outbound(text, buttons, meta={**meta, "commands": commands})


def _text(kind: str, params: dict[str, Any], lang: str, group: bool) -> str:
    if not group:
        return catalogue_render(kind, lang, **params)
    if kind == "bind.request_staff":
        kind = "notify.bind_request_group"
    safe = {k: (NO_PERSON if k in PERSONAL_PARAMS else v) for k, v in params.items()}
    return _PHONE.sub("", catalogue_render(kind, lang, **safe))


def _resident_buttons(kind: str, ticket_id: int, lang: str) -> list[Button]:
    if kind in RATED_KINDS:
        return [Button(_label("notify.btn.rate", lang, n=n), payloads.make("r", "rate", ticket_id, n))
                for n in RATING_SCALE]
    verbs = RESIDENT_KINDS.get(kind, ("view",) if kind.startswith("ticket.") else ())
    return [Button(_label(f"notify.btn.{verb}", lang), payloads.make("r", verb, ticket_id)) for verb in verbs]


def _label(key: str, lang: str, **params: Any) -> str:
    return catalogue_render(key, lang_of(lang), **params)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
