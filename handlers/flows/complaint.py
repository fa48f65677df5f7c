"""Complaints and suggestions: category from the words, optional place, anonymity for neighbour complaints."""

from __future__ import annotations

import re
from typing import Any

from backend.catalogue import register as register_texts
from backend.domain import Kind
from backend.models import Staff, Ticket
from backend.services.ticket_format import staff_label, ticket_params
from backend.services.tickets import NewTicket
from handlers import limits, payloads
from handlers.context import Context
from handlers.flows import places
from handlers.flows.base import Outcome, begin, finish, leave, register
from handlers.flows.form import Form, Slot
from handlers.payloads import Payload

register_texts({
    "complaint.ask_what": ("请说说具体情况，例如「楼上半夜装修噪音」。", "What happened? e.g. \"noise upstairs at midnight\"."),
    "suggestion.ask_what": ("请说说您的建议，我们会认真考虑。", "What would you suggest? We will consider it carefully."),
    "complaint.ask_category": ("这属于哪一类问题？", "Which kind of problem is it?"),
    "complaint.ask_anonymous": (
        "处理时是否需要对邻居保密您的身份？", "Should we keep your identity from the neighbour when we handle it?",
    ),
    "complaint.anonymous_yes": ("🙈 匿名（不透露给邻居）", "🙈 Anonymous to the neighbour"),
    "complaint.anonymous_no": ("可以告知", "They may know"),
    "complaint.created": (
        "✅ 已登记您的投诉，工单号 #{number}\n类别：{category_zh}｜地点：{location}\n内容：{description}{anonymous}\n"
        "我们将在 {respond_due} 前响应，负责人：{owner}。回复「不对，是…」可以更正。",
        "✅ Complaint registered: ticket #{number}\nCategory: {category_en} | Where: {location}\nWhat: {description}"
        "{anonymous_en}\nWe will respond by {respond_due}; responsible: {owner}. Reply \"no, it is …\" to correct.",
    ),
    "complaint.anonymous_note": ("\n🙈 处理时不会向邻居透露您的身份。", ""),
    "complaint.anonymous_note_en": ("", "\n🙈 The neighbour will not learn who complained."),
    "suggestion.created": (
        "💡 感谢您的建议！已登记，编号 #{number}，负责人：{owner}，我们会在 {resolve_due} 前答复您。",
        "💡 Thank you! Suggestion #{number} is registered; {owner} will answer by {resolve_due}.",
    ),
    "complaint.amended": ("已更正工单 #{number}：{category_zh}｜{location}", "Ticket #{number} corrected: {category_en} | {location}"),
})

# (category, words) — first match wins: specific behaviours before the general nuisance.
COMPLAINT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fees", ("乱收费", "收费", "多收", "物业费", "停车费", "账单", "押金", "发票")),
    ("service", ("态度", "服务差", "不理人", "不作为", "推诿", "骂人", "客服", "管家", "办事效率", "不接电话", "脸色")),
    ("renovation", ("装修", "电钻", "砸墙", "敲墙", "电锤", "切割", "装修垃圾")),
    ("pets", ("狗", "猫", "宠物", "遛狗", "犬", "狗屎", "拴绳", "咬人")),
    ("noise", ("噪音", "吵", "太响", "音乐", "广场舞", "剁", "跺", "蹦", "喧哗", "大声", "打呼", "麻将", "唱歌", "噪声")),
    ("parking", ("停车", "车位", "乱停", "占道", "堵住", "挡住", "消防通道", "挪车", "僵尸车", "电动车", "充电")),
    ("cleaning", ("垃圾", "卫生", "保洁", "脏", "臭", "打扫", "清扫", "异味", "苍蝇", "老鼠", "蟑螂", "积水")),
    ("greening", ("绿化", "树", "草坪", "草", "花坛", "修剪", "落叶", "浇水", "杀虫")),
    ("security", ("小偷", "偷", "陌生人", "安全", "监控", "门岗", "随便进", "外来人员", "推销", "打架", "保安")),
)
NEIGHBOUR_CATEGORIES = frozenset({"noise", "pets", "renovation"})
CHOICES = ("noise", "parking", "cleaning", "greening", "pets", "renovation", "service", "security", "fees",
           "general_complaint")
