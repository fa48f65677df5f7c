"""WeChat late replies that failed are retried by the worker (with backoff), not only logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.models import ChannelMessage
from bot.delivery import late_replies
from bot.wechat import quota
from bot.wechat.sender import WeChatSender
from tests.wechat import fake_wechat_api
from tests.wechat.conftest import configure_wechat


@pytest.fixture
def wechat():
    api, server = fake_wechat_api.start()
    yield api
    server.shutdown()
    server.server_close()


def _state(session_factory, row_id: int) -> str:
    with session_factory() as s:
        return s.scalar(select(ChannelMessage.external_id).where(ChannelMessage.id == row_id))


def test_an_undelivered_late_reply_is_retried_until_sent(session_factory, clock, settings, wechat):
    configure_wechat(settings, wechat.url)
    sender = WeChatSender(settings, session_factory, clock)
    with transaction(session_factory) as s:
        quota.open_window(s, "wechat", "o-late", "message", 5, 48 * 3600, clock.now())
        row = ChannelMessage(channel="wechat", chat_id="o-late", pushed=False, external_id="undelivered",
                             body={"text": "您的报修已受理", "buttons": [], "image_url": None}, created_at=clock.now())
        s.add(row)
        s.flush()
        row_id = row.id
    wechat.fail_once["/cgi-bin/message/custom/send"] = 45009  # the API quota is spent for now
    assert late_replies.retry_once(session_factory, {"wechat": sender}, now=1000.0) == 0
    tries, at = _state(session_factory, row_id).split(":")[1:]
    assert tries == "1" and int(at) >= 1000 + 60
    assert late_replies.retry_once(session_factory, {"wechat": sender}, now=1001.0) == 0  # not due yet
    assert late_replies.retry_once(session_factory, {"wechat": sender}, now=float(at)) == 1
    assert _state(session_factory, row_id) == "late:sent"
    sent = [c for c in wechat.to("/cgi-bin/message/custom/send") if c.body.get("touser") == "o-late"]
    assert len(sent) == 2 and sent[-1].body["text"]["content"] == "您的报修已受理"
    assert late_replies.retry_once(session_factory, {"wechat": sender}, now=float(at) + 999) == 0  # done


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_its_lease(session_factory, clock, settings, wechat):
    configure_wechat(settings, wechat.url)
    sender = WeChatSender(settings, session_factory, clock)
    with transaction(session_factory) as s:
        quota.open_window(s, "wechat", "o-dead", "message", 5, 48 * 3600, clock.now())
        row = ChannelMessage(channel="wechat", chat_id="o-dead", pushed=False, external_id="sending:1000:abc",
                             body={"text": "晚到的回复", "buttons": [], "image_url": None}, created_at=clock.now())
        s.add(row)
        s.flush()
        row_id = row.id
    assert late_replies.retry_once(session_factory, {"wechat": sender}, now=1010.0) == 0  # still its worker's
    assert late_replies.retry_once(session_factory, {"wechat": sender},
                                   now=1000.0 + late_replies.LEASE_SECONDS) == 1
    assert _state(session_factory, row_id) == "late:sent"
