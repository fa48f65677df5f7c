"""POST /model/parse, byte-compatible with Rasa's response shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from . import NLU

_default_nlu: NLU | None = None
MAX_JSON_DEPTH = 32  # real bodies nest < 8 deep; deeper ones only exhaust the parser's stack


class BadJson(ValueError):
    """A body that is not UTF-8 JSON, nests deeper than MAX_JSON_DEPTH, or overflows the parser."""


def scrub(text: str) -> str:
    """Lone surrogates (from "\\ud800" escapes) and NULs replaced by U+FFFD, one UTF-16 unit for one, so
    Telegram's entity offsets still hold: neither can be encoded as UTF-8 or stored in PostgreSQL text."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def guarded_json(raw: bytes) -> Any:
    """A request body decoded as JSON with every string scrubbed; BadJson instead of RecursionError or 500s."""
    try:
        value = json.loads(raw.decode("utf-8"))  # strict UTF-8: encoded surrogates are refused here
    except (ValueError, RecursionError) as err:
        raise BadJson(type(err).__name__) from err
    if isinstance(value, str):
        return scrub(value)
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # iterative: a recursive walk would overflow where json.loads nearly did
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise BadJson("too deep")
        if isinstance(node, dict):
            clean = {scrub(k): v for k, v in node.items()}
            if list(clean) != list(node):
                node.clear()
                node.update(clean)
            items: Any = node.items()
        else:
            items = enumerate(node)
        for key, child in list(items):
            if isinstance(child, str):
                node[key] = scrub(child)
            else:
                stack.append((child, depth + 1))
    return value


def get_nlu() -> NLU:
    """Default getter (the app overrides it with app.dependency_overrides[get_nlu] = ...)."""
    global _default_nlu
    if _default_nlu is None:
        import os
        from pathlib import Path

        from . import load_nlu

        _default_nlu = load_nlu(os.environ.get("GUANJIA_NLU", "builtin"),
                                cache_dir=Path(os.environ.get("GUANJIA_NLU_CACHE_DIR", "var/nlu-cache")))
    return _default_nlu


def _parse_time(v: object) -> datetime | None:
    if isinstance(v, str) and v:
        try:
            return datetime.fromisoformat(v)
        except ValueError:
            return None
    return None


def make_router(get: Callable[[], NLU] = get_nlu) -> APIRouter:
    router = APIRouter()

    @router.post("/model/parse")
    async def model_parse(request: Request, nlu: NLU = Depends(get)) -> Response:
        try:
            body = guarded_json(await request.body() or b"{}")
        except BadJson:
            body = {}  # as before: what is not a JSON object is parsed as empty text
        if not isinstance(body, dict):
            body = {}
        text = body.get("text", "")
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        result = nlu.parse(text, _parse_time(body.get("reference_time") or body.get("time")))
        if body.get("message_id") is not None:
            result = {**result, "message_id": body["message_id"]}
        return Response(json.dumps(result, ensure_ascii=False, separators=(",", ":")),
                        media_type="application/json")

    return router


router = make_router(get_nlu)
