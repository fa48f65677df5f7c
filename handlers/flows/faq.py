"""Questions: answered from the office's FAQ; with no good answer an inquiry ticket, so nothing is dropped."""

from __future__ import annotations

from backend.catalogue import register as register_texts
from backend.domain import Kind
from backend.models import Staff
from backend.services import faq
from backend.services.ticket_format import staff_label, ticket_params
from backend.services.tickets import NewTicket
from handlers import limits, payloads, policy
from handlers.context import Context
from handlers.flows import places
from handlers.flows.base import REGISTRY, Flow, Outcome, begin, finish, register

register_texts({
    "faq.answer": ("💬 {answer}", "💬 {answer}"),
    "faq.ask_what": ("请问您想咨询什么？例如「物业几点下班」「快递在哪里取」。",
                     "What would you like to know? e.g. \"office hours\", \"where do I pick up parcels\"."),
    "faq.not_sure": ("抱歉，我没太明白您想咨询什么。可以换个说法再问一次，或者转人工客服。",
                     "Sorry, I am not sure what you would like to know. Please ask in other words, or talk to a person."),
    "faq.inquiry": (
        "这个问题我暂时答不上来，已转给客服（咨询单 #{number}），我们会在 {respond_due} 前回复您。",
        "I can't answer that yet; customer service has it (inquiry #{number}) and will reply by {respond_due}.",
    ),
})


class Faq(Flow):
    name = "faq"
    intents = ("ask_info",)
    free_text_steps = frozenset({"what"})

    def start(self, ctx: Context) -> None:
        if ctx.parse is None or len(ctx.text) < 3:
            ctx.goto("what")
            ctx.say("faq.ask_what")
            return
        self.answer(ctx)

    def step(self, ctx: Context) -> Outcome:
        if not ctx.text:
            return Outcome.NOT_MINE
        self.answer(ctx)
        return Outcome.HANDLED

    def start_prompt(self, ctx: Context) -> None:
        ctx.say("faq.ask_what")

    def answer(self, ctx: Context) -> None:
        found = faq.match(ctx.session, ctx.community.id, ctx.text)
        if found is not None:
            ctx.say("faq.answer", answer=found.entry.answer)
        elif ctx.confidence < policy.ACT and ctx.state.step != "what":  # unsure it is a question: ask, or a person
            from handlers.flows.smalltalk import menu_buttons

            finish(ctx, resume=False)
            ctx.say("faq.not_sure", ctx.button("menu.human", payloads.make("m", "human")), *menu_buttons(ctx))
            return
        elif len(places.substance(ctx.text)) < MIN_QUESTION:  # too little to pass on: ask what they want to know
            if ctx.state.step == "what":
                finish(ctx, resume=False)
                REGISTRY["smalltalk"].start(ctx)
                return
            begin(ctx, self.name, "what")
            ctx.say("faq.ask_what")
            return
        elif limits.ticket_allowed(ctx):
            household = ctx.household
            ticket = ctx.tickets().create(ctx.resident_actor(), NewTicket(
                kind=Kind.INQUIRY, description=ctx.text, category="inquiry", channel=ctx.inbound.channel,
                household_id=household.id if household is not None else None,
            ))
            owner = ctx.session.get(Staff, ticket.owner_id) if ticket.owner_id else None
            ctx.say("faq.inquiry", ctx.button("repair.cancel_ticket", payloads.make("r", "cancel", ticket.id)),
                    **ticket_params(ticket, ctx.settings.timezone, ctx.lang, owner=staff_label(owner)))
        finish(ctx)


MIN_QUESTION = 4  # characters of substance before an unanswered question becomes an inquiry ticket

register(Faq())
