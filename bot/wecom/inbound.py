"""A parsed WeCom app callback -> Inbound; template-card clicks parsed from the raw XML ourselves.

wechatpy 1.8.18's `wechatpy.enterprise.parse_message` knows no `template_card_event` (it
returns UnknownMessage), so card clicks are read from the fields: EventKey (our button key =
payload), TaskId, ResponseCode.
"""

from __future__ import annotations

from dataclasses import dataclass

from wechatpy.enterprise import parse_message
from wechatpy.messages import BaseMessage

from bot.wechat import xmlsafe
from handlers.messages import Inbound, InboundAttachment

CHANNEL = "wecom"
CARD_EVENT = "template_card_event"


@dataclass
class WorkCallback:
    message: BaseMessage
    fields: dict[str, object]

    @classmethod
    def parse(cls, xml: str) -> WorkCallback:
        fields = xmlsafe.parse(xml)
        if not isinstance(fields.get("MsgType"), str) or not isinstance(fields.get("FromUserName"), str):
            raise xmlsafe.BadXml("no MsgType / FromUserName")
        if fields["MsgType"] == "event" and not isinstance(fields.get("Event"), str):
            raise xmlsafe.BadXml("event without Event")
        return cls(parse_message(xml), fields)

    def field(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def user_id(self) -> str:
        return self.field("FromUserName")[:128]

    @property
    def event(self) -> str:
        return self.field("Event").lower() if self.field("MsgType") == "event" else ""

    @property
    def is_card_click(self) -> bool:
        return self.event == CARD_EVENT

    @property
    def dedup_key(self) -> str:
        if self.field("MsgId"):
            return f"work:msg:{self.field('MsgId')}"
        extra = f":{self.field('TaskId')}:{self.field('EventKey')}" if self.is_card_click else ""
        return f"work:evt:{self.user_id}:{self.field('CreateTime')}{extra}"[:200]


def to_inbound(cb: WorkCallback) -> Inbound | None:
    base = {"channel": CHANNEL, "chat_id": cb.user_id, "sender_id": cb.user_id, "message_id": cb.dedup_key}
    kind = cb.field("MsgType")
    if kind == "text":
        return Inbound(**base, text=cb.field("Content"))
    if kind == "location":
        lat, lon = _float(cb.field("Location_X")), _float(cb.field("Location_Y"))
        return Inbound(**base, attachments=(InboundAttachment("location", latitude=lat, longitude=lon,
                                                              label=cb.field("Label")[:200]),))
    if kind == "voice":
        return Inbound(**base, attachments=(InboundAttachment("voice"),))
    if cb.is_card_click or cb.event == "click":
        return Inbound(**base, payload=cb.field("EventKey"))
    if cb.event == "subscribe":
        return Inbound(**base)
    return None  # enter_agent, location reports, unknown events: acknowledged, nothing to say


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
