"""Official-account callbacks end to end: real signatures and AES, the real NLU and conversation, the fake API."""

from __future__ import annotations

import hashlib
import threading
import time

from sqlalchemy import event, select

from backend.models import ChannelQuota, ChatIdentity, ProcessedUpdate, Ticket
from tests.wechat.conftest import MP_TOKEN, OPENID, now_ts, text_xml, wait_for, xml_of


def _tickets(session_factory) -> list[Ticket]:
    with session_factory() as s:
        return list(s.scalars(select(Ticket)))


def test_url_check_echoes_only_for_our_signature(client, clock):
    ts, nonce = now_ts(clock), "abc"
    good = hashlib.sha1("".join(sorted([MP_TOKEN, ts, nonce])).encode()).hexdigest()
    r = client.get("/wechat/mp", params={"signature": good, "timestamp": ts, "nonce": nonce, "echostr": "e123"})
    assert r.status_code == 200 and r.text == "e123"
    r = client.get("/wechat/mp", params={"signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": "e"})
    assert r.status_code == 403


def test_repair_by_text_in_safe_mode(mp, session_factory, fake_api):
    reply = mp.say("5号楼电梯按钮坏了", "2001")
    assert "工单号" in reply and "5号楼电梯" in reply
    [ticket] = _tickets(session_factory)
    assert ticket.category.code == "lift" if hasattr(ticket, "category") and ticket.category else True
    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.channel == "wechat"))
        assert identity.external_id == OPENID
        window = s.scalar(select(ChannelQuota).where(ChannelQuota.recipient == OPENID))
        assert window.window == "message" and window.remaining == 5
    assert not fake_api.to("/cgi-bin/message/custom/send")  # answered passively


def test_repair_by_voice_uses_the_recognition_text(mp, session_factory):
    xml = xml_of({"ToUserName": "gh_demo", "FromUserName": OPENID, "CreateTime": "1700000001", "MsgType": "voice",
                  "MediaId": "voice_media_1", "Format": "amr", "Recognition": "5号楼电梯按钮坏了", "MsgId": "2002"})
    reply = mp.decrypt(mp.post(xml))
    assert "工单号" in reply
    assert len(_tickets(session_factory)) == 1


def test_retry_storm_makes_one_ticket_and_one_reply(mp, session_factory, fake_api):
    xml = text_xml("5号楼电梯按钮坏了", "3001")
    replies = [mp.decrypt(mp.post(xml)) for _ in range(3)]
    assert "工单号" in replies[0] and replies[0] == replies[1] == replies[2]  # the retry gets the same passive reply
    assert len(_tickets(session_factory)) == 1
    with session_factory() as s:
        assert len(list(s.scalars(select(ProcessedUpdate).where(ProcessedUpdate.channel == "wechat")))) == 1
    assert not fake_api.to("/cgi-bin/message/custom/send")


class SlowNlu:
    def __init__(self, nlu, seconds: float) -> None:
        self.nlu, self.seconds = nlu, seconds

    def parse(self, *args, **kwargs):
        time.sleep(self.seconds)
        return self.nlu.parse(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.nlu, name)


def _slow_app_client(wx_settings, clock, session_factory, nlu, seconds):
    from fastapi.testclient import TestClient

    from bot.app import create_app

    wx_settings.wechat_reply_deadline_seconds = 0.5
    return TestClient(create_app(wx_settings, clock=clock, session_factory=session_factory,
                                 nlu=SlowNlu(nlu, seconds)))


def test_slow_nlu_misses_the_deadline_so_the_reply_becomes_a_customer_service_message(
        wx_settings, clock, session_factory, nlu, demo, fake_api):
    from tests.wechat.conftest import Mp

    with _slow_app_client(wx_settings, clock, session_factory, nlu, 1.5) as client:
        mp = Mp(client, clock)
        started = time.monotonic()
        response = mp.post(text_xml("5号楼电梯按钮坏了", "4001"))
        assert time.monotonic() - started < 1.5 and response.text == "success"
        # WeChat's retries arrive while the first try is still working: success, no second ticket
        assert mp.post(text_xml("5号楼电梯按钮坏了", "4001")).text == "success"
        assert wait_for(lambda: fake_api.to("/cgi-bin/message/custom/send"))
        time.sleep(0.3)
    [sent] = fake_api.to("/cgi-bin/message/custom/send")
    assert sent.body["touser"] == OPENID and "工单号" in sent.body["text"]["content"]
    assert len(_tickets(session_factory)) == 1
    with session_factory() as s:
        window = s.scalar(select(ChannelQuota).where(ChannelQuota.recipient == OPENID))
        assert window.remaining == 4  # the late reply spent one of the 5 sends
        row = s.scalar(select(ProcessedUpdate))
        assert row.response["state"] == "late"


