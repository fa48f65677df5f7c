"""Greetings, thanks, goodbye, help, the menu, out-of-scope; and the control commands."""

from __future__ import annotations

import re

from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import REGISTRY, Flow, Outcome, register, start_flow
from handlers.identity import find_community
from handlers.messages import Button
from handlers.payloads import Payload
from handlers.registry import command, payload_scope

WHO_ARE_YOU = re.compile(r"你是谁|你是(机器人|真人|人工|ai|AI)|你叫什么|你能(干|做)什么|who are you|are you a (bot|robot)", re.I)
RESIDENT_MENU = ("repair", "emergency", "complaint", "suggestion", "visitor", "fee", "status", "events", "bind")
STAFF_MENU = ("tasks", "overdue", "visitors_today")


def menu_buttons(ctx: Context) -> list[Button]:
    items = [*STAFF_MENU, *RESIDENT_MENU[:-1]] if ctx.staff is not None else list(RESIDENT_MENU)
    return [ctx.button(f"menu.{item}", payloads.make("m", item)) for item in items]


def show_menu(ctx: Context) -> None:
    ctx.say("chat.menu", *menu_buttons(ctx))


class SmallTalk(Flow):
    name = "smalltalk"
    intents = ("greet", "thank", "goodbye", "affirm", "deny", "out_of_scope")

    def start(self, ctx: Context) -> None:
        state_store.set_flow(ctx.state, None)
        intent = ctx.intent if ctx.parse else "greet"
        if intent == "greet":
            ctx.say("chat.greet", *menu_buttons(ctx))
        elif intent == "thank":
            ctx.say("chat.thank")
        elif intent == "goodbye":
            ctx.say("chat.goodbye")
        elif intent in ("affirm", "deny"):
            ctx.say("chat.affirm_idle")
        elif WHO_ARE_YOU.search(ctx.text):
            ctx.say("chat.who_am_i", *menu_buttons(ctx), community=ctx.community.name)
        else:
            ctx.say("chat.out_of_scope", *menu_buttons(ctx))

    def step(self, ctx: Context) -> Outcome:
        self.start(ctx)
        return Outcome.HANDLED


register(SmallTalk())


@command("/menu")
def _menu(ctx: Context, _rest: str) -> None:
    show_menu(ctx)


@command("/help")
def _help(ctx: Context, _rest: str) -> None:
    ctx.say("chat.help", *menu_buttons(ctx))


@command("/cancel")
def _cancel(ctx: Context, _rest: str) -> None:
    flow = REGISTRY.get(ctx.state.flow or "")
    if flow is None:
        ctx.say("chat.nothing_to_cancel")
        return
    state_store.clear(ctx.state)
    ctx.say("chat.cancelled", topic=ctx.t(f"flow.{flow.name}"))


@command("/start")
def _start(ctx: Context, rest: str) -> None:
    """Deep links: /start <community code>; the channel resolved the community already."""
    code = rest.strip()
    if code and find_community(ctx.session, code, ctx.settings) is None:
        ctx.say("chat.unknown_community", code=code[:32])
        return
    ctx.say("chat.greet", *menu_buttons(ctx))


@payload_scope("m")
def _menu_payload(ctx: Context, payload: Payload) -> bool:
    item = payload.verb
    if item == "menu":
        show_menu(ctx)
        return True
    target = {"fee": "fee", "status": "status", "events": "events", "tasks": "tasks", "overdue": "overdue",
              "visitors_today": "visitors_today"}.get(item, item)
    if target not in REGISTRY:
        return False
    state_store.clear(ctx.state)
    ctx.parse = None
    start_flow(ctx, target)
    return True