YES_ANON = re.compile(r"匿名|保密|别说|不要说|不要透露|别透露|不想让")
NO_ANON = re.compile(r"不用|不需要|无所谓|可以说|可以告知|没关系|公开|不必")
CORRECTION = re.compile(r"^(不对|不是|错了|更正|改成|改为|应该是)")


_ASKING = re.compile(r"提个|提一个|提点|有个|有一个|一个|一下|反映|反馈|意见|想法|问题|情况|我有|要|想")


def says_what(text: str) -> bool:
    """More than "I want to complain / I have a suggestion"?"""
    return places.says_what(_ASKING.sub("", text))


def complaint_category(text: str) -> str | None:
    for code, words in COMPLAINT_WORDS:
        if any(w in text for w in words):
            return code
    return None


def _description(ctx: Context, asked: bool) -> dict[str, Any] | None:
    from handlers.flows.repair import describes_problem

    if ctx.slots.get("description") and not asked:
        return None
    if not (says_what(ctx.text) and describes_problem(ctx, asked or ctx.intent in ("make_suggestion",))):
        return None
    values: dict[str, Any] = {"description": ctx.text[:2000]}
    code = complaint_category(ctx.text)
    if code and not ctx.slots.get("category"):
        values["category"] = code
    return values


def _location(ctx: Context, asked: bool) -> dict[str, Any] | None:
    if ctx.slots.get("location"):
        return None
    household, _named = places.household_named(ctx)
    if household is not None:
        return {"location": household.label}
    public = places.public_place(ctx.text)
    return {"location": public} if public else None


def _category(ctx: Context, asked: bool) -> dict[str, Any] | None:
    if not asked:
        return None
    code = complaint_category(ctx.text) or _category_named(ctx)
    return {"category": code} if code else None


def _category_named(ctx: Context) -> str | None:
    for code in CHOICES:
        if ctx.t(f"complaint.cat.{code}").split(" ")[-1] in ctx.text:
            return code
    return "general_complaint" if re.search(r"其他|别的|都不是", ctx.text) else None


def _anonymous(ctx: Context, asked: bool) -> dict[str, Any] | None:
    if not asked:
        return None
    if YES_ANON.search(ctx.text) and not re.search(r"不(用|要|需要|必)匿名", ctx.text):
        return {"anonymous": True}
    if NO_ANON.search(ctx.text) or ctx.intent in ("deny", "affirm"):
        return {"anonymous": ctx.intent == "affirm" and not NO_ANON.search(ctx.text)}
    return None


def _ask_category(ctx: Context) -> None:
    ctx.say("complaint.ask_category", *[ctx.button(f"complaint.cat.{c}", payloads.make("f", "cat", c))
                                        for c in CHOICES])


def _ask_anonymous(ctx: Context) -> None:
    ctx.say("complaint.ask_anonymous", ctx.button("complaint.anonymous_yes", payloads.make("f", "anon", 1)),
            ctx.button("complaint.anonymous_no", payloads.make("f", "anon", 0)))


def _needs_category(ctx: Context) -> bool:
    return ctx.state.flow == "complaint"


def _needs_anonymity(ctx: Context) -> bool:
    return ctx.state.flow == "complaint" and ctx.slots.get("category") in NEIGHBOUR_CATEGORIES


