"""Visitor registration: who, when, how many, which car -> a pass with a 6-digit code and a QR image."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from backend.catalogue import register as register_texts
from backend.models import VisitorPass
from backend.services import visitors
from handlers import payloads
from handlers.context import Context
from handlers.flows import places
from handlers.flows.base import Outcome, begin, finish, leave, register
from handlers.flows.form import Form, Slot
from handlers.payloads import Payload
from handlers.registry import PayloadFn, payload_scope

register_texts({
    "visitor.ask_name": ("请问访客怎么称呼？例如「张阿姨」。", "What is the visitor's name? e.g. \"Ms Zhang\"."),
    "visitor.ask_when": (
        "{visitor}哪天来？可以说「明天下午」或「周六上午10点」。",
        "When does {visitor} come? e.g. \"tomorrow afternoon\" or \"Saturday 10 am\".",
    ),
    "visitor.ask_car": ("{visitor}开车来吗？开车请发车牌号（如 粤B12345），不开车回复「不开车」。",
                        "Does {visitor} come by car? Send the plate (e.g. 粤B12345), or \"no car\"."),
    "visitor.no_car": ("🚶 不开车", "🚶 No car"),
    "visitor.past": ("这个时间已经过去了，请换一个时间。", "That time has passed; please choose another."),
    "visitor.created": (
        "✅ 访客登记成功\n访客：{visitor}｜人数：{people}人{plate_line}\n有效时间：{window}\n通行码：{code}\n"
        "请把通行码或二维码发给访客，到门岗出示即可。需要更正请回复「不对，是…」。",
        "✅ Visitor registered\nVisitor: {visitor} | People: {people}{plate_line_en}\nValid: {window}\nCode: {code}\n"
        "Send the code or QR image to your visitor to show at the gate. To correct, reply \"no, it is …\".",
    ),
    "visitor.plate_line": ("｜车牌：{plate}", " | Plate: {plate}"),
    "visitor.amended": (
        "已更正访客登记：{visitor}｜{people}人{plate_line}｜{window}，通行码 {code} 不变。",
        "Pass corrected: {visitor} | {people}{plate_line_en} | {window}; the code {code} stays the same.",
    ),
    "visitor.cancel_pass": ("取消这次登记", "Cancel this pass"),
    "visitor.confirm_cancel": ("确定要取消 {visitor}（{window}）的访客登记吗？取消后通行码不能再用。",
                               "Cancel the pass for {visitor} ({window})? Its code will stop working."),
    "visitor.cancel_yes": ("确认取消", "Yes, cancel it"),
    "visitor.cancelled": ("已取消 {visitor}（{window}）的访客登记，通行码 {code} 作废。",
                          "The pass for {visitor} ({window}) is cancelled; code {code} no longer works."),
    "visitor.none_active": ("您目前没有有效的访客登记。", "You have no active visitor passes."),
    "visitor.choose_cancel": ("您有以下访客登记，要取消哪一个？", "Which visitor pass should be cancelled?"),
    "visitor.pass_item": ("{visitor} {window}（{code}）", "{visitor} {window} ({code})"),
    "visitor.today": ("今天", "Today"),
    "visitor.tomorrow": ("明天", "Tomorrow"),
    "visitor.day_after": ("后天", "Day after tomorrow"),
    "visitor.whole_day": ("全天", "all day"),
})

# Part of day -> window (hours); the NLU gives these a fixed hour without a clock time.
PARTS_OF_DAY: tuple[tuple[str, int, int], ...] = (
    ("凌晨", 0, 6), ("早上", 7, 10), ("早晨", 7, 10), ("上午", 9, 12), ("中午", 11, 14), ("下午", 13, 18),
    ("傍晚", 17, 20), ("晚上", 18, 22), ("今晚", 18, 22), ("明晚", 18, 22), ("夜里", 20, 24), ("白天", 8, 18),
)
_CLOCK = re.compile(r"\d{1,2}[:：]\d{2}|[点時时]")
_RELATIONS = {
    "妈妈": "妈妈", "老妈": "妈妈", "我妈": "妈妈", "爸爸": "爸爸", "老爸": "爸爸", "我爸": "爸爸", "父母": "父母",
    "爸妈": "父母", "爷爷": "爷爷", "奶奶": "奶奶", "外公": "外公", "外婆": "外婆", "姥姥": "姥姥", "姥爷": "姥爷",
    "岳父": "岳父", "岳母": "岳母", "公公": "公公", "婆婆": "婆婆", "哥哥": "哥哥", "姐姐": "姐姐", "弟弟": "弟弟",
    "妹妹": "妹妹", "儿子": "儿子", "女儿": "女儿", "亲戚": "亲戚", "朋友": "朋友", "同学": "同学", "同事": "同事",
    "保姆": "保姆", "家政": "家政人员", "钟点工": "钟点工", "快递": "快递员", "外卖": "外卖员", "搬家": "搬家师傅",
    "装修师傅": "装修师傅", "表弟": "表弟", "表哥": "表哥", "表姐": "表姐", "表妹": "表妹", "堂哥": "堂哥",
    "堂弟": "堂弟", "堂姐": "堂姐", "堂妹": "堂妹", "舅舅": "舅舅", "舅妈": "舅妈", "姑姑": "姑姑", "阿姨": "阿姨",
    "叔叔": "叔叔", "婶婶": "婶婶", "姨妈": "姨妈", "侄子": "侄子", "外甥": "外甥", "孙子": "孙子", "孙女": "孙女",
    "老公": "老公", "老婆": "老婆", "丈夫": "丈夫", "妻子": "妻子", "男朋友": "男朋友", "女朋友": "女朋友",
    "闺蜜": "闺蜜", "客人": "客人", "维修师傅": "维修师傅", "送货": "送货师傅", "月嫂": "月嫂", "护工": "护工",
}
_PEOPLE = re.compile(r"([0-9０-９]{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个人|个|位|人|口)")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CORRECTION = re.compile(r"^(不对|不是|错了|更正|改成|改为|改一下|应该是)")
NO_CAR = re.compile(r"不开车|没开车|没有车|没车|不用车|步行|走路|走过来|打车|坐地铁|坐公交|地铁|公交|骑车|电动车|no car|on foot|walk")
SHORT_NO = re.compile(r"没有|没|不|不开|没开|不是|否|no|nope", re.I)
NOT_A_NAME = re.compile(r"[0-9０-９]|上午|下午|中午|晚上|早上|凌晨|傍晚|今天|明天|后天|今晚|明晚|周|星期|礼拜|点|几|"
                        r"[一二两三四五六七八九十]+(个|位|人|口)")


def count_people(text: str) -> int | None:
    """三个人 / 2人 / 一家三口 / 两位 -> the number, or None."""
    match = _PEOPLE.search(text)
    if match is None:
        match = re.search(r"一家([一二两三四五六七八九十])口", text)
        if match is None:
            return None
    return chinese_number(match.group(1))


def chinese_number(word: str) -> int | None:
    word = word.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if word.isdigit():
        return int(word)
    if word == "十":
        return 10
    if word.startswith("十"):
        return 10 + _CN_DIGITS.get(word[1:], 0)
    if "十" in word:
        tens, _, ones = word.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(word)


def visitor_name(ctx: Context) -> str | None:
    name = ctx.entity("person_name")
    if name:
        return name[:50]
    for word, label in _RELATIONS.items():
        if word in ctx.text:
            return label
    return None


def read_window(ctx: Context, day: str | None = None) -> tuple[datetime, datetime] | None:
    """The local window the message names, e.g. 明天下午 -> 13:00–18:00; None when it names no day."""
    text = ctx.text
    for ent in ctx.entities("datetime"):
        value = str(ent.get("value", ""))
        span = text[int(ent.get("start", 0)):int(ent.get("end", 0))] or text
        try:
            if "T" in value:
                when = datetime.fromisoformat(value[:16])
                if _CLOCK.search(span):
                    return _around(when)
                return _part_window(when.date(), span) or _around(when)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                on = date.fromisoformat(value)
                return _part_window(on, text) or _whole_day(on)
        except ValueError:
            continue
    # a part of day alone ("下午") completes the day asked before, or means today
    on = date.fromisoformat(day) if day else visitors.local(ctx.now(), ctx.settings.timezone).date()
    return _part_window(on, text)


def _around(when: datetime) -> tuple[datetime, datetime]:
    start = when - timedelta(hours=1)
    end = min(when + timedelta(hours=3), datetime.combine(when.date(), time(23, 59)))
    return max(start, datetime.combine(when.date(), time(0, 0))), end


def _part_window(on: date, text: str) -> tuple[datetime, datetime] | None:
    for word, first, last in PARTS_OF_DAY:
        if word in text:
            end = datetime.combine(on, time(23, 59)) if last == 24 else datetime.combine(on, time(last, 0))
            return datetime.combine(on, time(first, 0)), end
    return None


def _whole_day(on: date) -> tuple[datetime, datetime]:
    return datetime.combine(on, time(0, 0)), datetime.combine(on, time(23, 59))


def pass_params(ctx: Context, p: VisitorPass) -> dict[str, Any]:
    plate = {"plate": p.plate} if p.plate else {}
    return {
        "visitor": p.visitor_name, "people": p.people, "code": p.code,
        "window": visitors.window_label(p, ctx.settings.timezone, ctx.lang),
        "plate_line": ctx.t("visitor.plate_line", **plate) if p.plate else "",
        "plate_line_en": render_en("visitor.plate_line", **plate) if p.plate else "",
    }


def render_en(key: str, **params: Any) -> str:
    from backend.catalogue import render

    return render(key, "en", **params)


def _visitor(ctx: Context, asked: bool) -> dict[str, Any] | None:
    name = visitor_name(ctx)
    if name:
        return {"visitor": name}
    sure_control = ctx.intent in ("deny", "affirm", "cancel") and ctx.confidence >= 0.6
    if asked and not sure_control and not ctx.entities("datetime"):
        name = re.sub(r"^(他|她|对方)?(叫|是|姓名是|名字是)", "", ctx.text).strip(" ，,。.")
        if 0 < len(name) <= 20 and places.name_like(name) and not NOT_A_NAME.search(name) \
                and not ctx.entities("phone"):
            return {"visitor": name}
    return None


def _window(ctx: Context, asked: bool) -> dict[str, Any] | None:
    window = read_window(ctx, ctx.slots.get("day"))
    if not window:
        return None
    if visitors.to_utc(window[1], ctx.settings.timezone) < ctx.now():  # said now, not after a confirmation
        ctx.say("visitor.past", *_day_buttons(ctx))
        return {}
    return {"day": window[0].date().isoformat(), "start": window[0].isoformat(), "end": window[1].isoformat()}


def _people(ctx: Context, asked: bool) -> dict[str, Any] | None:
    people = count_people(ctx.text)
    return {"people": people} if people else None


def _plate(ctx: Context, asked: bool) -> dict[str, Any] | None:
    plate = ctx.entity("plate_number")
    if plate:
        return {"plate": plate, "car": "yes"}
    if NO_CAR.search(ctx.text) or (asked and ((ctx.intent == "deny" and ctx.confidence >= 0.6) or SHORT_NO.fullmatch(
            ctx.text.strip(" 。.!！")))):
        return {"car": "no"}
    return None


def _ask_car(ctx: Context) -> None:
    ctx.say("visitor.ask_car", ctx.button("visitor.no_car", payloads.make("f", "nocar")), visitor=ctx.slots["visitor"])


def _ask_when(ctx: Context) -> None:
    ctx.say("visitor.ask_when", *_day_buttons(ctx), visitor=ctx.slots["visitor"])


def _day_buttons(ctx: Context) -> list:
    keys = ("visitor.today", "visitor.tomorrow", "visitor.day_after")
    return [ctx.button(key, payloads.make("f", "day", i)) for i, key in enumerate(keys)]


class Visitor(Form):
    name = "visitor"
    intents = ("register_visitor",)
    needs_household = True
    acts_at_once = True
    free_text_steps = frozenset({"visitor"})
    locked_steps = frozenset({"created"})
    slots = (
        Slot("visitor", _visitor, lambda ctx: ctx.say("visitor.ask_name") and None),
        Slot("start", _window, _ask_when),
        Slot("people", _people, lambda ctx: None, required=lambda ctx: False),
        Slot("car", _plate, _ask_car),  # the gate lets a car in only by its plate
    )

    def on_payload(self, ctx: Context, payload: Payload) -> bool:
        if payload.verb == "nocar" and ctx.state.step == "car":
            ctx.set_slots(car="no")
            self.advance(ctx)
            return True
        if payload.verb == "day" and ctx.state.step == "start":
            offset = payload.int_arg()
            if offset is None or offset > 7:
                return False
            on = visitors.local(ctx.now(), ctx.settings.timezone).date() + timedelta(days=offset)
            start, end = _whole_day(on)
            ctx.set_slots(day=on.isoformat(), start=start.isoformat(), end=end.isoformat())
            self.advance(ctx)
            return True
        return super().on_payload(ctx, payload)

    def on_cancel(self, ctx: Context) -> bool:
        return self.withdraw(ctx, "pass_id", offer_cancel_pass)

    def summary(self, ctx: Context) -> str:
        from backend.services.ticket_format import spoken_time

        start, end = (datetime.fromisoformat(ctx.slots[k]) for k in ("start", "end"))
        window = f"{spoken_time(start, ctx.lang)}–{spoken_time(end, ctx.lang)}"
        return f"{super().summary(ctx)}\n{ctx.t('slot.window')}：{window}"

    def submit(self, ctx: Context) -> None:
        household = ctx.household
        if household is None:  # unbound meanwhile: nothing to register the pass for
            finish(ctx, resume=False)
            ctx.say("bind.not_bound")
            return
        slots = ctx.slots
        start, end = self._utc_window(ctx)
        if end < ctx.now():
            ctx.set_slots(start=None, end=None, day=None)
            ctx.goto("start")
            ctx.say("visitor.past", *_day_buttons(ctx))
            return
        visitor_pass = visitors.create_pass(
            ctx.session, ctx.clock, ctx.settings, ctx.resident, household, visitor_name=slots["visitor"],
            valid_from=start, valid_until=end, people=int(slots.get("people") or 1), plate=slots.get("plate", ""),
        )
        ctx.say("visitor.created", ctx.button("visitor.cancel_pass", payloads.make("v", "cancel", visitor_pass.id)),
                image_url=visitors.image_url(visitor_pass), **pass_params(ctx, visitor_pass))
        begin(ctx, self.name, "created", pass_id=visitor_pass.id)

    def after(self, ctx: Context) -> Outcome:
        pass_id = ctx.slots.get("pass_id")
        corrected = ctx.intent == "deny" or CORRECTION.match(ctx.text) or ctx.entities("plate_number")
        if not (pass_id and corrected):
            leave(ctx)
            return Outcome.NOT_MINE
        changes: dict[str, Any] = {}
        current = ctx.session.get(VisitorPass, int(pass_id))
        day = visitors.local(current.valid_from, ctx.settings.timezone).date().isoformat() if current else None
        window = read_window(ctx, day)
        if window:
            tz = ctx.settings.timezone
            changes |= {"valid_from": visitors.to_utc(window[0], tz), "valid_until": visitors.to_utc(window[1], tz)}
        people = count_people(ctx.text)
        if people:
            changes["people"] = people
        plate = ctx.entity("plate_number")
        if plate:
            changes["plate"] = plate
        name = ctx.entity("person_name")
        if name:
            changes["visitor_name"] = name
        if not changes:
            leave(ctx)
            return Outcome.NOT_MINE
        if changes.get("valid_until") and changes["valid_until"] < ctx.now():
            ctx.say("visitor.past")
            return Outcome.HANDLED
        visitor_pass = visitors.amend_pass(ctx.session, ctx.clock, ctx.resident, int(pass_id), **changes)
        ctx.say("visitor.amended", ctx.button("visitor.cancel_pass", payloads.make("v", "cancel", visitor_pass.id)),
                image_url=visitors.image_url(visitor_pass), **pass_params(ctx, visitor_pass))
        return Outcome.HANDLED

    def _utc_window(self, ctx: Context) -> tuple[datetime, datetime]:
        tz = ctx.settings.timezone
        return (visitors.to_utc(datetime.fromisoformat(ctx.slots["start"]), tz),
                visitors.to_utc(datetime.fromisoformat(ctx.slots["end"]), tz))


def cancel(ctx: Context, pass_id: int) -> None:
    visitor_pass = visitors.cancel_pass(ctx.session, ctx.clock, ctx.resident, pass_id)
    ctx.say("visitor.cancelled", **pass_params(ctx, visitor_pass))


def offer_cancel_pass(ctx: Context, pass_id: int) -> None:
    """Cancelling a pass is confirmed first."""
    visitor_pass = visitors.own_pass(ctx.session, ctx.resident, pass_id)  # NotFound for anyone else's
    ctx.say("visitor.confirm_cancel", ctx.button("visitor.cancel_yes", payloads.make("v", "cancelok", pass_id)),
            ctx.button("button.keep", payloads.make("v", "keep", pass_id)), **pass_params(ctx, visitor_pass))
    begin(ctx, "withdraw", "confirm", kind="pass", item_id=pass_id)


def offer_cancel(ctx: Context) -> None:
    """"取消访客登记" outside the form: offer to cancel the one active pass, or ask which."""
    passes = visitors.active_passes(ctx.session, ctx.clock, ctx.resident)
    if not passes:
        ctx.say("visitor.none_active")
    elif len(passes) == 1:
        offer_cancel_pass(ctx, passes[0].id)
    else:
        buttons = [ctx.button("visitor.pass_item", payloads.make("v", "cancel", p.id), **pass_params(ctx, p))
                   for p in passes[:8]]
        ctx.say("visitor.choose_cancel", *buttons)


register(Visitor())

# Visitor buttons "v:<verb>:<pass id>"; the guard side (handlers/staff) may add verbs here.
VISITOR_VERBS: dict[str, PayloadFn] = {}


def _cancel_button(ctx: Context, payload: Payload) -> bool:
    """v:cancel asks to confirm, v:cancelok cancels, v:keep keeps the pass."""
    pass_id = payload.int_arg()
    if pass_id is None:
        return False
    if payload.verb == "cancel":
        offer_cancel_pass(ctx, pass_id)
        return True
    if ctx.state.flow == "withdraw":
        finish(ctx, resume=False)
    if payload.verb == "keep":
        ctx.say("chat.kept")
        return True
    cancel(ctx, pass_id)
    if ctx.state.flow == "visitor" and ctx.slots.get("pass_id") == pass_id:
        finish(ctx, resume=False)
    return True


VISITOR_VERBS["cancel"] = VISITOR_VERBS["cancelok"] = VISITOR_VERBS["keep"] = _cancel_button


@payload_scope("v")
def _visitor_payload(ctx: Context, payload: Payload) -> bool:
    handler = VISITOR_VERBS.get(payload.verb)
    return handler is not None and handler(ctx, payload)
