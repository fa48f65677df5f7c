"""A small keep-alive HTTP/1.1 client for JSON POSTs on asyncio streams: the broadcast's hot path.

httpx costs about a millisecond of CPU per request with many connections open (its pool scans every
connection per request); a broadcast of 1,000 messages a second cannot afford that on two cores.
This pool keeps `size` connections to one origin (http or https), sends a request on an idle one and
reads the answer (Content-Length or chunked). Anything unusual raises `HttpError`, which the caller
treats as a network error (retried). Multipart uploads (photos) still go through httpx.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


class _Stale(HttpError):
    """The connection was closed before any byte of an answer."""


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class HttpPool:
    def __init__(self, base_url: str, size: int = 16, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(size)
        host_header = self.host if parts.port is None else f"{self.host}:{self.port}"
        self._head = f"Host: {host_header}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n"
        self._ssl = ssl.create_default_context() if self.https else None

    async def _connect(self) -> _Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self._ssl)
        return _Conn(reader, writer)

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        async with self._slots:
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._connect()
            try:
                status, data, keep = await asyncio.wait_for(self._exchange(conn, path, body), self.timeout)
            except _Stale:
                conn.close()
                if not reused:
                    raise HttpError("connection closed before an answer") from None
                # The server had closed the idle connection: it never saw the request. Once more, on a new one.
                conn = await self._connect()
                try:
                    status, data, keep = await asyncio.wait_for(self._exchange(conn, path, body), self.timeout)
                except BaseException:
                    conn.close()
                    raise
            except BaseException:
                conn.close()
                raise
            if keep:
                self._idle.append(conn)
            else:
                conn.close()
            return status, data

    async def _exchange(self, conn: _Conn, path: str, body: bytes) -> tuple[int, bytes, bool]:
        request = (f"POST {self.prefix}{path} HTTP/1.1\r\n{self._head}Content-Length: {len(body)}\r\n\r\n"
                   .encode("latin-1") + body)
        conn.writer.write(request)
        await conn.writer.drain()
        try:
            head = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale from exc
            raise HttpError("connection closed in the middle of an answer") from exc
        except asyncio.LimitOverrunError as exc:
            raise HttpError("answer headers too long") from exc
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"bad status line {lines[0][:40]!r}") from exc
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked(conn.reader)
        elif "content-length" in headers:
            data = await conn.reader.readexactly(int(headers["content-length"]))
        else:
            data = await conn.reader.read()
            return status, data, False
        keep = headers.get("connection", "").lower() != "close" and lines[0].startswith("HTTP/1.1")
        return status, data, keep

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        out = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readexactly(2)

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
