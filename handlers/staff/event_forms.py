"""Staff in chat: "/event" or "发活动" (a form with a preview and a confirmation that pushes the invitation),
and check-in at the door: "签到 123456", "/checkin 123456", a bare live code, or the QR's "CHECKIN 123456"."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from backend.catalogue import register as register_texts
from backend.models import VisitorPass
from backend.services import event_admin, permissions
from backend.services.event_admin import EventInput
from backend.services.permissions import Perm
from backend.services.roster_import import parse_buildings
from backend.services.visitors import to_utc
from handlers import payloads, policy
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, begin, finish, register
from handlers.payloads import Payload
from handlers.registry import command, text_command

register_texts({
    "flow.event_create": ("发布活动", "new event"),
    "eventform.refused": ("发布活动仅限项目经理和客服主管。", "Only the manager and the customer-service lead publish events."),
    "eventform.ask_title": ("📣 发布社区活动（随时回复「取消」退出）\n活动名称是什么？",
                            "📣 New community event (reply \"cancel\" to stop)\nWhat is it called?"),
    "eventform.ask_starts": ("什么时间开始？例如「12月20日下午2点」或「2026-12-20 14:00」。",
                             "When does it start? e.g. \"2026-12-20 14:00\"."),
    "eventform.ask_location": ("在哪里举行？", "Where?"),
    "eventform.ask_capacity": ("名额多少人？回复数字，或「不限」。", "How many places? A number, or \"no limit\"."),
    "eventform.ask_deadline": ("报名截止时间？例如「12月19日18点」，或「跳过」（开始前都可报名）。",
                               "Sign-up deadline? e.g. \"2026-12-19 18:00\", or \"skip\" (until it starts)."),
    "eventform.ask_fee": ("每人费用（元）？回复数字，或「免费」。", "Fee per person (yuan)? A number, or \"free\"."),
    "eventform.ask_limit": ("每户最多报名几人？回复数字，或「不限」。", "At most how many per household? A number, or \"no limit\"."),
    "eventform.ask_targets": ("邀请谁？回复「全小区」，或楼栋如「1-3号楼」「5,6栋」。",
                              "Who is invited? \"everyone\", or buildings like \"1-3\"."),
    "eventform.bad_time": ("没看懂这个时间，请写成「12月20日下午2点」或「2026-12-20 14:00」。",
                           "I could not read that time; write it like \"2026-12-20 14:00\"."),
    "eventform.bad_number": ("请回复一个数字（如 30），或「不限」。", "Reply with a number (e.g. 30), or \"no limit\"."),
    "eventform.bad_fee": ("请回复金额（如 20），或「免费」。", "Reply with an amount (e.g. 20), or \"free\"."),
    "eventform.bad_targets": ("没看懂发送对象，请回复「全小区」或楼栋号，如「1-3号楼」。",
                              "Reply \"everyone\" or building numbers like \"1-3\"."),
    "eventform.preview": ("请确认活动并发送邀请：\n{preview}\n\n邀请对象：{targets}", "Publish and send the invitation?\n{preview}\n\n"
                                                                        "To: {targets}"),
    "eventform.everyone": ("全小区", "everyone"),
    "eventform.buildings": ("{codes}号楼", "buildings {codes}"),
    "eventform.sent": ("✅ 活动「{title}」已发布（#{event_id}），邀请已排队发送给{targets}。",
                       "✅ \"{title}\" published (#{event_id}); the invitation is queued for {targets}."),
    "checkin.done": ("✅ 签到成功：「{title}」｜{household} {name}｜{people}人", "✅ Checked in: \"{title}\" | {household} {name} | {people}"),
    "checkin.done_group": ("✅ 签到成功：「{title}」｜{people}人", "✅ Checked in: \"{title}\" | {people}"),
    "checkin.refused": ("活动签到仅限客服和秩序维护部。", "Event check-in is for customer service and security."),
    "checkin.usage": ("请发送「签到 6位签到码」，例如：签到 123456", "Send \"checkin 123456\" with the 6-digit code."),
})

STEPS = ("title", "starts", "location", "capacity", "deadline", "fee", "limit", "targets")
SKIP = re.compile(r"(跳过|不限|无|没有|不用|免费|skip|none|no limit|free|unlimited)[。.!！]?", re.IGNORECASE)
EVERYONE = re.compile(r"全小区|全部|所有|全体|大家|everyone|all", re.IGNORECASE)
CODE = re.compile(r"(?:签到|checkin|check-in|check in)\s*[:：]?\s*(\d{6})", re.IGNORECASE)


def _may_publish(ctx: Context) -> bool:
    return ctx.staff is not None and permissions.allowed(ctx.staff, Perm.EVENT_MANAGE,
                                                         permissions.community(ctx.community.id))


def _time(ctx: Context) -> datetime | None:
    """Local time written out, or the NLU's datetime entity; naive UTC."""
    text = ctx.text.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return to_utc(datetime.strptime(text, fmt), ctx.settings.timezone)
        except ValueError:
            pass
    for ent in ctx.entities("datetime"):
        value = str(ent.get("value", ""))
        if "T" in value:
            try:
                return to_utc(datetime.fromisoformat(value[:16]), ctx.settings.timezone)
            except ValueError:
                continue
    return None


