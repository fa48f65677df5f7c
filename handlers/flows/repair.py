"""Repair and emergency reports: use everything in the message, ask only for what is missing."""

from __future__ import annotations

from typing import Any

from backend.catalogue import register as register_texts
from backend.domain import Kind
from backend.models import Household, Ticket
from backend.services.ticket_format import spoken_iso
from backend.services.tickets import NewTicket
from handlers import limits, payloads, policy
from handlers.context import Context
from handlers.flows import places
from handlers.flows.base import REGISTRY, Outcome, begin, finish, leave, register
from handlers.flows.form import Form, Slot
from handlers.messages import InboundAttachment
from handlers.payloads import Payload

register_texts({
    "repair.ask_what": ("请描述一下哪里坏了？例如「厨房水管漏水」。", "What is broken? e.g. \"kitchen pipe leaking\"."),
    "repair.ask_where": (
        "请问是在您家里，还是公共区域？公共区域请说明位置，例如「3号楼电梯」。",
        "Is it in your home or in a common area? For a common area, say where, e.g. \"lift of building 3\".",
    ),
    "repair.ask_where_public": (
        "请说明公共区域的位置，例如「3号楼1单元楼道」。", "Where in the common area? e.g. \"building 3, unit 1 hallway\".",
    ),
    "repair.created": (
        "✅ 已为您登记报修，工单号 #{number}\n类别：{category_zh}｜地点：{location}\n内容：{description}\n"
        "我们将在 {respond_due} 前响应，负责人：{owner}。\n可以继续发照片补充，或回复「不对，是…」更正。",
        "✅ Repair registered: ticket #{number}\nCategory: {category_en} | Where: {location}\nWhat: {description}\n"
        "We will respond by {respond_due}; responsible: {owner}.\nYou may send photos, or correct with \"no, it is …\".",
    ),
    "repair.ask_building": ("请问是哪栋楼（哪个单元）的{place}？", "Which building (and unit) is the {place} in?"),
    "repair.duplicate": (
        "这个问题您刚刚已经报过了（工单 #{number}），我们正在处理，不用重复提交。",
        "You reported this a moment ago (ticket #{number}); it is being handled, no need to report it again.",
    ),
    "repair.preferred": ("上门时间：{when}", "Preferred time: {when}"),
    "repair.photo_added": ("📷 照片已添加到工单 #{number}。", "📷 Photo added to ticket #{number}."),
    "repair.amended": ("已更正工单 #{number}：{location}", "Ticket #{number} corrected: {location}"),
    "repair.cancel_ticket": ("取消工单", "Cancel ticket"),
    "repair.photo_first": (
        "收到照片。请用一句话描述一下问题，我来帮您报修。", "Got the photo. Tell me in a sentence what is wrong and I'll report it.",
    ),
    "emergency.created": (
        "🚨 已紧急通知值班保安和工程人员，工单号 #{number}。\n24小时值班电话：{hotline}\n如有人员受伤请立即拨打120，火情拨打119。",
        "🚨 The duty guards and engineers are alerted: ticket #{number}.\n24-hour hotline: {hotline}\n"
        "If anyone is hurt call 120; for fire call 119.",
    ),
    "emergency.ask_what": (
        "🚨 请马上说明发生了什么、在哪里（例如「3号楼2单元电梯困人」）。十分危急请直接拨打 {hotline}，火情拨打119。",
        "🚨 Tell me right away what is happening and where (e.g. \"someone trapped in the lift of building 3\"). "
        "If it is critical call {hotline}; for fire call 119.",
    ),
    "emergency.ask_where": (
        "请马上告诉我具体位置（楼栋、单元、楼层或地点），我们好尽快赶到。",
        "Tell me exactly where (building, unit, floor or place) so we can get there fast.",
    ),
    "emergency.repeat": (
        "您在{minutes}分钟内已报过紧急情况（工单 #{number}），值班人员正在处理。这是另一处新的紧急情况吗？",
        "You reported an emergency in the last {minutes} minutes (ticket #{number}); the duty staff are on it. "
        "Is this a new, different emergency?",
    ),
    "emergency.new_one": ("是，新的紧急情况", "Yes, a new one"),
    "emergency.same_one": ("同一件事", "The same one"),
    "emergency.added": ("已补充到紧急工单 #{number}，值班人员会看到。", "Added to emergency ticket #{number}."),
    "emergency.location_added": ("位置已通知现场人员：{location}", "Location passed to the responders: {location}"),
})


