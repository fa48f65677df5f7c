"""Abuse limits on what a chat may cause: messages per minute, tickets per hour, repeated emergencies.

Counts of tickets come from the database, so every server process sees the same figures; the message
rate is per chat, kept in the chat's state. Staff are never limited in their own work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from backend.catalogue import register as register_texts
from backend.domain import Kind
from backend.models import Ticket
from handlers import state as state_store
from handlers.context import Context

register_texts({
    "limit.messages": ("您发送得太快了，请稍等一分钟再发。紧急情况请直接拨打 {hotline}。",
                       "You are sending messages too fast; please wait a minute. In an emergency call {hotline}."),
    "limit.tickets": (
        "您这一小时已经提交了 {count} 个工单，请稍后再提交，或拨打 {hotline} 联系客服。",
        "You have filed {count} tickets this hour. Please wait a little, or call {hotline}.",
    ),
})


def message_allowed(ctx: Context) -> bool:
    """At most settings.max_messages_per_minute messages per chat per minute (staff unlimited)."""
    if ctx.staff is not None:
        return True
    now = ctx.now()
    recent = [t for t in state_store.memo(ctx.state).get("sent", []) if now - datetime.fromisoformat(t)
              < timedelta(minutes=1)]
    limit = ctx.settings.max_messages_per_minute
    if len(recent) >= limit:
        ctx.say("limit.messages", hotline=ctx.community.hotline or ctx.settings.hotline)
        return False
    state_store.remember(ctx.state, sent=[*recent, now.isoformat()][-limit:])
    return True


def ticket_allowed(ctx: Context) -> bool:
    """At most settings.max_tickets_per_hour tickets from one resident per hour; says so when not."""
    if ctx.staff is not None or ctx.who.resident is None:
        return True
    since = ctx.now() - timedelta(hours=1)
    count = ctx.session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.reporter_id == ctx.who.resident.id, Ticket.created_at >= since)) or 0
    if count < ctx.settings.max_tickets_per_hour:
        return True
    ctx.say("limit.tickets", count=count, hotline=ctx.community.hotline or ctx.settings.hotline)
    return False


SAME_REPORT_MINUTES = 30


def same_report(ctx: Context, description: str) -> Ticket | None:
    """The same words reported by the same resident within the half hour and still open (a repeated message)."""
    if ctx.who.resident is None:
        return None
    since = ctx.now() - timedelta(minutes=SAME_REPORT_MINUTES)
    return ctx.session.scalar(select(Ticket).where(
        Ticket.reporter_id == ctx.who.resident.id, Ticket.description == description[:2000],
        Ticket.created_at >= since, Ticket.is_open.is_(True)).order_by(Ticket.created_at.desc()).limit(1))


def recent_emergency(ctx: Context) -> Ticket | None:
    """This resident's emergency of the last few minutes that is still open, if any."""
    minutes = ctx.settings.emergency_repeat_minutes
    if ctx.staff is not None or ctx.who.resident is None or minutes <= 0:
        return None
    since = ctx.now() - timedelta(minutes=minutes)
    return ctx.session.scalar(select(Ticket).where(
        Ticket.reporter_id == ctx.who.resident.id, Ticket.kind == Kind.EMERGENCY, Ticket.created_at >= since,
        Ticket.is_open.is_(True)).order_by(Ticket.created_at.desc()).limit(1))
