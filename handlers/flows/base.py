"""The flow contract and registry: each flow is one module, registered by name and by intent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from handlers.context import Context
from handlers.payloads import Payload


class Flow(ABC):
    """A conversation topic. Its state lives in ctx.state (flow name, step, slots)."""

    name: ClassVar[str]
    intents: ClassVar[tuple[str, ...]] = ()  # NLU intents that start this flow
    needs_household: ClassVar[bool] = False  # ask to bind first, then continue here
    needs_staff: ClassVar[bool] = False
    free_text_steps: ClassVar[frozenset[str]] = frozenset()  # steps where any text is a valid answer
    locked_steps: ClassVar[frozenset[str]] = frozenset()  # steps that no topic switch interrupts

    @abstractmethod
    def start(self, ctx: Context) -> None:
        """Begin (ctx.parse holds the message that started it, if any)."""

    @abstractmethod
    def step(self, ctx: Context) -> bool:
        """A message while this flow is active; False when it is no answer to the current step."""

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        """A button press meant for this flow; False when it is not."""
        return False

    def on_cancel(self, ctx: Context) -> bool:
        """"Cancel" said within this flow; True when the flow handled it (e.g. withdrew what it created)."""
        return False

    @staticmethod
    def withdraw(ctx: Context, slot: str, cancel: Callable[[Context, int], object],
                 steps: frozenset[str] = frozenset({"created"})) -> bool:
        """Cancel what this flow created (its id kept in `slot`) and end the flow."""
        if ctx.state.step not in steps or not ctx.slots.get(slot):
            return False
        cancel(ctx, int(ctx.slots[slot]))
        finish(ctx, resume=False)
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


def finish(ctx: Context, *, resume: bool = True) -> None:
    """End the current flow; resume a suspended one if there is one."""
    from handlers import state as state_store

    state_store.set_flow(ctx.state, None)
    if resume and state_store.pop(ctx.state):
        flow = get(ctx.state.flow)
        if flow is None:
            state_store.clear(ctx.state)
            return
        if ctx.state.step == "start":  # deferred until the household was bound: start afresh
            ctx.parse = ctx.state.slots.get("_parse")
            ctx.state.slots = {}
            ctx.say("chat.resume", topic=ctx.t(f"flow.{flow.name}"))
            flow.start(ctx)
            return
        ctx.say("chat.resume", topic=ctx.t(f"flow.{flow.name}"))
        flow.resume(ctx)


def begin(ctx: Context, name: str, step: str = "", **slots: object) -> None:
    from handlers import state as state_store

    state_store.set_flow(ctx.state, name, step, dict(slots))
