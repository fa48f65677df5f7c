"""Every webhook parser over the real app: hostile Telegram updates (with the valid secret), WeChat official-account
callbacks (validly signed plain bodies, and AES envelopes), WeCom callbacks (AES), malformed and deeply nested
XML and JSON. Never a 5xx, and the conversation never fails (no ERROR logged, no internal-error apology)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

from tests.fuzz.conftest import TG_HEADER, TG_SECRET, bounded
from tests.fuzz.strategies import (
    MALFORMED_XML,
    RAW_BODIES,
    callback_xml,
    deep_xml,
    json_bytes,
    nested,
    tg_junk_updates,
    tg_updates,
    xml_text,
)

pytestmark = pytest.mark.filterwarnings("error")
APOLOGY = "系统暂时出了点问题"
OPENIDS = st.one_of(st.sampled_from(["oResident0001", "oResident0002", "o" + "x" * 27]), xml_text(2))
MSG_IDS = st.integers(1, 2**62)
# WeChat's "report location" event (Latitude/Longitude, no Location_X): https://developers.weixin.qq.com/doc/
# offiaccount/Message_Management/Receiving_event_pushes.html
LOCATION_EVENT = ("<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[oResident0001]]>"
                  "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                  "<Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude>"
                  "<Precision>119.385040</Precision></xml>")


def no_failures(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert not errors, [(r.name, r.getMessage(), r.exc_text) for r in errors]


def xml_body(xml: str) -> bytes:
    return xml.encode("gbk") if 'encoding="gbk"' in xml else xml.encode("utf-8")


@bounded()
@given(body=st.one_of(tg_junk_updates(st.integers(1, 2**40)).map(json_bytes), RAW_BODIES))
@example(body=nested(100_000))
@example(body=b'{"update_id":1,"message":' + b"[" * 5000 + b"]" * 5000 + b"}")
def test_telegram_webhook_with_the_secret_never_5xx_on_any_body(client, fake_tg, body):
    response = client.post("/telegram/webhook", content=body,
                           headers={TG_HEADER: TG_SECRET, "Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.text[:300]


@bounded()
@given(body=tg_updates(st.integers(1, 2**40)).map(json_bytes))
@example(body=b'{"update_id":2,"message":{"message_id":1,"date":0,"chat":{"id":9,"type":"private"},'
              b'"from":{"id":9,"is_bot":false,"first_name":"\\ud800"},"text":"\\ud800\\u7535\\u68af\\u574f\\u4e86"}}')
@example(body=b'{"update_id":3,"callback_query":{"id":"1","chat_instance":"1","data":"menu:repair\\u0000",'
              b'"from":{"id":8,"is_bot":false,"first_name":"\\u0000"}}}')  # PostgreSQL refuses NUL in text
def test_telegram_updates_of_telegrams_shape_never_fail(client, caplog, fake_tg, body):
    response = client.post("/telegram/webhook", content=body,
                           headers={TG_HEADER: TG_SECRET, "Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.text[:300]
    no_failures(caplog)
    for call in fake_tg.sent("sendMessage"):
        assert APOLOGY not in call["text"], call["text"]
    fake_tg.calls.clear()


@bounded()
@given(xml=st.one_of(callback_xml(OPENIDS, "gh_demo", MSG_IDS), MALFORMED_XML))
@example(xml=deep_xml(5_000))
@example(xml="<xml><MsgType>text</MsgType><FromUserName>o</FromUserName><Content>&#xD800;</Content></xml>")
def test_wechat_plain_callbacks_validly_signed_never_5xx(fuzz_settings, signed, caplog, xml):
    fuzz_settings.wechat_encoding_aes_key = ""  # plain mode (read when the first callback arrives)
    response = signed.mp_plain(xml_body(xml))
    assert response.status_code in (200, 400, 413), response.text[:300]
    assert APOLOGY not in response.text
    no_failures(caplog)


@bounded()
@given(xml=st.one_of(callback_xml(OPENIDS, "gh_demo", MSG_IDS), MALFORMED_XML))
@example(xml=deep_xml(5_000))
def test_wechat_safe_mode_callbacks_never_5xx(signed, caplog, xml):
    note(repr(xml))
    response = signed.mp_safe(xml)
    assert response.status_code in (200, 400, 413), response.text[:300]
    no_failures(caplog)


@bounded()
@given(body=st.one_of(st.binary(max_size=300), MALFORMED_XML.map(xml_body), st.just(deep_xml(9_000).encode())),
       path=st.sampled_from(["/wechat/mp", "/wechat/work"]))
def test_forged_or_unsigned_callbacks_are_refused_not_crashed(client, caplog, body, path):
    response = client.post(path, params={"signature": "0" * 40, "msg_signature": "0" * 40, "timestamp": "1",
                                         "nonce": "n", "encrypt_type": "aes"}, content=body)
    assert response.status_code in (400, 403, 413), response.text[:300]
    no_failures(caplog)


STAFF_IDS = st.one_of(st.sampled_from(["zhangsan", "tech1", "cs1", "guard1", "manager"]), xml_text(2))
CARD_KEYS = st.one_of(st.sampled_from(["t:accept:1", "t:done:1", "b:ok:1", "menu:repair"]), xml_text(2))


@bounded()
@given(xml=st.one_of(callback_xml(STAFF_IDS, "ww0123456789", MSG_IDS, CARD_KEYS), MALFORMED_XML))
@example(xml=deep_xml(5_000))
def test_wecom_callbacks_never_5xx(signed, caplog, xml):
    response = signed.work(xml)
    assert response.status_code in (200, 400, 413), response.text[:300]
    no_failures(caplog)


def test_wechat_location_event_is_not_a_conversation_failure(signed, caplog):
    response = signed.mp_safe(LOCATION_EVENT)
    assert response.status_code == 200
    no_failures(caplog)
