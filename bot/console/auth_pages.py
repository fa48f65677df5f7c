"""Signing in and out: /console/login, the one-time password and demo links, resuming a saved form."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.deps import SessionDep
from backend.catalogue import render as render_text
from backend.errors import DomainError
from backend.models import Community, ConsoleSession, Staff
from backend.services import console_auth, permissions
from backend.services.invites import InviteError, claim_code, peek_code
from backend.services.permissions import Perm
from bot.console.deps import COOKIE, ConsoleDep, render, safe_next, set_cookie

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]


def _anonymous(request: Request, session: Session) -> tuple[str | None, console_auth.Loaded]:
    """The browser's session, opened when it has none: (new cookie value or None, session)."""
    state = request.app.state
    loaded = console_auth.load_session(session, state.clock, state.settings, request.cookies.get(COOKIE))
    if loaded is not None:
        return None, loaded
    token, row = console_auth.open_session(session, state.clock, state.settings)
    return token, console_auth.Loaded(row)


def home_of(console_staff: Staff, community_id: int) -> str:
    """Where a staff member lands: the board, or the gate for a guard."""
    at_the_gate = permissions.allowed(console_staff, Perm.VISITOR_CHECK, permissions.gate(community_id))
    if at_the_gate and (permissions.profile_of(console_staff) is permissions.Profile.AGENT
                        or not permissions.scopes(console_staff, Perm.TICKETS_BOARD)):
        return "/console/gate"  # a guard's work is the gate
    return "/console/tickets"


@router.get("/")
def root(console: ConsoleDep) -> RedirectResponse:
    return RedirectResponse(home_of(console.staff, console.community.id), status_code=303)


@router.get("/login")
def login_page(request: Request, session: SessionDep, next: str = Query("/console/", max_length=500),
               expired: bool = False) -> HTMLResponse:
    token, loaded = _anonymous(request, session)
    if loaded.row.staff_id is not None:
        return RedirectResponse(safe_next(next), status_code=303)  # type: ignore[return-value]
    response = render(request, "console/login.html", csrf=loaded.row.csrf, next=safe_next(next),
                      expired=expired or loaded.expired or bool(loaded.row.stash), login="")
    if token:
        set_cookie(response, request.app.state.settings, token)
    return response


@router.post("/login")
def login(request: Request, session: SessionDep, login: Text = "", password: Text = "", csrf: Text = "",
          next: Text = "/console/", community: Annotated[str, Form(max_length=32)] = "") -> Response:
    state = request.app.state
    token, loaded = _anonymous(request, session)
    if token is not None or not secrets.compare_digest(csrf, loaded.row.csrf):
        response = render(request, "console/login.html", status_code=403, csrf=loaded.row.csrf, next=safe_next(next),
                          error="console.csrf", login=login)
        if token:
            set_cookie(response, state.settings, token)
        return response
    try:
        staff = console_auth.sign_in(session, state.clock, state.settings, login, password, community)
    except DomainError as exc:  # the failure count is stored: this returns, so the request commits
        return render(request, "console/login.html", status_code=exc.http_status, csrf=loaded.row.csrf,
                      next=safe_next(next), error_text=(exc.text("zh"), exc.text("en")), login=login)
    token, row = console_auth.attach_staff(session, state.clock, state.settings, loaded.row, staff)
    console_auth.purge_expired(session, state.clock)  # anonymous sessions of passers-by do not pile up
    target = "/console/resume" if row.stash.get("form") else safe_next(next)
    if target == "/console/":
        target = home_of(staff, staff.community_id)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, state.settings, token)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, console: ConsoleDep) -> RedirectResponse:
    row = session.get(ConsoleSession, console.session_id)
    if row is not None:
        console_auth.end_session(session, row)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.post("/community")
