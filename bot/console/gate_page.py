"""The gate: a guard checks a visitor's code and sees today's expected visitors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from backend.errors import DomainError
from backend.services import permissions, visitors
from backend.services.permissions import Perm
from bot.console.deps import Console, ConsoleDep, render

router = APIRouter(include_in_schema=False)


def _page(request: Request, console: Console, status_code: int = 200, **context: object) -> HTMLResponse:
    console.require(Perm.VISITOR_CHECK, permissions.gate(console.community.id))
    s, tz = console.session, console.settings.timezone
    expected = [{"p": p, "window": visitors.window_label(p, tz), "household": visitors.household_label(s, p)}
                for p in visitors.todays_expected(s, console.clock, console.settings, console.community.id)]
    return render(request, "console/gate.html", status_code=status_code, expected=expected, **context)


@router.get("/gate")
def gate_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    return _page(request, console)


@router.post("/gate")
def check(request: Request, console: ConsoleDep, code: Annotated[str, Form(max_length=40)] = "") -> HTMLResponse:
    console.require(Perm.VISITOR_CHECK, permissions.gate(console.community.id))
    s, tz = console.session, console.settings.timezone
    try:
        with s.begin_nested():
            found = visitors.verify_code(s, console.clock, console.settings, console.local_staff, code)
    except DomainError as exc:
        return _page(request, console, status_code=exc.http_status, error=(exc.text("zh"), exc.text("en")))
    return _page(request, console, ok={"name": found.visitor_name, "people": found.people,
                                       "window": visitors.window_label(found, tz),
                                       "household": visitors.household_label(s, found)})