NOT_A_DESCRIPTION = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "cancel", "inform", "bind_home",
                               "human_agent"})
MIN_DESCRIPTION = 3  # characters of substance in a typed answer to "what is wrong?"
PROBLEM_INTENTS = frozenset({"report_repair", "report_emergency", "file_complaint"})


def describes_problem(ctx: Context, asked: bool) -> bool:
    """Does the message say what is wrong? A bare address, a yes or an emoji does not."""
    if not ctx.text:
        return False
    text = places.without_address(ctx.text)
    if ctx.entity("facility") and (asked or places.says_what(text)):  # "灯" answers "what is broken?"
        return True
    if ctx.intent in PROBLEM_INTENTS and len(places.substance(text)) >= 2:
        return True
    return asked and ctx.intent not in NOT_A_DESCRIPTION and len(places.substance(text)) >= MIN_DESCRIPTION


def _description(ctx: Context, asked: bool) -> dict[str, Any] | None:
    if (ctx.slots.get("description") and not asked) or not describes_problem(ctx, asked):
        return None
    return {"description": ctx.text[:2000]}


def _photos(ctx: Context, asked: bool) -> dict[str, Any] | None:
    photos = [a.url for a in ctx.inbound.attachments if a.kind in ("photo", "document") and a.url]
    return {"photos": [*ctx.slots.get("photos", []), *photos]} if photos else None


def _when(ctx: Context, asked: bool) -> dict[str, Any] | None:
    found = ctx.entities("datetime")
    return {"preferred_time": str(found[0].get("value", ""))[:50]} if found else None


def _location(ctx: Context, asked: bool) -> dict[str, Any] | None:
    """Where: the resident's home, a public place, another flat, a shared location; binding first for a home."""
    if ctx.slots.get("location") and not asked:
        return None
    locations = [a for a in ctx.inbound.attachments if a.kind == "location"]
    if locations:
        where = _place_of(locations[0])
        if where:
            return {"location": where, "public": True}
    household, named = places.household_named(ctx)
    own = ctx.household
    if household is not None and own is not None and household.id == own.id:
        return _home(own)
    public = places.public_where(ctx)
    if public:
        return _public(ctx, public)
    if asked and ctx.slots.get("place") and (named or places.has_words(ctx.text)):  # "3号楼" for "which building?"
        place = ctx.slots["place"]
        answer = ctx.text.strip(" 。.，,")[:100]
        return {"location": answer if place in answer else f"{answer}{place}", "public": True, "household_id": None,
                "place": None}
    if own is None and ctx.staff is None and (household is not None or ctx.entity("room")
                                              or (asked and ctx.entity("phone"))):
        return _bind_first(ctx, wants_home=True)  # a flat named by someone not bound: who are you?
    if household is not None:  # someone else's flat: recorded as written
        return {"location": household.label, "public": True, "household_id": None}
    if places.mentions_home(ctx.text) or (asked and policy.said_yes(ctx)):
        return _home(own) if own is not None else _bind_first(ctx, wants_home=True)
    if asked and ctx.state.step == "location" and ctx.slots.get("public_asked") and places.has_words(ctx.text):
        return {"location": ctx.text[:200], "public": True, "household_id": None}
    return None


def _public(ctx: Context, place: str) -> dict[str, Any]:
    """A public place; one inside a building needs the building (the resident's own, or asked)."""
    if places.needs_building(place):
        own = places.own_building_label(ctx)
        if not own:
            return {"place": place, "public_asked": True}
        place = f"{own}{place}"
    return {"location": place[:200], "public": True, "household_id": None, "place": None}


