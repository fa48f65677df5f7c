"""Withdrawing with no form open ("取消刚才的登记"): the pass, the sign-up or the ticket it names, confirmed first."""

from __future__ import annotations

import re
from collections.abc import Callable

from backend.catalogue import register as register_texts
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register
from handlers.flows.ticket_moves import cancel, offer_cancel

register_texts({
    "flow.withdraw": ("撤销", "withdrawal"),
})


class Withdraw(Flow):
    """"取消刚才的登记" with no form open: withdraw the pass, sign-up or ticket it names."""

    name = "withdraw"
    intents = ("cancel",)
    terminal_steps = frozenset({"confirm"})

    def start(self, ctx: Context) -> None:
        state_store.set_flow(ctx.state, None)
        text = ctx.text if ctx.parse is not None else ""
        if re.search(r"访客|通行|来访", text) or (re.search(r"登记", text) and ctx.household is not None):
            from handlers.flows.visitor import offer_cancel as offer_cancel_pass

            offer_cancel_pass(ctx)
        elif re.search(r"报名|活动", text):
            from handlers.flows.events import offer_withdraw

            offer_withdraw(ctx)
        else:  # 取消工单, or a bare 取消: the open tickets, if any
            offer_cancel(ctx)
        if ctx.state.flow is None:
            finish(ctx)
        elif ctx.state.flow != self.name:
            state_store.set_flow(ctx.state, None)

    def on_cancel(self, ctx: Context) -> bool:
        """"取消吧" to "withdraw this?" is a yes."""
        kind, item = ctx.slots.get("kind"), ctx.slots.get("item_id")
        if ctx.state.step != "confirm" or kind not in WITHDRAWERS or not item or NO.fullmatch(ctx.text):
            return False
        finish(ctx, resume=False)
        WITHDRAWERS[kind](ctx, int(item))
        return True

    def step(self, ctx: Context) -> Outcome:
        """Waiting for "yes" to withdraw what was offered (a ticket, a pass, a sign-up)."""
        kind, item = ctx.slots.get("kind"), ctx.slots.get("item_id")
        if ctx.state.step != "confirm" or kind not in WITHDRAWERS or not item:
            return Outcome.NOT_MINE
        said = re.sub(r"[\s,，。.!！~～]", "", ctx.text)
        if ctx.intent == "affirm" or YES.fullmatch(said):
            finish(ctx, resume=False)
            WITHDRAWERS[kind](ctx, int(item))
            return Outcome.DONE
        if ctx.intent == "deny" or NO.fullmatch(said):
            finish(ctx, resume=False)
            ctx.say("chat.kept")
            return Outcome.DONE
        finish(ctx, resume=False)
        return Outcome.NOT_MINE


def _cancel_pass(ctx: Context, pass_id: int) -> None:
    from handlers.flows.visitor import cancel as cancel_pass

    cancel_pass(ctx, pass_id)


def _quit_event(ctx: Context, event_id: int) -> None:
    from handlers.flows.events import withdraw as quit_event

    quit_event(ctx, event_id)


def _unbind(ctx: Context, household_id: int) -> None:
    from handlers.flows.bind import unbind

    unbind(ctx, household_id)


WITHDRAWERS: dict[str, Callable[[Context, int], None]] = {"ticket": cancel, "pass": _cancel_pass,
                                                          "signup": _quit_event, "home": _unbind}
YES = re.compile(r"(确认|确定|是的?|对|好的?|嗯|可以|撤销吧|取消吧)+(撤销|取消|解绑|解除)?(吧|掉|了)?")
NO = re.compile(r"(不|不用|不要|别|先不|不了|算了|保留|留着)[了吧。！!]?.{0,4}")


register(Withdraw())


