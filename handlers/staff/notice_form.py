"""发通知 / `/notice`: staff compose a notice in chat, step by step, see who it reaches, and confirm.

Steps: category (buttons or typed), title, body, targets (typed: 全小区, 3栋, 3栋2单元, 欠费住户, 业主群 ...),
time (now, urgent now, or a typed time), then a preview with the recipient count and 确认. Only roles the
permission matrix lets send notices may start it. Confirming stores the notice as scheduled; the broadcast
engine sends it. Every step is free text, so nothing typed there starts another topic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from backend.catalogue import name
from backend.catalogue import register as register_texts
from backend.errors import DomainError, Invalid
from backend.services import audience as audiences
from backend.services import notice_targets, notices, permissions
from backend.services.permissions import Perm
from backend.services.ticket_format import local_time
from handlers import payloads
from handlers import state as state_store
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, begin, finish, register
from handlers.payloads import Payload
from handlers.registry import command, text_command

NAME = "notice_compose"
STEPS = ("category", "title", "body", "targets", "time", "confirm")
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("safety", ("安全", "消防", "防盗", "防诈")),
    ("outage", ("停水", "停电", "停气", "维修", "维护", "设施", "检修", "断水", "断电")),
    ("fee", ("费用", "缴费", "收费", "物业费", "费")),
    ("event", ("活动",)),
    ("tip", ("温馨提示", "提示", "提醒", "温馨")),
)
NOW = re.compile(r"(现在|立即|立刻|马上|即刻|now)(发送?|发布)?[。.!！]?", re.I)
URGENT = re.compile(r"(紧急|加急|urgent)(发送?|发布)?[。.!！]?", re.I)
BARE_CANCEL = re.compile(r"(取消|不发了|算了|不要了|cancel)[。.!！]?", re.I)

register_texts({
    "flow.notice_compose": ("发通知", "the notice"),
    "noticeform.ask_category": ("📢 发通知。请选择类别：", "📢 New notice. Choose the category:"),
    "noticeform.bad_category": ("请选择类别：停水停电/设施维护、安全提示、费用、社区活动、温馨提示。",
                                "Choose a category: outage, safety, fee, event or tip."),
    "noticeform.ask_title": ("请输入通知标题（最多 100 字）：", "Type the title (at most 100 characters):"),
    "noticeform.ask_body": ("请输入通知正文：", "Type the text of the notice:"),
    "noticeform.ask_targets": ("发给谁？可写：全小区、3栋、3栋2单元、3栋12层、欠费住户、活动#5、业主群、工程部，多个用顿号隔开。",
                               "Who is it for? e.g. 全小区, 3栋, 3栋2单元, 3栋12层, 欠费住户, 活动#5, 业主群, 工程部 "
                               "(several separated by 、)."),
    "noticeform.ask_time": ("什么时候发？点「现在发送」，或输入时间（如「明天上午9点」「12月5日 18:00」）。",
                            "When? Tap \"send now\", or type a time (e.g. 明天上午9点)."),
    "noticeform.body_cut": ("正文超过聊天单条消息 {limit} 字的上限，请精简，或用网页控制台/命令行发送长通知。",
                            "The text is over the chat's {limit}-character message limit; shorten it, or send long "
                            "notices from the console or the command line."),
    "noticeform.need_clock": ("请说明具体几点，例如「明天上午9点」。", "Please give a clock time, e.g. 明天上午9点."),
    "noticeform.now": ("现在发送", "Send now"),
    "noticeform.urgent": ("🚨 紧急，立即发送", "🚨 Urgent, send now"),
    "noticeform.preview": (
        "请确认通知：\n【{category}】{urgent}{title}\n{body}\n——\n对象：{targets}\n时间：{when}\n{count}",
        "Please confirm the notice:\n[{category}] {urgent}{title}\n{body}\n——\nTo: {targets}\nWhen: {when}\n{count}"),
    "noticeform.count": (
        "住户 {residents} 人，可送达 {reachable} 人（{channels}），无法送达 {unreachable} 人{reasons}；员工 {staff} 人；群 {groups} 个",
        "{residents} residents, {reachable} reachable ({channels}), {unreachable} unreachable{reasons}; "
        "{staff} staff; {groups} groups"),
    "noticeform.urgent_mark": ("🚨紧急 ", "🚨URGENT "),
    "noticeform.right_now": ("立即", "now"),
    "noticeform.done": ("✅ 通知 #{id} 已安排{when}发送，共 {residents} 位住户。发送结果可用「通知报告 {id}」查看。",
                        "✅ Notice #{id} is scheduled ({when}) for {residents} residents. Say \"通知报告 {id}\" for "
                        "the delivery report."),
    "noticeform.report": ("📊 通知 #{id}「{title}」（{status}）\n住户 {residents}，已送达 {reached}，确认收到 {acked}，未送达 {missed}"
                          "\n渠道：{channels}{reasons}",
                          "📊 Notice #{id} \"{title}\" ({status})\n{residents} residents, {reached} reached, {acked} "
                          "acknowledged, {missed} not reached\nChannels: {channels}{reasons}"),
})

CHANNEL_NAMES = {"telegram": "Telegram", "wechat": "微信", "wecom": "企业微信", "web": "网页"}
REASON_NAMES = {"never_bound": "未绑定", "blocked": "已屏蔽"}


def _may_send(ctx: Context) -> bool:
    return ctx.staff is not None and permissions.allowed(ctx.staff, Perm.NOTICE_SEND,
                                                         permissions.community(ctx.community.id))


def _category_of(text: str) -> str | None:
    if text in notices.CATEGORIES:
        return text
    for category, words in CATEGORY_WORDS:
        if any(w in text for w in words):
            return category
    return None


def _local_to_utc(value: str, tz: str) -> datetime | None:
    """'2026-12-05T09:00' (local) -> naive UTC; None when the value has no clock time."""
    if "T" not in value:
        return None
    try:
        local = datetime.fromisoformat(value[:16]).replace(tzinfo=ZoneInfo(tz))
    except ValueError:
        return None
    return local.astimezone(UTC).replace(tzinfo=None)


def _count_line(ctx: Context, count: audiences.AudienceCount) -> str:
    en = ctx.lang == "en"
    channels = "、".join(f"{k if en else CHANNEL_NAMES.get(k, k)} {v}" for k, v in count.by_channel.items()) or "—"
    reasons = "、".join(f"{k if en else REASON_NAMES.get(k, k)} {v}" for k, v in count.unreachable.items())
    return ctx.t("noticeform.count", residents=count.residents, reachable=count.reachable, channels=channels,
                 unreachable=count.unreachable_total, reasons=f"（{reasons}）" if reasons else "", staff=count.staff,
                 groups=sum(count.groups.values()))


def _wechat_line(ctx: Context, checked: notices.Checked) -> str:
    """What WeChat residents will get (one message, numbered parts, or the page link); "" without any."""
    if not checked.count.by_channel.get("wechat"):
        return ""
    return "\n" + checked.wechat(ctx.settings.wechat_templates).describe(ctx.lang)


def _draft(ctx: Context) -> notices.Draft:
    s = ctx.slots
    return notices.Draft(title=s["title"], body=s["body"], category=s["category"], audience=s["audience"],
                         urgent=bool(s.get("urgent")),
                         scheduled_at=datetime.fromisoformat(s["at"]) if s.get("at") else None)


class NoticeCompose(Flow):
    name = NAME
    needs_staff = True
    free_text_steps = frozenset(STEPS)
    locked_steps = frozenset(STEPS)
    terminal_steps = frozenset()

    def start(self, ctx: Context) -> None:
        if not _may_send(ctx):
            state_store.set_flow(ctx.state, None)
            ctx.say("error.forbidden")
            return
        begin(ctx, NAME, "category")
        self.start_prompt(ctx)

    def start_prompt(self, ctx: Context) -> None:
        step = ctx.state.step
        if step == "category":
            ctx.say("noticeform.ask_category", *[ctx.button(f"notices.category.{c}", payloads.make("f", "cat", c))
                                                for c in notices.CATEGORIES])
        elif step == "time":
            ctx.say("noticeform.ask_time", ctx.button("noticeform.now", payloads.make("f", "now")),
                    ctx.button("noticeform.urgent", payloads.make("f", "urgent")))
        elif step == "confirm":
            self._preview(ctx)
        elif step in STEPS:
            ctx.say(f"noticeform.ask_{step}")

    def on_cancel(self, ctx: Context) -> bool:
        """"取消本周活动" is a title or a body, not a change of mind: only a bare 取消 ends the form."""
        if ctx.state.step in ("title", "body", "targets") and not BARE_CANCEL.fullmatch(ctx.text):
            self.step(ctx)
            return True
        return False

    def step(self, ctx: Context) -> Outcome:
        if not ctx.text:
            self.start_prompt(ctx)
            return Outcome.HANDLED
        step, text = ctx.state.step, ctx.text
        try:
            if step == "category":
                category = _category_of(text)
                if category is None:
                    ctx.say("noticeform.bad_category")
                    return Outcome.HANDLED
                self._next(ctx, "title", category=category)
            elif step == "title":
                self._check(ctx, title=text)
                self._next(ctx, "body", title=text)
            elif step == "body":
                from handlers.conversation import clean_text  # (the engine imports the flows)

                if len(clean_text(ctx.inbound.text, len(ctx.inbound.text) + 1)) > len(text):  # cut by the chat's cap
                    ctx.say("noticeform.body_cut", limit=ctx.settings.max_message_chars)
                    return Outcome.HANDLED
                self._check(ctx, body=text)
                self._next(ctx, "targets", body=text)
            elif step == "targets":
                spec = notice_targets.parse(text)
                self._check(ctx, audience=spec)
                self._next(ctx, "time", audience=spec)
            elif step == "time":
                return self._time(ctx)
            elif step == "confirm":
                if BARE_CANCEL.fullmatch(text):
                    return self._cancel(ctx)
                from handlers import policy

                if policy.said_yes(ctx) or re.fullmatch(r"(发送|发布|发吧|发)[。.!！]?", text):
                    self._submit(ctx)
                else:
                    self._preview(ctx)
        except DomainError as err:  # told, and the same question stands
            ctx.say_text(err.text(ctx.lang))
        return Outcome.HANDLED

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        step = ctx.state.step
        if payload.verb == "cat" and step == "category" and payload.arg() in notices.CATEGORIES:
            self._next(ctx, "title", category=payload.arg())
        elif payload.verb in ("now", "urgent") and step == "time":
            self._when(ctx, None, urgent=payload.verb == "urgent")
        elif payload.verb == "yes" and step == "confirm":
            self._submit(ctx)
        elif payload.verb == "no" and step == "confirm":
            self._cancel(ctx)
        else:
            return False
        return True

    # ---- steps ------------------------------------------------------------------------------

    def _next(self, ctx: Context, step: str, **slots: object) -> None:
        ctx.set_slots(**slots)
        ctx.goto(step)
        self.start_prompt(ctx)

    def _check(self, ctx: Context, **changes: object) -> None:
        """The draft so far through the service's checks (placeholders for what is not asked yet)."""
        slots = {"title": "通知", "body": "内容", "category": "safety", "audience": {"community": True},
                 **{k: v for k, v in ctx.slots.items() if k in ("title", "body", "category")}, **changes}
        if "audience" in changes:
            notices.check(ctx.session, ctx.clock, ctx.community.id, notices.Draft(
                title=str(slots["title"]), body=str(slots["body"]), category=str(slots["category"]),
                audience=dict(slots["audience"])))  # type: ignore[arg-type]
            return
        title, body = str(slots["title"]), str(slots["body"])
        if len(title) > notices.MAX_TITLE:
            raise Invalid("title", key="notices.too_long_title", limit=notices.MAX_TITLE, length=len(title))
        if len(body) > notices.MAX_BODY_CHARS:
            raise Invalid("body", key="notices.too_long_body", limit=notices.MAX_BODY_CHARS, length=len(body))

    def _time(self, ctx: Context) -> Outcome:
        text = ctx.text
        if URGENT.fullmatch(text):
            return self._when(ctx, None, urgent=True)
        if NOW.fullmatch(text):
            return self._when(ctx, None, urgent=False)
        found = [str(e.get("value", "")) for e in ctx.entities("datetime")]
        if not found:
            from nlu.textnorm import normalize
            from nlu.timex import extract_times

            local_now = ctx.clock.now().replace(tzinfo=UTC).astimezone(ZoneInfo(ctx.settings.timezone))
            found = [v for _, _, v in extract_times(normalize(text), local_now.replace(tzinfo=None))]
        if not found:
            self.start_prompt(ctx)
            return Outcome.HANDLED
        when = _local_to_utc(found[0], ctx.settings.timezone)
        if when is None:
            ctx.say("noticeform.need_clock")
            return Outcome.HANDLED
        return self._when(ctx, when, urgent=bool(re.search("紧急|加急", text)))

    def _when(self, ctx: Context, when: datetime | None, *, urgent: bool) -> Outcome:
        if when is not None and when < ctx.clock.now() - notices.PAST_GRACE:
            ctx.say("notices.past", when=local_time(when, ctx.settings.timezone, ctx.lang))
            return Outcome.HANDLED
        self._next(ctx, "confirm", at=when.isoformat() if when else None, urgent=urgent)
        return Outcome.HANDLED

    def _preview(self, ctx: Context) -> None:
        try:
            checked = notices.check(ctx.session, ctx.clock, ctx.community.id, _draft(ctx))
        except DomainError as err:
            ctx.say_text(err.text(ctx.lang))
            ctx.goto("time")
            self.start_prompt(ctx)
            return
        s = ctx.slots
        body = s["body"] if len(s["body"]) <= 300 else s["body"][:300] + "…"
        when = local_time(checked.scheduled_at, ctx.settings.timezone, ctx.lang) if s.get("at") \
            else ctx.t("noticeform.right_now")
        ctx.say("noticeform.preview", ctx.button("button.confirm", payloads.make("f", "yes")),
                ctx.button("button.cancel", payloads.make("f", "no")),
                category=notices.category_name(s["category"], ctx.lang), title=s["title"], body=body,
                urgent=ctx.t("noticeform.urgent_mark") if s.get("urgent") else "",
                targets=notice_targets.describe(checked.audience, ctx.lang), when=when,
                count=_count_line(ctx, checked.count) + _wechat_line(ctx, checked))

    def _submit(self, ctx: Context) -> None:
        assert ctx.staff is not None
        if not _may_send(ctx):  # the role may have changed since the form began
            finish(ctx, resume=False)
            ctx.say("error.forbidden")
            return
        try:
            notice, checked = notices.create(ctx.session, ctx.clock, ctx.community.id, _draft(ctx),
                                             created_by=ctx.staff.id, media_dir=ctx.settings.media_dir)
        except DomainError as err:  # e.g. the chosen time passed while the preview waited
            ctx.say_text(err.text(ctx.lang))
            ctx.goto("time")
            self.start_prompt(ctx)
            return
        when = local_time(notice.scheduled_at, ctx.settings.timezone, ctx.lang) if ctx.slots.get("at") is not None \
            else ctx.t("noticeform.right_now")
        finish(ctx, resume=False)
        ctx.say("noticeform.done", id=notice.id, when=when, residents=checked.count.residents)

    def _cancel(self, ctx: Context) -> Outcome:
        finish(ctx, resume=False)
        ctx.say("chat.cancelled", topic=ctx.t(f"flow.{NAME}"))
        return Outcome.DONE


