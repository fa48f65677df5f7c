"""Showing a resident's tickets: the list, one ticket with its history and due times, and its buttons."""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.domain import OPEN_STATUSES, Status
from backend.errors import NotFound
from backend.models import Staff, Ticket, TicketEvent
from backend.services.ticket_format import local_time, staff_label, ticket_params
from handlers import payloads
from handlers.context import Context

register_texts({
    "track.none": ("您目前没有进行中的工单。需要报修或投诉可以直接告诉我。",
                    "You have no open tickets. Tell me if something needs fixing."),
    "track.list": ("您有 {count} 个进行中的工单：\n{lines}\n点按钮查看详情，或回复工单号。",
                    "You have {count} open tickets:\n{lines}\nTap one for details, or send its number."),
    "track.list_line": ("· #{number} {kind_zh}·{category_zh}｜{status_zh}｜{created}",
                         "· #{number} {kind_en} · {category_en} | {status_en} | {created}"),
    "track.button": ("#{number} {category_zh}", "#{number} {category_en}"),
    "track.not_found": ("没有找到您的工单 #{number}，请核对工单号。", "You have no ticket #{number}; please check the number."),
    "track.detail": (
        "📋 工单 #{number}｜{kind_zh}·{category_zh}\n状态：{status_zh}\n地点：{location}\n内容：{description}\n"
        "负责人：{owner}｜处理人：{assignee}\n{due_line}进展：\n{history}",
        "📋 Ticket #{number} | {kind_en} · {category_en}\nStatus: {status_en}\nWhere: {location}\nWhat: {description}\n"
        "Responsible: {owner} | Handled by: {assignee}\n{due_line}History:\n{history}",
    ),
    "track.due_respond": ("响应期限：{due}{late}\n", "Respond by: {due}{late}\n"),
    "track.due_resolve": ("解决期限：{due}{late}\n", "Resolve by: {due}{late}\n"),
    "track.late": ("（已超时）", " (overdue)"),
    "track.rating": ("评价：{rating}分 {comment}\n", "Rating: {rating}/5 {comment}\n"),
    "track.history_line": ("· {at} {what}", "· {at} {what}"),
    "history.create": ("提交登记", "registered"),
    "history.accept": ("{who} 已受理", "accepted by {who}"),
    "history.transfer": ("转交 {who} 处理", "handed over by {who}"),
    "history.start": ("{who} 开始处理", "work started by {who}"),
    "history.note": ("补充说明：{note}", "note: {note}"),
    "history.photo": ("添加照片", "photo added"),
    "history.resolve": ("{who} 处理完毕：{note}", "resolved by {who}: {note}"),
    "history.confirm": ("您确认已解决", "you confirmed it is fixed"),
    "history.reopen": ("重新打开：{note}", "reopened: {note}"),
    "history.rate": ("评价 {rating} 分", "rated {rating}/5"),
    "history.cancel": ("已取消", "cancelled"),
    "history.close": ("已关闭", "closed"),
    "history.remind": ("系统提醒负责人", "owner reminded"),
    "history.escalate": ("超时升级督办", "escalated (overdue)"),
    "history.chase": ("您催办了一次", "you chased it"),
    "history.you": ("您", "you"),
    "history.system": ("系统", "system"),
})

MAX_BUTTONS = 6


def my_tickets(ctx: Context, *, statuses: frozenset[str] | None = None) -> list[Ticket]:
    tickets = ctx.tickets().for_resident(ctx.resident, open_only=True)
    return [t for t in tickets if statuses is None or t.status in statuses]


def owner_of(ctx: Context, ticket: Ticket) -> str:
    owner = ctx.session.get(Staff, ticket.owner_id) if ticket.owner_id else None
    return staff_label(owner)


_NUMBER = re.compile(r"#\s*(\d{1,9})|(\d{1,9})\s*号?(?:工单|单子)|(?:工单|单号|编号)号?\s*#?(\d{1,9})")


def number_in(text: str) -> str | None:
    """Short ticket numbers the NLU leaves out ("1号工单", "#12")."""
    match = _NUMBER.search(text)
    return next((g for g in match.groups() if g), None) if match else None


