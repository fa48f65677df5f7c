"""Text commands for every task-card button, for channels without buttons: "接单 1024", "done 1024 note".

The number is the ticket's number in the community (#1024), never its database id.
"""

from __future__ import annotations

import re

from backend.models import Ticket
from handlers.context import Context
from handlers.registry import text_command
from handlers.staff import actions

NUMBER = r"\s*[#＃]?\s*(\d{1,9})\s*号?"
REST = r"(?:[\s,，:：]*(.+))?"


def _ticket(ctx: Context, m: re.Match[str]) -> Ticket | None:
    return actions.by_number(ctx, int(m.group(1)))


@text_command(rf"(?:接单|accept|take){NUMBER}")
def _accept(ctx: Context, m: re.Match[str]) -> None:
    if (ticket := _ticket(ctx, m)) is not None:
        actions.accept(ctx, ticket.id)


@text_command(rf"(?:开始|开工|start){NUMBER}")
def _start(ctx: Context, m: re.Match[str]) -> None:
    if (ticket := _ticket(ctx, m)) is not None:
        actions.start(ctx, ticket.id)


@text_command(rf"(?s)(?:完成|办结|完工|done|resolve|finish){NUMBER}{REST}")
def _resolve(ctx: Context, m: re.Match[str]) -> None:
    """With a note it resolves at once; without, it asks for the note and a photo like the button."""
    if (ticket := _ticket(ctx, m)) is None:
        return
    note = (m.group(2) or "").strip()
    if note:
        actions.resolve(ctx, ticket.id, note)
    else:
        actions.ask_resolution(ctx, ticket.id)


@text_command(rf"(?s)(?:转派|转给|transfer|assign){NUMBER}(?:[\s,，:：]*(?:给|to\s+)?\s*([^\s,，:：]+){REST})?")
def _transfer(ctx: Context, m: re.Match[str]) -> None:
    if (ticket := _ticket(ctx, m)) is None:
        return
    target = m.group(2)
    if not target:
        actions.pick_transfer_target(ctx, ticket.id)
        return
    to_staff_id, to_department = actions.find_target(ctx, target)
    if to_staff_id is None and to_department is None:
        ctx.say("task.unknown_target", target=target[:30])
        return
    actions.transfer(ctx, ticket.id, to_staff_id=to_staff_id, to_department=to_department,
                     note=(m.group(3) or "").strip())


@text_command(rf"(?:关闭|关单|close){NUMBER}")
def _close(ctx: Context, m: re.Match[str]) -> None:
    if (ticket := _ticket(ctx, m)) is not None:
        actions.close(ctx, ticket.id)


@text_command(rf"(?:详情|查看|工单|details?|view|show){NUMBER}")
def _view(ctx: Context, m: re.Match[str]) -> None:
    if (ticket := _ticket(ctx, m)) is not None:
        actions.view(ctx, ticket.id)


@text_command(rf"(?:电话|联系住户|phone|contact){NUMBER}")
def _phone(ctx: Context, m: re.Match[str]) -> None:
    if (ticket := _ticket(ctx, m)) is not None:
        actions.reveal_phone(ctx, ticket.id)
