"""Outbound -> WeCom message bodies: text, or a template card (button_interaction) when there are buttons.

wechatpy 1.8.18 has no template-card helper; the JSON follows
https://developer.work.weixin.qq.com/document/path/90236 (template_card, button_interaction).
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.wechat.limits import (
    WECOM_CARD_BUTTON_TEXT_MAX_CHARS,
    WECOM_CARD_DESC_MAX_CHARS,
    WECOM_CARD_MAX_BUTTONS,
    WECOM_CARD_TITLE_MAX_CHARS,
    WECOM_TASK_ID_MAX_BYTES,
    WECOM_TEXT_MAX_BYTES,
)
from bot.wechat.render import cut_bytes
from handlers.messages import Outbound

SOURCE_DESC = "管家 Guanjia"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_body(message: Outbound) -> dict[str, Any]:
    lines = [message.text, *(f"· {b.title}" for b in message.buttons)] if message.buttons else [message.text]
    return {"msgtype": "text", "text": {"content": cut_bytes("\n".join(lines), WECOM_TEXT_MAX_BYTES)}}


def card_body(message: Outbound, notification_id: int | None = None) -> dict[str, Any]:
    first, _, rest = message.text.strip().partition("\n")
    task_id = f"gj-{notification_id or 'r'}-{uuid.uuid4().hex}"[:WECOM_TASK_ID_MAX_BYTES]
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": SOURCE_DESC},
        "main_title": {"title": _cut(first, WECOM_CARD_TITLE_MAX_CHARS)},
        "task_id": task_id,
        "button_list": [{"text": _cut(b.title, WECOM_CARD_BUTTON_TEXT_MAX_CHARS), "style": 1, "key": b.payload}
                        for b in message.buttons[:WECOM_CARD_MAX_BUTTONS]],
    }
    if rest.strip():
        card["sub_title_text"] = _cut(rest.strip(), WECOM_CARD_DESC_MAX_CHARS)
    return {"msgtype": "template_card", "template_card": card}


def body_for(message: Outbound, notification_id: int | None = None) -> dict[str, Any]:
    return card_body(message, notification_id) if message.buttons else text_body(message)


def update_button_xml(to_user: str, from_corp: str, replace_name: str, created: int) -> str:
    """Passive reply to a card click: the clicked user's buttons become one greyed text (模板卡片更新消息)."""
    from xml.sax.saxutils import escape

    return ("<xml>"
            f"<ToUserName><![CDATA[{to_user}]]></ToUserName>"
            f"<FromUserName><![CDATA[{from_corp}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime>"
            "<MsgType><![CDATA[update_button]]></MsgType>"
            f"<Button><ReplaceName>{escape(_cut(replace_name, WECOM_CARD_BUTTON_TEXT_MAX_CHARS))}</ReplaceName></Button>"
            "</xml>")
