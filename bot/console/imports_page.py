"""Imports: a roster (or bill) file is checked and previewed, with line-numbered errors, before anything is written.

The upload is kept under media_dir/imports/ between the preview and the confirmation (named by the
uploader and a random token) and removed after the import. Only CSV and XLSX files up to
console_max_upload_mb are read; anything else is refused with the reason.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from backend.errors import Forbidden
from backend.services import permissions
from backend.services.audit import record
from backend.services.permissions import Perm
from backend.services.roster_import import ImportReport, RowError, import_residents, import_staff
from backend.services.roster_tables import TableError
from bot.console.deps import Console, ConsoleDep, render

router = APIRouter(include_in_schema=False)
SUFFIXES = (".csv", ".xlsx")
PREVIEW_TTL = 3600.0
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KINDS = ("residents", "staff", "bills", "payments")
MONEY = ("bills", "payments")


class _Preview(Exception):
    """Rolls the preview's savepoint back."""


def _billing() -> Any | None:
    """HOOK (bills and payments): the events work's service backend/services/billing.py, with
    import_bills / import_payments(session, community_id, path, clock, tz, *, dry_run) and the permission
    Perm.BILLING_WRITE on permissions.books(community). Until it is merged the page says it is not wired in."""
    try:
        from backend.services import billing  # type: ignore[attr-defined]
    except ImportError:
        return None
    return billing if hasattr(billing, "import_bills") and hasattr(Perm, "BILLING_WRITE") else None


def _allowed(console: Console, kind: str) -> bool:
    if kind in MONEY:
        billing = _billing()
        return billing is not None and console.may(Perm["BILLING_WRITE"], permissions.books(console.community.id))  # type: ignore[attr-defined]
    return console.may({"residents": Perm.RECORDS_WRITE, "staff": Perm.STAFF_MANAGE}[kind])


def summary(report: Any) -> str:
    """What a report counts, in words that fit a preview and a finished import alike."""
    made = ", ".join(f"{n} {what}" for what, n in report.created.items()) or "—"
    changed = ", ".join(f"{n} {what}" for what, n in report.updated.items()) or "—"
    return f"{report.kind}: + {made}; ↻ {changed}"


def _folder(console: Console) -> Path:
    folder = Path(console.settings.media_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _run(console: Console, kind: str, path: Path, *, dry_run: bool) -> Any:
    s, cid, clock = console.session, console.community.id, console.clock
    if kind in MONEY:
        billing = _billing()
        assert billing is not None
        importer = billing.import_bills if kind == "bills" else billing.import_payments
        return importer(s, cid, path, clock, console.settings.timezone, dry_run=dry_run)
    run = {"residents": import_residents, "staff": import_staff}[kind]
    report: ImportReport | None = None
    try:
        with s.begin_nested():
            report = run(s, cid, path, clock)
            if dry_run or not report.ok:
                raise _Preview
    except _Preview:
        pass
    except TableError as exc:
        report = ImportReport(kind)
        report.errors.append(RowError(getattr(exc, "line", 1), str(exc)))
    assert report is not None
    return report


def _page(request: Request, console: Console, status_code: int = 200, **context: Any) -> HTMLResponse:
    kinds = [k for k in KINDS if _allowed(console, k)]
    if not kinds:
        console.require(Perm.RECORDS_WRITE)
    context.setdefault("kind", kinds[0])
    return render(request, "console/imports.html", status_code=status_code, kinds=kinds,
                  mb=f"{console.settings.console_max_upload_mb:g}", bills_ready=_billing() is not None,
                  summary=summary, **context)


@router.get("/imports")
def imports_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    return _page(request, console)


def _refuse(request: Request, console: Console, kind: str, key: str, **params: Any) -> HTMLResponse:
    return _page(request, console, status_code=413 if key == "console.imports.too_big" else 422, kind=kind,
                 refusal=key, refusal_params=params)


@router.post("/imports/preview")
async def preview(request: Request, console: ConsoleDep, file: UploadFile | None = None,
                  kind: Annotated[str, Form(max_length=20)] = "residents") -> HTMLResponse:
    if kind not in KINDS:
        kind = "residents"
    if kind in MONEY and _billing() is None:
        return _page(request, console, status_code=501, refusal="console.imports.bills_hook", refusal_params={})
    if not _allowed(console, kind):
        raise Forbidden()
    limit = int(console.settings.console_max_upload_mb * 1024 * 1024)
    if file is None or not file.filename:
        return _refuse(request, console, kind, "console.imports.empty")
    filename = file.filename[-100:]
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        return _refuse(request, console, kind, "console.imports.bad_type", name=filename)
    if (file.size or 0) > limit:
        return _refuse(request, console, kind, "console.imports.too_big", mb=f"{limit / 1024 / 1024:g}")
    data = await file.read(limit + 1)
    if len(data) > limit:
        return _refuse(request, console, kind, "console.imports.too_big", mb=f"{limit / 1024 / 1024:g}")
    if suffix == ".xlsx" and not data.startswith(b"PK"):
        return _refuse(request, console, kind, "console.imports.bad_type", name=filename)
    token = secrets.token_urlsafe(24)
    path = _folder(console) / f"{console.staff.id}-{token}{suffix}"
    path.write_bytes(data)
    report = _run(console, kind, path, dry_run=True)
    if not report.ok:
        path.unlink(missing_ok=True)
    return _page(request, console, status_code=200 if report.ok else 422, kind=kind, report=report,
                 token=token if report.ok else "", suffix=suffix, filename=filename)


@router.post("/imports/confirm")
def confirm(request: Request, console: ConsoleDep, kind: Annotated[str, Form(max_length=20)] = "",
            token: Annotated[str, Form(max_length=64)] = "",
            suffix: Annotated[str, Form(max_length=8)] = "") -> HTMLResponse:
    if kind not in KINDS:
        kind = "residents"
    if not _allowed(console, kind):
        raise Forbidden()
    path = _folder(console) / f"{console.staff.id}-{token}{suffix}"
    fresh = path.is_file() and time.time() - path.stat().st_mtime < PREVIEW_TTL
    if not TOKEN.fullmatch(token) or suffix not in SUFFIXES or not fresh:
        return _refuse(request, console, kind, "console.imports.expired")
    try:
        report = _run(console, kind, path, dry_run=False)
    finally:
        path.unlink(missing_ok=True)
    if report.ok:
        record(console.session, console.clock, console.community.id, console.staff, f"import.{kind}",
               f"import:{kind}", summary=summary(report)[:500])
    return _page(request, console, status_code=200 if report.ok else 422, kind=kind, report=report, done=report.ok)
