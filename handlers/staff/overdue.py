"""超时工单: supervisors see their department's overdue tickets, the project manager all of them."""

from __future__ import annotations

import re

from backend.catalogue import name
from backend.catalogue import register as register_texts
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register
from handlers.registry import command, text_command
from handlers.staff.access import sees_overdue
from handlers.staff.cards import task_card

register_texts({
    "overdue.refused": (
        "超时工单由部门主管和项目经理跟进；您的任务请点「我的任务」查看。",
        "Overdue tickets are followed by supervisors and the project manager; see \"my tasks\" for yours.",
    ),
    "overdue.none": ("{scope}目前没有超时工单。👍", "No overdue tickets in {scope}. 👍"),
    "overdue.count": ("{scope}有 {count} 张超时工单{shown}：", "{scope}: {count} overdue tickets{shown}:"),
    "overdue.all": ("全小区", "the whole community"),
    "flow.overdue": ("超时工单", "overdue tickets"),
})

SHOWN = 10
SCANNED = 200


def show_overdue(ctx: Context) -> None:
    assert ctx.staff is not None
    department = sees_overdue(ctx.staff)
    if department is None:
        ctx.say("overdue.refused")
        return
    lang = "en" if ctx.lang == "en" else "zh"
    scope = name(f"dept.{department}", lang) if department else ctx.t("overdue.all")
    late = ctx.tickets().overdue(ctx.community.id, department or None, limit=SCANNED)
    if not late:
        ctx.say("overdue.none", scope=scope)
        return
    shown = ctx.t("tasks.shown", limit=SHOWN) if len(late) > SHOWN else ""
    ctx.say("overdue.count", scope=scope, count=len(late), shown=shown)
    for ticket in late[:SHOWN]:
        ctx.replies.append(task_card(ticket, ctx.staff, ctx.lang, group=ctx.inbound.is_group,
                                     tz=ctx.settings.timezone, now=ctx.now()))


class Overdue(Flow):
    name = "overdue"
    needs_staff = True

    def start(self, ctx: Context) -> None:
        show_overdue(ctx)
        finish(ctx)

    def step(self, ctx: Context) -> Outcome:
        return Outcome.NOT_MINE


register(Overdue())


@text_command(r"(?:超时工单|超时|逾期工单|overdue(?: tickets)?)[。.!！?？]?")
def _overdue_text(ctx: Context, _m: re.Match[str]) -> None:
    show_overdue(ctx)


@command("/overdue")
def _overdue_command(ctx: Context, _rest: str) -> None:
    if ctx.staff is None:
        ctx.say("chat.staff_only")
        return
    show_overdue(ctx)
