"""The gate: guards verify a visitor's 6-digit code and see today's expected visitors."""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.services import visitors
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, finish, register
from handlers.registry import command, text_command
from handlers.staff.access import checks_visitors

register_texts({
    "gate.refused": ("访客核验和今日访客仅限秩序维护部（门岗）使用。",
                     "Visitor checks are for the security team at the gate."),
    "gate.verified": (
        "✅ 核验通过，请放行：{visitor}，{people}人{plate}\n前往：{household}｜有效时间：{window}\n已通知住户。",
        "✅ Verified, let them in: {visitor}, {people} people{plate}\nTo: {household} | Valid: {window}\n"
        "The resident is told.",
    ),
    "gate.plate": ("，车牌 {plate}", ", plate {plate}"),
    "gate.none_today": ("今天没有登记的访客。", "No visitors are expected today."),
    "gate.today": ("今日预约访客 {count} 位（已到 {arrived}）：", "Expected today: {count} (arrived: {arrived}):"),
    "gate.line": ("{mark} {window} {visitor}（{people}人{plate}）→ {household}",
                  "{mark} {window} {visitor} ({people}{plate}) → {household}"),
    "gate.line_group": ("{mark} {window} {people}人 → {household}", "{mark} {window} {people} → {household}"),
    "gate.hint": ("访客到达时，直接发送6位通行码即可核验。", "When a visitor arrives, send their 6-digit code to verify."),
    "flow.visitors_today": ("今日访客", "today's visitors"),
})

SHOWN = 30
ARRIVED_MARK, WAITING_MARK = "✅", "⏳"


def verify(ctx: Context, code: str) -> None:
    assert ctx.staff is not None
    if not checks_visitors(ctx.staff):
        ctx.say("gate.refused")
        return
    tz = ctx.settings.timezone
    visitor_pass = visitors.verify_code(ctx.session, ctx.clock, ctx.settings, ctx.staff, code)
    plate = ctx.t("gate.plate", plate=visitor_pass.plate) if visitor_pass.plate else ""
    ctx.say("gate.verified", visitor=visitor_pass.visitor_name, people=visitor_pass.people, plate=plate,
            household=visitors.household_label(ctx.session, visitor_pass),
            window=visitors.window_label(visitor_pass, tz))


def show_today(ctx: Context) -> None:
    assert ctx.staff is not None
    if not checks_visitors(ctx.staff):
        ctx.say("gate.refused")
        return
    tz = ctx.settings.timezone
    passes = visitors.todays_expected(ctx.session, ctx.clock, ctx.settings, ctx.community.id)
    if not passes:
        ctx.say("gate.none_today")
        return
    arrived = sum(1 for p in passes if p.status == visitors.ARRIVED)
    lines = [ctx.t("gate.today", count=len(passes), arrived=arrived)]
    line_key = "gate.line_group" if ctx.inbound.is_group else "gate.line"  # no names in a group
    for p in passes[:SHOWN]:
        lines.append(ctx.t(line_key, mark=ARRIVED_MARK if p.status == visitors.ARRIVED else WAITING_MARK,
                           window=visitors.window_label(p, tz), visitor=p.visitor_name, people=p.people,
                           plate=f"，{p.plate}" if p.plate else "",
                           household=visitors.household_label(ctx.session, p)))
    lines.append(ctx.t("gate.hint"))
    ctx.say_text("\n".join(lines))


class VisitorsToday(Flow):
    name = "visitors_today"
    needs_staff = True

    def start(self, ctx: Context) -> None:
        show_today(ctx)
        finish(ctx)

    def step(self, ctx: Context) -> Outcome:
        return Outcome.NOT_MINE


register(VisitorsToday())


@text_command(r"(?:核验|验证|验码|verify|check)\s*[:：]?\s*(\d{6})")
def _verify_text(ctx: Context, m: re.Match[str]) -> None:
    verify(ctx, m.group(1))


@text_command(r"(\d{6})")
def _bare_code(ctx: Context, m: re.Match[str]) -> bool:
    """A bare 6-digit code is a visitor's only from someone at the gate; others carry on as usual."""
    if ctx.staff is None or not checks_visitors(ctx.staff):
        return False
    verify(ctx, m.group(1))
    return True


@text_command(r"(?:今日访客|今天访客|今天的访客|visitors(?: today)?|today'?s visitors)[。.!！?？]?")
def _today_text(ctx: Context, _m: re.Match[str]) -> None:
    show_today(ctx)


@command("/visitors")
def _visitors_command(ctx: Context, _rest: str) -> None:
    if ctx.staff is None:
        ctx.say("chat.staff_only")
        return
    show_today(ctx)
