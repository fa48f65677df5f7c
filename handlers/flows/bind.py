"""Binding a chat to a household: address, then the phone the office registered."""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.services import binding
from handlers import payloads
from handlers.context import Context
from handlers.flows.base import Flow, begin, finish, register
from handlers.payloads import Payload
from handlers.registry import command, payload_scope, text_command

register_texts({
    "bind.needed_first": ("办理{topic}需要先绑定您的房屋。", "To continue with the {topic}, please bind your home first."),
    "bind.ask_address": (
        "请告诉我您的楼栋、单元和房号，例如「3号楼2单元1502」或「3-2-1502」。",
        "Which building, unit and room? e.g. \"3-2-1502\".",
    ),
    "bind.ask_missing": ("还差{missing}，请补充。", "Please add the {missing_en}."),
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
        "手机号与登记信息不符，已提交客服审核，通过后会通知您。",
        "The phone does not match our records; customer service will review and tell you.",
    ),
    "bind.already": ("您已绑定 {household}。如需更换请先发送 /unbind。", "You are bound to {household}. Send /unbind to change."),
    "bind.unbound": ("已解除与 {household} 的绑定。", "You are no longer bound to {household}."),
    "bind.not_bound": ("您还没有绑定房屋。", "You have not bound a home."),
    "bind.approved_staff": ("已通过绑定申请 #{request_id}。", "Binding request #{request_id} approved."),
    "bind.rejected_staff": ("已拒绝绑定申请 #{request_id}。", "Binding request #{request_id} declined."),
    "bind.approve": ("✅ 通过", "✅ Approve"),
    "bind.reject": ("❌ 拒绝", "❌ Decline"),
    "slot.building": ("楼栋", "building"),
    "slot.unit": ("单元", "unit"),
    "slot.room": ("房号", "room"),
})

_PHONE = re.compile(r"1[3-9]\d{9}")


class Bind(Flow):
    name = "bind"
    intents = ()

    def start(self, ctx: Context) -> None:
        household = ctx.household
        if household is not None:
            ctx.say("bind.already", household=household.label)
            finish(ctx, resume=False)
            return
        begin(ctx, self.name, "address", **{k: v for k, v in ctx.slots.items() if not k.startswith("_")})
        if not self._take_address(ctx):
            self.start_prompt(ctx)

    def step(self, ctx: Context) -> bool:
        if ctx.state.step == "address":
            if self._take_address(ctx):
                return True
            return bool(ctx.entities("building") or ctx.entities("unit") or ctx.entities("room"))
        if ctx.state.step == "phone":
            if self._take_address(ctx, then_phone=False):  # a correction: 不对，是2单元
                return True
            phone = ctx.entity("phone") or _digits_phone(ctx.text)
            if phone is None:
                ctx.say("bind.bad_phone")
                return True
            self._complete(ctx, phone)
            return True
        return False

    def start_prompt(self, ctx: Context) -> None:
        if ctx.state.step == "phone":
            ctx.say("bind.ask_phone", household=ctx.slots.get("label", ""))
            return
        missing = [k for k in ("building", "unit", "room") if not ctx.slots.get(k)]
        if len(missing) == 3:
            ctx.say("bind.ask_address")
        else:
            ctx.say("bind.ask_missing", missing="、".join(ctx.t(f"slot.{k}") for k in missing),
                    missing_en=", ".join(f"slot.{k}" for k in missing))

    def _take_address(self, ctx: Context, then_phone: bool = True) -> bool:
        """Fill building/unit/room from the message; True when the step was answered."""
        found = {k: ctx.entity(k) for k in ("building", "unit", "room")}
        found = {k: v for k, v in found.items() if v}
        if not found:
            return False
        ctx.set_slots(**found)
        slots = ctx.slots
        if not all(slots.get(k) for k in ("building", "unit", "room")):
            ctx.goto("address")
            self.start_prompt(ctx)
            return True
        household = binding.find_household(ctx.session, ctx.community.id, slots["building"], slots["unit"],
                                           slots["room"])
        label = f"{slots['building']}-{slots['unit']}-{binding.normalise_room(slots['room'])}"
        if household is None:
            ctx.say("bind.no_household", label=label)
            ctx.set_slots(building=None, unit=None, room=None)
            ctx.goto("address")
            return True
        ctx.set_slots(household_id=household.id, label=household.label)
        phone = ctx.entity("phone")
        if phone:
            self._complete(ctx, phone)
            return True
        ctx.goto("phone")
        self.start_prompt(ctx)
        return True

    def _complete(self, ctx: Context, phone: str) -> None:
        from backend.models import Household

        household = ctx.session.get(Household, ctx.slots["household_id"])
        assert household is not None
        result = binding.bind(ctx.session, ctx.clock, ctx.resident, household, phone)
        if result.bound:
            ctx.say("bind.done", household=household.label)
            finish(ctx)
        else:
            ctx.say("bind.pending")
            finish(ctx, resume=False)


def _digits_phone(text: str) -> str | None:
    digits = re.sub(r"[\s\-]", "", text)
    match = _PHONE.search(digits)
    return match.group(0) if match else None


register(Bind())


@command("/bind")
def _bind_command(ctx: Context, rest: str) -> None:
    """/bind alone binds a household; /bind CODE redeems a staff invite."""
    from handlers.staff_bind import redeem

    if rest.strip():
        redeem(ctx, rest.strip())
        return
    from handlers.conversation import start_flow

    start_flow(ctx, "bind")


@command("/unbind")
def _unbind(ctx: Context, _rest: str) -> None:
    household = ctx.household
    if household is None:
        ctx.say("bind.not_bound")
        return
    binding.unbind(ctx.resident)
    ctx.say("bind.unbound", household=household.label)


@text_command(r"(解除绑定|解绑)", staff_only=False)
def _unbind_text(ctx: Context, _m: re.Match[str]) -> None:
    _unbind(ctx, "")


@payload_scope("b")
def _decide(ctx: Context, payload: Payload) -> bool:
    """Customer service approves or declines a binding request: b:ok:<id> / b:no:<id>."""
    request_id = payload.int_arg()
    if ctx.staff is None or request_id is None or payload.verb not in ("ok", "no"):
        return False
    binding.decide(ctx.session, ctx.clock, ctx.staff, request_id, approve=payload.verb == "ok")
    ctx.say("bind.approved_staff" if payload.verb == "ok" else "bind.rejected_staff", request_id=request_id)
    return True


def decision_buttons(ctx: Context, request_id: int) -> list:
    return [ctx.button("bind.approve", payloads.make("b", "ok", request_id)),
            ctx.button("bind.reject", payloads.make("b", "no", request_id))]
