"""Button payloads: short ASCII strings ("t:a:1024") that fit Telegram's 64-byte callback limit.

Grammar: <scope>:<verb>[:<arg>...]. Scopes: m = menu/flow start, t = staff ticket action,
r = resident ticket action, f = form control, v = visitor pass, e = event, b = bind request.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True)
class Payload:
    scope: str
    verb: str
    args: tuple[str, ...] = ()

    def arg(self, i: int = 0) -> str:
        return self.args[i] if i < len(self.args) else ""

    def int_arg(self, i: int = 0) -> int | None:
        value = self.arg(i)
        return int(value) if value.isdigit() and len(value) < 19 else None


def make(scope: str, verb: str, *args: object) -> str:
    text = ":".join([scope, verb, *(str(a) for a in args)])
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload too long: {text}")
    return text


def parse(raw: str | None) -> Payload | None:
    """A well-formed payload, or None for anything forged, stale or garbled."""
    if not raw or len(raw.encode("utf-8", "ignore")) > MAX_PAYLOAD_BYTES or not raw.isascii():
        return None
    parts = raw.split(":")
    if len(parts) < 2 or not all(p.replace("_", "").replace("-", "").isalnum() for p in parts if p):
        return None
    return Payload(parts[0], parts[1], tuple(parts[2:]))