class Complaint(Form):
    name = "complaint"
    kind = Kind.COMPLAINT
    intents = ("file_complaint",)
    acts_at_once = True
    free_text_steps = frozenset({"description"})
    slots = (
        Slot("description", _description, lambda ctx: ctx.say(f"{ctx.state.flow}.ask_what") and None),
        Slot("location", _location, lambda ctx: None, required=lambda ctx: False),
        Slot("category", _category, _ask_category, required=_needs_category),
        Slot("anonymous", _anonymous, _ask_anonymous, required=_needs_anonymity),
    )

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "cat" and ctx.state.step == "category" and payload.arg() in CHOICES:
            ctx.set_slots(category=payload.arg())
        elif payload.verb == "anon" and ctx.state.step == "anonymous" and payload.arg() in ("0", "1"):
            ctx.set_slots(anonymous=payload.arg() == "1")
        else:
            return super().on_payload(ctx, payload)
        self.advance(ctx)
        return True

    def on_cancel(self, ctx: Context) -> bool:
        from handlers.flows.ticket_moves import offer_cancel_ticket

        return self.withdraw(ctx, "ticket_id", offer_cancel_ticket)

    def submit(self, ctx: Context) -> None:
        if not limits.ticket_allowed(ctx):
            finish(ctx, resume=False)
            return
        slots = ctx.slots
        household = ctx.household
        spec = NewTicket(
            kind=self.kind, description=slots["description"],
            category=slots.get("category") if self.kind is Kind.COMPLAINT else "suggestion",
            household_id=household.id if household is not None else None, location=slots.get("location", ""),
            anonymous=bool(slots.get("anonymous")), channel=ctx.inbound.channel,
        )
        ticket = ctx.tickets().create(ctx.resident_actor(), spec)
        self.confirm(ctx, ticket)
        begin(ctx, self.name, "created", ticket_id=ticket.id)

    def confirm(self, ctx: Context, ticket: Ticket) -> None:
        owner = ctx.session.get(Staff, ticket.owner_id) if ticket.owner_id else None
        params = ticket_params(ticket, ctx.settings.timezone, ctx.lang, owner=staff_label(owner))
        cancel = ctx.button("repair.cancel_ticket", payloads.make("r", "cancel", ticket.id))
        if self.kind is Kind.SUGGESTION:
            ctx.say("suggestion.created", cancel, **params)
            return
        ctx.say("complaint.created", cancel,
                anonymous=ctx.t("complaint.anonymous_note") if ticket.anonymous else "",
                anonymous_en=ctx.t("complaint.anonymous_note_en") if ticket.anonymous else "", **params)

    def after(self, ctx: Context) -> Outcome:
        """不对，是3号楼 / 不对，是停车问题: correct the place or the category of the new ticket."""
        ticket_id = ctx.slots.get("ticket_id")
        if not ticket_id or not (ctx.intent == "deny" or CORRECTION.match(ctx.text)):
            leave(ctx)
            return Outcome.NOT_MINE
        svc = ctx.tickets()
        ticket = svc.get(ctx.resident_actor(), int(ticket_id))
        household, _ = places.household_named(ctx)
        location = household.label if household is not None else places.public_place(ctx.text)
        code = complaint_category(ctx.text) if self.kind is Kind.COMPLAINT else None
        if not location and not code:
            leave(ctx)
            return Outcome.NOT_MINE
        if location:
            ticket = svc.amend(ctx.resident_actor(), ticket.id, location=location)
        if code and code != ticket.category.code:
            svc.add_note(ctx.resident_actor(), ticket.id, f"类别更正为：{ctx.t(f'complaint.cat.{code}')}")
        params = ticket_params(ticket, ctx.settings.timezone, ctx.lang)
        if code and code != ticket.category.code:
            params["category_zh"] = ctx.t(f"complaint.cat.{code}")
        ctx.say("complaint.amended", **params)
        return Outcome.HANDLED


class Suggestion(Complaint):
    name = "suggestion"
    kind = Kind.SUGGESTION
    intents = ("make_suggestion",)


register_texts({
    "complaint.cat.noise": ("🔊 噪音", "🔊 Noise"),
    "complaint.cat.parking": ("🚗 停车", "🚗 Parking"),
    "complaint.cat.cleaning": ("🧹 卫生", "🧹 Cleaning"),
    "complaint.cat.greening": ("🌳 绿化", "🌳 Greening"),
    "complaint.cat.pets": ("🐕 宠物", "🐕 Pets"),
    "complaint.cat.renovation": ("🔨 装修", "🔨 Renovation"),
    "complaint.cat.service": ("🙋 服务态度", "🙋 Service"),
    "complaint.cat.security": ("🛡 安全", "🛡 Security"),
    "complaint.cat.fees": ("💰 收费", "💰 Fees"),
    "complaint.cat.general_complaint": ("📝 其他", "📝 Other"),
})

register(Complaint())
register(Suggestion())
