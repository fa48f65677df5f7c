"""A long message with a second request ("…漏水了，另外保安态度太差"): once the first is done, offer the second."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.catalogue import register as register_texts
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import BY_INTENT, start_flow
from handlers.payloads import Payload
from handlers.registry import payload_scope

register_texts({
    "also.offer": ("您还提到：「{snippet}」。需要一并为您登记{topic}吗？", "You also mentioned: \"{snippet}\". Shall I file a {topic} too?"),
    "also.yes": ("好的，一并登记", "Yes, file it"),
    "also.no": ("不用了", "No, thanks"),
    "also.dropped": ("好的。", "OK."),
})
TICKET_FLOWS = frozenset({"repair", "emergency", "complaint", "suggestion"})
SNIPPET_CHARS = 40
OFFER_MINUTES = 30  # a second request not offered by then is forgotten


def note(ctx: Context, parse: dict, handling: str | None) -> None:
    """Remember the message's other request (one `handling` is not about) to offer once that is done."""
    text = parse.get("text") or ""
    for request in parse.get("requests") or []:
        flow = BY_INTENT.get(str(request.get("name")))
        if flow in TICKET_FLOWS and flow != handling:
            snippet = text[int(request.get("start", 0)):int(request.get("end", len(text)))].strip(" ，,。.")
            if snippet:
                state_store.remember(ctx.state, also={"flow": flow, "text": snippet[:300], "offered": False,
                                                      "at": ctx.now().isoformat()})
                return


def maybe_offer(ctx: Context) -> None:
    """The first request is done (its form is in a terminal step): offer the noted second one."""
    waiting = state_store.memo(ctx.state).get("also")
    if not waiting or waiting.get("offered") or ctx.state.step != "created":
        return
    if ctx.now() - datetime.fromisoformat(waiting["at"]) > timedelta(minutes=OFFER_MINUTES):
        state_store.remember(ctx.state, also=None)
        return
    state_store.remember(ctx.state, also={**waiting, "offered": True})
    ctx.say("also.offer", ctx.button("also.yes", payloads.make("a", "yes")),
            ctx.button("also.no", payloads.make("a", "no")), snippet=waiting["text"][:SNIPPET_CHARS],
            topic=ctx.t(f"flow.{waiting['flow']}"))


def pending(ctx: Context) -> bool:
    waiting = state_store.memo(ctx.state).get("also")
    return bool(waiting and waiting.get("offered"))


def answer(ctx: Context, yes: bool) -> bool:
    """Take or drop the offered second request; False when none is waiting."""
    waiting = state_store.memo(ctx.state).get("also")
    if not waiting or not waiting.get("offered"):
        return False
    state_store.remember(ctx.state, also=None)
    if not yes:
        ctx.say("also.dropped")
        return True
    ctx.text = waiting["text"]
    ctx.parse = ctx.nlu.parse(ctx.text)
    intent = next(i for i, f in BY_INTENT.items() if f == waiting["flow"])
    ctx.parse = {**ctx.parse, "intent": {"name": intent, "confidence": 1.0}}  # chosen by the resident
    state_store.set_flow(ctx.state, None)
    start_flow(ctx, waiting["flow"])
    return True


@payload_scope("a")
def _also(ctx: Context, payload: Payload) -> bool:
    """a:yes files the second request of the last message, a:no drops it."""
    if payload.verb not in ("yes", "no"):
        return False
    if not answer(ctx, payload.verb == "yes"):
        ctx.say("chat.nothing_to_cancel" if payload.verb == "no" else "also.dropped")
    return True