def _number(text: str) -> int | None:
    m = re.fullmatch(r"\s*(\d{1,6})\s*(人|位|个|名)?[。.!！]?\s*", text)
    return int(m.group(1)) if m else None


class EventCreate(Flow):
    name = "event_create"
    needs_staff = True
    free_text_steps = frozenset(STEPS)
    locked_steps = frozenset(STEPS)
    terminal_steps = frozenset()

    def start(self, ctx: Context) -> None:
        if not _may_publish(ctx):
            ctx.say("eventform.refused")
            finish(ctx)
            return
        begin(ctx, self.name, "title")
        self.start_prompt(ctx)

    def start_prompt(self, ctx: Context) -> None:
        step = ctx.state.step
        if step == "confirm":
            self._preview(ctx)
        elif step in STEPS:
            ctx.say("eventform.ask_title" if step == "title" else f"eventform.ask_{step}")

    def step(self, ctx: Context) -> Outcome:
        step, text = ctx.state.step, ctx.text.strip()
        if step == "confirm":
            if policy.said_yes(ctx):
                self._publish(ctx)
                return Outcome.DONE
            if policy.said_no(ctx):
                finish(ctx, resume=False)
                ctx.say("chat.cancelled", topic=ctx.t("flow.event_create"))
                return Outcome.DONE
            return Outcome.NOT_MINE
        if step not in STEPS or not text:
            return Outcome.NOT_MINE
        value, error = self._read(ctx, step, text)
        if error:
            ctx.say(error)
            return Outcome.HANDLED
        ctx.set_slots(**{step: value})
        following = STEPS[STEPS.index(step) + 1:] if step in STEPS else ()
        ctx.goto(following[0] if following else "confirm")
        self.start_prompt(ctx)
        return Outcome.HANDLED

    @staticmethod
    def _read(ctx: Context, step: str, text: str) -> tuple[Any, str | None]:
        skip = bool(SKIP.fullmatch(text))
        if step == "title":
            return " ".join(text.split())[:100], None
        if step == "location":
            return text[:100], None
        if step in ("starts", "deadline"):
            if step == "deadline" and skip:
                return "", None
            when = _time(ctx)
            return (when.isoformat(), None) if when else (None, "eventform.bad_time")
        if step in ("capacity", "limit"):
            if skip:
                return 0, None
            n = _number(text)
            return (n, None) if n else (None, "eventform.bad_number")
        if step == "fee":
            if skip:
                return "0", None
            try:
                fee = Decimal(re.sub(r"[元¥￥\s]|/人|每人", "", text))
            except InvalidOperation:
                return None, "eventform.bad_fee"
            return (str(fee), None) if fee.is_finite() and fee >= 0 else (None, "eventform.bad_fee")
        if EVERYONE.search(text):
            return ["*"], None
        try:
            codes = parse_buildings(re.sub(r"号楼|栋|幢", " ", text))
        except ValueError:
            return None, "eventform.bad_targets"
        return (codes, None) if codes else (None, "eventform.bad_targets")

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if ctx.state.step != "confirm":
            return False
        if payload.verb == "yes":
            self._publish(ctx)
            return True
        if payload.verb == "no":
            finish(ctx, resume=False)
            ctx.say("chat.cancelled", topic=ctx.t("flow.event_create"))
            return True
        return False

    def _input(self, ctx: Context) -> EventInput:
        s = ctx.slots
        fee = Decimal(s.get("fee") or "0")
        targets = s.get("targets") or ["*"]
        return EventInput(
            title=s.get("title", ""), starts_at=datetime.fromisoformat(s["starts"]), location=s.get("location", ""),
            signup_deadline=datetime.fromisoformat(s["deadline"]) if s.get("deadline") else None,
            capacity=s.get("capacity") or None, fee=fee or None, household_limit=s.get("limit") or None,
            audience=None if targets == ["*"] else {"buildings": targets})

    def _targets(self, ctx: Context) -> str:
        targets = ctx.slots.get("targets") or ["*"]
        if targets == ["*"]:
            return ctx.t("eventform.everyone")
        return ctx.t("eventform.buildings", codes="、".join(targets))

    def _preview(self, ctx: Context) -> None:
        data = self._input(ctx)
        params = event_admin.notice_params(_Draft(data), ctx.settings)
        preview = ctx.t("event.notice_invitation", **params)
        ctx.say("eventform.preview", ctx.button("button.confirm", payloads.make("f", "yes")),
                ctx.button("button.cancel", payloads.make("f", "no")), preview=preview, targets=self._targets(ctx))

    def _publish(self, ctx: Context) -> None:
        data, targets = self._input(ctx), self._targets(ctx)
        finish(ctx, resume=False)
        event, _ = event_admin.create(ctx.session, ctx.clock, ctx.settings, ctx.staff, ctx.community.id, data)
        ctx.say("eventform.sent", title=event.title, event_id=event.id, targets=targets)


