"""My tickets: status with history and who owns it; chase, cancel, confirm, reopen and rate ("r:" buttons)."""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.domain import OPEN_STATUSES, Status
from backend.errors import NotFound
from backend.models import Staff, Ticket, TicketEvent
from backend.services.ticket_format import local_time, staff_label, ticket_params
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import REGISTRY, Flow, begin, finish, register
from handlers.payloads import Payload
from handlers.registry import command, payload_scope, text_command

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
    "flow.withdraw": ("取消", "withdrawal"),
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
MAX_BUTTONS = 6


def read_rating(text: str) -> int | None:
    for word, score in RATING_WORDS:
        if word in text:
            return score
    match = _STARS.fullmatch(text.strip(" 。.!！")) or re.search(r"([1-5一二三四五])\s*(分|星)", text)
    if match is None:
        return None
    digit = match.group(1)
    return _CN.get(digit) or int(digit)


def my_tickets(ctx: Context, *, statuses: frozenset[str] | None = None) -> list[Ticket]:
    tickets = ctx.tickets().for_resident(ctx.resident, open_only=True)
    return [t for t in tickets if statuses is None or t.status in statuses]


def _owner(ctx: Context, ticket: Ticket) -> str:
    owner = ctx.session.get(Staff, ticket.owner_id) if ticket.owner_id else None
    return staff_label(owner)


class Status_(Flow):
    name = "status"
    intents = ("check_ticket_status",)
    free_text_steps = frozenset({"comment"})

    def start(self, ctx: Context) -> None:
        state_store.set_flow(ctx.state, None)
        self._answer(ctx)
        if ctx.state.flow is None:  # nothing more to ask: back to a suspended form, if any
            finish(ctx)

    def _answer(self, ctx: Context) -> None:
        text = ctx.text if ctx.parse is not None else ""
        number = ctx.entity("ticket_id") or _number_in(text)
        if number is not None:
            ticket = _by_number(ctx, number)
            if ticket is None:
                return
            if text and CHASE_WORDS.search(text):
                chase(ctx, ticket)
            else:
                show(ctx, ticket)
            return
        if text and NOT_FIXED.search(text) and reopen_latest(ctx, text):
            return
        if text and FIXED_WORDS.search(text) and not CHASE_WORDS.search(text):
            resolved = my_tickets(ctx, statuses=frozenset({Status.RESOLVED}))
            if resolved:
                confirm(ctx, resolved[0])
                return
        if text and CHASE_WORDS.search(text):
            chase_open(ctx)
            return
        show_all(ctx)

    def step(self, ctx: Context) -> bool:
        ticket_id = ctx.slots.get("ticket_id")
        if ctx.state.step == "rate":
            score = read_rating(ctx.text)
            if score is None:
                return False
            rate(ctx, int(ticket_id), score)
            return True
        if ctx.state.step == "comment":
            if not ctx.text:
                return False
            _finish_rating(ctx, int(ticket_id), int(ctx.slots["score"]), ctx.text)
            return True
        return False

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "skip" and ctx.state.step == "comment":
            _finish_rating(ctx, int(ctx.slots["ticket_id"]), int(ctx.slots["score"]), "")
            return True
        return False

    def start_prompt(self, ctx: Context) -> None:
        ticket_id = ctx.slots.get("ticket_id")
        if ctx.state.step == "rate" and ticket_id:
            ticket = ctx.session.get(Ticket, int(ticket_id))
            ctx.say("track.ask_rating", *_star_buttons(ctx, int(ticket_id)), number=ticket.number if ticket else "")
        elif ctx.state.step == "comment":
            ctx.say("track.ask_comment", ctx.button("button.no_comment", payloads.make("f", "skip")))
        else:
            REGISTRY["smalltalk"].start(ctx)


register(Status_())


class Withdraw(Flow):
    """"取消刚才的登记" with no form open: withdraw the pass, sign-up or ticket it names."""

    name = "withdraw"
    intents = ("cancel",)

    def start(self, ctx: Context) -> None:
        state_store.set_flow(ctx.state, None)
        text = ctx.text if ctx.parse is not None else ""
        if re.search(r"访客|通行|来访", text) or (re.search(r"登记", text) and ctx.household is not None):
            from handlers.flows.visitor import offer_cancel as cancel_pass

            cancel_pass(ctx)
        elif re.search(r"报名|活动", text):
            from handlers.flows.events import offer_withdraw

            offer_withdraw(ctx)
        elif re.search(r"工单|报修|投诉|建议|单子|咨询", text):
            offer_cancel(ctx)
        else:
            ctx.say("chat.nothing_to_cancel")
        if ctx.state.flow is None:
            finish(ctx)

    def step(self, ctx: Context) -> bool:
        self.start(ctx)
        return True


register(Withdraw())


# ---- showing ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"#\s*(\d{1,9})|(\d{1,9})\s*号?(?:工单|单子)|(?:工单|单号|编号)号?\s*#?(\d{1,9})")


def _number_in(text: str) -> str | None:
    """Short ticket numbers the NLU leaves out ("1号工单", "#12")."""
    match = _NUMBER.search(text)
    return next((g for g in match.groups() if g), None) if match else None


def _by_number(ctx: Context, number: str) -> Ticket | None:
    digits = number if number.isdigit() and len(number) < 10 else ""
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
    ctx.say("track.detail", *ticket_buttons(ctx, ticket), owner=_owner(ctx, ticket), assignee=staff_label(assignee),
            due_line=due_line, history=history, **ticket_params(ticket, tz))


