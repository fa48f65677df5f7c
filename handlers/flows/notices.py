"""Residents and notices: the 收到 button, "最近有什么通知", "停水到几点", and muting categories by text.

Keyword routes rather than NLU intents, so the classifier and its figures stay as they are. Each route is
narrow: an outage question only takes over when a current outage notice exists for the resident;
otherwise the message goes on to the NLU as before (家里停水了 is still a repair report).
"""

from __future__ import annotations

import re

from backend.catalogue import register as register_texts
from backend.errors import DomainError
from backend.models import Notice
from backend.services import notices
from backend.services.ticket_format import local_time
from handlers.context import Context
from handlers.payloads import Payload
from handlers.registry import payload_scope, text_command

ACK_SCOPE = "nack"  # the engine renders the 收到 button as "nack:<notice id>"
MAX_LISTED = 5
BODY_PREVIEW = 200

LIST = (r"\s*(?:请问)?(?:最近|近期|最新|今天|这几天|现在)?(?:有(?:什么|啥|哪些|没有)(?:新的?)?|的)?"
        r"(?:通知|公告)(?:吗|呢|么|嘛|没)?[?？。.!！]*\s*|/notices")
OUTAGE_WORDS = r"(?:停水|停电|停气|断水|断电|来水|来电|供水|供电|恢复供水|恢复供电)"
WHEN_WORDS = r"(?:几点|多久|什么时候|啥时候|何时|多长时间|到几|恢复|结束|怎么安排)"
OUTAGE = rf"(?s)(?=.*{OUTAGE_WORDS})(?=.*{WHEN_WORDS})(?!.*(?:修|报修|就我家|只有我家|邻居|坏)).{{2,60}}"
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("event", ("活动",)),
    ("fee", ("费用", "缴费", "收费", "催费", "账单", "物业费")),
    ("outage", ("停水", "停电", "维修", "设施", "维护", "检修")),
    ("tip", ("温馨提示", "提示", "提醒")),
    ("safety", ("安全", "消防")),
)
NOTICE_WORD = r"(?:通知|推送|公告|消息|提示|提醒)"
MUTE = (rf"(?s)\s*(?:请|麻烦)?(?:以后)?(?:不要|别|不想|不用|不需要|关闭|关掉|停止|屏蔽|退订)再?(?:给我)?"
        rf"(?:发|推|推送|接收|收|收到|订阅)?(?:送)?(.{{0,8}}?){NOTICE_WORD}(?:了|啦|吧)?[。.!！]*\s*")
UNMUTE = (rf"(?s)\s*(?:请|麻烦)?(?:恢复|重新|继续|开启|打开)(?:给我)?(?:接收|接受|推送|发送|发|订阅|收)?"
          rf"(.{{0,8}}?){NOTICE_WORD}(?:吧)?[。.!！]*\s*")

register_texts({
    "resnotice.acked": ("✅ 已确认收到「{title}」，谢谢！", "✅ Noted that you received \"{title}\". Thank you!"),
    "resnotice.none": ("目前没有新的通知。有新通知会第一时间发给您。", "There are no current notices; new ones will reach you here."),
    "resnotice.list": ("📢 最近的通知：\n{lines}", "📢 Current notices:\n{lines}"),
    "resnotice.line": ("{urgent}【{category}】{title}（{when}）\n{body}", "{urgent}[{category}] {title} ({when})\n{body}"),
    "resnotice.no_outage": ("目前没有计划停水停电的通知。如果您家里现在停水或停电，请告诉我是哪栋哪户、什么情况，我马上为您报修。",
                            "There is no planned water or power cut at the moment. If yours is off now, tell me your "
                            "building and flat and what happened, and I will report it for repair."),
    "resnotice.outage": ("关于停水停电的最新通知：\n{lines}\n如家中情况与通知不符，请告诉我，我来为您报修。",
                         "The current outage notices:\n{lines}\nIf your home is affected otherwise, tell me and I will "
                         "report a repair."),
    "resnotice.muted": ("好的，以后不再给您发送「{category}」类通知。想恢复时说「恢复{short}通知」即可。安全提示仍会照常发送。",
                        "OK, no more \"{category}\" notices. Say \"resume {category} notices\" to get them again. "
                        "Safety notices still come."),
    "resnotice.already_muted": ("「{category}」类通知已经关闭了。", "\"{category}\" notices are already off."),
    "resnotice.unmuted": ("好的，已恢复接收「{category}」类通知。", "OK, \"{category}\" notices are back on."),
    "resnotice.not_muted": ("您没有关闭「{category}」类通知，会照常收到。", "\"{category}\" notices are on already."),
    "resnotice.which": (
        "可以关闭的通知：社区活动、费用、温馨提示、停水停电/设施维护（安全提示不能关闭）。请说「不要再发活动通知」这样的话。{muted}",
        "You can mute: events, fees, tips, outages (never safety). Say e.g. \"不要再发活动通知\".{muted}"),
    "resnotice.muted_now": ("\n目前已关闭：{categories}。", "\nMuted now: {categories}."),
})

