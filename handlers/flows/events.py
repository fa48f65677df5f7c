"""Community events: list the open ones, sign up (with a number of people) or withdraw; "e:" buttons.

A full event offers its waiting list (a button, "候补", or "好的" to the offer); a sign-up shows the
check-in code and its QR image. Payloads (stable: the broadcast engine's invitations carry e:join:<id>):
e:join:<id>, e:wait:<id>[:<people>], e:quit:<id>, e:quitok:<id>, e:keep:<id>.
"""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.models import CommunityEvent
from backend.services import events
from backend.services.ticket_format import local_time
from handlers import payloads, policy
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, begin, finish, register
from handlers.flows.visitor import count_people
from handlers.payloads import Payload
from handlers.registry import payload_scope, text_command

register_texts({
    "events.none": ("近期没有开放报名的社区活动，有新活动会第一时间通知您。",
                    "No community events are open for sign-up right now; we will tell you about new ones."),
    "events.list": ("🎉 近期社区活动：\n{lines}\n点按钮报名，或回复「报名+活动名」。",
                    "🎉 Upcoming events:\n{lines}\nTap to sign up, or reply \"sign up for …\"."),
    "events.line": ("· {title}｜{starts}｜{location}｜{places}{mine}", "· {title} | {starts} | {location} | {places}{mine}"),
    "events.places_left": ("剩余{left}个名额", "{left} places left"),
    "events.places_open": ("名额充足", "places available"),
    "events.mine": ("｜✅ 您已报名{people}人，签到码 {code}", " | ✅ you: {people}, check-in code {code}"),
    "events.join": ("报名 {title}", "Sign up: {title}"),
    "events.quit": ("取消报名 {title}", "Withdraw: {title}"),
    "events.signed": ("✅ 已为您报名「{title}」{people}人\n时间：{starts}｜地点：{location}\n"
                      "签到码：{code}（入场时出示此码或二维码）\n如需取消，回复「取消报名」。",
                      "✅ Signed up for \"{title}\" ({people})\nWhen: {starts} | Where: {location}\n"
                      "Check-in code: {code} (show it or the QR at the door)\nReply \"withdraw\" to cancel."),
    "events.wait_button": ("登记候补", "Join the waiting list"),
    "events.no_thanks": ("不用了", "No thanks"),
    "events.waiting": ("📝 已为您登记「{title}」候补（{people}人，第{place}位）。有人退出时按顺序递补，届时会通知您。",
                       "📝 You are on the waiting list for \"{title}\" ({people}, number {place}). When someone "
                       "withdraws, places go in order and you will be told."),
    "events.wait_declined": ("好的，没有登记候补。", "All right, not on the waiting list."),
    "events.wait_which": ("要登记哪个活动的候补？请回复「候补+活动名」。",
                          "Which event's waiting list? Reply \"wait for\" and the event's name."),
    "events.withdrawn": ("已取消「{title}」的报名。", "Your sign-up for \"{title}\" is withdrawn."),
    "events.none_signed": ("您目前没有报名任何活动。", "You have not signed up for any event."),
    "events.confirm_quit": ("确定要取消「{title}」（{starts}）的报名吗？", "Withdraw from \"{title}\" ({starts})?"),
    "events.quit_yes": ("确认取消报名", "Yes, withdraw"),
    "events.choose_quit": ("要取消哪个活动的报名？", "Which sign-up should be withdrawn?"),
})

SIGN_UP = re.compile(r"报名|参加|报个名|算我|我要去|我去|想去|预约")
QUIT = re.compile(r"取消报名|退出报名|撤销报名|不报了|不参加了|不去了|withdraw", re.I)
WAIT = re.compile(r"候补|waiting list|wait ?list", re.I)


def _params(ctx: Context, event: CommunityEvent) -> dict:
    return {"title": event.title, "location": event.location or "—",
            "starts": local_time(event.starts_at, ctx.settings.timezone)}


def named_event(ctx: Context, views: list[events.EventView]) -> events.EventView | None:
    """The event the text names: its title, or two characters of it (饺子, 义诊)."""
    text = ctx.text
    for v in views:
        title = v.event.title
        if title in text or any(title[i:i + 2] in text for i in range(len(title) - 1)):
            return v
    return None


class Events(Flow):
    name = "events"
    intents = ("join_event",)

    def start(self, ctx: Context) -> None:
        state_store.set_flow(ctx.state, None)
        views = events.list_open(ctx.session, ctx.clock, ctx.community.id, ctx.resident)
        chosen = named_event(ctx, views) if ctx.parse is not None else None
        if ctx.parse is not None and QUIT.search(ctx.text):
            offer_withdraw(ctx)  # 取消报名读书会: asks first
            return
        if chosen is not None and SIGN_UP.search(ctx.text) and chosen.mine is None:
            sign_up(ctx, chosen.event.id, count_people(ctx.text) or 1)
        else:
            show(ctx, [chosen] if chosen is not None else views)
        if ctx.state.step != "offer_wait":
            finish(ctx)

    def step(self, ctx: Context) -> Outcome:
        if ctx.state.step == "offer_wait":
            event_id, people = int(ctx.slots.get("event_id") or 0), int(ctx.slots.get("people") or 1)
            if policy.said_yes(ctx) or WAIT.search(ctx.text):
                finish(ctx, resume=False)
                sign_up(ctx, event_id, people, wait=True)
                return Outcome.DONE
            if policy.said_no(ctx):
                finish(ctx, resume=False)
                ctx.say("events.wait_declined")
                return Outcome.DONE
            finish(ctx, resume=False)
            return Outcome.NOT_MINE
        self.start(ctx)
        return Outcome.HANDLED


