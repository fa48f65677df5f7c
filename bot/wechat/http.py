"""Request plumbing shared by the /wechat routes: a capped body read and the clock as epoch seconds."""

from __future__ import annotations

from datetime import UTC

from fastapi import HTTPException, Request

from backend.clock import Clock
from bot.wechat.limits import MAX_CALLBACK_BYTES


async def read_capped(request: Request, limit: int = MAX_CALLBACK_BYTES) -> bytes:
    """The body, refused with 413 as soon as it passes the cap (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, "callback body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, "callback body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def epoch(clock: Clock) -> float:
    return clock.now().replace(tzinfo=UTC).timestamp()