def _home(household: Household) -> dict[str, Any]:
    return {"location": household.label, "household_id": household.id, "public": False}


def _bind_first(ctx: Context, **slots: Any) -> dict[str, Any]:
    """Bind, then come back to this form (its slots kept) to finish the report."""
    from handlers import state as state_store

    ctx.set_slots(**slots)
    ctx.goto("location")
    state_store.push(ctx.state)
    ctx.say("bind.needed_first", topic=ctx.t(f"flow.{ctx.state.stack[-1]['flow']}"))
    REGISTRY["bind"].start(ctx)
    return {}


def _ask_what(ctx: Context) -> None:
    ctx.say("repair.photo_first" if ctx.slots.get("photos") else "repair.ask_what")


def _ask_where(ctx: Context) -> None:
    if ctx.slots.get("place"):
        ctx.say("repair.ask_building", place=ctx.slots["place"])
        return
    if ctx.slots.get("public_asked"):
        ctx.say("repair.ask_where_public")
        return
    ctx.say("repair.ask_where", ctx.button("button.own_home", payloads.make("f", "home")),
            ctx.button("button.public_area", payloads.make("f", "public")))


class Repair(Form):
    name = "repair"
    kind = Kind.REPAIR
    intents = ("report_repair",)
    acts_at_once = True
    free_text_steps = frozenset({"description"})
    slots = (
        Slot("photos", _photos, lambda ctx: None, required=lambda ctx: False),
        Slot("preferred_time", _when, lambda ctx: None, required=lambda ctx: False),
        Slot("description", _description, _ask_what),
        Slot("location", _location, _ask_where),
    )

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "home" and ctx.state.step == "location":
            own = ctx.household
            if own is None:
                _bind_first(ctx, wants_home=True)
                return True
            ctx.set_slots(**_home(own))
            self.advance(ctx)
            return True
        if payload.verb == "public" and ctx.state.step == "location":
            ctx.set_slots(public_asked=True)
            ctx.say("repair.ask_where_public")
            return True
        return super().on_payload(ctx, payload)

    def on_cancel(self, ctx: Context) -> bool:
        """"算了不报了" after the ticket exists offers to withdraw it (confirmed first)."""
        from handlers.flows.ticket_moves import offer_cancel_ticket

        return self.withdraw(ctx, "ticket_id", offer_cancel_ticket)

    def resume(self, ctx: Context) -> None:
        own = ctx.household
        if own is not None and not ctx.slots.get("location") and (
                ctx.slots.get("wants_home") or ctx.slots.get("named_household_id") == own.id):
            ctx.set_slots(**_home(own))
        self.advance(ctx)

    def submit(self, ctx: Context) -> None:
        if not limits.ticket_allowed(ctx):
            finish(ctx, resume=False)
            return
        slots = ctx.slots
        duplicate = limits.same_report(ctx, slots["description"])
        if duplicate is not None:
            ctx.say("repair.duplicate", number=duplicate.number)
            begin(ctx, self.name, "created", ticket_id=duplicate.id)
            return
        public = bool(slots.get("public"))
        category = places.category_for(slots["description"], ctx.entity("facility"), public)
        spec = NewTicket(
            kind=self.kind, description=slots["description"], category=category,
            household_id=slots.get("household_id"), location=slots.get("location", ""),
            building_id=places.building_id(ctx) if public else None,
            preferred_time=slots.get("preferred_time", ""), channel=ctx.inbound.channel,
            photos=list(slots.get("photos", [])),
        )
        ticket = ctx.tickets().create(ctx.resident_actor(), spec)
        self.confirm(ctx, ticket)
        begin(ctx, self.name, "created", ticket_id=ticket.id)

    def confirm(self, ctx: Context, ticket: Ticket) -> None:
        from backend.models import Staff
        from backend.services.ticket_format import staff_label, ticket_params

        owner = ctx.session.get(Staff, ticket.owner_id) if ticket.owner_id else None
        params = ticket_params(ticket, ctx.settings.timezone, ctx.lang, owner=staff_label(owner))
        ctx.say("repair.created", ctx.button("repair.cancel_ticket", payloads.make("r", "cancel", ticket.id)),
                **params)
        if ticket.preferred_time:
            ctx.say("repair.preferred", when=spoken_iso(ticket.preferred_time, ctx.lang))

    # ---- after the ticket exists: photos and corrections ----------------------------------

    def after(self, ctx: Context) -> Outcome:
        ticket_id = ctx.slots.get("ticket_id")
        svc = ctx.tickets()
        photos = [a for a in ctx.inbound.attachments if a.kind in ("photo", "document") and a.url]
        if photos and ticket_id:
            ticket = svc.get(ctx.resident_actor(), ticket_id)
            for a in photos:
                svc.add_photo(ctx.resident_actor(), ticket_id, a.url, a.content_type or "image/jpeg")
            ctx.say("repair.photo_added", number=ticket.number)
            return Outcome.HANDLED
        when = _when(ctx, asked=False)
        if when and ticket_id and policy.after_not_mine(ctx, self) is None:  # 明天上午都在家: when a visit suits
            ticket = svc.amend(ctx.resident_actor(), ticket_id, preferred_time=when["preferred_time"])
            ctx.say("repair.preferred", when=spoken_iso(ticket.preferred_time, ctx.lang))
            return Outcome.HANDLED
        if ctx.intent == "deny" or ctx.text.startswith(("不对", "错了", "更正", "改成", "不是")):
            household, _ = places.household_named(ctx)
            public = places.public_place(ctx.text)
            location = household.label if household is not None else public
            own = ctx.household
            if not location and own is not None and places.mentions_home(ctx.text):  # 不对，是卫生间的
                household = own
                room = next((w for w in places.HOME_WORDS if w in ctx.text), "")
                location = f"{own.label} {room}".strip()
            if location and ticket_id:
                ticket = svc.amend(ctx.resident_actor(), ticket_id, location=location,
                                   household_id=household.id if household is not None and ctx.household is not None
                                   and household.id == ctx.household.id else None)
                ctx.say("repair.amended", number=ticket.number, location=ticket.location)
                return Outcome.HANDLED
        leave(ctx)
        return Outcome.NOT_MINE


