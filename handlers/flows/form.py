"""The form engine: a flow declared as the slots it needs, each read from the message or asked for.

In the manner of Rasa's forms. A form names its required slots; each slot has an `extract` function
that reads its value(s) from the message (entities, the text, a button, an attachment) and a question.
Every message offers every slot a chance (people say the address and the problem in any order); the
slot being asked may also take free text. When nothing is missing the form confirms, if it says so,
and then submits. Steps are the names of the slots being asked, plus "confirm" and the terminal ones.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from backend.catalogue import MESSAGES
from backend.catalogue import register as register_texts
from handlers import payloads, policy
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, begin, finish
from handlers.payloads import Payload

# (ctx, asked) -> the slot values the message holds; None: nothing for this slot; {}: a bad answer, told why
Extract = Callable[[Context, bool], dict[str, Any] | None]
Ask = Callable[[Context], None]

CONFIRM_STEP = "confirm"

register_texts({
    "form.confirm": ("请确认是否为您办理{topic}：\n{summary}", "Shall I go ahead with the {topic}?\n{summary}"),
    "slot.description": ("内容", "What"),
    "slot.location": ("地点", "Where"),
    "slot.visitor": ("访客", "Visitor"),
    "slot.people": ("人数", "People"),
    "slot.plate": ("车牌", "Plate"),
    "slot.window": ("时间", "When"),
})


@dataclass(frozen=True)
class Slot:
    name: str
    extract: Extract
    ask: Ask
    required: Callable[[Context], bool] = lambda _ctx: True


def ask_key(key: str) -> Ask:
    """A question that is one catalogue text."""

    def ask(ctx: Context) -> None:
        ctx.say(key)

    return ask


def filled(ctx: Context, name: str) -> bool:
    return ctx.slots.get(name) not in (None, "", [])


class Form(Flow):
    slots: ClassVar[tuple[Slot, ...]] = ()
    confirm_first: ClassVar[bool] = False

    # ---- to implement ---------------------------------------------------------------------

    @abstractmethod
    def submit(self, ctx: Context) -> None:
        """Everything is known (and confirmed): act. Leave the form in a terminal step or finish it."""

    def confirm_prompt(self, ctx: Context) -> None:
        """Show what will be done, with confirm/cancel buttons."""
        ctx.say("form.confirm", *self.confirm_buttons(ctx), topic=ctx.t(f"flow.{self.name}"), summary=self.summary(ctx))

    def summary(self, ctx: Context) -> str:
        """What the form has understood, one line per slot, for the confirmation."""
        return "\n".join(f"{ctx.t(f'slot.{s.name}')}：{ctx.slots[s.name]}" for s in self.slots
                         if filled(ctx, s.name) and f"slot.{s.name}" in MESSAGES)

    def after(self, ctx: Context) -> Outcome:
        """A message once the form is in a terminal step (a photo, a correction): NOT_MINE ends the form."""
        return Outcome.NOT_MINE

    # ---- the engine -----------------------------------------------------------------------

    def start(self, ctx: Context) -> None:
        begin(ctx, self.name, "")
        if ctx.must_confirm:
            ctx.set_slots(_confirm=True)
        if ctx.parse is not None or ctx.inbound.attachments:
            self.fill(ctx, asked=None)
        self.advance(ctx)

    def step(self, ctx: Context) -> Outcome:
        step = ctx.state.step
        if step in self.terminal_steps:
            return self.after(ctx)
        if step == CONFIRM_STEP:
            return self._confirming(ctx)
        before = ctx.slots
        if not self.fill(ctx, asked=step):
            return Outcome.NOT_MINE
        if ctx.slots == before and ctx.state.flow == self.name:
            return Outcome.HANDLED  # a bad answer: the slot said why and what to send
        return self.advance(ctx)

    def fill(self, ctx: Context, asked: str | None) -> bool:
        """Let every slot read the message; True when any slot took something."""
        took = False
        for slot in self.slots:
            values = slot.extract(ctx, slot.name == asked)
            if values is not None:  # {}: an answer that was no good, and the slot has said why
                ctx.set_slots(**values)
                took = True
            if ctx.state.flow != self.name:  # a slot handed over (e.g. to binding)
                return True
        return took

    def missing(self, ctx: Context) -> Slot | None:
        return next((s for s in self.slots if s.required(ctx) and not filled(ctx, s.name)), None)

    def advance(self, ctx: Context) -> Outcome:
        """Ask the next missing slot, or confirm, or submit."""
        if ctx.state.flow != self.name:  # handed over meanwhile
            return Outcome.HANDLED
        slot = self.missing(ctx)
        if slot is not None:
            ctx.goto(slot.name)
            slot.ask(ctx)
            return Outcome.HANDLED
        if (self.confirm_first or ctx.slots.get("_confirm")) and not ctx.slots.get("_confirmed"):
            ctx.goto(CONFIRM_STEP)
            self.confirm_prompt(ctx)
            return Outcome.HANDLED
        self.submit(ctx)
        return Outcome.DONE if ctx.state.flow != self.name else Outcome.HANDLED

    def _confirming(self, ctx: Context) -> Outcome:
        if policy.said_yes(ctx) and not ctx.entities("building"):
            ctx.set_slots(_confirmed=True)
            return self.advance(ctx)
        if self.fill(ctx, asked=None):  # a correction: show it again
            return self.advance(ctx)
        return Outcome.NOT_MINE

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "yes" and ctx.state.step == CONFIRM_STEP:
            ctx.set_slots(_confirmed=True)
            self.advance(ctx)
            return True
        if payload.verb == "no" and ctx.state.step == CONFIRM_STEP:
            finish(ctx, resume=False)
            ctx.say("chat.cancelled", topic=ctx.t(f"flow.{self.name}"))
            return True
        return False

    def start_prompt(self, ctx: Context) -> None:
        if ctx.state.flow != self.name:
            return
        if ctx.state.step in self.terminal_steps:
            return
        ctx.slots.pop("_confirmed", None)
        self.advance(ctx)

    def resume(self, ctx: Context) -> None:
        self.start_prompt(ctx)

    @staticmethod
    def confirm_buttons(ctx: Context) -> list:
        return [ctx.button("button.confirm", payloads.make("f", "yes")),
                ctx.button("button.cancel", payloads.make("f", "no"))]
