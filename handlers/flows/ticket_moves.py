"""What a resident does to a ticket: chase it, withdraw it (confirmed first), confirm the fix, reopen, rate."""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.domain import OPEN_STATUSES, Status
from backend.models import Ticket
from backend.services.ticket_format import ticket_params
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import begin, finish
from handlers.flows.ticket_view import MAX_BUTTONS, my_tickets, owner_of, star_buttons

register_texts({
    "button.chase": ("⏰ 催单", "⏰ Chase"),
    "button.cancel_ticket": ("✖ 取消工单", "✖ Cancel ticket"),
    "button.fixed": ("✅ 已解决", "✅ Fixed"),
    "button.not_fixed": ("❌ 没修好", "❌ Not fixed"),
    "button.star": ("{n}分", "{n}★"),
    "button.no_comment": ("不写了", "No comment"),
    "track.chased": ("⏰ 已催办工单 #{number}，已提醒负责人 {owner}。", "⏰ Ticket #{number} chased; {owner} has been reminded."),
    "track.chased_late": ("该工单已超时，已同时通知主管督办。", "It is overdue, so the supervisor was told as well."),
    "track.choose_chase": ("您有多个进行中的工单，要催哪一个？", "Which ticket should I chase?"),
    "track.choose_cancel": ("要取消哪一个工单？", "Which ticket should be cancelled?"),
    "track.cancelled": ("已取消工单 #{number}。", "Ticket #{number} is cancelled."),
    "track.confirmed": ("感谢确认！工单 #{number} 已完成。请为本次服务打分（1–5分）：",
                         "Thanks for confirming ticket #{number}. Please rate the service (1–5):"),
    "track.ask_rating": ("请为工单 #{number} 的服务打分（1–5分）：", "Please rate ticket #{number} (1–5):"),
    "track.ask_comment": ("抱歉让您不满意。能说说哪里做得不好吗？我们会转告负责人改进。",
                           "Sorry we fell short. What went wrong? We will pass it on."),
    "track.rated": ("感谢您的评价（{rating}分）！", "Thank you for rating us {rating}/5!"),
    "track.rated_comment": ("感谢您的评价和意见，已转告负责人。", "Thank you; your comment was passed to the person responsible."),
    "track.reopened": ("已重新打开工单 #{number}，已通知负责人 {owner} 尽快处理。",
                        "Ticket #{number} is reopened; {owner} has been told to act quickly."),
    "track.confirm_cancel": ("确定要撤销工单 #{number}（{category_zh}）吗？", "Withdraw ticket #{number} ({category_en})?"),
    "track.cancel_yes": ("确认撤销", "Yes, withdraw it"),
    "track.not_open": ("工单 #{number} 已{status_zh}，无需撤销。", "Ticket #{number} is already {status_en}."),
    "track.kept": ("好的，工单 #{number} 继续处理。", "OK, ticket #{number} stays open."),
})

CHASE_WORDS = re.compile(r"催")
FIXED_WORDS = re.compile(r"(已经|都)?(修好|弄好|解决|搞定|处理好)了|没问题了|好了")
NOT_FIXED = re.compile(
    r"没(有)?修好|没弄好|没解决|还是(漏|坏|不行|不亮|不通|堵|没修好)|还在漏|又漏了|问题还在|还没好|根本没修")
RATING_WORDS = (("非常满意", 5), ("很满意", 5), ("不满意", 2), ("满意", 4), ("一般", 3), ("很差", 1), ("太差", 1),
                ("差评", 1), ("好评", 5))
LOW_RATING = 3  # satisfied means 4 or 5; below that we ask what went wrong
_STARS = re.compile(r"([1-5一二三四五])\s*(分|星|颗星)?")
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def read_rating(text: str) -> int | None:
    for word, score in RATING_WORDS:
        if word in text:
            return score
    match = _STARS.fullmatch(text.strip(" 。.!！")) or re.search(r"([1-5一二三四五])\s*(分|星)", text)
    if match is None:
        return None
    digit = match.group(1)
    return _CN.get(digit) or int(digit)


def chase(ctx: Context, ticket: Ticket) -> None:
    ticket = ctx.tickets().chase(ctx.resident_actor(), ticket.id)
    ctx.say("track.chased", number=ticket.number, owner=owner_of(ctx, ticket))
    late_due = ticket.respond_due_at if ticket.accepted_at is None else ticket.resolve_due_at
    if ctx.now() > late_due:
        ctx.say("track.chased_late")


