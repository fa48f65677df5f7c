"""The web chat API's contract: shapes, validation, cursors, tokens outside demo mode, /media; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.models import ChannelMessage, ChatIdentity
from backend.services.demo import seed_demo
from bot.app import create_app
from bot.webchat.identity import sign
from nlu import load_nlu

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


@pytest.fixture(scope="session")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def demo_mode(settings) -> bool:
    return True


@pytest.fixture
def client(settings, clock, session_factory, nlu, demo_mode) -> Iterator[TestClient]:
    settings.run_worker_in_app = False  # deliveries happen when a test says so
    settings.demo_mode = demo_mode
    with session_factory() as s:
        seed_demo(s, settings, clock)
        s.commit()
    app = create_app(settings, clock=clock, session_factory=session_factory, nlu=nlu)
    with TestClient(app) as c:
        yield c


def _push(session_factory, chat_id: str, text: str, channel: str = "web") -> int:
    with session_factory() as s:
        row = ChannelMessage(channel=channel, chat_id=chat_id, pushed=True, created_at=datetime(2026, 12, 1),
                             body={"text": text, "buttons": [], "image_url": None})
        s.add(row)
        s.commit()
        return row.id


def test_post_returns_replies_with_buttons(client):
    r = client.post("/api/webchat/messages", json={"user": "u-web1", "text": "你好"})
    assert r.status_code == 200
    replies = r.json()["replies"]
    assert any("欢迎使用和谐家园" in m["text"] for m in replies)
    assert all(set(m) == {"text", "buttons", "image_url"} for m in replies)
    assert {"title": "🔧 报修", "payload": "m:repair"} in [b for m in replies for b in m["buttons"]]
    r = client.post("/api/webchat/messages", json={"user": "u-web1", "payload": "m:repair"})
    assert "哪里坏了" in r.json()["replies"][0]["text"]


def test_overlong_text_is_cut_not_refused(client, settings):
    r = client.post("/api/webchat/messages", json={"user": "u-long", "text": "哈" * (settings.max_message_chars * 3)})
    assert r.status_code == 200 and r.json()["replies"]


@pytest.mark.parametrize("body", [
    {"user": "u-1"},  # neither
    {"user": "u-1", "text": "你好", "payload": "m:repair"},  # both
    {"user": "u-1", "text": ""},
    {"user": "", "text": "你好"},
    {"user": "x" * 65, "text": "你好"},
    {"user": "u 1", "text": "你好"},
    {"user": "用户", "text": "你好"},
    {"user": "u-1", "text": 42},
    {"user": "u-1", "payload": "p" * 1000},
    {"text": "你好"},
    [],
])
def test_bad_bodies_are_422_json(client, body):
    r = client.post("/api/webchat/messages", json=body)
    assert r.status_code == 422
    assert r.json()["error"] == "api.validation" and r.json()["message"]


def test_not_json_and_huge_bodies(client):
    r = client.post("/api/webchat/messages", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "api.validation"
    r = client.post("/api/webchat/messages", content=b"x" * (2 * 1024 * 1024),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "api.body_too_large"


def test_forged_button_answers_politely(client):
    r = client.post("/api/webchat/messages", json={"user": "u-2", "payload": "zz:gone:999999"})
    assert r.status_code == 200 and "失效" in r.json()["replies"][0]["text"]


def test_cursor_returns_each_pushed_message_once_and_in_order(client, session_factory):
    first = client.get("/api/webchat/messages", params={"user": "u-c"})
    assert first.json() == {"messages": [], "cursor": "0"}
    ids = [_push(session_factory, "u-c", f"通知{i}") for i in range(3)]
    _push(session_factory, "u-other", "别人的")
    _push(session_factory, "u-c", "终端的", channel="terminal")
    page = client.get("/api/webchat/messages", params={"user": "u-c", "after": "0"}).json()
    assert [m["text"] for m in page["messages"]] == ["通知0", "通知1", "通知2"]
    assert page["cursor"] == str(ids[-1])
    again = client.get("/api/webchat/messages", params={"user": "u-c", "after": page["cursor"]}).json()
    assert again == {"messages": [], "cursor": page["cursor"]}  # nothing twice
    _push(session_factory, "u-c", "通知3")
    later = client.get("/api/webchat/messages", params={"user": "u-c", "after": page["cursor"]}).json()
    assert [m["text"] for m in later["messages"]] == ["通知3"]  # nothing lost
    middle = client.get("/api/webchat/messages", params={"user": "u-c", "after": str(ids[0])}).json()
    assert [m["text"] for m in middle["messages"]] == ["通知1", "通知2", "通知3"]


def test_many_pushed_messages_come_in_pages(client, session_factory):
    for i in range(130):
        _push(session_factory, "u-many", f"n{i}")
    seen, cursor = [], "0"
    while True:
        page = client.get("/api/webchat/messages", params={"user": "u-many", "after": cursor}).json()
        if not page["messages"]:
            break
        seen += [m["text"] for m in page["messages"]]
        cursor = page["cursor"]
    assert seen == [f"n{i}" for i in range(130)]


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "9" * 40, "１２"])
def test_garbled_cursor_is_422_json(client, after):
    r = client.get("/api/webchat/messages", params={"user": "u-c", "after": after})
    assert r.status_code == 422 and r.json()["error"] == "api.validation"


def test_get_needs_a_valid_user(client):
    assert client.get("/api/webchat/messages").status_code == 422
    assert client.get("/api/webchat/messages", params={"user": "a b"}).status_code == 422


def test_demo_staff_ids_are_staff(client, session_factory):
    r = client.post("/api/webchat/messages", json={"user": "staff:tech1", "text": "你好"})
    assert r.status_code == 200
    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "staff:tech1"))
        assert identity.staff_id is not None and identity.resident_id is None


def test_demo_session_lists_the_people_the_page_switches_between(client):
    people = client.get("/api/webchat/session").json()["people"]
    assert [p["user"] for p in people] == ["resident:3-2-1502", "resident:6-1-0801", None, "staff:cs1",
                                           "staff:tech1", "staff:guard1", "staff:manager"]
    assert [p["kind"] for p in people] == ["resident", "resident", "visitor"] + ["staff"] * 4
    assert people[1]["label"] == "住户 林志强 6-1-0801（欠物业费）" and "owes fees" in people[1]["label_en"]
    assert people[3]["label"] == "客服部 张敏（cs1）"


def test_a_task_card_waits_in_the_chat_of_staff_who_never_wrote(client, settings, session_factory, clock):
    from bot.worker import Worker

    r = client.post("/api/webchat/messages", json={"user": "resident:3-2-1502", "text": "厨房水管漏水了"})
    assert "工单号" in r.json()["replies"][0]["text"]  # bound from the start: no questions about the home
    Worker(session_factory, clock, settings).run_once()
    pushed = client.get("/api/webchat/messages", params={"user": "staff:cs1"}).json()["messages"]
    card = next(m for m in pushed if "首问负责人" in m["text"])  # cs1 is the steward of building 3
    assert "3-2-1502" in card["text"] and any("接单" in b["title"] for b in card["buttons"])
    r = client.post("/api/webchat/messages", json={"user": "staff:cs1", "payload": card["buttons"][0]["payload"]})
    assert any("已接单" in m["text"] for m in r.json()["replies"]), r.json()  # staff:cs1 is cs1


def test_media_serves_files_under_media_dir_only(client, settings, tmp_path):
    photos = settings.media_dir / "tg"
    photos.mkdir(parents=True)
    (photos / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    qr = settings.media_dir / "qr"  # gate-pass images named by their code: never served
    qr.mkdir(parents=True)
    (qr / "123456.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "secret.txt").write_text("no")
    r = client.get("/media/tg/a.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    for path in ("/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/qr/..%2f..%2fsecret.txt",
                 "/media/qr/missing.png", "/media/qr", "/media/", "/media//etc/passwd", "/media/qr/123456.png",
                 "/media/tg/../qr/123456.png", "/media/./qr/123456.png", "/media/pass/123456.png"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.text != "no"


def test_chat_page_and_assets(client):
    page = client.get("/chat")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/chat/static/chat.js" in page.text and "发送" in page.text
    assert client.get("/chat/static/chat.js").status_code == 200
    assert client.get("/chat/static/chat.css").status_code == 200
    assert client.get("/chat/static/../../app.py").status_code == 404


# ---- outside demo mode: ids come from the server, signed ---------------------------------------------------

@pytest.mark.parametrize("demo_mode", [False])
def test_outside_demo_ids_need_the_servers_token(client, settings):
    body = {"user": "u-mallory", "text": "你好"}
    assert client.post("/api/webchat/messages", json=body).status_code == 403
    bad = {"Authorization": "Bearer " + sign(settings, "someone-else")}
    r = client.post("/api/webchat/messages", json=body, headers=bad)
    assert r.status_code == 403 and r.json()["error"] == "webchat.forbidden"
    assert client.get("/api/webchat/messages", params={"user": "u-mallory"}).status_code == 403

    session = client.get("/api/webchat/session").json()
    assert session["user"].startswith("w-") and session["demo"] is False and session["people"] == []
    me = session["user"]
    # the page: the HttpOnly cookie the session call set
    r = client.post("/api/webchat/messages", json={"user": me, "text": "你好"})
    assert r.status_code == 200 and r.json()["replies"]
    assert client.get("/api/webchat/messages", params={"user": me}).status_code == 200
    # another client: the bearer token
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {session['token']}"}
    assert client.post("/api/webchat/messages", json={"user": me, "text": "你好"}, headers=auth).status_code == 200
    assert client.post("/api/webchat/messages", json={"user": "u-mallory", "text": "你好"},
                       headers=auth).status_code == 403  # a token is for its own id only


@pytest.mark.parametrize("demo_mode", [False])
def test_session_is_kept_by_its_cookie_and_renewed_when_forged(client):
    first = client.get("/api/webchat/session").json()
    assert client.get("/api/webchat/session").json()["user"] == first["user"]
    client.cookies.clear()
    client.cookies.set("guanjia_webchat_user", "w-forged")
    client.cookies.set("guanjia_webchat", first["token"])
    renewed = client.get("/api/webchat/session").json()
    assert renewed["user"] not in (first["user"], "w-forged")


@pytest.mark.parametrize("demo_mode", [False])
def test_outside_demo_only_issued_ids_speak_never_the_demos_chats(client, settings, session_factory, clock):
    settings.demo_mode = True
    with session_factory() as s:  # a database once seeded in demo mode holds staff:cs1's chat
        seed_demo(s, settings, clock)
        s.commit()
    settings.demo_mode = False
    for user in ("staff:cs1", "resident:3-2-1502", "u-demo"):
        auth = {"Authorization": "Bearer " + sign(settings, user)}  # even with a valid signature
        r = client.post("/api/webchat/messages", json={"user": user, "text": "我的任务"}, headers=auth)
        assert r.status_code == 403 and r.json()["error"] == "webchat.forbidden"
        assert client.get("/api/webchat/messages", params={"user": user}, headers=auth).status_code == 403
    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "u-demo"))
        assert identity is None


def _tickets(session_factory) -> int:
    from sqlalchemy import func

    from backend.models import Ticket
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_a_resent_message_id_is_handled_once_and_answers_the_same(client, session_factory):
    """A client that lost the answer resends with the same message_id: one turn, one ticket, same replies."""
    from backend.services.demo import web_resident_id
    user, text = web_resident_id("3-2-1502"), "家里厨房水管漏水了，地上都是水"  # a bound demo resident
    before = _tickets(session_factory)
    first = client.post("/api/webchat/messages", json={"user": user, "text": text, "message_id": "m1"})
    assert first.status_code == 200
    tickets = _tickets(session_factory)
    assert tickets == before + 1, first.json()  # an emergency-grade leak is filed at once
    again = client.post("/api/webchat/messages", json={"user": user, "text": text, "message_id": "m1"})
    assert again.json() == first.json()
    assert _tickets(session_factory) == tickets
    # The same id from another user is another message; a new id from the same user is a new turn.
    other = client.post("/api/webchat/messages", json={"user": "u-web-once", "text": "你好", "message_id": "m1"})
    assert other.status_code == 200 and other.json() != first.json()
    fresh = client.post("/api/webchat/messages", json={"user": user, "text": "查询进度", "message_id": "m2"})
    assert fresh.json() != first.json()


@pytest.mark.parametrize("message_id", ["", "x" * 65, "有中文", "a b", "../x"])
def test_bad_message_ids_are_422(client, message_id):
    r = client.post("/api/webchat/messages", json={"user": "u-web1", "text": "你好", "message_id": message_id})
    assert r.status_code == 422
