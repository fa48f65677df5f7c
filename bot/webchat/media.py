"""GET /media/{path}: files under settings.media_dir (photos, visitor-pass and event check-in QR images), never
outside it.

Visitor-pass images are served only under their unguessable token (/media/pass/<token>.png) and only
while the pass is live; the old code-named images (/media/qr/<6 digits>.png) are never served. Event
check-in images (/media/event/<token>.png) likewise, only while the sign-up is live and not yet used.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

from backend.services import events, visitors

router = APIRouter(tags=["web chat"])
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
LEGACY_CODE_IMAGES = "qr"  # gate-pass images named by the code itself (guessable): never served


def inside(base: Path, relative: str) -> Path | None:
    if "\x00" in relative or relative.startswith(("/", "\\")):
        return None
    root = base.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root or not target.is_file():
        return None
    return target


def _pass_image_alive(request: Request, target: Path, folder: str = "pass") -> bool:
    """A pass (or check-in) image is served while it is live; a dead one's file is removed."""
    state = request.app.state
    alive_check = visitors.image_alive if folder == "pass" else events.image_alive
    with state.session_factory() as session:
        alive = target.suffix == ".png" and alive_check(session, state.clock, target.stem)
    if not alive:
        target.unlink(missing_ok=True)
    return alive


@router.get("/media/{path:path}", include_in_schema=False)
def media(path: str, request: Request) -> FileResponse:
    root = Path(request.app.state.settings.media_dir).resolve()
    target = inside(root, path)
    # Judged on the resolved path, so qr/../ or ./ spellings cannot reach a gate image another way.
    folder = target.relative_to(root).parts[0] if target is not None else ""
    gate_pass = folder in ("pass", "event")
    if target is None or folder == LEGACY_CODE_IMAGES or (gate_pass and not _pass_image_alive(request, target,
                                                                                               folder)):
        raise HTTPException(status_code=404, detail="Not Found")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    # Only images display in the page; anything else downloads, so an uploaded HTML file cannot run here.
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    return FileResponse(target, media_type=content_type, content_disposition_type=disposition,
                        headers={"X-Content-Type-Options": "nosniff",
                                 # a pass may be cancelled any minute: nobody keeps a copy
                                 "Cache-Control": "no-store" if gate_pass else "private, max-age=3600",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})