register(Events())


def show(ctx: Context, views: list[events.EventView]) -> None:
    if not views:
        ctx.say("events.none")
        return
    lines, buttons = [], []
    for v in views:
        places = ctx.t("events.places_open") if v.left is None else ctx.t("events.places_left", left=v.left)
        mine = ctx.t("events.mine", people=v.mine.people, code=v.mine.checkin_code or "—") if v.mine else ""
        lines.append(ctx.t("events.line", places=places, mine=mine, **_params(ctx, v.event)))
        if v.mine:
            buttons.append(ctx.button("events.quit", payloads.make("e", "quit", v.event.id), title=v.event.title))
        else:
            buttons.append(ctx.button("events.join", payloads.make("e", "join", v.event.id), title=v.event.title))
    ctx.say("events.list", *buttons[:8], lines="\n".join(lines))


def sign_up(ctx: Context, event_id: int, people: int = 1, *, wait: bool = False) -> None:
    """Sign up; a full event is offered its waiting list (a button, or "好的" to this message)."""
    try:
        signup = events.sign_up(ctx.session, ctx.clock, ctx.resident, event_id, people, wait=wait)
    except events.EventFull as full:
        ctx.say_text(full.text(ctx.lang), ctx.button("events.wait_button", payloads.make("e", "wait", event_id, people)),
                     ctx.button("events.no_thanks", payloads.make("e", "keep", event_id)))
        begin(ctx, "events", "offer_wait", event_id=event_id, people=people)
        return
    event = events.get(ctx.session, ctx.community.id, signup.event_id)
    if signup.status == events.WAITING:
        ctx.say("events.waiting", ctx.button("events.quit", payloads.make("e", "quit", event.id), title=event.title),
                people=signup.people, place=events.waiting_place(ctx.session, signup), **_params(ctx, event))
        return
    events.write_qr(ctx.settings, signup)
    ctx.say("events.signed", ctx.button("events.quit", payloads.make("e", "quit", event.id), title=event.title),
            image_url=events.image_url(signup), people=signup.people, code=signup.checkin_code,
            **_params(ctx, event))


def withdraw(ctx: Context, event_id: int) -> None:
    events.withdraw(ctx.session, ctx.clock, ctx.resident, event_id, ctx.settings)  # the next household is told
    ctx.say("events.withdrawn", **_params(ctx, events.get(ctx.session, ctx.community.id, event_id)))


def offer_withdraw(ctx: Context) -> None:
    """取消报名: the event named, the only sign-up (or place on a waiting list), or a choice."""
    mine = [v.event for v in events.my_signups(ctx.session, ctx.clock, ctx.resident)]
    mine += events.my_waiting(ctx.session, ctx.clock, ctx.resident)
    chosen = named_event(ctx, [events.EventView(e, 0, None) for e in mine])
    if chosen is not None:
        offer_quit(ctx, chosen.event.id)
    elif not mine:
        ctx.say("events.none_signed")
    elif len(mine) == 1:
        offer_quit(ctx, mine[0].id)
    else:
        ctx.say("events.choose_quit", *[ctx.button("events.quit", payloads.make("e", "quit", e.id), title=e.title)
                                        for e in mine])


def offer_quit(ctx: Context, event_id: int) -> None:
    """Withdrawing a sign-up is confirmed first (e:quitok, or "是的")."""
    event = events.get(ctx.session, ctx.community.id, event_id)
    ctx.say("events.confirm_quit", ctx.button("events.quit_yes", payloads.make("e", "quitok", event.id)),
            ctx.button("button.keep", payloads.make("e", "keep", event.id)), **_params(ctx, event))
    begin(ctx, "withdraw", "confirm", kind="signup", item_id=event.id)


@payload_scope("e")
def _event_payload(ctx: Context, payload: Payload) -> bool:
    """e:join:<event id>, e:quit:<event id> (asks), e:quitok:<event id> (withdraws), e:keep:<event id>."""
    event_id = payload.int_arg()
    if event_id is None:
        return False
    if ctx.state.flow == "withdraw" and payload.verb in ("quitok", "keep"):
        finish(ctx, resume=False)
    if ctx.state.flow == "events" and ctx.state.step == "offer_wait":
        finish(ctx, resume=False)
    if payload.verb == "join":
        sign_up(ctx, event_id)
    elif payload.verb == "wait":
        sign_up(ctx, event_id, min(max(payload.int_arg(1) or 1, 1), events.MAX_PEOPLE), wait=True)
    elif payload.verb == "quit":
        offer_quit(ctx, event_id)
    elif payload.verb == "quitok":
        withdraw(ctx, event_id)
    elif payload.verb == "keep":
        ctx.say("chat.kept")
    else:
        return False
    return True


@text_command(r"\s*(?:我要|我想|帮我|请)?(?:登记|排|加入|报)?(?:个)?(?:候补|waiting list)(.{0,20})", staff_only=False)
def _wait_text(ctx: Context, _m: re.Match[str]) -> bool:
    """"登记候补" / "候补义诊": the waiting list of the event named, or of the only full one."""
    if ctx.household is None:
        return False
    views = events.list_open(ctx.session, ctx.clock, ctx.community.id, ctx.resident)
    chosen = named_event(ctx, views)
    if chosen is None:
        full = [v for v in views if v.left == 0 and v.mine is None]
        if len(full) != 1:
            ctx.say("events.wait_which")
            return True
        chosen = full[0]
    if ctx.state.flow == "events":
        finish(ctx, resume=False)
    sign_up(ctx, chosen.event.id, count_people(ctx.text) or 1, wait=True)
    return True