def by_number(ctx: Context, number: str) -> Ticket | None:
    digits = number if number.isascii() and number.isdigit() and len(number) < 10 else ""  # not ①, not ١
    try:
        if not digits:
            raise NotFound("工单")
        return ctx.tickets().by_number(ctx.resident_actor(), int(digits))
    except NotFound:  # another household's number looks exactly like a missing one
        ctx.say("track.not_found", number=number[:20])
        return None


def show_all(ctx: Context) -> None:
    tickets = my_tickets(ctx)
    if not tickets:
        ctx.say("track.none")
        return
    if len(tickets) == 1:
        show(ctx, tickets[0])
        return
    tz = ctx.settings.timezone
    params = [ticket_params(t, tz) for t in tickets]
    lines = [ctx.t("track.list_line", created=local_time(t.created_at, tz), **p)
             for t, p in zip(tickets, params, strict=True)]
    buttons = [ctx.button("track.button", payloads.make("r", "show", t.id), **p)
               for t, p in zip(tickets[:MAX_BUTTONS], params[:MAX_BUTTONS], strict=True)]
    ctx.say("track.list", *buttons, count=len(tickets), lines="\n".join(lines))


def show(ctx: Context, ticket: Ticket) -> None:
    tz = ctx.settings.timezone
    now = ctx.now()
    due_line = ""
    if ticket.status in OPEN_STATUSES:
        if ticket.accepted_at is None:
            late = ctx.t("track.late") if now > ticket.respond_due_at else ""
            due_line = ctx.t("track.due_respond", due=local_time(ticket.respond_due_at, tz), late=late)
        else:
            late = ctx.t("track.late") if now > ticket.resolve_due_at else ""
            due_line = ctx.t("track.due_resolve", due=local_time(ticket.resolve_due_at, tz), late=late)
    if ticket.rating is not None:
        due_line += ctx.t("track.rating", rating=ticket.rating, comment=ticket.rating_comment)
    assignee = ctx.session.get(Staff, ticket.assignee_id) if ticket.assignee_id else None
    events = ctx.tickets().history(ctx.resident_actor(), ticket.id)
    history = "\n".join(_history_line(ctx, e) for e in events[-8:])
    ctx.say("track.detail", *ticket_buttons(ctx, ticket), owner=owner_of(ctx, ticket), assignee=staff_label(assignee),
            due_line=due_line, history=history, **ticket_params(ticket, tz))


def star_buttons(ctx: Context, ticket_id: int) -> list:
    return [ctx.button("button.star", payloads.make("r", "rate", ticket_id, n), n=n) for n in range(1, 6)]


def ticket_buttons(ctx: Context, ticket: Ticket) -> list:
    if ticket.status in OPEN_STATUSES:
        return [ctx.button("button.chase", payloads.make("r", "chase", ticket.id)),
                ctx.button("button.cancel_ticket", payloads.make("r", "cancel", ticket.id))]
    if ticket.status == Status.RESOLVED:
        return [ctx.button("button.fixed", payloads.make("r", "ok", ticket.id)),
                ctx.button("button.not_fixed", payloads.make("r", "reopen", ticket.id))]
    if ticket.status == Status.CLOSED and ticket.rating is None:
        return star_buttons(ctx, ticket.id)
    return []


def _history_line(ctx: Context, event: TicketEvent) -> str:
    if event.actor_type == "staff" and event.actor_staff_id:
        staff = ctx.session.get(Staff, event.actor_staff_id)
        who = staff.name if staff else ""
    elif event.actor_type == "resident":
        who = ctx.t("history.you")
    else:
        who = ctx.t("history.system")
    key = f"history.{event.action}"
    what = ctx.t(key, who=who, note=event.note or "—", rating=(event.data or {}).get("rating", "")) \
        if key in _catalogue() else event.action
    return ctx.t("track.history_line", at=local_time(event.at, ctx.settings.timezone), what=what)


def _catalogue() -> dict:
    from backend.catalogue import MESSAGES

    return MESSAGES


