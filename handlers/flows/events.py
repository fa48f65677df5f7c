"""Community events: list the open ones, sign up (with a number of people) or withdraw; "e:" buttons."""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.models import CommunityEvent
from backend.services import events
from backend.services.ticket_format import local_time
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, begin, finish, register
from handlers.flows.visitor import count_people
from handlers.payloads import Payload
from handlers.registry import payload_scope

register_texts({
    "events.none": ("近期没有开放报名的社区活动，有新活动会第一时间通知您。",
                    "No community events are open for sign-up right now; we will tell you about new ones."),
    "events.list": ("🎉 近期社区活动：\n{lines}\n点按钮报名，或回复「报名+活动名」。",
                    "🎉 Upcoming events:\n{lines}\nTap to sign up, or reply \"sign up for …\"."),
    "events.line": ("· {title}｜{starts}｜{location}｜{places}{mine}", "· {title} | {starts} | {location} | {places}{mine}"),
    "events.places_left": ("剩余{left}个名额", "{left} places left"),
    "events.places_open": ("名额充足", "places available"),
    "events.mine": ("｜✅ 您已报名{people}人", " | ✅ you: {people}"),
    "events.join": ("报名 {title}", "Sign up: {title}"),
    "events.quit": ("取消报名 {title}", "Withdraw: {title}"),
    "events.signed": ("✅ 已为您报名「{title}」{people}人\n时间：{starts}｜地点：{location}\n如需取消，回复「取消报名」。",
                      "✅ Signed up for \"{title}\" ({people})\nWhen: {starts} | Where: {location}\n"
                      "Reply \"withdraw\" to cancel."),
    "events.withdrawn": ("已取消「{title}」的报名。", "Your sign-up for \"{title}\" is withdrawn."),
    "events.none_signed": ("您目前没有报名任何活动。", "You have not signed up for any event."),
    "events.confirm_quit": ("确定要取消「{title}」（{starts}）的报名吗？", "Withdraw from \"{title}\" ({starts})?"),
    "events.quit_yes": ("确认取消报名", "Yes, withdraw"),
    "events.choose_quit": ("要取消哪个活动的报名？", "Which sign-up should be withdrawn?"),
})

SIGN_UP = re.compile(r"报名|参加|报个名|算我|我要去|我去|想去|预约")


def _params(ctx: Context, event: CommunityEvent) -> dict:
    return {"title": event.title, "location": event.location or "—",
            "starts": local_time(event.starts_at, ctx.settings.timezone)}


def named_event(ctx: Context, views: list[events.EventView]) -> events.EventView | None:
    """The event the text names: its title, or two characters of it (中秋, 义诊)."""
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
        if chosen is not None and SIGN_UP.search(ctx.text) and chosen.mine is None:
            sign_up(ctx, chosen.event.id, count_people(ctx.text) or 1)
        else:
            show(ctx, [chosen] if chosen is not None else views)
        finish(ctx)

    def step(self, ctx: Context) -> Outcome:
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
        mine = ctx.t("events.mine", people=v.mine.people) if v.mine else ""
        lines.append(ctx.t("events.line", places=places, mine=mine, **_params(ctx, v.event)))
        if v.mine:
            buttons.append(ctx.button("events.quit", payloads.make("e", "quit", v.event.id), title=v.event.title))
        else:
            buttons.append(ctx.button("events.join", payloads.make("e", "join", v.event.id), title=v.event.title))
    ctx.say("events.list", *buttons[:8], lines="\n".join(lines))


def sign_up(ctx: Context, event_id: int, people: int = 1) -> None:
    signup = events.sign_up(ctx.session, ctx.clock, ctx.resident, event_id, people)
    event = events.get(ctx.session, ctx.community.id, signup.event_id)
    ctx.say("events.signed", ctx.button("events.quit", payloads.make("e", "quit", event.id), title=event.title),
            people=signup.people, **_params(ctx, event))


def withdraw(ctx: Context, event_id: int) -> None:
    events.withdraw(ctx.session, ctx.clock, ctx.resident, event_id)
    ctx.say("events.withdrawn", **_params(ctx, events.get(ctx.session, ctx.community.id, event_id)))


def offer_withdraw(ctx: Context) -> None:
    """取消报名: the event named, the only sign-up, or a choice."""
    mine = events.my_signups(ctx.session, ctx.clock, ctx.resident)
    chosen = named_event(ctx, mine)
    if chosen is not None:
        offer_quit(ctx, chosen.event.id)
    elif not mine:
        ctx.say("events.none_signed")
    elif len(mine) == 1:
        offer_quit(ctx, mine[0].event.id)
    else:
        ctx.say("events.choose_quit", *[ctx.button("events.quit", payloads.make("e", "quit", v.event.id),
                                                   title=v.event.title) for v in mine])


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
    if payload.verb == "join":
        sign_up(ctx, event_id)
    elif payload.verb == "quit":
        offer_quit(ctx, event_id)
    elif payload.verb == "quitok":
        withdraw(ctx, event_id)
    elif payload.verb == "keep":
        ctx.say("chat.kept")
    else:
        return False
    return True
