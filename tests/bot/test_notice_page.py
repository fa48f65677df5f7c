"""GET /n/<token>: a notice's public page (what WeChat template messages link to), only while it is live."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from backend.db import transaction
from backend.models import Notice
from backend.services import notices
from bot.app import create_app
from tests.bot import broadcast_setup as bs

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BODY = "今晚 22:00 起停水。\n<script>alert('x')</script>\n请提前储水 & 关好水龙头。"


@pytest.fixture
def client(settings, clock, session_factory) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as c:
        yield c


def _notice(session_factory, clock, settings, **changes) -> Notice:
    now = clock.now()
    with transaction(session_factory) as s:
        place = bs.community(s, now, code=f"p-{secrets.token_hex(4)}")
        note = bs.notice(s, place, now, title="<b>停水</b>通知", body=BODY, urgent=True)
        note.expires_at = now + timedelta(days=1)
        for key, value in changes.items():
            setattr(note, key, value)
        if changes.get("image_path"):
            target = settings.media_dir / note.image_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(PNG)
        s.flush()
        s.expunge(note)
        return note


def test_the_page_shows_the_whole_notice_escaped_with_its_line_breaks(client, session_factory, clock, settings):
    note = _notice(session_factory, clock, settings, image_path="notices/kR3x9-secret-name.png")
    page = client.get(f"/n/{note.page_token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;停水&lt;/b&gt;通知" in html and "<b>停水" not in html
    assert "今晚 22:00 起停水。\n&lt;script&gt;" in html and "请提前储水 &amp; 关好水龙头。" in html  # lines kept
    assert "white-space: pre-wrap" in html
    assert "停水停电/设施维护" in html and "紧急" in html and "有效期至：2026-12-02 17:00" in html  # Shanghai time
    assert "广播小区 物业服务中心" in html
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy  # no script may run at all
    assert page.headers["cache-control"] == "no-store"
    # The image goes under the page's token, not under its file name.
    assert f'src="/n/{note.page_token}/image"' in html and "kR3x9-secret-name" not in html
    image = client.get(f"/n/{note.page_token}/image")
    assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"


def test_cancelled_expired_unknown_and_unpublished_notices_get_a_clean_page(client, session_factory, clock,
                                                                            settings):
    note = _notice(session_factory, clock, settings, image_path="notices/another-secret.png")
    assert client.get(f"/n/{note.page_token}").status_code == 200
    with transaction(session_factory) as s:
        notices.cancel(s, clock, s.get(Notice, note.id))
    gone = client.get(f"/n/{note.page_token}")
    assert gone.status_code == 410 and "这条通知已撤回" in gone.text and "withdrawn" in gone.text
    assert BODY.splitlines()[0] not in gone.text
    assert client.get(f"/n/{note.page_token}/image").status_code == 404

    live = _notice(session_factory, clock, settings, status="sent")
    clock.advance(days=1)
    expired = client.get(f"/n/{live.page_token}")
    assert expired.status_code == 410 and "已过期" in expired.text and "2026-12-02 17:00" in expired.text

    later = _notice(session_factory, clock, settings, scheduled_at=clock.now() + timedelta(hours=2),
                    expires_at=None)
    assert client.get(f"/n/{later.page_token}").status_code == 404  # not published yet
    for path in ("/n/" + "x" * 32, "/n/short", "/n/" + "y" * 200, "/n/%2e%2e%2f%2e%2e%2fetc",
                 f"/n/{later.page_token}/image", "/n/" + "z" * 32 + "/image"):
        answer = client.get(path)
        assert answer.status_code == 404, path
    unknown = client.get("/n/" + "x" * 32)
    assert "找不到这条通知" in unknown.text and unknown.headers["content-type"].startswith("text/html")
