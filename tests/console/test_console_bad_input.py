"""Wrong passwords and lock-out, expired sessions keeping the form, CSRF, bad files, concurrent category edits."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from backend.domain import Kind
from backend.models import AuditEntry, Staff, TicketCategory
from backend.services.actor import Actor
from backend.services.tickets import NewTicket, TicketService
from tests.console.conftest import PASSWORD, csrf_of, sign_in


def test_wrong_password_then_lock_out(app, people, settings, session_factory):
    with TestClient(app) as client:
        refused = sign_in(client, "a-manager", "wrong-password")
        assert refused.status_code == 401 and "账号或密码不正确" in refused.text and "Wrong login" in refused.text
        assert sign_in(client, "nobody", "wrong-password").status_code == 401  # same answer: no enumeration
        for _ in range(settings.console_lockout_failures - 2):
            assert sign_in(client, "a-manager", "wrong-password").status_code == 401
        locked = sign_in(client, "a-manager", "wrong-password")
        assert locked.status_code == 429 and "锁定" in locked.text and "locked" in locked.text
        still = sign_in(client, "a-manager", PASSWORD)  # even the right password, while locked
        assert still.status_code == 429
    with session_factory() as session:
        assert session.query(AuditEntry).filter_by(action="signin.locked").count() == 1


def test_lock_out_ends(app, people, settings, clock):
    with TestClient(app) as client:
        for _ in range(settings.console_lockout_failures):
            sign_in(client, "a-manager", "wrong-password")
        clock.advance(minutes=settings.console_lockout_minutes + 1)
        assert sign_in(client, "a-manager", PASSWORD).status_code == 303


def test_no_csrf_is_refused(console, people):
    plumbing_page = console.get("/console/categories")
    assert plumbing_page.status_code == 200
    assert console.post("/console/faq", data={"question": "q", "answer": "a"}).status_code == 403
    assert console.post("/console/faq", data={"question": "q", "answer": "a", "csrf": "forged"}).status_code == 403


def test_expired_session_keeps_the_form(console, people, clock, settings, session_factory):
    csrf = csrf_of(console.get("/console/faq").text)
    clock.advance(minutes=settings.console_session_idle_minutes + 1)
    sent = console.post("/console/faq", data={"question": "快递放哪里", "answer": "东门快递柜", "csrf": csrf},
                        follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/console/login")
    login = console.get(sent.headers["location"])
    assert "登录已过期" in login.text
    back = console.post("/console/login", data={"login": "a-manager@a", "password": PASSWORD,
                                                "csrf": csrf_of(login.text), "next": "/console/faq"},
                        follow_redirects=False)
    assert back.headers["location"] == "/console/resume"
    resume = console.get("/console/resume")
    assert "快递放哪里" in resume.text and "东门快递柜" in resume.text
    again = console.post("/console/faq", data={"question": "快递放哪里", "answer": "东门快递柜",
                                               "csrf": csrf_of(resume.text)}, follow_redirects=False)
    assert again.status_code == 303
    assert "快递放哪里" in console.get("/console/faq").text


def test_no_session_redirects_to_sign_in(app, people):
    with TestClient(app) as client:
        r = client.get("/console/tickets?status=open", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/tickets%3Fstatus%3Dopen"
        assert client.get("/console/login?next=https://evil.example").status_code == 200
        csrf = csrf_of(client.get("/console/login").text)
        r = client.post("/console/login", data={"login": "a-manager", "community": "a", "password": PASSWORD, "csrf": csrf,
                                                "next": "//evil.example/x"}, follow_redirects=False)
        assert r.headers["location"] == "/console/tickets"


def _upload(console, name: str, data: bytes, kind: str = "residents"):  # type: ignore[no-untyped-def]
    csrf = csrf_of(console.get("/console/imports").text)
    return console.post("/console/imports/preview", data={"csrf": csrf, "kind": kind}, files={"file": (name, data)})


def test_bad_files_are_refused_with_the_reason(console):
    r = _upload(console, "roster.txt", b"hello")
    assert r.status_code == 422 and "只接受 CSV 或 XLSX" in r.text and "roster.txt" in r.text
    r = _upload(console, "roster.csv", b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413 and "10 MB" in r.text
    r = _upload(console, "roster.xlsx", b"not a zip at all")
    assert r.status_code == 422 and "只接受" in r.text
    r = _upload(console, "roster.csv", b"\xff\xfe\x00garbled\x00")
    assert r.status_code == 422 and "nothing was imported" in r.text
    csrf = csrf_of(console.get("/console/imports").text)
    r = console.post("/console/imports/preview", data={"csrf": csrf, "kind": "residents"})
    assert r.status_code == 422 and "请选择文件" in r.text
    r = console.post("/console/imports/confirm", data={"csrf": csrf, "kind": "residents", "token": "../../etc",
                                                       "suffix": ".csv"})
    assert r.status_code == 422 and "预览已失效" in r.text


def test_import_with_an_error_then_a_good_file(console, people, session_factory):
    bad = "楼栋,单元,房号,面积,姓名,电话\n5,1,0301,98,张三,13900000001\n5,1,0302,abc,李四,13900000002\n".encode()
    r = _upload(console, "roster.csv", bad)
    assert r.status_code == 422 and 'data-line="3"' in r.text
    good = bad.replace(b"abc", b"126")
    r = _upload(console, "roster.csv", good)
    assert r.status_code == 200 and "检查通过" in r.text
    with session_factory() as session:  # a preview writes nothing
        assert session.query(Staff).count() > 0
        from backend.models import Household
        assert session.query(Household).filter(Household.label.like("5-%")).count() == 0
    confirm = console.post("/console/imports/confirm", data={
        "csrf": csrf_of(r.text), "kind": "residents", "token": r.text.split('name="token" value="')[1].split('"')[0],
        "suffix": ".csv"})
    assert confirm.status_code == 200 and "已导入" in confirm.text
    with session_factory() as session:
        from backend.models import Household
        assert session.query(Household).filter(Household.label.like("5-%")).count() == 2


def _edit(console, category: TicketCategory, version: int, resolve: str):  # type: ignore[no-untyped-def]
    csrf = csrf_of(console.get("/console/categories").text)
    return console.post(f"/console/categories/{category.id}", data={
        "csrf": csrf, "version": str(version), "respond_minutes": "20", "resolve_minutes": resolve,
        "department": "engineering", "name_zh": category.name_zh, "name_en": category.name_en},
        follow_redirects=False)


def test_concurrent_category_edit_is_told_not_overwritten(console, people, session_factory):
    with session_factory() as session:
        plumbing = session.query(TicketCategory).filter_by(community_id=people.a.community.id, code="plumbing").one()
    assert _edit(console, plumbing, plumbing.version, "600").status_code == 303
    second = _edit(console, plumbing, plumbing.version, "900")  # made from the same, now stale, version
    assert second.status_code == 409 and "刚被他人修改" in second.text and 'value="900"' in second.text
    bad = _edit(console, plumbing, plumbing.version + 1, "5")  # resolve before respond
    assert bad.status_code == 422
    with session_factory() as session:
        stored = session.get(TicketCategory, plumbing.id)
        assert (stored.resolve_minutes, stored.version) == (600, plumbing.version + 1)
        audit = session.query(AuditEntry).filter_by(action="category.edit").one()
        assert audit.detail["changed"]["resolve_minutes"] == [24 * 60, 600]


def test_the_next_ticket_uses_the_edited_deadline(console, people, session_factory, clock, settings):
    def new_ticket():  # type: ignore[no-untyped-def]
        with session_factory() as session, session.begin():
            t = TicketService(session, clock, settings).create(
                Actor("resident", people.a.community.id, resident=session.merge(people.a.resident)),
                NewTicket(Kind.REPAIR, "漏水", category="plumbing", household_id=people.a.household.id))
            return t.resolve_due_at - t.created_at

    assert new_ticket() == timedelta(hours=24)  # also fills the category cache
    with session_factory() as session:
        plumbing = session.query(TicketCategory).filter_by(community_id=people.a.community.id, code="plumbing").one()
    assert _edit(console, plumbing, plumbing.version, "300").status_code == 303
    assert new_ticket() == timedelta(minutes=300)


def test_the_boards_own_refreshes_do_not_keep_the_session_alive(console, clock, settings):
    minutes = settings.console_session_idle_minutes
    for _ in range(3):  # polled all along, never used
        clock.advance(minutes=minutes // 2)
        r = console.get("/console/tickets/rows", headers={"HX-Request": "true", "HX-Poll": "1"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/console/login")


def test_expired_sessions_are_forgotten(app, people, clock, settings, session_factory):
    from backend.models import ConsoleSession
    from backend.services import console_auth

    with TestClient(app) as passer_by:
        passer_by.get("/console/login")  # an anonymous session
    with TestClient(app) as client:
        sign_in(client, "a-manager")
    clock.advance(minutes=settings.console_session_idle_minutes + 1)
    with session_factory() as session, session.begin():
        assert console_auth.purge_expired(session, clock) == 1  # the anonymous one; the other is kept a day
    clock.advance(days=1)
    with session_factory() as session, session.begin():
        assert console_auth.purge_expired(session, clock) == 1
        assert session.query(ConsoleSession).count() == 0
