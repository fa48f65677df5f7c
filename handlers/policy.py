"""The dialogue policy: when a parse may start a flow, switch away from a form, or must be asked about.

Every threshold the conversation applies to the NLU's (calibrated) confidence is named here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.context import Context
from handlers.flows.base import BY_INTENT, REGISTRY, Flow

START = 0.35  # a flow that only answers or asks (status, fee, FAQ, a form's first question) may start
ACT = 0.7  # a flow that may change data from this one message (a ticket, an alert) may start
SWITCH = 0.75  # leave an active form to bind or to reach a person
SWITCH_FREE_TEXT = 0.9  # leave an active form for another topic before the form has seen the message
CANCEL = 0.6  # "cancel" within a form (withdrawing what exists is confirmed again)
ALTERNATIVE = 0.15  # a runner-up intent worth offering when we ask which one was meant

CONTROL_INTENTS = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "cancel", "out_of_scope", "inform"})

# Words that are an emergency whatever the model says: people trapped or hurt, gas, fire, flooding, intruders.
DANGER = re.compile(
    r"困(在|住)?.{0,4}电梯|电梯.{0,6}(困|关)(了|住)?人|被困|困人|煤气味|燃气味|天然气味|漏气|"
    r"燃气泄漏|煤气泄漏|(?<![不没])着火(?!了没)|起火|失火|火灾|冒烟|浓烟|火苗|爆炸|触电|电线.{0,3}(冒火|火花)|冒火花|"
    r"水漫|淹了|往下(灌|冲|流)|哗哗|喷水|爆管|水管爆|"
    r"小偷|入室|撬门|撬锁|有人闯|闯进|持刀|打架|抢劫|"
    r"受伤|晕倒|昏倒|摔倒.{0,4}(起不来|流血)|流血|救命|快来人|"
    r"trapped|gas leak|smell of gas|on fire|a fire|smoke coming|flooding|intruder|help!"
)
# Said in words, binding is unmistakable even when the model hesitates.
BIND_WORDS = re.compile(r"绑定|认证|验证身份|换绑|解绑|解除绑定|重新绑|登记房屋|关联房屋|bind my|link my home")
# Topics named in so many words ("我想投诉一下"): enough to open the form when the model hesitates.
NAMED_TOPICS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"投诉|举报"), "complaint"),
    (re.compile(r"报修|维修|修理|修一下|修东西|坏了"), "repair"),
    (re.compile(r"建议|提议|意见"), "suggestion"),
    (re.compile(r"访客|来访|登记.{0,4}(客人|朋友|亲戚)"), "visitor"),
    (re.compile(r"物业费|停车费|水费|电费|缴费|交费|欠费"), "fee"),
    (re.compile(r"工单|进度|处理得怎么样"), "status"),
    (re.compile(r"活动|报名"), "events"),
    (re.compile(r"\b(complain|complaint|noisy|noise)\b", re.I), "complaint"),
    (re.compile(r"\b(leak\w*|broken|not working|doesn'?t work|repair|fix|blocked|clogged)\b", re.I), "repair"),
    (re.compile(r"\b(suggest\w*|idea)\b", re.I), "suggestion"),
    (re.compile(r"\b(visitor|guest)s?\b", re.I), "visitor"),
    (re.compile(r"\b(fee|fees|bill|bills|owe|arrears|pay)\b", re.I), "fee"),
    (re.compile(r"\b(ticket|status|progress)\b", re.I), "status"),
)
HUMAN_WORDS = re.compile(r"转人工|人工客服|真人|找客服|客服电话|接人工|人工服务|human|real person|an agent")


# A dead stove or a spark-less lighter is a repair, whatever the model says (the contract's boundary).
NOT_DANGER = re.compile(r"打不着|点不着|不出火|打不燃|不着火|火小|打火器|点火器")


def danger(text: str) -> bool:
    return bool(DANGER.search(text.lower()))


@dataclass(frozen=True)
class Decision:
    """What to do with a message when no form is waiting for an answer."""

    flow: str | None  # start this flow; None: ask (see `choices`)
    choices: tuple[str, ...] = ()  # flows to offer when the meaning is unclear
    confirm: bool = False  # fairly sure: fill the form, but show it and ask before acting


def _flow_of(intent: str) -> str | None:
    return BY_INTENT.get(intent)


def ranking(ctx: Context) -> list[tuple[str, float]]:
    parse = ctx.parse or {}
    out = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in parse.get("intent_ranking") or []]
    return out or [(ctx.intent, ctx.confidence)]


def decide(ctx: Context) -> Decision:
    """Start, or ask which topic was meant: never a flow that acts on a low-confidence parse."""
    intent, confidence = ctx.intent, ctx.confidence
    text = ctx.text
    if (intent == "bind_home" and confidence >= START) or (BIND_WORDS.search(text) and (
            details(ctx) or intent not in ("ask_info", "report_repair"))):
        named = _named_topic(text)
        if named is not None and not BIND_WORDS.search(text):  # "我是6栋1502的 欠费多少": the question, after binding
            return Decision(named)
        return Decision("bind")
    if intent == "human_agent" or HUMAN_WORDS.search(text.lower()):
        return Decision("human")
    if intent == "report_emergency" and NOT_DANGER.search(text) and not danger(text):
        return Decision("repair")
    if intent == "report_emergency":
        if danger(text) or confidence >= ACT:
            return Decision("emergency")
        return Decision(None, ("emergency", "repair"))
    if danger(text) and intent in ("report_repair", "file_complaint", "out_of_scope"):
        return Decision("emergency")
    if intent == "inform" and not details(ctx):  # "张阿姨明天来": details with a request after all?
        runner_up = _runner_up(ctx)
        if runner_up is not None:
            return Decision(runner_up, confirm=True)
    if intent == "inform" or (intent in CONTROL_INTENTS and details(ctx)):
        return Decision("inform")
    if confidence < START or intent == "out_of_scope":
        named = _named_topic(text)
        if named is not None:  # the model hesitates, but the topic is named in so many words: that is its meaning
            flow = REGISTRY[named]
            if flow.intents and ctx.parse is not None:
                ctx.parse = {**ctx.parse, "intent": {"name": flow.intents[0], "confidence": START}}
            return Decision(named, confirm=REGISTRY[named].acts_at_once)
    target = _flow_of(intent)
    if target is None:
        return Decision("smalltalk")
    flow = REGISTRY[target]
    if intent in CONTROL_INTENTS or confidence >= needed_to_start(ctx, flow):
        return Decision(target)
    if confidence >= START and getattr(flow, "slots", None):  # a form: it can show what it would do first
        return Decision(target, confirm=True)
    return Decision(None, tuple(_choices(ctx)))


def needed_to_start(ctx: Context, flow: Flow) -> float:
    """A flow that would act on this very message needs a confident parse; one that will only ask, less."""
    from handlers.flows.places import says_what, without_address

    acts = flow.acts_at_once and says_what(without_address(ctx.text))
    return ACT if acts else START


def _named_topic(text: str) -> str | None:
    return next((flow for words, flow in NAMED_TOPICS if words.search(text)), None)


def _runner_up(ctx: Context) -> str | None:
    """The best non-control intent's form, when it is a real alternative."""
    for intent, confidence in ranking(ctx)[1:3]:
        target = _flow_of(intent)
        if target and intent not in CONTROL_INTENTS and confidence >= ALTERNATIVE * 1.5 \
                and getattr(REGISTRY[target], "slots", None):
            return target
    return None