def ticket_buttons(ctx: Context, ticket: Ticket) -> list:
    if ticket.status in OPEN_STATUSES:
        return [ctx.button("button.chase", payloads.make("r", "chase", ticket.id)),
                ctx.button("button.cancel_ticket", payloads.make("r", "cancel", ticket.id))]
    if ticket.status == Status.RESOLVED:
        return [ctx.button("button.fixed", payloads.make("r", "ok", ticket.id)),
                ctx.button("button.not_fixed", payloads.make("r", "reopen", ticket.id))]
    if ticket.status == Status.CLOSED and ticket.rating is None:
        return _star_buttons(ctx, ticket.id)
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


# ---- resident moves --------------------------------------------------------------------------

def chase(ctx: Context, ticket: Ticket) -> None:
    ticket = ctx.tickets().chase(ctx.resident_actor(), ticket.id)
    ctx.say("track.chased", number=ticket.number, owner=_owner(ctx, ticket))
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


def offer_cancel(ctx: Context) -> None:
    """取消刚才的报修: the one open ticket, or a choice."""
    tickets = my_tickets(ctx, statuses=frozenset(OPEN_STATUSES))
    if not tickets:
        ctx.say("chat.nothing_to_cancel")
    elif len(tickets) == 1:
        cancel(ctx, tickets[0].id)
    else:
        tz = ctx.settings.timezone
        ctx.say("track.choose_cancel", *[ctx.button("track.button", payloads.make("r", "cancel", t.id),
                                                     **ticket_params(t, tz)) for t in tickets[:MAX_BUTTONS]])


def confirm(ctx: Context, ticket: Ticket) -> None:
    ticket = ctx.tickets().confirm(ctx.resident_actor(), ticket.id)
    ctx.say("track.confirmed", *_star_buttons(ctx, ticket.id), number=ticket.number)
    _enter(ctx, "rate", ticket_id=ticket.id)


def reopen(ctx: Context, ticket_id: int, note: str) -> None:
    ticket = ctx.tickets().reopen(ctx.resident_actor(), ticket_id, note)
    ctx.say("track.reopened", number=ticket.number, owner=_owner(ctx, ticket))


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
    _finish_rating(ctx, ticket_id, score, "")


def _finish_rating(ctx: Context, ticket_id: int, score: int, comment: str) -> None:
    ctx.tickets().rate(ctx.resident_actor(), ticket_id, score, comment)
    ctx.say("track.rated_comment" if comment else "track.rated", rating=score)
    if ctx.state.flow == "status":
        finish(ctx)


def _enter(ctx: Context, step: str, **slots: object) -> None:
    """Ask within the status flow, suspending whatever form was open."""
    if ctx.state.flow and ctx.state.flow != "status":
        state_store.push(ctx.state)
    begin(ctx, "status", step, **slots)


def _star_buttons(ctx: Context, ticket_id: int) -> list:
    return [ctx.button("button.star", payloads.make("r", "rate", ticket_id, n), n=n) for n in range(1, 6)]


# ---- entry points: /status, r: buttons, typed chase and "not fixed" ---------------------------

@command("/status")
def _status_command(ctx: Context, rest: str) -> None:
    if rest.strip().lstrip("#").isdigit():
        ticket = _by_number(ctx, rest.strip().lstrip("#"))
        if ticket is not None:
            show(ctx, ticket)
        return
    show_all(ctx)


@payload_scope("r")
def _resident_ticket(ctx: Context, payload: Payload) -> bool:
    """r:show|chase|cancel|ok|reopen:<ticket id>, r:rate:<ticket id>:<1-5>."""
    ticket_id = payload.int_arg()
    if ticket_id is None:
        return False
    svc, actor = ctx.tickets(), ctx.resident_actor()
    verb = payload.verb
    if verb == "show":
        show(ctx, svc.get(actor, ticket_id))
    elif verb == "chase":
        chase(ctx, svc.get(actor, ticket_id))
    elif verb == "cancel":
        cancel(ctx, ticket_id)
    elif verb == "ok":
        confirm(ctx, svc.get(actor, ticket_id))
    elif verb == "reopen":
        reopen(ctx, ticket_id, "没修好")
    elif verb == "rate":
        score = payload.int_arg(1)
        if score is None or not 1 <= score <= 5:
            return False
        rate(ctx, ticket_id, score)
    else:
        return False
    return True


def _idle_or_status(ctx: Context) -> bool:
    return ctx.state.flow in (None, "status", "repair", "emergency", "complaint", "suggestion") and \
        ctx.state.step in ("", "created", "rate", "comment", "shown")


@text_command(r".*(催一下|催单|催办|催促|催一催|帮我催|催下).*", staff_only=False)
def _chase_text(ctx: Context, _m: re.Match[str]) -> bool:
    if not _idle_or_status(ctx) or not my_tickets(ctx, statuses=frozenset(OPEN_STATUSES)):
        return False
    number = _number_in(ctx.text)
    if number:
        ticket = _by_number(ctx, number)
        if ticket is not None:
            chase(ctx, ticket)
        return True
    return chase_open(ctx)


@text_command(r".*(" + NOT_FIXED.pattern + r").*", staff_only=False)
def _not_fixed_text(ctx: Context, _m: re.Match[str]) -> bool:
    if not _idle_or_status(ctx):
        return False
    if ctx.state.flow == "status":
        state_store.set_flow(ctx.state, None)
    return reopen_latest(ctx, ctx.text)
