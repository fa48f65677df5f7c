"""GET /media/{path}: files under settings.media_dir (visitor-pass QR codes, photos), never outside it."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

router = APIRouter(tags=["web chat"])
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def _inside(base: Path, relative: str) -> Path | None:
    if "\x00" in relative or relative.startswith(("/", "\\")):
        return None
    root = base.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root or not target.is_file():
        return None
    return target


@router.get("/media/{path:path}", include_in_schema=False)
def media(path: str, request: Request) -> FileResponse:
    target = _inside(request.app.state.settings.media_dir, path)
    if target is None:
        raise HTTPException(status_code=404, detail="Not Found")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    # Only images display in the page; anything else downloads, so an uploaded HTML file cannot run here.
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    return FileResponse(target, media_type=content_type, content_disposition_type=disposition,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})