register(NoticeCompose())


def _begin(ctx: Context) -> None:
    from handlers.flows.base import start_flow

    start_flow(ctx, NAME)


@command("/notice")
def _notice_command(ctx: Context, _rest: str) -> None:
    _begin(ctx)


@text_command(r"(?:发通知|发布通知|发公告|发布公告|群发通知|写通知)[。.!！]?")
def _notice_text(ctx: Context, _m: re.Match[str]) -> None:
    _begin(ctx)


@text_command(r"(?:通知报告|通知结果|通知送达|notice report)\s*[#＃]?\s*(\d{1,9})")
def _notice_report(ctx: Context, m: re.Match[str]) -> None:
    """The delivery report of a notice, for staff allowed to read them."""
    assert ctx.staff is not None
    if not permissions.allowed(ctx.staff, Perm.NOTICE_READ, permissions.community(ctx.community.id)):
        ctx.say("error.forbidden")
        return
    notice = notices.get(ctx.session, ctx.community.id, int(m.group(1)))
    report = notices.report(ctx.session, notice)
    channels = "、".join(f"{CHANNEL_NAMES.get(k, k)} {v}" for k, v in report.sent_by_channel.items()) or "—"
    if report.wechat_via:  # how WeChat rows went: one message, numbered parts, the page link
        ways = "、".join(f"{notices.via_name(k, ctx.lang)} {v}" for k, v in report.wechat_via.items())
        channels += f" (WeChat: {ways})" if ctx.lang == "en" else f"（微信：{ways}）"
    reasons = "\n" + "\n".join(f"· {k}：{v}" for k, v in report.failed_reasons.items()) if report.failed_reasons else ""
    ctx.say("noticeform.report", id=notice.id, title=notice.title,
            status=name(f"notices.status.{notice.status}", ctx.lang), residents=report.residents,
            reached=report.residents_reached, acked=report.acknowledged, missed=len(report.not_reached),
            channels=channels, reasons=reasons)
