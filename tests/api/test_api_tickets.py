"""Tickets through the API: the whole lifecycle, checked moves, atomic accept, filters."""

from __future__ import annotations

import threading

from tests.api.conftest import ADMIN


def new_ticket(client, place, who="cs", **overrides):
    body = {"kind": "repair", "category": "plumbing", "description": "厨房水管漏水",
            "household_id": place.household.id, "reporter_id": place.resident.id} | overrides
    response = client.post("/api/tickets", headers=place.auth(who), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_full_lifecycle_with_history(client, world):
    a = world.a
    ticket = new_ticket(client, a)
    tid = ticket["id"]
    assert ticket["status"] == "new" and ticket["number"] == 1
    assert ticket["location"] == "3-2-1502" and ticket["department"] == "engineering"
    assert ticket["reporter"] == {"id": a.resident.id, "name": "刘女士", "phone": "13812341502"}

    def move(who, action, **body):
        response = client.post(f"/api/tickets/{tid}/{action}", headers=a.auth(who), json=body or None)
        assert response.status_code in (200, 201), (action, response.text)
        return response.json()

    accepted = move("tech", "accept")
    assert accepted["status"] == "accepted"
    assert accepted["owner"]["id"] == accepted["assignee"]["id"] == a.staff["tech"].id
    transferred = move("tech", "transfer", to_staff_id=a.staff["tech2"].id, note="张师傅熟悉这栋楼")
    assert transferred["assignee"]["id"] == a.staff["tech2"].id
    assert transferred["owner"]["id"] == a.staff["tech"].id  # the first responsible person stays
    assert move("tech2", "start")["status"] == "in_progress"
    move("tech2", "notes", note="已更换阀门")
    move("tech2", "photos", url="https://media.example/valve.jpg")
    assert move("tech2", "resolve", note="修好了")["status"] == "resolved"
    closed = move("tech", "close", note="住户电话确认")
    assert closed["status"] == "closed" and closed["closed_at"]

    detail = client.get(f"/api/tickets/{tid}", headers=a.auth("manager")).json()
    history = [(e["action"], e["from_status"], e["to_status"]) for e in detail["events"]]
    assert history == [
        ("create", None, "new"),
        ("accept", "new", "accepted"),
        ("transfer", "accepted", "accepted"),
        ("start", "accepted", "in_progress"),
        ("note", "in_progress", "in_progress"),
        ("photo", "in_progress", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"),
    ]
    assert detail["events"][2]["note"] == "张师傅熟悉这栋楼"
    assert detail["events"][3]["actor"]["name"] == "张师傅"
    assert [att["url"] for att in detail["attachments"]] == ["https://media.example/valve.jpg"]


def test_illegal_move_is_409_with_a_clear_chinese_message(client, world):
    ticket = new_ticket(client, world.a)
    response = client.post(f"/api/tickets/{ticket['id']}/close", headers=world.a.auth("manager"), json={})
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "error.illegal_move"
    assert body["message"] == "工单 #1 当前状态为「待受理」，不能关闭。"
    assert body["message_en"].startswith("Ticket #1 is new")


def test_moves_need_a_staff_token_and_the_right_person(client, world):
    a = world.a
    ticket = new_ticket(client, a)
    admin = client.post(f"/api/tickets/{ticket['id']}/accept", headers=ADMIN)
    assert admin.status_code == 403 and admin.json()["error"] == "api.staff_only"
    client.post(f"/api/tickets/{ticket['id']}/accept", headers=a.auth("tech"))
    # only the assignee starts the work
    response = client.post(f"/api/tickets/{ticket['id']}/start", headers=a.auth("tech2"))
    assert response.status_code == 403 and "权限" in response.json()["message"]


def test_concurrent_accepts_exactly_one_wins(client, world):
    a = world.a
    tid = new_ticket(client, a)["id"]
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def press(who):
        barrier.wait()
        results[who] = client.post(f"/api/tickets/{tid}/accept", headers=a.auth(who))

    threads = [threading.Thread(target=press, args=(who,)) for who in ("tech", "tech2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: r.text for k, r in results.items()}
    winner = next(k for k, r in results.items() if r.status_code == 200)
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json()["error"] == "error.already_taken"
    assert a.staff[winner].name in loser.json()["message"]
    assert loser.json()["staff_id"] == a.staff[winner].id
    detail = client.get(f"/api/tickets/{tid}", headers=a.auth("manager")).json()
    assert [e["action"] for e in detail["events"]].count("accept") == 1


def test_admin_registers_tickets_for_a_named_community(client, world):
    b = world.b
    missing = client.post("/api/tickets", headers=ADMIN, json={"kind": "inquiry", "description": "物业费怎么交"})
    assert missing.status_code == 422
    made = client.post("/api/tickets?community=b", headers=ADMIN, json={
        "kind": "inquiry", "description": "物业费怎么交", "reporter_id": b.resident.id})
    assert made.status_code == 201, made.text
    assert made.json()["community_id"] == b.community.id
    assert made.json()["events"][0]["actor_type"] == "system"


def test_anonymous_reporter_is_hidden(client, world):
    ticket = new_ticket(client, world.a, kind="complaint", category="noise", description="楼上半夜装修",
                        anonymous=True)
    assert ticket["reporter"] is None


def test_list_filters_and_pagination(client, world, clock):
    a = world.a
    first = new_ticket(client, a)
    second = new_ticket(client, a, kind="complaint", category="noise", description="广场舞太吵")
    new_ticket(client, a, kind="inquiry", category="inquiry", description="停车卡怎么办")
    client.post(f"/api/tickets/{first['id']}/accept", headers=a.auth("tech"))
    auth = a.auth("tech")

    def numbers(query):
        response = client.get(f"/api/tickets{query}", headers=auth)
        assert response.status_code == 200, response.text
        return [t["number"] for t in response.json()["items"]]

    assert numbers("") == [3, 2, 1]
    assert numbers("?status=accepted") == [1]
    assert numbers("?kind=complaint") == [2]
    assert numbers("?department=security") == [second["number"]]
    assert numbers("?mine=true") == [1]
    assert numbers("?overdue=true") == []
    clock.advance(hours=2)  # past the 30/60-minute response deadlines of the unaccepted ones
    assert numbers("?overdue=true") == [3, 2]
    page = client.get("/api/tickets?limit=2&offset=2", headers=auth).json()
    assert page["total"] == 3 and [t["number"] for t in page["items"]] == [1]
    assert page["limit"] == 2 and page["offset"] == 2
    assert client.get("/api/tickets?mine=true", headers=ADMIN).status_code == 403
