"""One place that turns every failure into JSON a client can show: {"error", "message", "message_en"}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException

from backend.api.limits import BodyTooLarge
from backend.api.messages import error_body
from backend.errors import AlreadyTaken, DomainError

log = logging.getLogger("guanjia.api")

MAX_DETAILS = 20


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    body = {"error": exc.key, "message": exc.text("zh"), "message_en": exc.text("en")}
    if isinstance(exc, AlreadyTaken):
        body["staff_id"] = exc.staff_id
    return JSONResponse(body, status_code=exc.http_status)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())[:MAX_DETAILS]
    details = [{"field": _where(e.get("loc", ())), "problem": str(e.get("msg", ""))[:200]} for e in errors]
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:3]) or "invalid request"
    body = error_body("api.validation", detail=summary)
    body["details"] = details
    return JSONResponse(body, status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, BodyTooLarge):
        return JSONResponse(error_body("api.body_too_large", limit=exc.limit), status_code=413)
    body = error_body("api.http_error", detail=str(exc.detail)[:200])
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error on %s %s: %s", request.method, request.url.path, type(exc.__cause__).__name__)
    return JSONResponse(error_body("api.conflict"), status_code=409)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("data error on %s %s: %s", request.method, request.url.path, type(exc.__cause__).__name__)
    return JSONResponse(error_body("api.bad_data"), status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("api.internal"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
