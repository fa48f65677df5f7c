"""Asking for a person: customer service on duty is told who asks and what about; the resident how to reach them."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.catalogue import register as register_texts
from backend.domain import Department
from backend.services import outbox
from backend.services.binding import mask_phone
from backend.services.outbox import Recipient
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register

register_texts({
    "human.handed": (
        "好的，已通知值班客服，会尽快通过电话或这里联系您。着急的话请直接拨打24小时热线 {hotline}。",
        "OK, customer service on duty has been told and will contact you soon, here or by phone. "
        "If it is urgent, call the 24-hour hotline {hotline}.",
    ),
    "human.already": (
        "刚才已经通知过客服了，请稍候，他们会尽快联系您。着急请拨打 {hotline}。",
        "Customer service already knows and will contact you soon. If it is urgent, call {hotline}.",
    ),
    "human.request_staff": (
        "🙋 居民请求人工服务\n居民：{name}｜房屋：{household}｜电话：{phone}\n渠道：{channel}\n原话：{text}\n请尽快联系。",
        "🙋 A resident asks for a person\nResident: {name} | Home: {household} | Phone: {phone}\n"
        "Channel: {channel}\nSaid: {text}\nPlease get in touch soon.",
    ),
})
AGAIN_MINUTES = 30  # asking again within this time does not page customer service again


class Human(Flow):
    name = "human"
    intents = ("human_agent",)

    def start(self, ctx: Context) -> None:
        finish(ctx, resume=False)
        hotline = ctx.community.hotline or ctx.settings.hotline
        asked = state_store.memo(ctx.state).get("human_at")
        now = ctx.now()
        if asked and now - datetime.fromisoformat(asked) < timedelta(minutes=AGAIN_MINUTES):
            ctx.say("human.already", hotline=hotline)
            return
        resident, household = ctx.resident, ctx.household
        outbox.enqueue(ctx.session, ctx.clock, ctx.community.id, Recipient.dept(Department.CUSTOMER_SERVICE),
                       "human.request_staff", {
                           "name": resident.name or ctx.who.identity.display_name or "—",
                           "household": household.label if household is not None else "未绑定",
                           "phone": mask_phone(resident.phone) if resident.phone else "—",
                           "channel": ctx.inbound.channel, "text": (ctx.text or "—")[:300]})
        state_store.remember(ctx.state, human_at=now.isoformat())
        ctx.say("human.handed", hotline=hotline)

    def step(self, ctx: Context) -> Outcome:
        return Outcome.NOT_MINE


register(Human())
