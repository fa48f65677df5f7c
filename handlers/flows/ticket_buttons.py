"""The resident's ticket buttons ("r:" payloads) and their typed equivalents (催一下, 没修好)."""

from __future__ import annotations

import re

from backend.domain import OPEN_STATUSES
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.ticket_moves import (
    NOT_FIXED,
    cancel,
    chase,
    chase_open,
    confirm,
    offer_cancel_ticket,
    rate,
    reopen,
    reopen_latest,
)
from handlers.flows.ticket_view import by_number, my_tickets, number_in, show
from handlers.payloads import Payload
from handlers.registry import payload_scope, text_command


@payload_scope("r")
def _resident_ticket(ctx: Context, payload: Payload) -> bool:
    """r:show|view|chase|cancel|cancelok|keep|ok|reopen:<ticket id>, r:rate:<ticket id>:<1-5>."""
    ticket_id = payload.int_arg()
    if ticket_id is None:
        return False
    svc, actor = ctx.tickets(), ctx.resident_actor()
    verb = payload.verb
    if verb in ("show", "view"):
        show(ctx, svc.get(actor, ticket_id))
    elif verb == "chase":
        chase(ctx, svc.get(actor, ticket_id))
    elif verb == "cancel":
        offer_cancel_ticket(ctx, ticket_id)
    elif verb == "cancelok":
        cancel(ctx, ticket_id)
        if ctx.state.flow == "withdraw":
            state_store.set_flow(ctx.state, None)
    elif verb == "keep":
        ticket = svc.get(actor, ticket_id)
        if ctx.state.flow == "withdraw":
            state_store.set_flow(ctx.state, None)
        ctx.say("track.kept", number=ticket.number)
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
    number = number_in(ctx.text)
    if number:
        ticket = by_number(ctx, number)
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
