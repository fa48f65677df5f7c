"""我的任务: a staff member's open tasks as cards, the nearest deadline first."""

from __future__ import annotations

import re
from datetime import datetime

from backend.catalogue import register as register_texts
from backend.models import Ticket
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register
from handlers.registry import command, text_command
from handlers.staff.cards import task_card

register_texts({
    "tasks.none": ("您目前没有未完成的任务。👍", "You have no open tasks. 👍"),
    "tasks.count": ("您有 {count} 项未完成任务{shown}，按期限先后排列：", "You have {count} open tasks{shown}, nearest deadline first:"),
    "tasks.shown": ("（显示前 {limit} 项）", " (showing the first {limit})"),
    "flow.tasks": ("我的任务", "my tasks"),
})

SHOWN = 10
SCANNED = 500  # more open work than this for one person is a staffing problem, not a list


def deadline(ticket: Ticket) -> datetime:
    """The deadline that matters now: the response until someone accepted, then the resolution."""
    return ticket.respond_due_at if ticket.accepted_at is None else ticket.resolve_due_at


def show_tasks(ctx: Context) -> None:
    assert ctx.staff is not None
    tasks = sorted(ctx.tickets().open_tasks(ctx.staff, limit=SCANNED), key=lambda t: (deadline(t), t.id))
    if not tasks:
        ctx.say("tasks.none")
        return
    shown = ctx.t("tasks.shown", limit=SHOWN) if len(tasks) > SHOWN else ""
    ctx.say("tasks.count", count=len(tasks), shown=shown)
    for ticket in tasks[:SHOWN]:
        ctx.replies.append(task_card(ticket, ctx.staff, ctx.lang, group=ctx.inbound.is_group,
                                     tz=ctx.settings.timezone, now=ctx.now()))


class Tasks(Flow):
    name = "tasks"
    needs_staff = True

    def start(self, ctx: Context) -> None:
        show_tasks(ctx)
        finish(ctx)

    def step(self, ctx: Context) -> Outcome:
        return Outcome.NOT_MINE


register(Tasks())


@text_command(r"(?:我的任务|任务|待办|tasks|my tasks)[。.!！?？]?")
def _tasks_text(ctx: Context, _m: re.Match[str]) -> None:
    show_tasks(ctx)


@command("/tasks")
def _tasks_command(ctx: Context, _rest: str) -> None:
    if ctx.staff is None:
        ctx.say("chat.staff_only")
        return
    show_tasks(ctx)
