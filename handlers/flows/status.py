"""The status flow: "我的工单到哪了" shows, chases, confirms or reopens; rating a closed ticket; /status."""

from __future__ import annotations

from backend.domain import Status
from backend.models import Ticket
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import REGISTRY, Flow, Outcome, defer_until_bound, finish, register
from handlers.flows.ticket_moves import (
    CHASE_WORDS,
    FIXED_WORDS,
    NOT_FIXED,
    chase,
    chase_open,
    confirm,
    finish_rating,
    rate,
    read_rating,
    reopen_latest,
)
from handlers.flows.ticket_view import by_number, my_tickets, number_in, show, show_all, star_buttons
from handlers.payloads import Payload
from handlers.registry import command


class Status_(Flow):
    name = "status"
    intents = ("check_ticket_status",)
    free_text_steps = frozenset({"comment"})
    locked_steps = frozenset({"comment"})  # what went wrong is a comment, not a new complaint

    def start(self, ctx: Context) -> None:
        state_store.set_flow(ctx.state, None)
        if ctx.household is None and ctx.staff is None and not my_tickets(ctx):
            defer_until_bound(ctx, self.name)  # a household's tickets are for its bound residents
            return
        self._answer(ctx)
        if ctx.state.flow is None:  # nothing more to ask: back to a suspended form, if any
            finish(ctx)

    def _answer(self, ctx: Context) -> None:
        text = ctx.text if ctx.parse is not None else ""
        number = ctx.entity("ticket_id") or number_in(text)
        if number is not None:
            ticket = by_number(ctx, number)
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

    def step(self, ctx: Context) -> Outcome:
        ticket_id = ctx.slots.get("ticket_id")
        if ctx.state.step == "rate":
            score = read_rating(ctx.text)
            if score is None:
                return Outcome.NOT_MINE
            rate(ctx, int(ticket_id), score)
            return Outcome.HANDLED
        if ctx.state.step == "comment":
            if not ctx.text:
                return Outcome.NOT_MINE
            finish_rating(ctx, int(ticket_id), int(ctx.slots["score"]), ctx.text)
            return Outcome.HANDLED
        return Outcome.NOT_MINE

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "skip" and ctx.state.step == "comment":
            finish_rating(ctx, int(ctx.slots["ticket_id"]), int(ctx.slots["score"]), "")
            return True
        return False

    def start_prompt(self, ctx: Context) -> None:
        ticket_id = ctx.slots.get("ticket_id")
        if ctx.state.step == "rate" and ticket_id:
            ticket = ctx.session.get(Ticket, int(ticket_id))
            ctx.say("track.ask_rating", *star_buttons(ctx, int(ticket_id)), number=ticket.number if ticket else "")
        elif ctx.state.step == "comment":
            ctx.say("track.ask_comment", ctx.button("button.no_comment", payloads.make("f", "skip")))
        else:
            REGISTRY["smalltalk"].start(ctx)


register(Status_())



@command("/status")
def _status_command(ctx: Context, rest: str) -> None:
    number = rest.strip().lstrip("#")
    if number:
        ticket = by_number(ctx, number)
        if ticket is not None:
            show(ctx, ticket)
        return
    show_all(ctx)