def chase_open(ctx: Context) -> bool:
    """催一下: the one open ticket, or a choice; False when there is none."""
    tickets = my_tickets(ctx, statuses=frozenset(OPEN_STATUSES))
    if not tickets:
        ctx.say("track.none")
        return False
    if len(tickets) == 1:
        chase(ctx, tickets[0])
        return True
    tz = ctx.settings.timezone
    ctx.say("track.choose_chase", *[ctx.button("track.button", payloads.make("r", "chase", t.id),
                                                **ticket_params(t, tz)) for t in tickets[:MAX_BUTTONS]])
    return True


def cancel(ctx: Context, ticket_id: int) -> None:
    ticket = ctx.tickets().cancel(ctx.resident_actor(), ticket_id, "居民取消")
    ctx.say("track.cancelled", number=ticket.number)
    if ctx.state.flow and ctx.slots.get("ticket_id") == ticket_id:  # its form is done with too
        finish(ctx, resume=False)


def offer_cancel_ticket(ctx: Context, ticket_id: int) -> None:
    """Withdrawing a ticket is confirmed first: r:cancelok withdraws, r:keep keeps it."""
    ticket = ctx.tickets().get(ctx.resident_actor(), ticket_id)
    if ticket.status not in OPEN_STATUSES:
        ctx.say("track.not_open", **ticket_params(ticket, ctx.settings.timezone, ctx.lang))
        return
    ctx.say("track.confirm_cancel", ctx.button("track.cancel_yes", payloads.make("r", "cancelok", ticket.id)),
            ctx.button("button.keep", payloads.make("r", "keep", ticket.id)),
            **ticket_params(ticket, ctx.settings.timezone, ctx.lang))
    begin(ctx, "withdraw", "confirm", kind="ticket", item_id=ticket.id)


def offer_cancel(ctx: Context) -> None:
    """取消刚才的报修: the one open ticket (confirmed first), or a choice."""
    tickets = my_tickets(ctx, statuses=frozenset(OPEN_STATUSES))
    if not tickets:
        ctx.say("chat.nothing_to_cancel")
    elif len(tickets) == 1:
        offer_cancel_ticket(ctx, tickets[0].id)
    else:
        tz = ctx.settings.timezone
        ctx.say("track.choose_cancel", *[ctx.button("track.button", payloads.make("r", "cancel", t.id),
                                                     **ticket_params(t, tz)) for t in tickets[:MAX_BUTTONS]])


def confirm(ctx: Context, ticket: Ticket) -> None:
    ticket = ctx.tickets().confirm(ctx.resident_actor(), ticket.id)
    ctx.say("track.confirmed", *star_buttons(ctx, ticket.id), number=ticket.number)
    _enter(ctx, "rate", ticket_id=ticket.id)


def reopen(ctx: Context, ticket_id: int, note: str) -> None:
    ticket = ctx.tickets().reopen(ctx.resident_actor(), ticket_id, note)
    ctx.say("track.reopened", number=ticket.number, owner=owner_of(ctx, ticket))


def reopen_latest(ctx: Context, note: str) -> bool:
    """没修好 while a ticket waits for confirmation (or was closed just now): reopen it."""
    tickets = ctx.tickets().for_resident(ctx.resident, open_only=False, limit=10)
    recent = [t for t in tickets if t.status == Status.RESOLVED or (
        t.status == Status.CLOSED and t.closed_at is not None and (ctx.now() - t.closed_at).days < 7)]
    if not recent:
        return False
    recent.sort(key=lambda t: t.resolved_at or t.closed_at or t.updated_at, reverse=True)
    reopen(ctx, recent[0].id, note[:500])
    return True


def rate(ctx: Context, ticket_id: int, score: int) -> None:
    if score <= LOW_RATING:
        _enter(ctx, "comment", ticket_id=ticket_id, score=score)
        ctx.say("track.ask_comment", ctx.button("button.no_comment", payloads.make("f", "skip")))
        return
    finish_rating(ctx, ticket_id, score, "")


def finish_rating(ctx: Context, ticket_id: int, score: int, comment: str) -> None:
    ctx.tickets().rate(ctx.resident_actor(), ticket_id, score, comment)
    ctx.say("track.rated_comment" if comment else "track.rated", rating=score)
    if ctx.state.flow == "status":
        finish(ctx)


def _enter(ctx: Context, step: str, **slots: object) -> None:
    """Ask within the status flow, suspending whatever form was open."""
    if ctx.state.flow and ctx.state.flow != "status":
        state_store.push(ctx.state)
    begin(ctx, "status", step, **slots)




