"""REST: events (create pushes an invitation, edit, cancel, attendees CSV/XLSX, check-in) and bills/payments."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from backend.models import Bill, Notice, Resident
from backend.services import audience, events


def _future(clock, **kw) -> str:
    return (clock.now() + timedelta(**kw)).isoformat() + "+00:00"


def test_event_lifecycle_over_rest(client, world, clock, session_factory):
    a = world.a
    body = {"title": "义诊", "starts_at": _future(clock, days=3), "location": "服务中心", "capacity": 1,
            "signup_deadline": _future(clock, days=2), "household_limit": 1, "fee": "0",
            "audience": {"buildings": ["3"]}}
    assert client.post("/api/events", json=body, headers=a.auth("tech")).status_code == 403
    created = client.post("/api/events", json=body, headers=a.auth("manager"))
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["notice_id"] and event["audience"] == {"buildings": ["3"]} and event["status"] == "open"
    with session_factory() as s, s.begin():
        notice = s.get(Notice, event["notice_id"])
        assert (notice.kind, notice.event_id, notice.status) == ("invitation", event["id"], "scheduled")
        signup = events.sign_up(s, clock, s.get(Resident, a.resident.id), event["id"])
        code = signup.checkin_code
    # another community's staff see nothing of it
    assert client.get(f"/api/events/{event['id']}", headers=world.b.auth("manager")).status_code == 404
    assert client.post("/api/events", json={**body, "audience": {"buildings": ["99"]}},
                       headers=a.auth("manager")).status_code == 422
    assert client.post("/api/events", json={**body, "starts_at": _future(clock, days=-1)},
                       headers=a.auth("manager")).status_code == 422
    changed = client.patch(f"/api/events/{event['id']}", json={"location": "会所二楼"}, headers=a.auth("manager"))
    assert changed.status_code == 200 and changed.json()["notice_id"] and changed.json()["signed"] == 1

    listed = client.get(f"/api/events/{event['id']}/attendees", headers=a.auth("manager")).json()
    assert [(r["name"], r["code"]) for r in listed] == [("刘女士", code)]
    csv_file = client.get(f"/api/events/{event['id']}/attendees?format=csv", headers=a.auth("manager"))
    assert csv_file.headers["content-type"].startswith("text/csv") and "刘女士" in csv_file.content.decode()
    xlsx = client.get(f"/api/events/{event['id']}/attendees?format=xlsx", headers=a.auth("manager"))
    assert load_workbook(io.BytesIO(xlsx.content)).active["B2"].value == "刘女士"
    assert client.get(f"/api/events/{event['id']}/attendees", headers=a.auth("tech")).status_code == 403

    clock.advance(days=3, minutes=-10)
    assert client.post("/api/events/checkin", json={"code": code}, headers=a.auth("tech")).status_code == 403
    done = client.post("/api/events/checkin", json={"code": code}, headers=a.auth("cs"))
    assert done.status_code == 200 and done.json()["household"] == "3-2-1502"
    again = client.post("/api/events/checkin", json={"code": code}, headers=a.auth("cs"))
    assert again.status_code == 409 and "already checked in" in again.text
    assert client.post("/api/events/checkin", json={"code": code}, headers=world.b.auth("cs")).status_code == 404

    cancelled = client.post(f"/api/events/{event['id']}/cancel", json={"reason": "下雨"}, headers=a.auth("manager"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["notice_id"]
    assert client.post(f"/api/events/{event['id']}/cancel", json={}, headers=a.auth("manager")).status_code == 409


def test_change_and_cancel_tell_the_waiting_list_and_nobody_means_no_notice(client, world, clock, session_factory):
    a = world.a
    body = {"title": "茶话会", "starts_at": _future(clock, days=3), "capacity": 1}
    quiet = client.post("/api/events", json=body, headers=a.auth("manager")).json()
    moved = client.patch(f"/api/events/{quiet['id']}", json={"location": "会所"}, headers=a.auth("manager"))
    assert moved.status_code == 200 and moved.json()["notice_id"] is None  # nobody signed up or waiting
    gone = client.post(f"/api/events/{quiet['id']}/cancel", json={"reason": "下雨"}, headers=a.auth("manager"))
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled" and gone.json()["notice_id"] is None

    event = client.post("/api/events", json=body, headers=a.auth("manager")).json()
    with session_factory() as s, s.begin():  # a household of 2 for the 1 place: waiting, nobody signed up
        assert events.sign_up(s, clock, s.get(Resident, a.resident.id), event["id"], 2, wait=True).status == "waiting"
    moved = client.patch(f"/api/events/{event['id']}", json={"location": "会所"}, headers=a.auth("manager"))
    gone = client.post(f"/api/events/{event['id']}/cancel", json={"reason": "下雨"}, headers=a.auth("manager"))
    assert (moved.json()["signed"], moved.json()["waiting"]) == (0, 2)
    with session_factory() as s:
        for answer in (moved, gone):
            notice = s.get(Notice, answer.json()["notice_id"])
            assert notice.audience == {"event_id": event["id"], "waiting": True}
            assert audience.resident_ids(s, notice, 0, 10) == [a.resident.id]
        assert "候补登记随之作废" in s.get(Notice, gone.json()["notice_id"]).body


def test_bills_and_payments_over_rest(client, world, clock, session_factory):
    a = world.a
    bill = {"household_id": a.household.id, "fee_type": "property", "period": "2026-10", "amount": "275.80"}
    assert client.post("/api/bills", json=bill, headers=a.auth("cs")).status_code == 403
    assert client.post("/api/bills", json=bill, headers=world.b.auth("manager")).status_code == 404
    made = client.post("/api/bills", json=bill, headers=a.auth("manager"))
    assert made.status_code == 201 and made.json()["created"] is True
    assert client.post("/api/bills", json={**bill, "period": "2026-13"}, headers=a.auth("manager")).status_code == 422
    pay = {"household_id": a.household.id, "fee_type": "property", "period": "2026-10", "amount": "100",
           "reference": "W1", "method": "wechat_pay"}
    paid = client.post("/api/payments", json=pay, headers=a.auth("manager"))
    assert paid.status_code == 201 and paid.json()["bill_unpaid"] == "175.80"
    assert client.post("/api/payments", json=pay, headers=a.auth("manager")).status_code == 422  # known reference
    too_much = client.post("/api/payments", json={**pay, "reference": "W2", "amount": "500"},
                           headers=a.auth("manager"))
    assert too_much.status_code == 422 and "still owes" in too_much.text

    csv_text = "楼栋,单元,房号,费用类型,账期,金额\n3,2,1502,停车费,2026-11,300\n3,2,9999,水费,2026-11,12\n"
    preview = client.post("/api/bills/import?dry_run=true", content=csv_text.encode(),
                          headers={**a.auth("manager"), "content-type": "text/csv"})
    assert preview.status_code == 422 and preview.json()["errors"] == [
        {"line": 3, "message": "unknown household 3-2-9999"}]
    good = csv_text.splitlines()[:2]
    preview = client.post("/api/bills/import?dry_run=true", content="\n".join(good).encode(),
                          headers={**a.auth("manager"), "content-type": "text/csv"})
    assert preview.status_code == 200 and preview.json()["dry_run"] and preview.json()["created"] == {"bills": 1}
    with session_factory() as s:
        assert s.scalar(select(Bill).where(Bill.fee_type == "parking")) is None
    book = Workbook()
    book.active.append(["楼栋", "单元", "房号", "费用类型", "账期", "金额"])
    book.active.append(["3", "2", "1502", "停车费", "2026-11", 300])
    data = io.BytesIO()
    book.save(data)
    real = client.post("/api/bills/import", content=data.getvalue(), headers=a.auth("manager"))
    assert real.status_code == 200 and real.json()["created"] == {"bills": 1}, real.text
    payments = "楼栋,单元,房号,费用类型,账期,金额,流水号\n3,2,1502,停车费,2026-11,300,P9\n"
    done = client.post("/api/payments/import", content=payments.encode(),
                       headers={**a.auth("manager"), "content-type": "text/csv"})
    assert done.status_code == 200 and done.json()["created"] == {"payments": 1}
    assert client.post("/api/payments/import", content=b"", headers=a.auth("manager")).status_code == 422
    garbage = client.post("/api/bills/import?format=xlsx", content=b"PK\x03\x04garbage", headers=a.auth("manager"))
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["line"] == 1


def test_the_check_in_qr_lives_only_while_the_sign_up_does(client, world, clock, session_factory, settings):
    a = world.a
    starts = _future(clock, days=2)
    event = client.post("/api/events", json={"title": "茶话会", "starts_at": starts}, headers=a.auth("manager")).json()
    with session_factory() as s, s.begin():
        signup = events.sign_up(s, clock, s.get(Resident, a.resident.id), event["id"])
        events.write_qr(settings, signup)
        url, code = events.image_url(signup), signup.checkin_code
    assert url.startswith("/media/event/") and code not in url
    shown = client.get(url)
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert shown.content.startswith(b"\x89PNG")
    assert client.get("/media/event/not-a-token.png").status_code == 404
    client.post(f"/api/events/{event['id']}/cancel", json={}, headers=a.auth("manager"))
    assert client.get(url).status_code == 404
