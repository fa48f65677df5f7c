"""Caps: request bodies (a huge upload is refused with 413) and requests in flight (no thread starvation)."""

from __future__ import annotations

import asyncio
import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.messages import error_body

MAX_BODY_BYTES = 1024 * 1024  # JSON only: photos travel as URLs, not bytes
# Requests in flight at once, below the 40 worker threads the server runs sync endpoints on (anyio's default).
MAX_IN_FLIGHT = 24
LIMITED_PREFIX = "/api/"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")
        self.limit = limit


class BodyLimitMiddleware:
    """Refuses by Content-Length up front, and counts streamed (chunked) bodies as they arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # path prefix -> its own limit (the console's file uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for prefix, n in self.larger.items() if path.startswith(prefix)), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(error_body("api.body_too_large", limit=limit), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class InFlightLimitMiddleware:
    """At most `limit` requests in flight; the rest wait here, on the event loop, holding nothing.

    A request hops between worker threads (dependencies, endpoint). When every thread was taken by
    requests waiting for a lock that a request holding it needed one more thread to release (SQLite's
    write lock, a ticket row under a burst of accepts), all of them waited until a timeout and answered
    500. With fewer requests in flight than threads, the holder always finds a thread.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_IN_FLIGHT) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The REST and web chat API run on worker threads; webhooks answer on the loop within their deadline.
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made inside the running loop
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
