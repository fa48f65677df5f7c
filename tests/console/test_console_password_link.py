"""The one-time set-password link (guanjia staff invite, chat bind) and the demo sign-in link."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.models import Staff
from backend.services.invites import create_invite
from tests.console.conftest import csrf_of


def test_password_link_sets_the_password_once(app, people, session_factory, clock, settings):
    with session_factory() as session, session.begin():
        code = create_invite(session, session.get(Staff, people.a.staff["tech2"].id), clock, settings,
                             purpose="password")
        bind_code = create_invite(session, session.get(Staff, people.a.staff["tech2"].id), clock, settings)
    with TestClient(app) as client:
        assert client.get(f"/console/password?code={bind_code}").status_code == 404  # a chat code is no link
        page = client.get(f"/console/password?code={code}")
        assert page.status_code == 200 and "张师傅" in page.text
        differ = client.post("/console/password", data={"code": code, "password": "long-enough-1",
                                                         "password2": "long-enough-2", "csrf": csrf_of(page.text)})
        assert differ.status_code == 422 and "不一致" in differ.text
        short = client.post("/console/password", data={"code": code, "password": "short", "password2": "short",
                                                        "csrf": csrf_of(page.text)})
        assert short.status_code == 422
        done = client.post("/console/password", data={"code": code, "password": "long-enough-1",
                                                       "password2": "long-enough-1", "csrf": csrf_of(page.text)},
                           follow_redirects=False)
        assert done.status_code == 303 and client.get("/console/tickets").status_code == 200
        assert client.get(f"/console/password?code={code}").status_code == 404  # used


def test_demo_sign_in_link_only_in_demo_mode(app, people, session_factory, clock, settings):
    with session_factory() as session, session.begin():
        code = create_invite(session, session.get(Staff, people.a.staff["manager"].id), clock, settings,
                             purpose="signin")
    with TestClient(app) as client:
        assert settings.demo_mode is False
        assert client.get(f"/console/enter?code={code}", follow_redirects=False).status_code == 404
        app.state.settings = settings.model_copy(update={"demo_mode": True})
        entered = client.get(f"/console/enter?code={code}", follow_redirects=False)
        assert entered.status_code == 303
        assert "王经理" in client.get("/console/tickets").text
        assert client.get(f"/console/enter?code={code}", follow_redirects=False).status_code == 404  # once
