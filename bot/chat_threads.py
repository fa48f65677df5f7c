"""The few threads per process that run the conversation for HTTP channels.

The conversation is synchronous (SQLAlchemy sessions) and CPU-bound between database round trips. Run on
Starlette's default pool of 40 threads, 200 concurrent chats made 40 threads fight over the GIL: CPU per
message rose by half and latency became unfair. A small pool (GUANJIA_CHAT_THREADS) overlaps the database
waits and queues the rest in arrival order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import FastAPI

T = TypeVar("T")


def _limiter(app: FastAPI) -> CapacityLimiter:
    limiter = getattr(app.state, "chat_limiter", None)
    if limiter is None:  # made on first use: it belongs to the running event loop
        limiter = app.state.chat_limiter = CapacityLimiter(app.state.settings.chat_threads)
    return limiter


async def run(app: FastAPI, fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args, limiter=_limiter(app))
