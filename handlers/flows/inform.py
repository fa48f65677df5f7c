"""Details with no request around them (an address, a phone): what they answer is the dialogue's call."""

from __future__ import annotations

from backend.catalogue import register as register_texts
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, register, start_flow

register_texts({
    "inform.what_for": ("收到。请问需要帮您办理什么？", "Got it. What can I do for you?"),
})


class Inform(Flow):
    """Not yet bound and nothing going on: an address or a phone is a binding attempt; else ask what for."""

    name = "inform"

    def start(self, ctx: Context) -> None:
        from handlers.flows.smalltalk import menu_buttons

        details = any(ctx.entities(k) for k in ("building", "unit", "room", "phone"))
        if ctx.household is None and ctx.staff is None and details:
            start_flow(ctx, "bind")
            return
        ctx.state.flow = None
        ctx.say("inform.what_for", *menu_buttons(ctx))

    def step(self, ctx: Context) -> Outcome:
        return Outcome.NOT_MINE


register(Inform())
