"""Asking for a person: customer service gets an inquiry with the chat's recent request, the resident an answer."""

from __future__ import annotations

from backend.catalogue import register as register_texts
from backend.catalogue import render
from backend.domain import Kind
from backend.models import Staff
from backend.services.ticket_format import staff_label, ticket_params
from backend.services.tickets import NewTicket
from handlers import limits, payloads
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register

register_texts({
    "human.handed": (
        "好的，已为您转人工客服（工单 #{number}），{owner}会尽快联系您，最晚 {respond_due} 前回复。"
        "着急的话请拨打24小时热线 {hotline}。",
        "OK, {owner} will contact you (ticket #{number}), by {respond_due} at the latest. "
        "If it is urgent, call the 24-hour hotline {hotline}.",
    ),
    "human.already": (
        "已经为您转过人工（工单 #{number}），客服会尽快联系您。着急请拨打 {hotline}。",
        "Customer service already has your request (ticket #{number}). If it is urgent, call {hotline}.",
    ),
    "human.cs": ("客服", "customer service"),
    "human.description": ("居民要求人工服务：{text}", "Resident asks for a person: {text}"),
})


class Human(Flow):
    name = "human"
    intents = ("human_agent",)
    acts_at_once = True

    def start(self, ctx: Context) -> None:
        hotline = ctx.community.hotline or ctx.settings.hotline
        svc = ctx.tickets()
        open_asks = [t for t in svc.for_resident(ctx.resident, open_only=True)
                     if t.kind == Kind.INQUIRY and t.description.startswith(render("human.description", "zh", text=""))]
        if open_asks:
            ctx.say("human.already", number=open_asks[0].number, hotline=hotline)
            finish(ctx, resume=False)
            return
        if not limits.ticket_allowed(ctx):
            finish(ctx, resume=False)
            return
        household = ctx.household
        ticket = svc.create(ctx.resident_actor(), NewTicket(
            kind=Kind.INQUIRY, category="inquiry", channel=ctx.inbound.channel,
            description=render("human.description", "zh", text=ctx.text or "—")[:2000],
            household_id=household.id if household is not None else None,
        ))
        owner = ctx.session.get(Staff, ticket.owner_id) if ticket.owner_id else None
        ctx.say("human.handed", ctx.button("repair.cancel_ticket", payloads.make("r", "cancel", ticket.id)),
                hotline=hotline, **ticket_params(ticket, ctx.settings.timezone, ctx.lang,
                                                 owner=staff_label(owner) if owner else ctx.t("human.cs")))
        finish(ctx, resume=False)

    def step(self, ctx: Context) -> Outcome:
        return Outcome.NOT_MINE


register(Human())
