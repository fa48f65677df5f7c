"""What crosses the boundary between a channel and the conversation: Inbound in, Outbound out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class InboundAttachment:
    kind: str  # photo | document | location | voice
    url: str = ""  # where the channel stored the file (photos, documents)
    content_type: str = ""
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""  # a location's name or address


@dataclass(frozen=True)
class Inbound:
    channel: str  # web | terminal | telegram | wechat | wecom
    chat_id: str  # where replies go (a private chat or a group)
    sender_id: str  # the platform user id of the person writing
    text: str = ""
    payload: str | None = None  # a pressed button
    attachments: tuple[InboundAttachment, ...] = ()
    received_at: datetime | None = None
    message_id: str = ""
    display_name: str = ""
    is_group: bool = False
    addressed: bool = True  # in groups: the bot was mentioned or replied to
    community_code: str | None = None  # a deep-link / QR scene naming the community to join
    lang: str | None = None

    @property
    def chat_key(self) -> str:
        """Dialogue state is per person: in a group, per person within the group."""
        return f"{self.chat_id}:{self.sender_id}" if self.is_group else self.chat_id


@dataclass
class Outbound:
    text: str
    buttons: list[Button] = field(default_factory=list)
    image_url: str | None = None
    # Where it goes when it is not the reply to the sender's own chat (e.g. "continue in private").
    private: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "image_url": self.image_url,
        }
