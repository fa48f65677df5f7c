# provisional: replaced by the console branch at merge
"""Provisional stand-in for the console's sign-in, so the KPI dashboard runs in the kpi branch's tests.

`console_staff` returns the signed-in, active staff member, or redirects to /console/login. Here the
"session" is an API token in the `guanjia_console` cookie; the console branch has the real sign-in.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import HTTPException

from backend.models import Staff
from backend.services.api_tokens import staff_for_token

COOKIE = "guanjia_console"


def console_staff(request: Request) -> Staff:
    with request.app.state.session_factory() as session:
        staff = staff_for_token(session, request.cookies.get(COOKIE, ""))
        if staff is None:
            raise HTTPException(status_code=303, headers={"Location": "/console/login"})
        session.expunge(staff)
    return staff
