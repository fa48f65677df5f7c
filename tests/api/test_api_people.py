"""Communities, staff and their tokens, records of households and residents, and who may see what."""

from __future__ import annotations

from tests.api.conftest import ADMIN


def test_admin_creates_a_community_with_default_categories(client, world):
    response = client.post("/api/communities", headers=ADMIN,
                           json={"code": "c", "name": "阳光花园", "hotline": "400-1"})
    assert response.status_code == 201, response.text
    assert response.json()["code"] == "c"
    assert response.json()["created_at"].endswith("+00:00")
    assert {c["code"] for c in client.get("/api/communities", headers=ADMIN).json()} == {"a", "b", "c"}
    # a new community can take tickets at once: its categories exist
    client.post("/api/staff?community=c", headers=ADMIN,
                json={"login": "m", "name": "周经理", "role": "manager", "department": "management"})
    staff_id = client.get("/api/staff?community=c", headers=ADMIN).json()["items"][0]["id"]
    token = client.post(f"/api/staff/{staff_id}/tokens", headers=ADMIN, json={}).json()["token"]
    ticket = client.post("/api/tickets", headers={"Authorization": f"Bearer {token}"},
                         json={"kind": "repair", "category": "lift", "description": "电梯异响"})
    assert ticket.status_code == 201, ticket.text


def test_only_admin_creates_communities_and_codes_are_unique(client, world):
    denied = client.post("/api/communities", headers=world.a.auth("manager"), json={"code": "x", "name": "X"})
    assert denied.status_code == 403 and denied.json()["error"] == "error.forbidden"
    clash = client.post("/api/communities", headers=ADMIN, json={"code": "a", "name": "又一个"})
    assert clash.status_code == 409 and clash.json()["message"]


def test_admin_must_name_the_community_for_new_records(client, world):
    response = client.post("/api/staff", headers=ADMIN,
                           json={"login": "x", "name": "某人", "role": "agent", "department": "security"})
    assert response.status_code == 422
    assert "community" in response.json()["message"]


def test_staff_token_flow(client, world):
    a = world.a
    # the manager adds a technician and issues a token for them
    created = client.post("/api/staff", headers=a.auth("manager"),
                          json={"login": "a-new", "name": "孙师傅", "role": "agent", "department": "engineering"})
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert created.json()["community_id"] == a.community.id
    issued = client.post(f"/api/staff/{new_id}/tokens", headers=a.auth("manager"), json={"label": "手机"})
    assert issued.status_code == 201
    token = issued.json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/staff/{new_id}", headers=mine).json()["name"] == "孙师傅"
    # a staff member may issue their own token, not a colleague's
    assert client.post(f"/api/staff/{new_id}/tokens", headers=mine, json={}).status_code == 201
    assert client.post(f"/api/staff/{a.staff['tech'].id}/tokens", headers=mine, json={}).status_code == 403
    # agents cannot add staff
    assert client.post("/api/staff", headers=mine, json={
        "login": "z", "name": "Z", "role": "agent", "department": "security"}).status_code == 403
    # no token hash ever leaves the API
    assert "token_hash" not in client.get(f"/api/staff/{new_id}", headers=mine).text
    # deactivated staff lose access at once
    off = client.patch(f"/api/staff/{new_id}", headers=a.auth("manager"), json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/tickets", headers=mine).status_code == 401


def test_other_communities_records_are_404_not_403(client, world):
    a, b = world.a, world.b
    ticket = client.post("/api/tickets", headers=b.auth("cs"), json={
        "kind": "repair", "category": "plumbing", "description": "漏水", "household_id": b.household.id})
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["id"]
    them = a.auth("manager")
    for path in (f"/api/tickets/{ticket_id}", f"/api/households/{b.household.id}",
                 f"/api/residents/{b.resident.id}", f"/api/buildings/{b.building.id}",
                 f"/api/staff/{b.staff['tech'].id}", "/api/communities/b", "/api/tickets?community=b"):
        response = client.get(path, headers=them)
        assert response.status_code == 404, path
        assert response.json()["error"] == "error.not_found"
    # nor can they change it, or point at it from their own records
    assert client.post(f"/api/tickets/{ticket_id}/accept", headers=a.auth("tech")).status_code == 404
    assert client.patch(f"/api/households/{b.household.id}", headers=them, json={"area_m2": "1"}).status_code == 404
    assert client.post(f"/api/staff/{b.staff['tech'].id}/tokens", headers=them, json={}).status_code == 404
    assert client.post("/api/residents", headers=them, json={
        "name": "冒名", "household_id": b.household.id}).status_code == 404
    assert client.post("/api/tickets", headers=them, json={
        "kind": "repair", "description": "x", "household_id": b.household.id}).status_code == 404
    # and their lists show only their own community
    listed = client.get("/api/residents", headers=them).json()
    assert [r["id"] for r in listed["items"]] == [a.resident.id]
    assert {t["community_id"] for t in client.get("/api/tickets", headers=ADMIN).json()["items"]} == {b.community.id}


def test_phones_are_masked_for_staff_who_do_not_need_them(client, world):
    a = world.a
    tech = client.get(f"/api/residents/{a.resident.id}", headers=a.auth("tech")).json()
    assert tech["phone"] == "138****1502" and tech["phone_masked"] is True
    cs = client.get(f"/api/residents/{a.resident.id}", headers=a.auth("cs")).json()
    assert cs["phone"] == "13812341502" and cs["phone_masked"] is False
    house_tech = client.get(f"/api/households/{a.household.id}", headers=a.auth("tech")).json()
    assert house_tech["phones"] == [{"phone": "138****1502", "holder_name": "业主"}]
    house_admin = client.get(f"/api/households/{a.household.id}", headers=ADMIN).json()
    assert house_admin["phones"][0]["phone"] == "13800001502"


def test_customer_service_keeps_household_and_resident_records(client, world):
    a = world.a
    cs = a.auth("cs")
    house = client.post("/api/households", headers=cs, json={
        "building_id": a.building.id, "unit": "1", "room": "0301", "floor": 3, "area_m2": "76.20",
        "phones": [{"phone": "13900000301", "holder_name": "周先生"}]})
    assert house.status_code == 201, house.text
    assert house.json()["label"] == "3-1-0301"
    hid = house.json()["id"]
    changed = client.patch(f"/api/households/{hid}", headers=cs, json={
        "area_m2": "80.00", "phones": [{"phone": "13900000301", "holder_name": "周先生"},
                                       {"phone": "13900000302"}]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["area_m2"] == "80.00"
    assert [p["phone"] for p in changed.json()["phones"]] == ["13900000301", "13900000302"]
    resident = client.post("/api/residents", headers=cs, json={
        "name": "周先生", "phone": "13900000301", "household_id": hid, "relation": "owner"})
    assert resident.status_code == 201, resident.text
    moved = client.patch(f"/api/residents/{resident.json()['id']}", headers=cs, json={"language": "en"})
    assert moved.json()["language"] == "en"
    # an engineering technician reads records but does not keep them
    assert client.patch(f"/api/households/{hid}", headers=a.auth("tech"), json={"area_m2": "1"}).status_code == 403
    listed = client.get(f"/api/households?building_id={a.building.id}", headers=a.auth("tech")).json()
    assert listed["total"] == 2
