"""A fake Telegram Bot API server on 127.0.0.1: the real wire format, every call recorded, failures on demand.

Speaks the methods the bot uses (getMe, getUpdates, sendMessage, sendPhoto, editMessageText,
answerCallbackQuery, getFile, file downloads, setMyCommands, setWebhook, pinChatMessage, ...), answers
{"ok": true, "result": ...} with real-shaped objects, and can answer 429 (retry_after) or 403.
With `enforce(...)` it keeps Telegram's sending limits (scaled as asked) and answers 429 with
retry_after to a message that breaks them, as Telegram does; `http_429` counts those answers.
Connections are kept alive (HTTP/1.1), as a broadcast's client expects.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_ID = 7000000001
BOT_USERNAME = "guanjia_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "管家", "username": BOT_USERNAME}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 0  # the HTTP status answered

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Failure:
    method: str
    status: int
    description: str
    retry_after: int | None = None
    chat_id: str | None = None
    times: int = 1


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.unstarted: set[str] = set()  # users who never pressed Start: private sends get 403
        self.delay = 0.0  # seconds each call takes after it has been received (a slow platform)
        self.http_429 = 0  # answers 429 given because a message broke an enforced limit
        self.broken: dict[str, int] = {"overall": 0, "chat": 0}  # which limit each of those broke
        self.accepted = 0  # messages accepted (sendMessage/sendPhoto answered 200): cheap to poll
        self._limits: dict[str, tuple[float, float]] = {}  # "overall" | "chat" -> (interval, tolerance)
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._message_id = 1000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, path: str, content_type: str, raw: bytes) -> tuple[int, bytes, str]:
        """One HTTP request, whichever server read it: (status, body, content type)."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        file_prefix = f"/file/bot{self.token}/"
        if path.startswith(file_prefix):
            file_id = path[len(file_prefix):].rsplit("/", 1)[-1].rsplit(".", 1)[0]
            return 200, self.files.get(file_id, b"\xff\xd8\xff fake jpeg"), "application/octet-stream"
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        else:
            status, body = self._answer(path[len(prefix):], _params(content_type, raw))
        return status, json.dumps(body, ensure_ascii=False).encode(), "application/json"

    # ---- test helpers ------------------------------------------------------------------

    def fail(self, method: str, status: int, description: str, *, retry_after: int | None = None,
             chat_id: str | int | None = None, times: int = 1) -> None:
        self.failures.append(Failure(method, status, description, retry_after,
                                     None if chat_id is None else str(chat_id), times))

    def enforce(self, per_second: float, per_chat_per_second: float = 1.0, *, burst: int = 1,
                chat_burst: int = 1, jitter: float = 0.0) -> None:
        """Answer 429 to messages beyond `per_second` overall or `per_chat_per_second` to one chat
        (GCRA: `burst` messages may arrive back to back, as Telegram tolerates short bursts; `jitter`
        seconds of lateness in the arrivals are forgiven, as the network's are)."""
        self._limits = {"overall": (1 / per_second, (burst - 1) / per_second + jitter),
                        "chat": (1 / per_chat_per_second, (chat_burst - 1) / per_chat_per_second + jitter)}

    def _over_limit(self, chat_id: str) -> float:
        """0 when a message may arrive now (and is counted); else the seconds Telegram would ask to wait."""
        now = time.monotonic()
        keys = [("*", *self._limits["overall"]), (chat_id, *self._limits["chat"])]
        waits = [self._tat.get(k, 0.0) - tolerance - now for k, _interval, tolerance in keys]
        wait = max(waits)
        if wait > 0:
            self.broken["overall" if waits[0] > 0 else "chat"] += 1
            return wait
        for k, interval, _tolerance in keys:
            self._tat[k] = max(self._tat.get(k, 0.0), now) + interval
        return 0.0

    def delivered(self, method: str = "sendMessage") -> list[Call]:
        """Messages the platform accepted (answered 200)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.status == 200]

    def sent(self, method: str | None = None, chat_id: str | int | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if (method is None or c.method == method)
                    and (chat_id is None or c.chat_id == str(chat_id))]

    def texts(self, chat_id: str | int) -> list[str]:
        return [c.get("text") or c.get("caption") or "" for c in self.sent(chat_id=chat_id)
                if c.method in ("sendMessage", "sendPhoto", "editMessageText")]

    def add_file(self, file_id: str, content: bytes) -> None:
        self.files[file_id] = content

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.accepted = 0

    # ---- the API -----------------------------------------------------------------------

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        call = Call(method, params)
        status, body = self._answer_call(call)
        call.status = status
        if status == 200 and method in ("sendMessage", "sendPhoto"):
            with self._lock:
                self.accepted += 1
        return status, body

    def _answer_call(self, call: Call) -> tuple[int, dict[str, Any]]:
        method, params = call.method, call.params
        with self._lock:
            self.calls.append(call)
            failure = self._failure(method, params)
            wait = self._over_limit(str(params.get("chat_id"))) \
                if self._limits and failure is None and method in ("sendMessage", "sendPhoto") else 0.0
            if wait:
                self.http_429 += 1
        if wait:
            return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after "
                         f"{math.ceil(wait)}", "parameters": {"retry_after": math.ceil(wait)}}
        if self.delay:
            time.sleep(self.delay)
        if failure is not None:
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, body
        if method in ("sendMessage", "sendPhoto") and str(params.get("chat_id")) in self.unstarted:
            return 403, {"ok": False, "error_code": 403,
                         "description": "Forbidden: bot can't initiate conversation with a user"}
        handler = getattr(self, f"_m_{method}", None)
        result = handler(params) if handler is not None else True
        return 200, {"ok": True, "result": result}

    def _failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.times > 0 and \
                    (failure.chat_id is None or failure.chat_id == str(params.get("chat_id"))):
                failure.times -= 1
                return failure
        return None

    def _next_id(self) -> int:
        with self._lock:
            self._message_id += 1
            return self._message_id

    @staticmethod
    def _chat(chat_id: Any) -> dict[str, Any]:
        cid = int(chat_id)
        if cid < 0:
            return {"id": cid, "type": "supergroup", "title": f"group {cid}"}
        return {"id": cid, "type": "private", "first_name": "user"}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {"message_id": self._next_id(), "date": int(time.time()), "chat": self._chat(params["chat_id"]),
                   "from": BOT_USER, **extra}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _m_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params.get("text", ""))

    def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": f"sent-{self._message_id}", "file_unique_id": f"u{self._message_id}",
                  "width": 90, "height": 90, "file_size": 100}]
        extra = {"photo": photo}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return self._message(params, **extra)

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params, text=params.get("text", ""), edit_date=int(time.time()))
        message["message_id"] = int(params["message_id"])
        return message

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        content = self.files.get(file_id, b"\xff\xd8\xff fake jpeg")
        return {"file_id": file_id, "file_unique_id": f"uniq-{file_id}", "file_size": len(content),
                "file_path": f"photos/{file_id}.jpg"}

    def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                batch = list(self.updates)
            if batch or time.monotonic() >= deadline:
                return batch
            time.sleep(0.02)

    def _m_getWebhookInfo(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    # ---- HTTP --------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: every answer carries its Content-Length
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

            def log_message(self, *_args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                self._route()

            def do_POST(self) -> None:
                self._route()

            def _route(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                self._reply(*api.handle(self.path, self.headers.get("Content-Type", ""), raw))

            def _reply(self, status: int, content: bytes, kind: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot gave up on this request (a long poll cut short at shutdown), as Telegram sees it

        return Handler


def _params(kind: str, raw: bytes) -> dict[str, Any]:
    """A request's parameters: JSON, multipart form (uploads as their size) or urlencoded, as the Bot API takes."""
    if kind.startswith("application/json"):
        return json.loads(raw or b"{}")
    if kind.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                fields[name] = {"upload": len(payload)}
            else:
                fields[name] = _value(payload.decode())
        return fields
    form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True)
    return {k: _value(v[-1]) for k, v in form.items()}


def _value(text: str) -> Any:
    """PTB sends every non-string parameter JSON-encoded."""
    try:
        return json.loads(text)
    except ValueError:
        return text
