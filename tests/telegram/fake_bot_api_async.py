"""The fake Telegram Bot API served on an asyncio loop (uvloop where installed), not a thread per connection.

The same answers, limits and records as `FakeBotApi` (tests/telegram/fake_bot_api.py: its `handle`);
bench/broadcast.py uses it because on a two-core machine the fake's own CPU and latency compete with the
system it measures, and http.server's parsing costs several times more a request. It reads HTTP/1.1
requests with Content-Length bodies on kept-alive connections, as the bot's clients send them; anything
else closes the connection. `delay` is not supported (it would stall every connection).
"""

from __future__ import annotations

import asyncio
import threading
from http import HTTPStatus

from tests.telegram.fake_bot_api import FakeBotApi

MAX_HEAD = 16 * 1024


class _Connection(asyncio.Protocol):
    def __init__(self, api: FakeBotApi) -> None:
        self.api, self.buffer = api, b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport (uvloop's is not a subclass)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            try:
                request_line, *lines = self.buffer[:end].decode("latin-1").split("\r\n")
                _method, target, _version = request_line.split(" ", 2)
                headers = {name.strip().lower(): value.strip()
                           for name, _, value in (line.partition(":") for line in lines)}
                length = int(headers.get("content-length") or 0)
            except ValueError:
                self.transport.close()
                return
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            body, self.buffer = self.buffer[end + 4:end + 4 + length], self.buffer[end + 4 + length:]
            status, content, kind = self.api.handle(target, headers.get("content-type", ""), body)
            self.transport.write(f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {kind}\r\n"
                                 f"Content-Length: {len(content)}\r\n\r\n".encode() + content)
        if len(self.buffer) > MAX_HEAD:
            self.transport.close()


class AsyncFakeBotApi(FakeBotApi):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self._server.server_close()  # the threaded server is not used
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port = 0
        self._serving = threading.Thread(target=self._serve, daemon=True)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def _serve(self) -> None:
        try:
            import uvloop
            loop = uvloop.new_event_loop()
        except ImportError:
            loop = asyncio.new_event_loop()
        self._loop = loop
        server = loop.run_until_complete(loop.create_server(lambda: _Connection(self), "127.0.0.1", 0))
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    def start(self) -> AsyncFakeBotApi:
        self._serving.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._serving.join(10)
