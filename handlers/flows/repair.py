"""Repair and emergency reports: use everything in the message, ask only for what is missing."""

from __future__ import annotations

from backend.catalogue import register as register_texts
from backend.domain import Kind
from backend.models import Ticket
from backend.services.tickets import NewTicket
from handlers import payloads
from handlers.context import Context
from handlers.flows import places
from handlers.flows.base import Flow, begin, finish, register
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
    "emergency.ask_where": (
        "请马上告诉我具体位置（楼栋、单元、楼层或地点），我们好尽快赶到。",
        "Tell me exactly where (building, unit, floor or place) so we can get there fast.",
    ),
    "emergency.location_added": ("位置已通知现场人员：{location}", "Location passed to the responders: {location}"),
})


class Repair(Flow):
    name = "repair"
    kind = Kind.REPAIR
    intents = ("report_repair",)
    free_text_steps = frozenset({"what", "where_public"})

    def start(self, ctx: Context) -> None:
        begin(ctx, self.name, "what")
        photos = [a.url for a in ctx.inbound.attachments if a.kind == "photo" and a.url]
        if photos:
            ctx.set_slots(photos=photos)
        if ctx.parse is not None and ctx.text and places.says_what(ctx.text, ctx.entity("facility")):
            ctx.set_slots(description=ctx.text)
            self._read_where(ctx)
            self._read_when(ctx)
        self._next(ctx)

    def step(self, ctx: Context) -> bool:
        step = ctx.state.step
        if step == "created":
            return self._after_created(ctx)
        if self._take_attachments(ctx):
            self._next(ctx)
            return True
        if not ctx.text:
            return False
        if step == "what":
            ctx.set_slots(description=ctx.text)
            self._read_where(ctx)
            self._read_when(ctx)
        elif step in ("where", "where_public") and not self._read_where(ctx, answer=True):
            if step != "where_public":
                return False
            ctx.set_slots(location=ctx.text[:200], public=True)
        self._next(ctx)
        return True

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "home" and ctx.state.step == "where":
            return self._choose_home(ctx)
        if payload.verb == "public" and ctx.state.step == "where":
            ctx.goto("where_public")
            ctx.say("repair.ask_where_public")
            return True
        return False

    def on_cancel(self, ctx: Context) -> bool:
        """"算了不报了" after the ticket exists withdraws the ticket, not just the form."""
        from handlers.flows.status import cancel

        return self.withdraw(ctx, "ticket_id", cancel, frozenset({"created", "ask_where"}))

    def start_prompt(self, ctx: Context) -> None:
        self._next(ctx)

    def resume(self, ctx: Context) -> None:
        if ctx.slots.get("wants_home") and not ctx.slots.get("location") and ctx.household is not None:
            ctx.set_slots(location=ctx.household.label, household_id=ctx.household.id, public=False)
        self._next(ctx)

    # ---- steps ----------------------------------------------------------------------------

    def _next(self, ctx: Context) -> None:
        if ctx.state.flow != self.name:  # handed over (to binding) meanwhile
            return
        slots = ctx.slots
        if not slots.get("description"):
            ctx.goto("what")
            ctx.say("repair.photo_first" if slots.get("photos") else "repair.ask_what")
            return
        if not slots.get("location"):
            if ctx.state.step == "where_public":
                ctx.say("repair.ask_where_public")
                return
            ctx.goto("where")
            ctx.say("repair.ask_where", ctx.button("button.own_home", payloads.make("f", "home")),
                    ctx.button("button.public_area", payloads.make("f", "public")))
            return
        self._create(ctx)

    def _read_where(self, ctx: Context, answer: bool = False) -> bool:
        household, named = places.household_named(ctx)
        if household is not None and ctx.household is not None and household.id == ctx.household.id:
            ctx.set_slots(location=household.label, household_id=household.id, public=False)
            return True
        public = places.public_place(ctx.text)
        if public:
            ctx.set_slots(location=public, public=True, household_id=None)
            return True
        if household is not None:  # someone else's address: record it as written
            ctx.set_slots(location=household.label, public=True, household_id=None)
            return True
        if places.mentions_home(ctx.text) or (answer and ctx.intent == "affirm"):
            return self._choose_home(ctx, quiet=True)
        if named:
            return False
        return False

    def _choose_home(self, ctx: Context, quiet: bool = False) -> bool:
        household = ctx.household
        if household is None:
            from handlers import state as state_store

            ctx.set_slots(wants_home=True)
            state_store.push(ctx.state)
            ctx.say("bind.needed_first", topic=ctx.t(f"flow.{self.name}"))
            from handlers.flows.base import REGISTRY

            REGISTRY["bind"].start(ctx)
            return True
        ctx.set_slots(location=household.label, household_id=household.id, public=False)
        if not quiet:
            self._next(ctx)
        return True

    def _read_when(self, ctx: Context) -> None:
        found = ctx.entities("datetime")
        if found:
            ctx.set_slots(preferred_time=str(found[0].get("value", ""))[:50])

    def _take_attachments(self, ctx: Context) -> bool:
        photos = [a.url for a in ctx.inbound.attachments if a.kind in ("photo", "document") and a.url]
        locations = [a for a in ctx.inbound.attachments if a.kind == "location"]
        if photos:
            ctx.set_slots(photos=[*ctx.slots.get("photos", []), *photos])
        if locations and not ctx.slots.get("location"):
            loc = locations[0]
            label = loc.label or f"({loc.latitude:.5f}, {loc.longitude:.5f})"
            ctx.set_slots(location=label[:200], public=True)
        return bool(photos or locations)

    def _create(self, ctx: Context) -> None:
        slots = ctx.slots
        public = bool(slots.get("public"))
        category = places.category_for(slots["description"], ctx.entity("facility"), public)
        spec = NewTicket(
            kind=self.kind, description=slots["description"], category=category,
            household_id=slots.get("household_id"), location=slots.get("location", ""),
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
        params = ticket_params(ticket, ctx.settings.timezone, owner=staff_label(owner))
        ctx.say("repair.created", ctx.button("repair.cancel_ticket", payloads.make("r", "cancel", ticket.id)),
                **params)
        if ticket.preferred_time:
            ctx.say("repair.preferred", when=ticket.preferred_time)

    # ---- after the ticket exists: photos and corrections ----------------------------------

    def _after_created(self, ctx: Context) -> bool:
        ticket_id = ctx.slots.get("ticket_id")
        svc = ctx.tickets()
        photos = [a for a in ctx.inbound.attachments if a.kind in ("photo", "document") and a.url]
        if photos and ticket_id:
            ticket = svc.get(ctx.resident_actor(), ticket_id)
            for a in photos:
                svc.add_photo(ctx.resident_actor(), ticket_id, a.url, a.content_type or "image/jpeg")
            ctx.say("repair.photo_added", number=ticket.number)
            return True
        if ctx.intent == "deny" or ctx.text.startswith(("不对", "错了", "更正", "改成", "不是")):
            household, _ = places.household_named(ctx)
            public = places.public_place(ctx.text)
            location = household.label if household is not None else public
            if location and ticket_id:
                ticket = svc.amend(ctx.resident_actor(), ticket_id, location=location,
                                   household_id=household.id if household is not None and ctx.household is not None
                                   and household.id == ctx.household.id else None)
                ctx.say("repair.amended", number=ticket.number, location=ticket.location)
                return True
        finish(ctx, resume=True)
        return False


SECURITY_WORDS = ("小偷", "闯入", "打架", "陌生人", "偷", "抢", "砸", "持刀")


class Emergency(Repair):
    name = "emergency"
    kind = Kind.EMERGENCY
    intents = ("report_emergency",)
    free_text_steps = frozenset({"what", "where", "where_public"})
    locked_steps = frozenset({"ask_where"})

    def start(self, ctx: Context) -> None:
        begin(ctx, self.name, "what")
        text = ctx.text or ctx.t("flow.emergency")
        ctx.set_slots(description=text)
        if ctx.parse is not None and ctx.text:
            self._read_where(ctx)
        self._take_attachments(ctx)
        self._create(ctx)  # no friction: create first, ask for the place after

    def step(self, ctx: Context) -> bool:
        if ctx.state.step == "ask_where":
            ticket_id = ctx.slots.get("ticket_id")
            location = None
            if self._read_where(ctx) or self._take_attachments(ctx):
                location = ctx.slots.get("location")
            elif ctx.text:
                location = ctx.text[:200]
            if not location:
                return False
            known = ctx.slots.get("location") or ""
            if known and known not in location:
                location = f"{location}（{known}）"
            ctx.tickets().amend(ctx.resident_actor(), ticket_id, location=location,
                                household_id=ctx.slots.get("household_id"))
            ctx.say("emergency.location_added", location=location)
            begin(ctx, self.name, "created", ticket_id=ticket_id)
            return True
        return super().step(ctx)

    def _create(self, ctx: Context) -> None:
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


register(Repair())
register(Emergency())
