"""A fake WeChat + WeCom API server on 127.0.0.1: real HTTP, their JSON, every call recorded.

Knobs: `fail_once[path] = errcode` answers that errcode once; `errors[path] = errcode` every time;
`script[path] = [0, 45009, ...]` answers the next calls in turn (0: as usual); `delay[path] = seconds`
before answering; `raw[path] = bytes` answers those bytes as the JSON body (a
broken answer); `forged[path] = {...}` answers that JSON instead of the real one. `contact_secret`, when set,
is the customer-contact secret: externalcontact calls with a token issued for another secret get 48002.
WeCom customer groups and group sends live in `contact` (tests/wechat/fake_wecom_contact.py). Like the platform, a customer-service text over 2,048 bytes is refused (45002).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.wechat.fake_wecom_contact import FakeContact

JPEG = b"\xff\xd8\xff\xe0" + b"fake-jpeg-body" * 20 + b"\xff\xd9"
TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/gettoken")
CS_TEXT_MAX_BYTES = 2048  # the platform's own limit (45002 "content size out of limit" beyond it)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeApi:
    calls: list[Call] = field(default_factory=list)
    fail_once: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    script: dict[str, list[int]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)
    forged: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact: FakeContact = field(default_factory=FakeContact)
    contact_secret: str = ""
    secrets: dict[str, str] = field(default_factory=dict)  # token -> the secret it was issued for
    tokens_issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def answer(self, method: str, path: str, query: dict[str, str], body: Any, raw: bytes = b"",
               content_type: str = "") -> tuple[int, str, bytes]:
        with self.lock:
            self.calls.append(Call(method, path, query, body if isinstance(body, dict) else None))
            time.sleep(0)  # keep the lock short
            code = self.fail_once.pop(path, None) or self.errors.get(path)
            if not code and self.script.get(path):
                code = self.script[path].pop(0)
            if path in TOKEN_PATHS and not code:
                self.tokens_issued += 1
                token = f"tok-{self.tokens_issued}"
                self.secrets[token] = query.get("corpsecret") or query.get("secret") or ""
                return _json({"errcode": 0, "access_token": token, "expires_in": 7200})
        if self.delay.get(path):
            time.sleep(self.delay[path])
        token = query.get("access_token", "")
        if path not in TOKEN_PATHS and not token.startswith("tok-"):
            code = code or 41001
        if not code and path == "/cgi-bin/message/custom/send" and body and body.get("msgtype") == "text":
            code = 45002 if len(str(body.get("text", {}).get("content", "")).encode()) > CS_TEXT_MAX_BYTES else 0
        if path.startswith("/cgi-bin/externalcontact/") and self.contact_secret \
                and self.secrets.get(token) != self.contact_secret:
            code = code or 48002  # api forbidden: not the customer-contact secret
        if code:
            return _json({"errcode": code, "errmsg": f"fake error {code}"})
        if path in self.raw:
            return 200, "application/json", self.raw[path]
        if path in self.forged:
            return _json(self.forged[path])
        if path.startswith("/cgi-bin/externalcontact/") or path == "/cgi-bin/media/upload":
            with self.lock:
                return _json(self.contact.answer(path, query, body, raw, content_type))
        if path == "/cgi-bin/media/get":
            return 200, "image/jpeg", JPEG
        if path == "/cgi-bin/qrcode/create":
            return _json({"ticket": "T1", "expire_seconds": 0, "url": "http://weixin.qq.com/q/fake"})
        if path in ("/cgi-bin/message/template/send", "/cgi-bin/message/send"):
            return _json({"errcode": 0, "errmsg": "ok", "msgid": len(self.calls)})
        return _json({"errcode": 0, "errmsg": "ok"})


def _json(data: dict[str, Any]) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps(data).encode()


def start() -> tuple[FakeApi, ThreadingHTTPServer]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("content-type") or ""
            body: Any = None
            if raw and not content_type.startswith("multipart/"):
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None  # answered like WeCom: 47001 data format error
            status, kind, payload = fake.answer(method, parsed.path, query, body, raw, content_type)
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
