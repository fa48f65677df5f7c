"""The contract every channel's sender fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handlers.messages import Outbound


@dataclass(frozen=True)
class Target:
    channel: str
    chat_id: str
    audience: str  # resident | staff | group
    lang: str = "zh"
    identity_id: int | None = None
    group_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | retry | unreachable
    retry_after: float = 0.0
    error: str = ""
    external_id: str = ""
    quota_exhausted: bool = False  # the platform's daily quota is used up: every send waits `retry_after`

    @classmethod
    def sent(cls, external_id: str = "") -> SendResult:
        return cls("sent", external_id=external_id)

    @classmethod
    def retry(cls, after: float, error: str) -> SendResult:
        return cls("retry", retry_after=after, error=error)

    @classmethod
    def unreachable(cls, error: str) -> SendResult:
        return cls("unreachable", error=error)


class Sender(Protocol):
    """Sends one rendered message to one chat. Must respect its platform's limits itself."""

    channel: str

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult: ...
