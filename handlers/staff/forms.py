"""The two short forms behind staff buttons: resolving (note, then an optional photo) and a transfer's note."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register
from handlers.payloads import Payload
from handlers.staff import actions

SKIP = re.compile(r"(跳过|不用了?|没有|无|skip|no|none)[。.!！]?", re.IGNORECASE)


def _photo(ctx: Context) -> str | None:
    return next((a.url for a in ctx.inbound.attachments if a.kind == "photo" and a.url), None)


class ResolveTask(Flow):
    """办结: what was done (free text), then a photo of the work or 跳过."""

    name = "task_resolve"
    needs_staff = True
    free_text_steps = frozenset({"note", "photo"})
    locked_steps = frozenset({"note", "photo"})  # "已更换阀门" must not start a repair report

    def start(self, ctx: Context) -> None:
        self.start_prompt(ctx)

    def step(self, ctx: Context) -> Outcome:
        photo = _photo(ctx)
        if photo:
            ctx.set_slots(photo=photo)
        if ctx.state.step == "note":
            if not ctx.text:
                if photo:
                    ctx.say("task.ask_note", number=ctx.slots.get("number"))
                return Outcome.HANDLED if photo else Outcome.NOT_MINE
            ctx.set_slots(note=ctx.text)
            if ctx.slots.get("photo"):
                self._complete(ctx)
            else:
                ctx.goto("photo")
                self.start_prompt(ctx)
            return Outcome.HANDLED
        if ctx.state.step == "photo":
            if photo or SKIP.fullmatch(ctx.text):
                self._complete(ctx)
                return Outcome.HANDLED
            return Outcome.NOT_MINE
        return Outcome.NOT_MINE

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "skip" and ctx.state.step == "photo":
            self._complete(ctx)
            return True
        return False

    def start_prompt(self, ctx: Context) -> None:
        if ctx.state.step == "photo":
            ctx.say("task.ask_photo", actions.skip_button(ctx))
        else:
            ctx.say("task.ask_note", number=ctx.slots.get("number"))

    def _complete(self, ctx: Context) -> None:
        slots = ctx.slots
        finish(ctx, resume=False)
        actions.resolve(ctx, int(slots["ticket_id"]), slots.get("note", ""), slots.get("photo"))


class TransferNote(Flow):
    """转派: an optional note for the colleague or department that takes the work."""

    name = "task_transfer"
    needs_staff = True
    free_text_steps = frozenset({"note"})
    locked_steps = frozenset({"note"})

    def start(self, ctx: Context) -> None:
        self.start_prompt(ctx)

    def step(self, ctx: Context) -> Outcome:
        if ctx.state.step != "note" or not ctx.text:
            return Outcome.NOT_MINE
        self._complete(ctx, "" if SKIP.fullmatch(ctx.text) else ctx.text)
        return Outcome.HANDLED

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "skip":
            self._complete(ctx, "")
            return True
        return False

    def start_prompt(self, ctx: Context) -> None:
        ctx.say("task.ask_transfer_note", actions.skip_button(ctx), target=ctx.slots.get("target", ""))

    def _complete(self, ctx: Context, note: str) -> None:
        slots = ctx.slots
        finish(ctx, resume=False)
        actions.transfer(ctx, int(slots["ticket_id"]), to_staff_id=slots.get("to_staff_id"),
                         to_department=slots.get("to_department"), note=note)


register(ResolveTask())
register(TransferNote())