def test_concurrent_retry_storm_while_slow(wx_settings, clock, session_factory, nlu, demo, fake_api):
    from tests.wechat.conftest import Mp

    with _slow_app_client(wx_settings, clock, session_factory, nlu, 1.0) as client:
        mp = Mp(client, clock)
        results: list[str] = []
        threads = [threading.Thread(target=lambda: results.append(mp.post(text_xml("5号楼电梯按钮坏了", "4101")).text))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["success"] * 3
        assert wait_for(lambda: fake_api.to("/cgi-bin/message/custom/send"))
        time.sleep(0.5)
    assert len(fake_api.to("/cgi-bin/message/custom/send")) == 1
    assert len(_tickets(session_factory)) == 1


def test_slow_database_still_answers_in_time(wx_settings, clock, session_factory, nlu, demo, fake_api, engine):
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from tests.wechat.conftest import Mp

    wx_settings.wechat_reply_deadline_seconds = 0.5
    slow = {"on": False}

    def crawl(*_args):
        if slow["on"] and threading.current_thread().name.startswith("wechat-callback"):
            time.sleep(0.05)

    event.listen(engine, "before_cursor_execute", crawl)
    try:
        with TestClient(create_app(wx_settings, clock=clock, session_factory=session_factory, nlu=nlu)) as client:
            mp = Mp(client, clock)
            slow["on"] = True
            started = time.monotonic()
            response = mp.post(text_xml("5号楼电梯按钮坏了", "4201"))
            assert time.monotonic() - started < 2.0 and response.text == "success"
            assert wait_for(lambda: fake_api.to("/cgi-bin/message/custom/send"), timeout=20)
            slow["on"] = False
    finally:
        event.remove(engine, "before_cursor_execute", crawl)
    assert "工单号" in fake_api.to("/cgi-bin/message/custom/send")[0].body["text"]["content"]


def test_subscribe_with_a_scene_joins_that_community_and_unsubscribe_marks_unreachable(mp, session_factory, demo):
    xml = xml_of({"ToUserName": "gh_demo", "FromUserName": "oNew01", "CreateTime": "1700000100",
                  "MsgType": "event", "Event": "subscribe", "EventKey": f"qrscene_{demo.code}", "Ticket": "T"})
    assert "欢迎" in mp.decrypt(mp.post(xml))
    with session_factory() as s:
        identity = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "oNew01"))
        assert identity.community_id == demo.id
        window = s.scalar(select(ChannelQuota).where(ChannelQuota.recipient == "oNew01"))
        assert window.window == "event" and window.remaining == 3
    xml = xml_of({"ToUserName": "gh_demo", "FromUserName": "oNew01", "CreateTime": "1700000200",
                  "MsgType": "event", "Event": "unsubscribe"})
    assert mp.post(xml).text == "success"
    with session_factory() as s:
        assert s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "oNew01")).unreachable


def test_menu_click_and_menu_link_taps_are_button_payloads(mp):
    xml = xml_of({"ToUserName": "gh_demo", "FromUserName": OPENID, "CreateTime": "1700000300",
                  "MsgType": "event", "Event": "CLICK", "EventKey": "m:repair"})
    assert "哪里" in mp.decrypt(mp.post(xml))
    tapped = xml_of({"ToUserName": "gh_demo", "FromUserName": OPENID, "CreateTime": "1700000301", "MsgType": "text",
                     "Content": "取消", "bizmsgmenuid": "m:repair", "MsgId": "5001"})
    assert mp.decrypt(mp.post(tapped))


def test_image_is_fetched_and_stored_under_media_dir(mp, wx_settings, fake_api):
    xml = xml_of({"ToUserName": "gh_demo", "FromUserName": OPENID, "CreateTime": "1700000400", "MsgType": "image",
                  "PicUrl": "http://mmbiz.invalid/x.jpg", "MediaId": "media_abc", "MsgId": "6001"})
    assert mp.decrypt(mp.post(xml))
    [call] = fake_api.to("/cgi-bin/media/get")
    assert call.query["media_id"] == "media_abc"
    stored = list((wx_settings.media_dir / "wechat").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes().startswith(b"\xff\xd8")


def test_location_message_reaches_the_conversation(mp):
    xml = xml_of({"ToUserName": "gh_demo", "FromUserName": OPENID, "CreateTime": "1700000500", "MsgType": "location",
                  "Location_X": "31.23", "Location_Y": "121.47", "Scale": "15", "Label": "和谐家园5号楼",
                  "MsgId": "7001"})
    assert mp.decrypt(mp.post(xml))
