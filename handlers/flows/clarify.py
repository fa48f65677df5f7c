"""Asking which topic was meant when the parse is unsure ("您是要报修，还是紧急求助？"), then going on with it."""

from __future__ import annotations

from backend.catalogue import register as register_texts
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import REGISTRY, Flow, Outcome, begin, finish, register, start_flow
from handlers.payloads import Payload
from handlers.registry import payload_scope

register_texts({
    "clarify.which": ("请问您是要{options}？", "Did you mean {options_en}?"),
    "clarify.or": ("，还是", ", or "),
    "clarify.none": ("都不是", "Neither"),
    "clarify.again": ("好的，请再具体说说您需要什么，或从菜单里选择。", "OK. Please tell me a bit more, or choose from the menu."),
})
MAX_CHOICES = 3


class Clarify(Flow):
    name = "clarify"

    def start(self, ctx: Context) -> None:  # offer() starts it
        finish(ctx, resume=False)

    def step(self, ctx: Context) -> Outcome:
        options = list(ctx.slots.get("options") or [])
        if ctx.intent == "affirm" and options:
            _go(ctx, options[0])
            return Outcome.DONE
        if ctx.intent == "deny":
            finish(ctx, resume=False)
            _again(ctx)
            return Outcome.DONE
        for name in options:
            if ctx.t(f"flow.{name}") in ctx.text:
                _go(ctx, name)
                return Outcome.DONE
        finish(ctx, resume=False)
        return Outcome.NOT_MINE


register(Clarify())


def offer(ctx: Context, options: tuple[str, ...]) -> None:
    """Ask which of `options` was meant, keeping the message to go on with the chosen one."""
    from handlers.flows.base import suspend

    options = tuple(o for o in options if o in REGISTRY)[:MAX_CHOICES]
    if not options:
        REGISTRY["smalltalk"].start(ctx)
        return
    if ctx.state.flow:
        suspend(ctx)
    begin(ctx, "clarify", "choose", options=list(options), _parse=ctx.parse, _text=ctx.text)
    buttons = [ctx.button(f"menu.{o}", payloads.make("c", o)) for o in options if f"menu.{o}" in _keys()]
    buttons.append(ctx.button("clarify.none", payloads.make("c", "none")))
    ctx.say("clarify.which", *buttons,
            options=ctx.t("clarify.or").join(ctx.t(f"flow.{o}") for o in options),
            options_en=ctx.t("clarify.or").join(ctx.t(f"flow.{o}") for o in options))


def _keys() -> dict:
    from backend.catalogue import MESSAGES

    return MESSAGES


def _go(ctx: Context, name: str) -> None:
    parse, text = ctx.slots.get("_parse"), ctx.slots.get("_text") or ""
    state_store.set_flow(ctx.state, None)
    ctx.parse, ctx.text = parse, text
    if parse is not None:  # the chosen topic is now the message's meaning
        parse = {**parse, "intent": {"name": _intent_of(name), "confidence": 1.0}}
        ctx.parse = parse
    start_flow(ctx, name)


def _intent_of(name: str) -> str:
    flow = REGISTRY[name]
    return flow.intents[0] if flow.intents else name


def _again(ctx: Context) -> None:
    from handlers.flows.smalltalk import menu_buttons

    ctx.say("clarify.again", *menu_buttons(ctx))


@payload_scope("c")
def _choose(ctx: Context, payload: Payload) -> bool:
    """c:<flow> picks one of the offered topics; c:none none of them."""
    if ctx.state.flow != "clarify":
        return False
    if payload.verb == "none":
        finish(ctx, resume=False)
        _again(ctx)
        return True
    if payload.verb not in (ctx.slots.get("options") or []):
        return False
    _go(ctx, payload.verb)
    return True
