"""GET /console/dashboard: the KPI page for the signed-in staff member, its filters, XLSX and assets."""

from __future__ import annotations

from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from bot.app import create_app
from tests.backend import kpi_world
from tests.backend.kpi_world import NOW
from tests.builders import build_world
from tests.console.conftest import _HASH, sign_in

PERIOD = {"start": "2026-11-02", "end": "2026-11-15"}


@pytest.fixture
def tokens(session, clock, settings):
    one = build_world(session, clock, settings, code="one")
    two = build_world(session, clock, settings, code="two")
    one.staff["tech2"].name = "技工二</script><script>alert(1)</script>"
    kpi_world.seed(session, one, two)
    clock.set(NOW)
    for staff in one.staff.values():
        staff.password_hash = _HASH
    out = {key: staff.login for key, staff in one.staff.items()}
    session.commit()
    return out


@pytest.fixture
def client(settings, clock, session_factory):
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory),
                    follow_redirects=False) as c:
        yield c


def as_(client: TestClient, tokens, login: str) -> TestClient:
    """Signed in through the console's own sign-in form."""
    client.cookies.clear()
    assert sign_in(client, tokens[login], community="one").status_code == 303
    return client


def test_signed_out_goes_to_sign_in(client, tokens) -> None:
    r = client.get("/console/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/dashboard"


def test_the_manager_sees_the_figures(client, tokens) -> None:
    r = as_(client, tokens, "manager").get("/console/dashboard", params=PERIOD)
    assert r.status_code == 200, r.text
    html = r.text
    assert "服务计划 KPI" in html and "Service plan KPIs" in html
    assert 'id="card-e-respond"><b>50.0%</b>' in html  # emergencies answered within 15 minutes: 2 of 4
    assert 'id="card-overdue"><b>3</b>' in html and 'id="card-escalated"><b>1</b>' in html
    assert "紧急响应 ≤15 分钟" in html and "社区文化及沟通" in html
    assert 'href="/console/dashboard/export.xlsx?start=2026-11-02&amp;end=2026-11-15"' in html
    assert '<script src="/console/dashboard/static/echarts.min.js"></script>' in html
    assert 'name="start" value="2026-11-02"' in html
    assert "</script><script>alert(1)" not in html  # names are escaped, in the tables and in the chart data
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in html


@pytest.mark.parametrize(("login", "status"), [
    ("manager", 200), ("cs-lead", 200), ("cs1", 403), ("eng-lead", 403), ("tech1", 403), ("tech2", 403),
    ("sec-lead", 403), ("guard1", 403)])
def test_who_may_open_it(client, tokens, login, status) -> None:
    """Every staff role of tests/builders.py: kpi.view is the project manager's and the customer-service lead's."""
    assert as_(client, tokens, login).get("/console/dashboard").status_code == status
    assert client.get("/console/dashboard/export.xlsx").status_code == status


def test_another_community_is_not_found(client, tokens) -> None:
    client = as_(client, tokens, "manager")
    for code in ("two", "nowhere"):
        assert client.get("/console/dashboard", params={"community": code}).status_code == 404
        assert client.get("/console/dashboard/export.xlsx", params={"community": code}).status_code == 404


@pytest.mark.parametrize("params", [{"start": "2026-11-15", "end": "2026-11-02"}, {"start": "昨天"},
                                    {"end": "2026-02-30"}, {"start": "2000-01-01"}])
def test_a_bad_period_is_explained_and_the_default_shown(client, tokens, params) -> None:
    r = as_(client, tokens, "manager").get("/console/dashboard", params=params)
    assert r.status_code == 422
    assert 'class="kpi-error" role="alert"' in r.text
    assert 'name="end" value="2026-11-20"' in r.text  # the default four weeks, ending today


def test_xlsx_download(client, tokens) -> None:
    r = as_(client, tokens, "manager").get("/console/dashboard/export.xlsx", params=PERIOD)
    assert r.status_code == 200
    book = load_workbook(BytesIO(r.content))
    summary = {row[0]: row[1] for row in book["概览 Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["工单总数 Tickets"] == 10 and summary["已升级 Escalated"] == 1


def test_assets(client) -> None:
    r = client.get("/console/dashboard/static/echarts.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert len(r.content) > 500_000 and b"Apache" in r.content[:400]
    assert client.get("/console/dashboard/static/dashboard.js").status_code == 200
    assert client.get("/console/dashboard/static/dashboard.css").status_code == 200
    for name in ("../dashboard.py", "vendor/echarts.min.js", "nope.js"):
        assert client.get(f"/console/dashboard/static/{name}").status_code == 404
