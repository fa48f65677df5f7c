"""/console/static/...: the console's stylesheet, script and vendored htmx (no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".LICENSE": "text/plain; charset=utf-8"}

router = APIRouter(include_in_schema=False)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    path = STATIC / name
    kind = TYPES.get(path.suffix)
    if kind is None or "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "public, max-age=3600"})