# Arrears reminders (催缴) are not notices: their opt-out is the reminders' own (handlers/flows/reminders.py).
ARREARS_REMINDERS = re.compile(r"催缴|催费|缴费提醒|欠费提醒|交费提醒")
SHORT = {"event": "活动", "fee": "费用", "outage": "停水停电", "tip": "温馨提示", "safety": "安全"}


def _category_in(text: str) -> str | None:
    for category, words in CATEGORY_WORDS:
        if any(w in text for w in words):
            return category
    return None


def _lines(ctx: Context, found: list[Notice]) -> str:
    out = []
    for n in found:
        body = n.body if len(n.body) <= BODY_PREVIEW else n.body[:BODY_PREVIEW] + "…"
        out.append(ctx.t("resnotice.line", urgent="🚨" if n.urgent else "",
                         category=notices.category_name(n.category, ctx.lang), title=n.title,
                         when=local_time(n.scheduled_at, ctx.settings.timezone, ctx.lang), body=body))
    return "\n\n".join(out)


@payload_scope(ACK_SCOPE)
def _ack(ctx: Context, payload: Payload) -> bool:
    """收到 on a notice: payload nack:<notice id> (the id is the verb)."""
    if ctx.staff is not None or ctx.who.resident is None or not payload.verb.isdigit() or len(payload.verb) > 18:
        return False
    try:
        notice = notices.acknowledge(ctx.session, ctx.clock, ctx.who.resident, int(payload.verb))
    except DomainError:
        return False  # not this resident's notice: a stale or forged button
    ctx.say("resnotice.acked", title=notice.title)
    return True


@text_command(LIST, staff_only=False)
def _list(ctx: Context, _m: re.Match[str]) -> bool | None:
    if ctx.state.flow == "notice_compose":
        return False  # a title being typed
    found = notices.current_for(ctx.session, ctx.clock, ctx.resident, limit=MAX_LISTED) if ctx.staff is None else []
    if ctx.staff is not None:
        found = notices.listing(ctx.session, ctx.community.id, status="sent", limit=MAX_LISTED)[0]
    if not found:
        ctx.say("resnotice.none")
        return None
    ctx.say("resnotice.list", lines=_lines(ctx, found))
    return None


@text_command(OUTAGE, staff_only=False)
def _outage(ctx: Context, _m: re.Match[str]) -> bool | None:
    if ctx.staff is not None:
        return False
    resident = ctx.who.resident
    found = notices.current_for(ctx.session, ctx.clock, resident, category="outage", limit=3) if resident else []
    if found:
        ctx.say("resnotice.outage", lines=_lines(ctx, found))
        return None
    if resident is None and notices.any_current(ctx.session, ctx.clock, ctx.community.id, "outage"):
        return False  # there are some, perhaps for other buildings: the assistant asks who this is first
    ctx.say("resnotice.no_outage")  # nothing planned: say so, and offer a repair for what is happening now
    return None


@text_command(MUTE, staff_only=False)
def _mute(ctx: Context, m: re.Match[str]) -> bool | None:
    if ctx.staff is not None or ARREARS_REMINDERS.search(ctx.text):
        return False
    category = _category_in(m.group(1) or "")
    resident = ctx.resident
    if category is None:
        muted = notices.muted(ctx.session, resident)
        names = "、".join(notices.category_name(c, ctx.lang) for c in muted)
        ctx.say("resnotice.which", muted=ctx.t("resnotice.muted_now", categories=names) if muted else "")
        return None
    name = notices.category_name(category, ctx.lang)
    if category == "safety":
        ctx.say("notices.mute_safety")
    elif notices.mute(ctx.session, ctx.clock, resident, category):
        ctx.say("resnotice.muted", category=name, short=SHORT[category])
    else:
        ctx.say("resnotice.already_muted", category=name)
    return None


@text_command(UNMUTE, staff_only=False)
def _unmute(ctx: Context, m: re.Match[str]) -> bool | None:
    if ctx.staff is not None or ARREARS_REMINDERS.search(ctx.text):
        return False
    category = _category_in(m.group(1) or "")
    if category is None or category == "safety":
        return False
    name = notices.category_name(category, ctx.lang)
    if notices.unmute(ctx.session, ctx.resident, category):
        ctx.say("resnotice.unmuted", category=name)
    else:
        ctx.say("resnotice.not_muted", category=name)
    return None
