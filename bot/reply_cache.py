"""Replies as stored beside a processed update, so a retried request gets the same answer again."""

from __future__ import annotations

from typing import Any

from handlers.messages import Button, Outbound


def dump(replies: list[Outbound]) -> list[dict[str, Any]]:
    return [{**r.as_json(), "meta": {k: v for k, v in r.meta.items() if isinstance(v, str | int | float | bool)}}
            for r in replies]


def load(rows: list[dict[str, Any]]) -> list[Outbound]:
    return [Outbound(str(r.get("text", "")), [Button(b["title"], b["payload"]) for b in r.get("buttons", [])],
                     r.get("image_url"), meta=dict(r.get("meta") or {})) for r in rows]
