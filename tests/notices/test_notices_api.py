"""REST: compose, list, read, cancel, preview, the delivery report and its CSV/XLSX, with roles and communities."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from backend.models import Notice, NoticeDelivery
from tests.notices.conftest import ADMIN

BODY = {"title": "停水通知", "body": "明天 9:00-17:00 1栋停水。", "category": "outage", "audience": {"buildings": ["1"]}}
SENDERS = {"manager", "cs-lead", "cs1"}
READERS = SENDERS | {"eng-lead", "sec-lead"}


@pytest.mark.parametrize("login", ["manager", "cs-lead", "cs1", "eng-lead", "tech1", "sec-lead", "guard1"])
def test_who_may_send_and_read(client, nw, login):
    created = client.post("/api/notices", headers=nw.auth(login), json=BODY)
    assert created.status_code == (201 if login in SENDERS else 403), created.text
    listed = client.get("/api/notices", headers=nw.auth(login))
    assert listed.status_code == (200 if login in READERS else 403)


def test_compose_list_get_cancel(client, nw, session_factory, clock):
    when = (clock.now() + timedelta(hours=3)).isoformat() + "+00:00"
    created = client.post("/api/notices", headers=nw.auth("cs1"), json={**BODY, "urgent": True, "scheduled_at": when})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "scheduled" and body["urgent"] and body["created_by"] == nw.world.staff["cs1"].id
    assert body["preview"]["residents"] == 3 and body["preview"]["unreachable"] == {"blocked": 1}
    assert body["scheduled_at"].startswith((clock.now() + timedelta(hours=3)).isoformat())
    listed = client.get("/api/notices", headers=nw.auth("manager")).json()
    assert [n["id"] for n in listed["items"]] == [body["id"]] and listed["total"] == 1
    assert client.get(f"/api/notices/{body['id']}", headers=nw.auth("eng-lead")).json()["title"] == "停水通知"
    cancelled = client.post(f"/api/notices/{body['id']}/cancel", headers=nw.auth("cs-lead"))
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/notices/{body['id']}/cancel", headers=nw.auth("cs-lead"))
    assert again.status_code == 409 and "不能取消" in again.text


def test_the_answer_says_what_wechat_residents_get_and_links_the_page(client, nw, session_factory, settings):
    short = client.post("/api/notices", headers=nw.auth("cs1"), json=BODY).json()
    assert short["wechat_parts"] == 1 and short["wechat"]["inside_window"] == "one_message"
    assert short["wechat"]["outside_window"] == "unreachable"  # no template message configured
    with session_factory() as s:
        token = s.get(Notice, short["id"]).page_token
    assert short["page_url"] == f"http://127.0.0.1:8000/n/{token}"
    assert client.get(f"/api/notices/{short['id']}", headers=nw.auth("cs1")).json()["page_url"] == short["page_url"]
    settings.wechat_templates = {"notice": "TPL"}
    long = client.post("/api/notices", headers=nw.auth("cs1"), json={**BODY, "body": "停水。\n" * 500}).json()
    assert long["wechat_parts"] == 3 and long["wechat"]["inside_window"] == "parts"
    assert long["wechat"]["outside_window"] == "template_link"
    assert "分 3 条收到" in long["wechat"]["description"] and "template message" in long["wechat"]["description_en"]


def test_another_communitys_notice_is_404(client, nw):
    notice_id = client.post("/api/notices", headers=nw.auth("cs1"), json=BODY).json()["id"]
    theirs = nw.auth("other-manager")
    for path in ("", "/deliveries", "/deliveries.csv", "/deliveries.xlsx"):
        assert client.get(f"/api/notices/{notice_id}{path}", headers=theirs).status_code == 404
    assert client.post(f"/api/notices/{notice_id}/cancel", headers=theirs).status_code == 404
    assert client.get("/api/notices", headers=theirs).json()["total"] == 0
    assert client.get(f"/api/notices/{notice_id}", headers=ADMIN).status_code == 200


@pytest.mark.parametrize(("change", "status", "says"), [
    ({"audience": {}}, 422, "请选择通知对象"),
    ({"audience": {"buildings": ["2"], "floors": [9]}}, 422, "没有匹配到任何人"),
    ({"audience": {"buildings": ["9"]}}, 422, "没有9栋"),
    ({"audience": {"buildings": "1"}}, 422, "buildings"),
    ({"body": "长" * 5000}, 422, "超过 Telegram"),
    ({"body": "长" * 30000}, 422, "body"),
    ({"scheduled_at": "2020-01-01T00:00:00Z"}, 422, "已经过去"),
    ({"category": "gossip"}, 422, "category"),
    ({"image": {"filename": "x.png", "data_base64": base64.b64encode(b"<svg/>").decode()}}, 422, "不是图片"),
    ({"image": {"filename": "x.png", "data_base64": "!!not base64!!"}}, 422, "base64"),
    ({"title": ""}, 422, "title"),
    ({"extra": 1}, 422, "extra"),
])
def test_bad_input_is_a_clean_4xx_and_nothing_is_stored(client, nw, session_factory, change, status, says):
    response = client.post("/api/notices", headers=nw.auth("manager"), json={**BODY, **change})
    assert response.status_code == status and says in response.text, response.text
    with session_factory() as s:
        assert s.query(Notice).count() == 0


def test_image_upload(client, nw, session_factory, settings):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = client.post("/api/notices", headers=nw.auth("manager"),
                           json={**BODY, "image": {"filename": "map.png", "data_base64": base64.b64encode(png).decode()}})
    assert response.status_code == 201 and response.json()["has_image"]
    with session_factory() as s:
        assert (settings.media_dir / s.get(Notice, response.json()["id"]).image_path).read_bytes() == png


def test_admin_names_the_community(client, nw):
    assert client.post("/api/notices", headers=ADMIN, json=BODY).status_code == 422
    assert client.post("/api/notices", headers=ADMIN, params={"community": "t1"}, json=BODY).status_code == 201
    assert client.post("/api/notices", headers=ADMIN, params={"community": "nope"}, json=BODY).status_code == 404


def test_preview(client, nw):
    got = client.get("/api/notices/preview", headers=nw.auth("cs1"),
                     params={"audience": json.dumps({"community": True, "groups": True}), "category": "tip"})
    assert got.json() == {"residents": 5, "muted": 0, "reachable": 2, "by_channel": {"telegram": 1, "web": 1,
                                                                                      "wechat": 1},
                          "unreachable": {"never_bound": 2, "blocked": 1}, "unreachable_total": 3, "staff": 0,
                          "groups": {"telegram": 1}}
    assert client.get("/api/notices/preview", headers=nw.auth("cs1"),
                      params={"audience": "{not json"}).status_code == 422
    assert client.get("/api/notices/preview", headers=nw.auth("tech1"),
                      params={"audience": "{}"}).status_code == 403


def test_deliveries_report_and_exports(client, nw, session_factory, clock):
    notice_id = client.post("/api/notices", headers=nw.auth("cs1"), json=BODY).json()["id"]
    with session_factory() as s:
        now = clock.now()
        s.add(NoticeDelivery(notice_id=notice_id, resident_id=nw.rid("1"), channel="wechat", chat_id="wx-1",
                             status="sent", via="template", next_attempt_at=now, sent_at=now, acked_at=now))
        s.add(NoticeDelivery(notice_id=notice_id, resident_id=nw.rid("六楼"), channel="none",
                             chat_id=f"resident:{nw.rid('六楼')}", status="unreachable", error="blocked",
                             next_attempt_at=now))
        s.commit()
    report = client.get(f"/api/notices/{notice_id}/deliveries", headers=nw.auth("eng-lead")).json()
    assert report["summary"]["residents_reached"] == 1 and report["summary"]["acknowledged"] == 1
    assert report["summary"]["reasons"] == {"blocked": 1} and report["total"] == 2
    assert [(r["name"], r["status"]) for r in report["items"]] == [("住户1", "sent"), ("六楼", "unreachable")]
    assert [(r["name"], r["place"], r["error"]) for r in report["not_reached"]] == [("六楼", "1-2-0601", "blocked")]
    csv_response = client.get(f"/api/notices/{notice_id}/deliveries.csv", headers=nw.auth("cs1"))
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "六楼" in csv_response.content.decode("utf-8-sig")
    xlsx = client.get(f"/api/notices/{notice_id}/deliveries.xlsx", headers=nw.auth("cs1"))
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.max_row == 3
    assert client.get(f"/api/notices/{notice_id}/deliveries.csv", headers=nw.auth("tech1")).status_code == 403


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-05:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+01:00"])
def test_times_out_of_range_are_422(client, nw, when):
    response = client.post("/api/notices", headers=nw.auth("manager"), json={**BODY, "scheduled_at": when})
    assert response.status_code == 422, response.text
