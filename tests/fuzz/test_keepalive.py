"""The raw bytes of issue #13's 500s, sent over one keep-alive connection to uvicorn on 127.0.0.1: each is
answered (no 5xx) and the connection still serves the next request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tests.fuzz.conftest import TG_HEADER, TG_SECRET

pytestmark = pytest.mark.filterwarnings("error")
NESTED = b"[" * 100_000 + b"]" * 100_000
HOSTILE = [
    ("/model/parse", {}, b'{"text":"\\ud800"}'),
    ("/model/parse", {}, NESTED),
    ("/model/parse", {}, b'{"text":"a","message_id":' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("/telegram/webhook", {TG_HEADER: TG_SECRET}, NESTED),
    ("/telegram/webhook", {TG_HEADER: TG_SECRET}, b'{"update_id":1,"message":' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("/api/webchat/messages", {}, NESTED),
    ("/api/webchat/messages", {}, b'{"user":"w_keepalive","text":"\\ud800\\u0000"}'),
    ("/wechat/mp", {}, b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>"),
    ("/wechat/work", {}, b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>"),
]


@pytest.fixture
def server(app) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=30, lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield port
    srv.should_exit = True
    thread.join(10)
    sock.close()


def read_response(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, "connection closed before an answer"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed mid-answer"
        rest += chunk
    return status, headers, rest[:length]


def post(conn: socket.socket, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    conn.sendall(f"POST {path}?timestamp=1&nonce=n&signature=0&msg_signature=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body)
    return read_response(conn)


def test_hostile_bodies_are_answered_and_the_connection_kept(server):
    with socket.create_connection(("127.0.0.1", server), timeout=30) as conn:
        for path, headers, body in HOSTILE:
            status, answer_headers, _ = post(conn, path, headers, body)
            assert status < 500, (path, body[:60], status)
            assert answer_headers.get("connection", "").lower() != "close", (path, body[:60])
        status, _, answer = post(conn, "/model/parse", {}, '{"text":"电梯坏了"}'.encode())
        assert status == 200 and "电梯" in answer.decode("utf-8")  # the same connection still serves


def test_huge_bodies_are_413(server):
    for path in ("/model/parse", "/telegram/webhook", "/api/webchat/messages", "/wechat/mp", "/wechat/work"):
        with socket.create_connection(("127.0.0.1", server), timeout=30) as conn:
            status, _, _ = post(conn, path, {TG_HEADER: TG_SECRET}, b'{"text":"' + b"a" * 1_200_000 + b'"}')
        assert status == 413, path
