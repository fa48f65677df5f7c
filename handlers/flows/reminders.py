"""A resident's choice about arrears reminders (催缴): "不要催缴" or the 🔕 button stops them, "恢复缴费提醒" resumes.

The reminders themselves are sent by backend/services/arrears.py; the button is on each reminder (ar:off).
"""

from __future__ import annotations

import re

from backend.services import arrears
from handlers.context import Context
from handlers.payloads import Payload
from handlers.registry import payload_scope, text_command

STOP = r"(?:不要|别|不用|停止|关闭|取消|退订|不想)(?:再)?(?:收到?)?(?:给我|给我们)?(?:发)?(?:催缴|催费|缴费提醒|欠费提醒|交费提醒)(?:了)?"
RESUME = r"(?:恢复|打开|开启|重新接收)(?:催缴|催费|缴费提醒|欠费提醒|交费提醒)"
END = r"[。.!！吧啊呀~～\s]*"


def stop(ctx: Context) -> None:
    if ctx.household is None:
        ctx.say("error.need_household")
        return
    if arrears.opt_out(ctx.session, ctx.clock, ctx.resident):
        ctx.say("arrears.opted_out")
    else:
        ctx.say("arrears.opted_out_already")


@text_command(rf"\s*{STOP}{END}|\s*(?:please )?stop (?:payment |arrears )?reminders{END}", staff_only=False)
def _stop_text(ctx: Context, _m: re.Match[str]) -> None:
    stop(ctx)


@text_command(rf"\s*{RESUME}{END}|\s*resume (?:payment |arrears )?reminders{END}", staff_only=False)
def _resume_text(ctx: Context, _m: re.Match[str]) -> bool:
    if ctx.household is None:
        return False
    arrears.opt_in(ctx.session, ctx.resident)
    ctx.say("arrears.opted_in")
    return True


@payload_scope("ar")
def _arrears_payload(ctx: Context, payload: Payload) -> bool:
    """ar:off — the 🔕 button on a reminder."""
    if payload.verb != "off":
        return False
    stop(ctx)
    return True
