"""GET /api/kpi and /api/kpi.xlsx: token auth, community scope, bad periods, and the workbook's figures."""

from __future__ import annotations

from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from backend.services.api_tokens import issue_token
from bot.app import create_app
from tests.api.conftest import ADMIN
from tests.backend import kpi_world
from tests.backend.kpi_world import NOW
from tests.builders import build_world

PERIOD = {"start": "2026-11-02", "end": "2026-11-15"}


@pytest.fixture
def kpi_place(session, clock, settings):
    one = build_world(session, clock, settings, code="one")
    two = build_world(session, clock, settings, code="two")
    kpi_world.seed(session, one, two)
    clock.set(NOW)
    tokens = {login: issue_token(session, one.staff[login], clock, label="kpi")
              for login in ("manager", "cs-lead", "cs1", "eng-lead", "tech1")}
    session.commit()
    return {login: {"Authorization": f"Bearer {token}"} for login, token in tokens.items()}


@pytest.fixture
def client(settings, clock, session_factory):
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as c:
        yield c


def test_manager_sees_their_community(client, kpi_place) -> None:
    r = client.get("/api/kpi", params=PERIOD, headers=kpi_place["manager"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["communities"] == ["one"] and (body["first"], body["last"]) == ("2026-11-02", "2026-11-15")
    assert body["total"] == 10
    assert body["emergency"]["respond"] == {"on_time": 2, "late": 2, "pending": 0, "share": 0.5}
    assert body["other_resolve"]["share"] == 0.6
    assert (body["now"]["overdue"], body["now"]["escalated"]) == (3, 1)
    assert [a["met"] for a in body["satisfaction"]] == [False, False, True]
    assert [w["total"] for w in body["by_week"]] == [5, 5]
    # Naming their own community is the same; another's is 404, whether it exists or not.
    assert client.get("/api/kpi", params={**PERIOD, "community": "one"}, headers=kpi_place["manager"]).json() == body
    for code in ("two", "nowhere"):
        assert client.get("/api/kpi", params={"community": code}, headers=kpi_place["manager"]).status_code == 404
        assert client.get("/api/kpi.xlsx", params={"community": code},
                          headers=kpi_place["manager"]).status_code == 404


@pytest.mark.parametrize(("login", "status"), [("manager", 200), ("cs-lead", 200), ("cs1", 403), ("eng-lead", 403),
                                               ("tech1", 403)])
def test_who_may_see_the_figures(client, kpi_place, login, status) -> None:
    assert client.get("/api/kpi", headers=kpi_place[login]).status_code == status
    assert client.get("/api/kpi.xlsx", headers=kpi_place[login]).status_code == status


def test_admin_sees_every_community_or_one(client, kpi_place) -> None:
    every = client.get("/api/kpi", params=PERIOD, headers=ADMIN).json()
    assert every["communities"] == ["one", "two"] and every["total"] == 12
    two = client.get("/api/kpi", params={**PERIOD, "community": "two"}, headers=ADMIN).json()
    assert two["communities"] == ["two"] and two["total"] == 2


def test_no_token_or_a_bad_one(client, kpi_place) -> None:
    assert client.get("/api/kpi").status_code == 401
    assert client.get("/api/kpi.xlsx", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("params", [
    {"start": "2026-11-15", "end": "2026-11-02"}, {"start": "2020-01-01", "end": "2026-11-02"},
    {"start": "yesterday"}, {"end": "2026-13-40"}, {"community": "x" * 40},
])
def test_bad_periods_are_refused_cleanly(client, kpi_place, params) -> None:
    r = client.get("/api/kpi", params=params, headers=kpi_place["manager"])
    assert r.status_code == 422, r.text


def test_default_period_is_the_last_four_weeks(client, kpi_place) -> None:
    body = client.get("/api/kpi", headers=kpi_place["manager"]).json()
    assert (body["first"], body["last"]) == ("2026-10-24", "2026-11-20")
    assert len(body["by_week"]) == 5  # 24 Oct is a Saturday: parts of five weeks


def test_xlsx_opens_and_holds_the_figures(client, kpi_place) -> None:
    r = client.get("/api/kpi.xlsx", params=PERIOD, headers=kpi_place["manager"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="kpi-one-2026-11-02-2026-11-15.xlsx"' in r.headers["content-disposition"]
    book = load_workbook(BytesIO(r.content))
    assert book.sheetnames == ["概览 Summary", "紧急 Emergency", "分类 Categories", "当前 Now", "满意度 Satisfaction",
                               "工单量 Volume", "员工 Staff"]
    summary = {row[0]: row[1] for row in book["概览 Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["工单总数 Tickets"] == 10
    assert summary["紧急响应 ≤15 分钟"] == 0.5
    assert summary["已超时 Overdue"] == 3
    emergency = list(book["紧急 Emergency"].iter_rows(min_row=2, values_only=True))
    assert emergency[0][1:5] == (2, 2, 0, 0.5)
    assert ("紧急响应用时分布 Emergency response times", "≤5min", 1) in [row[:3] for row in emergency]
    cats = {row[1]: row for row in book["分类 Categories"].iter_rows(min_row=2, values_only=True)}
    assert cats["plumbing"][4:9] == (4, 2, 2, 0, 0.5)
    sat = list(book["满意度 Satisfaction"].iter_rows(min_row=2, values_only=True))
    assert sat[2] == ("社区文化及沟通 Community life and communication", 1, 1, 1.0, 0.9, "是")
    weeks = [row for row in book["工单量 Volume"].iter_rows(min_row=2, values_only=True) if row[0].startswith("按周")]
    assert [(w[1], w[2]) for w in weeks] == [("2026-11-02", 5), ("2026-11-09", 5)]
    staff = {row[1]: row for row in book["员工 Staff"].iter_rows(min_row=2, values_only=True)}
    assert staff["tech2"][4:8] == (4, 3, 1, 10.75)
    assert [row[1] for row in book["当前 Now"].iter_rows(min_row=2, values_only=True)] == [4, 8, 9]
