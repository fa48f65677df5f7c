"""The flow contract, the registry, and starting a flow: each flow is one module, registered by name and intent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum
from typing import ClassVar

from handlers import state as state_store
from handlers.context import Context
from handlers.payloads import Payload


class Outcome(Enum):
    """What a flow made of one message."""

    HANDLED = "handled"  # an answer to this flow; it goes on (or has asked its next question)
    NOT_MINE = "not_mine"  # no answer to the current step: the policy decides what the message is
    DONE = "done"  # the flow finished with this message


class Flow(ABC):
    """A conversation topic. Its state lives in ctx.state (flow name, step, slots)."""

    name: ClassVar[str]
    intents: ClassVar[tuple[str, ...]] = ()  # NLU intents that start this flow
    needs_household: ClassVar[bool] = False  # ask to bind first, then continue here
    needs_staff: ClassVar[bool] = False
    acts_at_once: ClassVar[bool] = False  # may change data from its first message (the policy wants confidence)
    free_text_steps: ClassVar[frozenset[str]] = frozenset()  # steps where any text is a valid answer
    locked_steps: ClassVar[frozenset[str]] = frozenset()  # steps that no topic switch interrupts
    terminal_steps: ClassVar[frozenset[str]] = frozenset({"created"})  # done; only follow-ups remain

    @abstractmethod
    def start(self, ctx: Context) -> None:
        """Begin (ctx.parse holds the message that started it, if any)."""

    @abstractmethod
    def step(self, ctx: Context) -> Outcome:
        """A message while this flow is active."""

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        """A button press meant for this flow; False when it is not."""
        return False

    def on_cancel(self, ctx: Context) -> bool:
        """"Cancel" said within this flow; True when the flow handled it (e.g. offered to withdraw what it made)."""
        return False

    @staticmethod
    def withdraw(ctx: Context, slot: str, offer: Callable[[Context, int], object],
                 steps: frozenset[str] = frozenset({"created"})) -> bool:
        """Offer to withdraw what this flow created (its id kept in `slot`); the offer asks to confirm."""
        if ctx.state.step not in steps or not ctx.slots.get(slot):
            return False
        item = int(ctx.slots[slot])
        finish(ctx, resume=False)
        offer(ctx, item)
        return True

    def resume(self, ctx: Context) -> None:
        """Back after a topic switch: remind the user where we were."""
        self.start_prompt(ctx)

    def start_prompt(self, ctx: Context) -> None:  # noqa: B027  (optional hook; most flows override it)
        """Repeat the question of the current step (used by resume and after corrections)."""


REGISTRY: dict[str, Flow] = {}
BY_INTENT: dict[str, str] = {}


def register(flow: Flow) -> Flow:
    if flow.name in REGISTRY:
        raise KeyError(f"flow {flow.name} registered twice")
    REGISTRY[flow.name] = flow
    for intent in flow.intents:
        BY_INTENT.setdefault(intent, flow.name)
    return flow


def get(name: str | None) -> Flow | None:
    return REGISTRY.get(name or "")


def start_flow(ctx: Context, name: str) -> None:
    """Start a flow by name, asking to bind a household first where the flow needs one."""
    flow = REGISTRY[name]
    if flow.needs_staff and ctx.staff is None:
        ctx.say("chat.staff_only")
        return
    ctx.state.stack = [s for s in ctx.state.stack if s.get("flow") != name]  # the new one replaces it
    if flow.needs_household and ctx.household is None:
        defer_until_bound(ctx, name)
        return
    state_store.set_flow(ctx.state, name, "start", {})
    flow.start(ctx)


def defer_until_bound(ctx: Context, name: str, **slots: object) -> None:
    """Bind first, then start `name` afresh with the message that asked for it (no need to say it again)."""
    state_store.set_flow(ctx.state, name, "start", {"_parse": ctx.parse, "_text": ctx.text, **slots})
    state_store.push(ctx.state)
    ctx.say("bind.needed_first", topic=ctx.t(f"flow.{name}"))
    REGISTRY["bind"].start(ctx)


def suspend(ctx: Context) -> None:
    """Put the active flow aside for another topic; a flow that is done is ended instead."""
    flow = get(ctx.state.flow)
    if flow is not None and ctx.state.step in flow.terminal_steps:
        state_store.set_flow(ctx.state, None)
        return
    state_store.push(ctx.state)


def leave(ctx: Context) -> None:
    """A done form steps aside for a new message; what is suspended stays suspended."""
    state_store.set_flow(ctx.state, None)


def finish(ctx: Context, *, resume: bool = True) -> None:
    """End the current flow; resume a suspended one if there is one."""
    state_store.set_flow(ctx.state, None)
    while resume and state_store.pop(ctx.state):
        flow = get(ctx.state.flow)
        if flow is None or ctx.state.step in flow.terminal_steps or (
                flow.needs_household and ctx.household is None):
            state_store.set_flow(ctx.state, None)  # nothing left to ask there, or no home to ask it for
            continue
        ctx.say("chat.resume", topic=ctx.t(f"flow.{flow.name}"))
        if ctx.state.step == "start":  # deferred until the household was bound: start afresh
            ctx.parse = ctx.state.slots.get("_parse")
            ctx.text = ctx.state.slots.get("_text") or ""
            kept = {k: v for k, v in ctx.state.slots.items() if not k.startswith("_")}
            ctx.state.slots = kept
            flow.start(ctx)
            return
        flow.resume(ctx)
        return


def begin(ctx: Context, name: str, step: str = "", **slots: object) -> None:
    state_store.set_flow(ctx.state, name, step, dict(slots))
