"""Binding a chat to a household: the address and the phone the office registered, in any order."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from backend.catalogue import register as register_texts
from backend.domain import Department
from backend.models import Household
from backend.services import binding, outbox
from backend.services.outbox import Recipient
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import Outcome, begin, finish, register, start_flow
from handlers.flows.form import Form, Slot
from handlers.payloads import Payload
from handlers.registry import command, payload_scope, text_command

register_texts({
    "bind.needed_first": ("办理{topic}需要先绑定您的房屋。", "To continue with the {topic}, please bind your home first."),
    "bind.ask_address": (
        "请告诉我您的楼栋、单元和房号，例如「3号楼2单元1502」或「3-2-1502」。",
        "Which building, unit and room? e.g. \"3-2-1502\".",
    ),
    "bind.ask_missing": ("还差{missing}，请补充，例如「3号楼2单元1502」。", "Please add the {missing_en}, e.g. \"3-2-1502\"."),
    "bind.ask_phone": (
        "请输入物业登记的手机号，用于核验 {household}。",
        "Please enter the phone number the office registered for {household}.",
    ),
    "bind.bad_phone": ("手机号应为11位数字，请重新输入。", "A mobile number has 11 digits; please try again."),
    "bind.no_household": (
        "没有找到 {label}，请核对楼栋、单元和房号。", "There is no {label}; please check building, unit and room.",
    ),
    "bind.done": ("绑定成功！您已绑定 {household}。", "Done! You are bound to {household}."),
    "bind.pending": (
        "手机号与 {household} 的登记信息不符，暂时无法直接绑定。已提交客服审核，通过后会通知您。"
        "如果是号码输错了，直接发送正确的手机号即可。",
        "The phone does not match the records of {household}, so customer service will review your request and "
        "tell you. If you mistyped it, just send the right number.",
    ),
    "bind.locked": (
        "手机号核验失败次数过多，请{minutes}分钟后再试，或携带证件到物业服务中心办理（电话 {hotline}）。",
        "Too many wrong numbers. Please try again in {minutes} minutes, or visit the service centre "
        "with your ID (tel. {hotline}).",
    ),
    "bind.locked_staff": (
        "⚠️ 房屋绑定已锁定：有人在{channel}上一小时内{tries}次输错 {household} 的登记手机号，已暂停其绑定{minutes}分钟。"
        "如是业主本人，请核实后在后台处理。",
        "⚠️ Binding locked: someone on {channel} gave a wrong phone for {household} {tries} times within an hour; "
        "binding is paused for {minutes} minutes.",
    ),
    "bind.already": (
        "您已绑定 {household}。如需更换房屋，请说「换绑」；解除绑定请说「解绑」。",
        "You are bound to {household}. Say \"rebind\" to change it or \"unbind\" to remove it.",
    ),
    "bind.rebind": ("好的，为您更换绑定的房屋（当前：{household}）。", "OK, let's change your home (now: {household})."),
    "bind.confirm_unbind": ("确定要解除与 {household} 的绑定吗？", "Remove the link to {household}?"),
    "bind.unbound": ("已解除与 {household} 的绑定。", "You are no longer bound to {household}."),
    "bind.not_bound": ("您还没有绑定房屋。", "You have not bound a home."),
    "bind.approved_staff": ("已通过绑定申请 #{request_id}。", "Binding request #{request_id} approved."),
    "bind.rejected_staff": ("已拒绝绑定申请 #{request_id}。", "Binding request #{request_id} declined."),
    "bind.approve": ("✅ 通过", "✅ Approve"),
    "bind.reject": ("❌ 拒绝", "❌ Decline"),
    "bind.unbind_yes": ("确认解绑", "Unbind"),
    "bind.keep": ("不用了", "Keep it"),
    "bind.kept": ("好的，绑定保持不变。", "OK, nothing changed."),
    "slot.building": ("楼栋", "building"),
    "slot.unit": ("单元", "unit"),
    "slot.room": ("房号", "room"),
})

_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_DIGITS = re.compile(r"\d{7,}")
ADDRESS = ("building", "unit", "room")
REBIND = re.compile(r"换绑|重新绑|换(一)?个房|更换.{0,4}房|搬家|换房|改绑")
UNBIND = re.compile(r"解绑|解除绑定|取消绑定|unbind")
WRONG_PHONES_PER_HOUR = 5
LOCK_MINUTES = 60


def _address(ctx: Context, asked: bool) -> dict[str, Any] | None:
    found = {k: v for k in ADDRESS if (v := ctx.entity(k))}
    if not found:
        return None
    parts = {k: ctx.slots.get(k) for k in ADDRESS} | found
    if not all(parts.get(k) for k in ADDRESS):
        return {**found, "address": None}
    household = binding.find_household(ctx.session, ctx.community.id, parts["building"], parts["unit"], parts["room"])
    if household is None:
        label = f"{parts['building']}-{parts['unit']}-{binding.normalise_room(parts['room'])}"
        ctx.say("bind.no_household", label=label)
        return {"building": None, "unit": None, "room": None, "address": None}
    return {**found, "address": household.label, "household_id": household.id}


def _phone(ctx: Context, asked: bool) -> dict[str, Any] | None:
    phone = ctx.entity("phone") or _digits_phone(ctx.text)
    if phone:
        return {"phone": phone}
    if asked and _DIGITS.search(re.sub(r"[\s\-]", "", ctx.text)):
        ctx.say("bind.bad_phone")
        return {}
    return None


def _ask_address(ctx: Context) -> None:
    missing = [k for k in ADDRESS if not ctx.slots.get(k)]
    if len(missing) == len(ADDRESS):
        ctx.say("bind.ask_address")
        return
    ctx.say("bind.ask_missing", missing="、".join(ctx.t(f"slot.{k}") for k in missing),
            missing_en=", ".join(ctx.t(f"slot.{k}") for k in missing))


def _ask_phone(ctx: Context) -> None:
    ctx.say("bind.ask_phone", household=ctx.slots.get("address", ""))


class Bind(Form):
    name = "bind"
    intents = ("bind_home",)
    terminal_steps = frozenset({"pending"})
    slots = (Slot("address", _address, _ask_address), Slot("phone", _phone, _ask_phone))

    def start(self, ctx: Context) -> None:
        household = ctx.household
        text = ctx.text if ctx.parse is not None else ""
        if household is not None and UNBIND.search(text) and not REBIND.search(text):
            finish(ctx, resume=False)
            offer_unbind(ctx)
            return
        if household is not None and not REBIND.search(text):
            ctx.say("bind.already", household=household.label)
            finish(ctx, resume=False)
            return
        if household is not None:
            ctx.say("bind.rebind", household=household.label)
        if locked_until(ctx) is not None:
            self._locked(ctx)
            return
        super().start(ctx)

    def submit(self, ctx: Context) -> None:
        if locked_until(ctx) is not None:
            self._locked(ctx)
            return
        household = ctx.session.get(Household, ctx.slots["household_id"])
        assert household is not None  # found by _address in this community
        result = binding.bind(ctx.session, ctx.clock, ctx.resident, household, ctx.slots["phone"])
        if result.bound:
            ctx.who.home = household
            ctx.say("bind.done", household=household.label)
            finish(ctx)
            return
        _count_wrong(ctx)
        ctx.say("bind.pending", household=household.label)
        ctx.set_slots(phone=None)
        ctx.goto("pending")

    def resume(self, ctx: Context) -> None:
        if ctx.household is not None and not ctx.slots.get("address"):  # bound meanwhile
            finish(ctx)
            return
        super().resume(ctx)

    def after(self, ctx: Context) -> Outcome:
        """Waiting for review: a corrected phone is tried again; anything else ends the form."""
        found = _phone(ctx, asked=False) if ctx.state.step == "pending" else None
        if found:
            ctx.set_slots(**found)
            return self.advance(ctx)
        finish(ctx, resume=False)
        return Outcome.NOT_MINE

    def _locked(self, ctx: Context) -> None:
        until = locked_until(ctx)
        minutes = max(1, int(((until or ctx.now()) - ctx.now()).total_seconds() // 60) + 1)
        ctx.say("bind.locked", minutes=minutes, hotline=ctx.community.hotline or ctx.settings.hotline)
        finish(ctx, resume=False)


def _digits_phone(text: str) -> str | None:
    match = _PHONE.search(re.sub(r"[\s\-]", "", text))
    return match.group(0) if match else None


def _count_wrong(ctx: Context) -> None:
    """Wrong phones per chat in the last hour; too many locks binding for a while."""
    now = ctx.now()
    recent = [t for t in state_store.memo(ctx.state).get("bind_wrong", [])
              if now - datetime.fromisoformat(t) < timedelta(hours=1)]
    recent.append(now.isoformat())
    state_store.remember(ctx.state, bind_wrong=recent[-WRONG_PHONES_PER_HOUR:])
    if len(recent) == WRONG_PHONES_PER_HOUR:  # locked now: customer service should know who keeps guessing
        outbox.enqueue(ctx.session, ctx.clock, ctx.community.id, Recipient.dept(Department.CUSTOMER_SERVICE),
                       "bind.locked_staff", {"household": ctx.slots.get("address") or "—", "tries": len(recent),
                                             "channel": ctx.inbound.channel, "minutes": LOCK_MINUTES})


def locked_until(ctx: Context) -> datetime | None:
    wrong = state_store.memo(ctx.state).get("bind_wrong", [])
    if len(wrong) < WRONG_PHONES_PER_HOUR:
        return None
    until = datetime.fromisoformat(wrong[-WRONG_PHONES_PER_HOUR]) + timedelta(minutes=LOCK_MINUTES)
    return until if until > ctx.now() else None


register(Bind())


def offer_unbind(ctx: Context) -> None:
    household = ctx.household
    if household is None:
        ctx.say("bind.not_bound")
        return
    ctx.say("bind.confirm_unbind", ctx.button("bind.unbind_yes", payloads.make("u", "yes", household.id)),
            ctx.button("bind.keep", payloads.make("u", "no")), household=household.label)
    begin(ctx, "withdraw", "confirm", kind="home", item_id=household.id)


@payload_scope("u")
def _unbind_payload(ctx: Context, payload: Payload) -> bool:
    """u:yes:<household id> unbinds (the household still bound); u:no keeps it."""
    if ctx.state.flow == "withdraw":
        finish(ctx, resume=False)
    if payload.verb == "no":
        ctx.say("bind.kept")
        return True
    if payload.verb != "yes" or payload.int_arg() is None:
        return False
    unbind(ctx, payload.int_arg() or 0)
    return True


def unbind(ctx: Context, household_id: int) -> None:
    """Unbind from `household_id` (still the one bound: an old button does nothing)."""
    household = ctx.household
    if household is None or household.id != household_id:
        ctx.say("bind.not_bound")
        return
    binding.unbind(ctx.resident)
    ctx.who.home = None
    if ctx.state.flow and ctx.state.flow != "bind":  # forms that needed the home cannot go on
        state_store.clear(ctx.state)
    ctx.say("bind.unbound", household=household.label)


@command("/bind")
def _bind_command(ctx: Context, rest: str) -> None:
    """/bind alone binds a household; /bind CODE redeems a staff invite."""
    from handlers.staff_bind import redeem

    if rest.strip():
        redeem(ctx, rest.strip())
        return
    start_flow(ctx, "bind")


@command("/unbind")
def _unbind(ctx: Context, _rest: str) -> None:
    offer_unbind(ctx)


@text_command(r"\s*(解除绑定|解绑|取消绑定)(房屋|房子)?[。.!！]?\s*", staff_only=False)
def _unbind_text(ctx: Context, _m: re.Match[str]) -> None:
    offer_unbind(ctx)


@payload_scope("b")
def _decide(ctx: Context, payload: Payload) -> bool:
    """Customer service approves or declines a binding request: b:ok:<id> / b:no:<id>."""
    request_id = payload.int_arg()
    if ctx.staff is None or request_id is None or payload.verb not in ("ok", "no"):
        return False
    binding.decide(ctx.session, ctx.clock, ctx.staff, request_id, approve=payload.verb == "ok")
    ctx.say("bind.approved_staff" if payload.verb == "ok" else "bind.rejected_staff", request_id=request_id)
    return True


@text_command(r"(通过|批准|同意|拒绝|驳回)(?:绑定)?(?:申请)?\s*#?(\d{1,9})")
def _decide_text(ctx: Context, m: re.Match[str]) -> None:
    """通过绑定 12 / 拒绝绑定 12: the typed form of the b: buttons."""
    verb = "no" if m.group(1) in ("拒绝", "驳回") else "ok"
    _decide(ctx, Payload("b", verb, (m.group(2),)))


def decision_buttons(ctx: Context, request_id: int) -> list:
    return [ctx.button("bind.approve", payloads.make("b", "ok", request_id)),
            ctx.button("bind.reject", payloads.make("b", "no", request_id))]
