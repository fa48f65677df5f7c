"""The conversation engine: one Inbound in, the replies out, state saved in the same transaction."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock, SystemClock
from backend.db import transaction
from backend.errors import DomainError
from backend.settings import Settings, get_settings
from handlers import arrival, limits, payloads, policy, registry
from handlers import flows as _flows  # noqa: F401  (registers every flow)
from handlers import state as state_store
from handlers.context import NLU, Context
from handlers.flows import also, clarify
from handlers.flows import base as flow_base
from handlers.flows.base import Outcome
from handlers.messages import Inbound, Outbound

log = logging.getLogger(__name__)

RESET_AFTER_FAILURES = 2  # a chat whose messages fail this many times in a row starts over

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")


def clean_text(text: str, limit: int) -> str:
    """What we parse and store: NFC, no control characters, bounded length."""
    text = _CONTROL_CHARS.sub("", unicodedata.normalize("NFC", text or ""))
    return text.strip()[:limit]


class Conversation:
    def __init__(self, session_factory: sessionmaker[Session], nlu: NLU, clock: Clock | None = None,
                 settings: Settings | None = None) -> None:
        self.session_factory = session_factory
        self.nlu = nlu
        self.clock = clock or SystemClock()
        self.settings = settings or get_settings()

    def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle in a transaction of its own.

        The common path needs no savepoint: when the message fails, its whole transaction is rolled back
        and a second one records the chat's state and answers with the error.
        """
        try:
            with transaction(self.session_factory) as session:
                return self._handle(session, inbound, isolate=False)
        except _Failed as failed:
            with transaction(self.session_factory) as session:
                return self._handle(session, inbound, isolate=False, failure=failed.error)

    def handle_in(self, session: Session, inbound: Inbound) -> list[Outbound]:
        """Handle within the caller's transaction (channels that record dedup keys in the same one); a
        failing message is rolled back to a savepoint so the caller's work stays."""
        return self._handle(session, inbound, isolate=True)

    def _handle(self, session: Session, inbound: Inbound, *, isolate: bool,
                failure: Exception | None = None) -> list[Outbound]:
        who, state = arrival.read(session, inbound, self.clock, self.settings)
        if who is None:
            return [Outbound(_catalogue("chat.need_community"))]
        if inbound.is_group and not inbound.addressed and not inbound.payload:
            return []  # group chatter not meant for us
        if state is None:
            state = state_store.load(session, who.community.id, inbound.channel, inbound.chat_key,
                                     who.identity.id, self.clock)
        ctx = Context(session, self.clock, self.settings, self.nlu, inbound, who, state,
                      text=clean_text(inbound.text, self.settings.max_message_chars))
        if state_store.expired(state, self.clock):
            state_store.clear(state)
            ctx.say("chat.expired")
        if who.joined and not inbound.payload and not ctx.text.startswith("/"):
            ctx.say("chat.welcome", community=who.community.name)
        if failure is not None:
            self._tell_failure(ctx, failure)
        elif not isolate:
            try:
                self._dispatch(ctx)
            except Exception as err:
                raise _Failed(err) from err  # the caller rolls the transaction back and comes again
            self._succeeded(ctx)
        else:
            said, before = len(ctx.replies), state_store.snapshot(state)
            savepoint = session.begin_nested()
            try:
                self._dispatch(ctx)
                savepoint.commit()
                self._succeeded(ctx)
            except Exception as err:  # told to the user, logged when unexpected
                savepoint.rollback()
                del ctx.replies[said:]  # what was said about work now undone
                state_store.restore(state, before)
                self._tell_failure(ctx, err)
        state_store.touch(state, self.clock, self.settings)
        state_store.save(session, state)
        return ctx.replies or [Outbound(ctx.t("chat.fallback"))]

    def _tell_failure(self, ctx: Context, err: Exception) -> None:
        if isinstance(err, DomainError):
            ctx.replies.append(Outbound(err.text(ctx.lang)))
            return
        log.error("conversation failed on %s message from %s in %s/%s", ctx.inbound.channel,
                  ctx.inbound.sender_id[:8], ctx.state.flow, ctx.state.step, exc_info=err)
        failures = int(state_store.memo(ctx.state).get("failures", 0)) + 1
        state_store.remember(ctx.state, failures=failures)
        if failures >= RESET_AFTER_FAILURES:  # the state itself may be what fails: start over
            state_store.clear(ctx.state)
            state_store.remember(ctx.state, failures=0)
            from handlers.flows.smalltalk import menu_buttons

            ctx.say("chat.reset", *menu_buttons(ctx), hotline=self.settings.hotline)
            return
        ctx.say("chat.internal_error", hotline=self.settings.hotline)

    @staticmethod
    def _succeeded(ctx: Context) -> None:
        if state_store.memo(ctx.state).get("failures"):
            state_store.remember(ctx.state, failures=0)

    # ---- routing --------------------------------------------------------------------------

    def _dispatch(self, ctx: Context) -> None:
        inbound = ctx.inbound
        if not limits.message_allowed(ctx):
            return
        if inbound.payload is not None:
            self._on_payload(ctx)
            return
        if ctx.text.startswith("/"):
            name, _, rest = ctx.text.partition(" ")
            command = registry.COMMANDS.get(name.lower().split("@", 1)[0])
            if command is not None:
                command(ctx, rest.strip())
                return
        for cmd in registry.TEXT_COMMANDS:
            if cmd.staff_only and ctx.staff is None:
                continue
            match = cmd.pattern.fullmatch(ctx.text)
            if match and cmd.run(ctx, match) is not False:  # False: not mine after all, carry on
                return
        if not ctx.text:
            self._without_text(ctx)
            return
        ctx.parse = self.nlu.parse(ctx.text, reference_time=self._local_now())
        if also.pending(ctx) and ctx.intent in ("affirm", "deny") and also.answer(ctx, ctx.intent == "affirm"):
            return
        parse = ctx.parse
        active = flow_base.get(ctx.state.flow)
        if active is not None:
            self._within_flow(ctx, active)
        else:
            self.route_intent(ctx)
            if parse and parse.get("requests"):
                also.note(ctx, parse, ctx.state.flow)
        also.maybe_offer(ctx)

    def _within_flow(self, ctx: Context, active: flow_base.Flow) -> None:
        if policy.is_cancel(ctx):
            if active.on_cancel(ctx):
                return
            flow_base.finish(ctx, resume=False)
            ctx.say("chat.cancelled", topic=ctx.t(f"flow.{active.name}"))
            return
        target = policy.may_switch(ctx, active)  # only a sure parse pre-empts the form
        if target is not None:
            flow_base.suspend(ctx)
            self._start(ctx, target)
            return
        if active.step(ctx) is not Outcome.NOT_MINE:
            return
        if ctx.state.flow == active.name and ctx.state.step not in active.terminal_steps:
            target = policy.after_not_mine(ctx, active)
            if target is not None:
                flow_base.suspend(ctx)
                self._start(ctx, target)
                return
            if ctx.intent in ("greet", "thank", "affirm", "deny", "out_of_scope", "inform") or policy.details(ctx):
                active.start_prompt(ctx)  # not an answer: ask again
                return
        # the form ended, or is done and this is something new: treat it as a fresh message
        if ctx.state.flow == active.name:
            flow_base.finish(ctx, resume=False)
        self.route_intent(ctx)

    def route_intent(self, ctx: Context) -> None:
        decision = policy.decide(ctx)
        if decision.flow is None:
            clarify.offer(ctx, decision.choices)
            return
        if decision.confirm:
            ctx.must_confirm = True
        self._start(ctx, decision.flow)

    @staticmethod
    def _start(ctx: Context, name: str) -> None:
        flow_base.start_flow(ctx, name)

    def _on_payload(self, ctx: Context) -> None:
        payload = payloads.parse(ctx.inbound.payload)
        if payload is None:
            ctx.say("chat.stale_button")
            return
        active = flow_base.get(ctx.state.flow)
        if active is not None and payload.scope == "f" and active.on_payload(ctx, payload):
            return
        handler = registry.PAYLOADS.get(payload.scope)
        if handler is None or not handler(ctx, payload):
            ctx.say("chat.stale_button")

    def _without_text(self, ctx: Context) -> None:
        kinds = {a.kind for a in ctx.inbound.attachments}
        active = flow_base.get(ctx.state.flow)
        if active is not None and kinds & {"photo", "document", "location"} \
                and active.step(ctx) is not Outcome.NOT_MINE:
            return
        if active is not None and not kinds:  # an empty message (a stray character): ask again
            active.start_prompt(ctx)
            return
        if "voice" in kinds:
            ctx.say("chat.voice_unsupported")
        elif kinds & {"photo", "document", "location"}:
            flow_base.start_flow(ctx, "repair")
        else:
            flow_base.start_flow(ctx, "smalltalk")

    def _local_now(self) -> datetime:
        now = self.clock.now().replace(tzinfo=UTC)
        return now.astimezone(ZoneInfo(self.settings.timezone)).replace(tzinfo=None)


class _Failed(Exception):
    """A message failed; its transaction is rolled back and the error told in a fresh one."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _catalogue(key: str) -> str:
    from backend.catalogue import render

    return render(key)
