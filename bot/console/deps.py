"""What every console page needs: the signed-in staff member, CSRF checks, templates with the catalogue.

`console_staff` is the FastAPI dependency of every page: it answers with a redirect to
/console/login?next=... when nobody is signed in (a form posted meanwhile is kept and offered again after
signing in), refuses a POST without the session's CSRF token, and leaves the request's `Console` (staff,
community, CSRF token) on `request.state.console` for `render`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from backend.api.deps import SessionDep
from backend.catalogue import MESSAGES
from backend.clock import Clock
from backend.models import Community, Staff
from backend.services import permissions
from backend.services.actor import Actor
from backend.services.console_auth import load_session, open_session
from backend.services.permissions import Perm, Target
from backend.settings import Settings
from bot.console import texts  # noqa: F401  (registers the console's catalogue entries)

COOKIE = "guanjia_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
NOT_STASHED = frozenset({CSRF_FIELD, "password", "password2"})
TEMPLATES = Path(__file__).resolve().parent / "templates"


def t(key: str, /, **params: Any) -> Markup:
    """Chinese, then English in a smaller line: the console's way of showing a catalogue entry."""
    zh, en = MESSAGES[key]
    return Markup('{}<span class="en" lang="en">{}</span>').format(zh.format(**params), en.format(**params))


def tz(key: str, /, **params: Any) -> str:
    return MESSAGES[key][0].format(**params)


def both(key: str, /, **params: Any) -> str:
    """Chinese / English on one line (titles, placeholders, options)."""
    zh, en = MESSAGES[key]
    return f"{zh.format(**params)} / {en.format(**params)}"


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals.update(t=t, tz=tz, both=both, Perm=Perm, catalogue=MESSAGES)


class ConsoleRedirect(Exception):
    """Answered with a 303 (or an HX-Redirect for htmx), setting the session cookie when given."""

    def __init__(self, url: str, cookie: str | None = None) -> None:
        super().__init__(url)
        self.url, self.cookie = url, cookie


class CsrfRefused(Exception):
    pass


@dataclass
class Console:
    request: Request
    session: Session
    staff: Staff
    community: Community
    csrf: str
    session_id: int
    communities: list[Community] = field(default_factory=list)  # a company admin's choice

    @property
    def settings(self) -> Settings:
        return self.request.app.state.settings

    @property
    def clock(self) -> Clock:
        return self.request.app.state.clock

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.community.id, staff=self.staff)

    def may(self, perm: Perm, target: Target | None = None) -> bool:
        return permissions.allowed(self.staff, perm, target or permissions.community(self.community.id))

    @property
    def local_staff(self) -> Staff:
        """The staff member as services that act in their own community expect them: a company admin
        working in another community is presented as a member of it (same id, role and department)."""
        if self.staff.community_id == self.community.id:
            return self.staff
        return Staff(id=self.staff.id, community_id=self.community.id, login=self.staff.login, name=self.staff.name,
                     role=self.staff.role, department=self.staff.department, active=self.staff.active)

    @property
    def sees_board(self) -> bool:
        return bool(permissions.scopes(self.staff, Perm.TICKETS_BOARD))

    @property
    def sees_gate(self) -> bool:
        return self.may(Perm.VISITOR_CHECK, permissions.gate(self.community.id))

    @property
    def sees_staff(self) -> bool:
        return self.may(Perm.STAFF_MANAGE) or self.may(Perm.DUTY_SET, Target(
            self.community.id, frozenset({self.staff.department})))

    def require(self, perm: Perm, target: Target | None = None) -> None:
        permissions.require(self.staff, perm, target or permissions.community(self.community.id))


def set_cookie(response: Any, settings: Settings, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/console",
                        secure=settings.environment == "production")


def login_url(next_path: str, *, expired: bool = False) -> str:
    url = "/console/login?next=" + quote(next_path, safe="/")
    return url + "&expired=1" if expired else url


def safe_next(value: str | None) -> str:
    """Only paths inside the console: no open redirect."""
    if not value or not value.startswith("/console") or value.startswith("//") or "\\" in value:
        return "/console/"
    return value


async def _console(request: Request, session: SessionDep) -> Console:
    form: dict[str, str] = {}
    if request.method == "POST":
        posted = await request.form()
        form = {key: value for key, value in posted.multi_items() if isinstance(value, str)}
    return await run_in_threadpool(_load, request, session, form)


def _load(request: Request, session: Session, form: dict[str, str]) -> Console:
    state = request.app.state
    settings: Settings = state.settings
    clock: Clock = state.clock
    token = request.cookies.get(COOKIE)
    next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # Its own short transaction: a redirect (an exception) must still store the saved form.
    redirect: ConsoleRedirect | None = None
    with state.session_factory() as auth, auth.begin():  # committed before any redirect is raised
        polled = request.headers.get("hx-poll") == "1"  # the board refreshing itself is not activity
        loaded = load_session(auth, clock, settings, token, touch=not polled)
        if loaded is None or loaded.row.staff_id is None:
            new_token = None
            if loaded is None:
                new_token, row = open_session(auth, clock, settings)
            else:
                row = loaded.row
            if request.method == "POST" and form:
                row.stash = {"path": request.url.path,
                             "form": {k: v[:5000] for k, v in form.items() if k not in NOT_STASHED}}
            expired = loaded is not None and (loaded.expired or bool(row.stash))
            redirect = ConsoleRedirect(login_url(next_path if request.method == "GET" else request.url.path,
                                                 expired=expired), new_token)
        else:
            staff_id, community_id, csrf, session_id = (loaded.row.staff_id, loaded.row.community_id,
                                                        loaded.row.csrf, loaded.row.id)
    if redirect is not None:
        raise redirect
    staff = session.get(Staff, staff_id)
    community = session.get(Community, community_id or (staff.community_id if staff else 0))
    if staff is None or not staff.active or community is None:
        raise ConsoleRedirect(login_url(next_path))
    if request.method == "POST":
        sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
        if not sent or not secrets.compare_digest(sent, csrf):
            raise CsrfRefused()
    console = Console(request, session, staff, community, csrf, session_id)
    if permissions.profile_of(staff) is permissions.Profile.ADMIN:
        console.communities = list(session.scalars(select(Community).order_by(Community.code)))
    request.state.console = console
    return console


ConsoleDep = Annotated[Console, Depends(_console)]


def console_staff(console: ConsoleDep) -> Staff:
    """The signed-in staff member (redirects to the sign-in page when there is none)."""
    return console.staff


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A console template with the request's Console as `c` (absent on the sign-in pages)."""
    context.setdefault("c", getattr(request.state, "console", None))
    context.setdefault("poll_seconds", request.app.state.settings.console_poll_seconds)
    return templates.TemplateResponse(request, name, context, status_code=status_code,
                                      headers={"Cache-Control": "no-store"})
