"""A parsed official-account callback -> Inbound (or None for events we only acknowledge)."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wechatpy import parse_message
from wechatpy.messages import BaseMessage

from bot.wechat import xmlsafe
from handlers import payloads
from handlers.messages import Inbound, InboundAttachment

log = logging.getLogger("guanjia.wechat.inbound")

CHANNEL = "wechat"
MESSAGE_TYPES = frozenset({"text", "voice", "image", "location", "video", "shortvideo", "link"})
WINDOW_EVENTS = frozenset({"click", "subscribe", "subscribe_scan", "scan"})


@dataclass
class Callback:
    """One verified callback: the wechatpy message and the raw fields it does not model."""

    message: BaseMessage
    fields: dict[str, object]

    @classmethod
    def parse(cls, xml: str) -> Callback:
        fields = xmlsafe.parse(xml)
        if not isinstance(fields.get("MsgType"), str) or not isinstance(fields.get("FromUserName"), str):
            raise xmlsafe.BadXml("no MsgType / FromUserName")
        return cls(parse_message(xml), fields)

    @property
    def openid(self) -> str:
        return str(self.fields["FromUserName"])[:128]

    @property
    def kind(self) -> str:
        """The message type, or for events the event name (wechatpy types every event "event")."""
        if self.message.type == "event":
            return str(getattr(self.message, "event", "") or "").lower()
        return str(self.message.type)

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime for events (WeChat's own rule)."""
        msg_id = self.fields.get("MsgId")
        if isinstance(msg_id, str) and msg_id:
            return f"mp:msg:{msg_id}"
        return f"mp:evt:{self.openid}:{self.fields.get('CreateTime', '')}"

    @property
    def window(self) -> str | None:
        """Which customer-service window this action opens: "message", "event" or none."""
        if self.kind in MESSAGE_TYPES:
            return "message"
        return "event" if self.kind in WINDOW_EVENTS else None


Download = Callable[[str], tuple[bytes, str]]  # media id -> (bytes, content type)


def to_inbound(cb: Callback, download: Download, media_dir: Path) -> Inbound | None:
    """The conversation's view of the callback; None for what needs no conversation (unsubscribe, reports)."""
    msg, kind = cb.message, cb.kind
    base = {"channel": CHANNEL, "chat_id": cb.openid, "sender_id": cb.openid, "message_id": cb.dedup_key}
    if kind == "text":
        menu_id = cb.fields.get("bizmsgmenuid")
        if isinstance(menu_id, str) and payloads.parse(menu_id) is not None:
            return Inbound(**base, text=msg.content or "", payload=menu_id)
        return Inbound(**base, text=msg.content or "")
    if kind == "voice":
        recognised = (getattr(msg, "recognition", "") or "").strip()
        if recognised:
            return Inbound(**base, text=recognised)
        return Inbound(**base, attachments=(InboundAttachment("voice"),))
    if kind == "image":
        url = _store_image(download, str(cb.fields.get("MediaId") or ""), media_dir)
        if url is None:
            return Inbound(**base, text="")
        return Inbound(**base, attachments=(InboundAttachment("photo", url=url, content_type="image/jpeg"),))
    if kind == "location":
        lat, lon = _float(cb.fields.get("Location_X")), _float(cb.fields.get("Location_Y"))
        if lat is None or lon is None:  # the LOCATION event: a passive position report, not something said
            return None
        return Inbound(**base, attachments=(InboundAttachment("location", latitude=lat, longitude=lon,
                                                              label=str(cb.fields.get("Label") or "")[:200]),))
    if kind in ("subscribe", "subscribe_scan", "scan"):
        scene = str(getattr(msg, "scene_id", "") or "").strip()[:32] or None
        return Inbound(**base, community_code=scene)
    if kind == "click":
        key = str(getattr(msg, "key", "") or "")
        return Inbound(**base, payload=key)  # the conversation says "stale button" for a foreign key
    return None


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _store_image(download: Download, media_id: str, media_dir: Path) -> str | None:
    """Fetch the photo with media/get and keep it under media_dir/wechat; its /media URL, or None."""
    if not media_id or not media_id.replace("_", "").replace("-", "").isalnum():
        return None
    try:
        body, content_type = download(media_id)
    except Exception as exc:  # a photo we cannot fetch must not lose the message
        log.warning("wechat image %s could not be fetched: %s", media_id[:16], type(exc).__name__)
        return None
    ext = ".png" if "png" in content_type else ".jpg"
    name = hashlib.sha256(body).hexdigest()[:32] + ext
    folder = Path(media_dir) / "wechat"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body)
    return f"/media/wechat/{name}"