def _choices(ctx: Context) -> list[str]:
    out: list[str] = []
    for intent, confidence in ranking(ctx):
        target = _flow_of(intent)
        if target and target not in out and intent not in CONTROL_INTENTS and \
                (not out or confidence >= ALTERNATIVE) and target != "smalltalk":
            out.append(target)
        if len(out) == 2:
            break
    return out


def details(ctx: Context) -> bool:
    """Only details (an address, a phone): what they answer is for the dialogue to decide."""
    return any(ctx.entities(name) for name in ("building", "unit", "room", "phone"))


def may_switch(ctx: Context, active: Flow) -> str | None:
    """The flow to switch to from an active form, or None to treat the message as an answer."""
    if ctx.state.step in active.locked_steps:
        return None
    intent, confidence = ctx.intent, ctx.confidence
    if intent in ("bind_home", "human_agent"):
        target = "bind" if intent == "bind_home" else "human"
        return target if target != active.name and confidence >= SWITCH else None
    if intent == "report_emergency" and danger(ctx.text) and active.name != "emergency":
        return "emergency"
    target = _flow_of(intent)
    if not target or target == active.name or intent in CONTROL_INTENTS:
        return None
    return target if confidence >= SWITCH_FREE_TEXT else None  # less sure: the form may take it as an answer


def after_not_mine(ctx: Context, active: Flow) -> str | None:
    """A message the form could not use: a new topic if the parse is sure enough, else None (ask again)."""
    intent, confidence = ctx.intent, ctx.confidence
    target = "bind" if intent == "bind_home" else "human" if intent == "human_agent" else _flow_of(intent)
    if not target or target == active.name or intent in CONTROL_INTENTS:
        return None
    return target if confidence >= needed_to_start(ctx, REGISTRY[target]) else None


# A change of mind said in words ("哦不用了 他不来了"); a bare "不用了" may answer a question, so it is not one.
CHANGED_MIND = re.compile(r"不来了|算了|不要了|不需要了|不报了|不修了|不登记了|不投诉了|不办了|别登记|不用登记|不用报|"
                          r"never ?mind|forget it")


def is_cancel(ctx: Context) -> bool:
    if ctx.intent == "cancel" and ctx.confidence >= CANCEL:
        return True
    return ctx.intent in ("deny", "cancel", "out_of_scope") and bool(CHANGED_MIND.search(ctx.text.lower()))
