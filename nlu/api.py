"""POST /model/parse, byte-compatible with Rasa's response shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from . import NLU

_default_nlu: NLU | None = None


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
            body = json.loads(await request.body() or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = {}
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