SECURITY_WORDS = ("小偷", "闯入", "打架", "陌生人", "偷", "抢", "砸", "持刀")


class Emergency(Repair):
    """No friction: the ticket first (and the duty staff paged), then the questions."""

    name = "emergency"
    kind = Kind.EMERGENCY
    intents = ("report_emergency",)
    free_text_steps = frozenset({"ask_where"})
    locked_steps = frozenset({"ask_where", "repeat", "description"})

    def start(self, ctx: Context) -> None:
        begin(ctx, self.name, "")
        if not self._says_what(ctx):  # the button, or "紧急求助!": ask what and where first, in one go
            ctx.goto("description")
            ctx.say("emergency.ask_what", hotline=ctx.community.hotline or ctx.settings.hotline)
            return
        self._from_message(ctx)

    @staticmethod
    def _says_what(ctx: Context) -> bool:
        return bool(ctx.text) and (policy.danger(ctx.text) or len(places.substance(ctx.text)) >= MIN_DESCRIPTION)

    def _from_message(self, ctx: Context) -> None:
        ctx.set_slots(description=ctx.text)
        earlier = limits.recent_emergency(ctx)
        if earlier is not None:  # paging again within minutes: ask first
            ctx.set_slots(earlier_id=earlier.id)
            ctx.goto("repeat")
            ctx.say("emergency.repeat", ctx.button("emergency.new_one", payloads.make("f", "again")),
                    ctx.button("emergency.same_one", payloads.make("f", "same")), number=earlier.number,
                    minutes=ctx.settings.emergency_repeat_minutes)
            return
        self._raise(ctx)

    def _raise(self, ctx: Context) -> None:
        if ctx.parse is not None and ctx.text:
            where = _public_or_own(ctx)
            if where:
                ctx.set_slots(**where)
        photos = _photos(ctx, False)
        if photos:
            ctx.set_slots(**photos)
        self.submit(ctx)

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if ctx.state.step == "repeat" and payload.verb in ("again", "same"):
            self._repeat(ctx, again=payload.verb == "again")
            return True
        return super().on_payload(ctx, payload)

    def _repeat(self, ctx: Context, again: bool) -> None:
        if again:
            self._raise(ctx)
            return
        earlier = int(ctx.slots["earlier_id"])
        svc = ctx.tickets()
        svc.add_note(ctx.resident_actor(), earlier, ctx.slots["description"][:500])
        ctx.say("emergency.added", number=svc.get(ctx.resident_actor(), earlier).number)
        begin(ctx, self.name, "created", ticket_id=earlier)

    def step(self, ctx: Context) -> Outcome:
        if ctx.state.step == "description":
            if not self._says_what(ctx):
                return Outcome.NOT_MINE
            self._from_message(ctx)
            return Outcome.HANDLED
        if ctx.state.step == "repeat":
            if policy.said_yes(ctx) or policy.said_no(ctx):
                self._repeat(ctx, again=policy.said_yes(ctx))
                return Outcome.HANDLED
            return Outcome.NOT_MINE
        if ctx.state.step != "ask_where":
            return super().step(ctx)
        ticket_id = ctx.slots.get("ticket_id")
        where = _public_or_own(ctx) or _attached_place(ctx)
        location = (where or {}).get("location") or (ctx.text[:200] if places.has_words(ctx.text) else "")
        if not location:
            return Outcome.NOT_MINE
        known = ctx.slots.get("location") or ""
        if known and known not in location:
            location = f"{location}（{known}）"
        ctx.tickets().amend(ctx.resident_actor(), ticket_id, location=location,
                            household_id=(where or {}).get("household_id"))
        ctx.say("emergency.location_added", location=location)
        begin(ctx, self.name, "created", ticket_id=ticket_id)
        return Outcome.HANDLED

    def submit(self, ctx: Context) -> None:
        if not limits.ticket_allowed(ctx):
            finish(ctx, resume=False)
            return
        slots = ctx.slots
        security = any(w in slots["description"] for w in SECURITY_WORDS)
        spec = NewTicket(kind=self.kind, description=slots["description"],
                         category="security_emergency" if security else "emergency",
                         household_id=slots.get("household_id"), location=slots.get("location", ""),
                         channel=ctx.inbound.channel, photos=list(slots.get("photos", [])))
        ticket = ctx.tickets().create(ctx.resident_actor(), spec)
        ctx.say("emergency.created", ctx.button("repair.cancel_ticket", payloads.make("r", "cancel", ticket.id)),
                number=ticket.number, hotline=ctx.community.hotline or ctx.settings.hotline)
        if not ticket.household_id and not places.precise(ticket.location):
            begin(ctx, self.name, "ask_where", ticket_id=ticket.id, location=ticket.location)
            ctx.say("emergency.ask_where")
        else:
            begin(ctx, self.name, "created", ticket_id=ticket.id)


def _public_or_own(ctx: Context) -> dict[str, Any] | None:
    """Where an emergency is, without stopping to bind: any flat named is written down as it is."""
    household, _ = places.household_named(ctx)
    own = ctx.household
    if household is not None:
        return _home(household) if own is not None and household.id == own.id else \
            {"location": household.label, "household_id": None}
    public = places.public_where(ctx)
    if public:
        return {"location": public, "household_id": None}
    if own is not None and places.mentions_home(ctx.text):
        return _home(own)
    return None


def _attached_place(ctx: Context) -> dict[str, Any] | None:
    locations = [a for a in ctx.inbound.attachments if a.kind == "location"]
    if not locations:
        return None
    where = _place_of(locations[0])
    return {"location": where} if where else None


def _place_of(loc: InboundAttachment) -> str:
    """A shared location as words: its label, else its coordinates (nothing when it has neither)."""
    if loc.label:
        return loc.label[:200]
    if loc.latitude is None or loc.longitude is None:
        return ""
    return f"({loc.latitude:.5f}, {loc.longitude:.5f})"


register(Repair())
register(Emergency())