def switch_community(console: ConsoleDep, session: SessionDep,
                     code: Annotated[str, Form(max_length=32)] = "") -> RedirectResponse:
    """A company admin chooses the community the console shows."""
    community = session.scalar(select(Community).where(Community.code == code))
    if community is None or not permissions.allowed(console.staff, Perm.TICKETS_BOARD,
                                                    permissions.community(community.id)):
        return RedirectResponse("/console/", status_code=303)
    row = session.get(ConsoleSession, console.session_id)
    if row is not None:
        row.community_id = community.id
    return RedirectResponse("/console/", status_code=303)


@router.get("/resume")
def resume(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    """The form posted when the session had expired, offered again (with a fresh CSRF token)."""
    row = session.get(ConsoleSession, console.session_id)
    stash = dict(row.stash) if row is not None else {}
    path, form = safe_next(str(stash.get("path", ""))), stash.get("form") or {}
    if row is not None:
        row.stash = {}
    if not form or path == "/console/":
        return RedirectResponse("/console/", status_code=303)
    return render(request, "console/resume.html", path=path, form=form)


# ---- one-time links --------------------------------------------------------------------------


@router.get("/password")
def password_page(request: Request, session: SessionDep, code: str = Query("", max_length=64)) -> HTMLResponse:
    token, loaded = _anonymous(request, session)
    try:
        staff = peek_code(session, code, request.app.state.clock, "password")
    except InviteError:
        response = render(request, "console/message.html", status_code=404, key="console.password.bad_link")
    else:
        response = render(request, "console/password.html", csrf=loaded.row.csrf, code=code, member=staff)
    if token:
        set_cookie(response, request.app.state.settings, token)
    return response


@router.post("/password")
def set_password(request: Request, session: SessionDep, code: Text = "", password: Text = "",
                 password2: Text = "", csrf: Text = "") -> Response:
    state = request.app.state
    token, loaded = _anonymous(request, session)
    if token is not None or not secrets.compare_digest(csrf, loaded.row.csrf):
        return render(request, "console/message.html", status_code=403, key="console.csrf")
    try:
        staff = peek_code(session, code, state.clock, "password")
    except InviteError:
        return render(request, "console/message.html", status_code=404, key="console.password.bad_link")
    error: tuple[str, str] | None = None
    if password != password2:
        error = (render_text("console.password.mismatch"), render_text("console.password.mismatch", "en"))
    else:
        try:
            console_auth.check_new_password(password)
        except DomainError as exc:
            error = (exc.text("zh"), exc.text("en"))
    if error:
        return render(request, "console/password.html", status_code=422, csrf=loaded.row.csrf, code=code,
                      member=staff, error_text=error)
    try:
        claim_code(session, code, state.clock, "password")
    except InviteError:
        return render(request, "console/message.html", status_code=404, key="console.password.bad_link")
    console_auth.set_password(session, state.clock, staff, password)
    token, _ = console_auth.attach_staff(session, state.clock, state.settings, loaded.row, staff)
    response = RedirectResponse(home_of(staff, staff.community_id), status_code=303)
    set_cookie(response, state.settings, token)
    return response


@router.get("/enter")
def demo_enter(request: Request, session: SessionDep, code: str = Query("", max_length=64)) -> Response:
    """The demo's one-time sign-in link (`guanjia demo` prints it). Refused unless GUANJIA_DEMO_MODE is on,
    which settings refuse in production."""
    state = request.app.state
    if not state.settings.demo_mode:
        return render(request, "console/message.html", status_code=404, key="console.not_found")
    try:
        staff, _ = claim_code(session, code, state.clock, "signin")
    except InviteError:
        return render(request, "console/message.html", status_code=404, key="console.password.bad_link")
    _, loaded = _anonymous(request, session)
    token, _ = console_auth.attach_staff(session, state.clock, state.settings, loaded.row, staff)
    response = RedirectResponse(home_of(staff, staff.community_id), status_code=303)
    set_cookie(response, state.settings, token)
    return response