class _Draft:
    """What notice_params reads, before the event exists (the preview)."""

    def __init__(self, data: EventInput) -> None:
        self.title, self.starts_at, self.location = data.title, data.starts_at, data.location
        self.capacity, self.signup_deadline, self.fee = data.capacity, data.signup_deadline, data.fee
        self.household_limit, self.description = data.household_limit, data.description


register(EventCreate())


@command("/event")
def _event_command(ctx: Context, _rest: str) -> None:
    if ctx.staff is None:
        ctx.say("chat.staff_only")
        return
    from handlers.flows.base import start_flow

    start_flow(ctx, "event_create")


@text_command(r"(?:发活动|发布活动|新建活动|创建活动)[。.!！]?")
def _event_text(ctx: Context, _m: re.Match[str]) -> None:
    from handlers.flows.base import start_flow

    start_flow(ctx, "event_create")


def check_in(ctx: Context, code: str) -> None:
    assert ctx.staff is not None
    if not permissions.allowed(ctx.staff, Perm.EVENT_CHECKIN, permissions.event_door(ctx.community.id)):
        ctx.say("checkin.refused")
        return
    signup, event = event_admin.check_in(ctx.session, ctx.clock, ctx.settings, ctx.staff, ctx.community.id, code)
    if ctx.inbound.is_group:  # no names in a group
        ctx.say("checkin.done_group", title=event.title, people=signup.people)
        return
    who = next((a for a in event_admin.attendees(ctx.session, None, event) if a.signup_id == signup.id), None)
    ctx.say("checkin.done", title=event.title, people=signup.people, household=who.household if who else "",
            name=who.name if who else "")


@text_command(CODE.pattern)
def _checkin_text(ctx: Context, m: re.Match[str]) -> None:
    check_in(ctx, m.group(1))


@text_command(r"(\d{6})")
def _bare_code(ctx: Context, m: re.Match[str]) -> bool:
    """A bare 6-digit code from door staff is a check-in when it is a live event code and no visitor's pass
    (handlers/staff/visitors.py takes it otherwise)."""
    code = m.group(1)
    if ctx.staff is None or not permissions.allowed(ctx.staff, Perm.EVENT_CHECKIN,
                                                    permissions.event_door(ctx.community.id)):
        return False
    if not event_admin.is_event_code(ctx.session, ctx.clock, ctx.community.id, code):
        return False
    if ctx.session.scalar(select(VisitorPass.id).where(VisitorPass.community_id == ctx.community.id,
                                                       VisitorPass.code == code,
                                                       VisitorPass.status == "active").limit(1)) is not None:
        return False
    check_in(ctx, code)
    return True


@command("/checkin")
def _checkin_command(ctx: Context, rest: str) -> None:
    if ctx.staff is None:
        ctx.say("chat.staff_only")
        return
    code = re.sub(r"\D", "", rest)
    if len(code) != 6:
        ctx.say("checkin.usage")
        return
    check_in(ctx, code)

