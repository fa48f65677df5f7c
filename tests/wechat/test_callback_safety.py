"""Hostile callbacks: forged signatures, undecryptable bodies, malformed XML, huge bodies, DTD and entity tricks."""

from __future__ import annotations

import time
from datetime import UTC

from sqlalchemy import select

from backend.models import ProcessedUpdate, Ticket
from tests.wechat.conftest import text_xml


def _nothing_stored(session_factory) -> bool:
    with session_factory() as s:
        return s.scalar(select(ProcessedUpdate)) is None and s.scalar(select(Ticket)) is None


def test_forged_signature_is_403_and_stores_nothing(mp, session_factory):
    assert mp.post(text_xml("5号楼电梯按钮坏了", "9001"), signature="0" * 40).status_code == 403
    assert _nothing_stored(session_factory)


def test_plain_body_is_refused_while_safe_mode_is_configured(mp, session_factory):
    # a plain signature covers only token/timestamp/nonce, not the body: with an AES key only AES bodies count
    assert mp.post(text_xml("5号楼电梯按钮坏了", "9002"), safe=False).status_code == 403
    assert _nothing_stored(session_factory)


def test_undecryptable_body_with_a_valid_signature_is_403(client, clock, session_factory):
    from bot.wechat.signing import sha1_signature
    from tests.wechat.conftest import MP_TOKEN, now_ts

    ts, nonce, junk = now_ts(clock), "n", "bm90IGFlcyBhdCBhbGw="
    body = f"<xml><Encrypt><![CDATA[{junk}]]></Encrypt></xml>"
    r = client.post("/wechat/mp", params={"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                                          "msg_signature": sha1_signature(MP_TOKEN, ts, nonce, junk)}, content=body)
    assert r.status_code == 403
    assert _nothing_stored(session_factory)


def test_replayed_old_callback_is_refused(client, clock, session_factory):
    from tests.wechat.conftest import Mp

    mp = Mp(client, clock)
    clock.advance(hours=-1)
    xml = text_xml("你好", "9003")
    ts_then = clock.now()
    clock.advance(hours=1)
    import xmltodict


    then = str(int(ts_then.replace(tzinfo=UTC).timestamp()))
    envelope = xmltodict.parse(mp.crypto.encrypt_message(xml, "n", then))["xml"]
    r = client.post("/wechat/mp", params={"timestamp": then, "nonce": "n", "encrypt_type": "aes",
                                          "msg_signature": envelope["MsgSignature"]},
                    content=f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
    assert r.status_code == 403
    assert _nothing_stored(session_factory)


def test_malformed_xml_inside_a_genuine_envelope_is_400(mp, session_factory):
    assert mp.post("<xml><MsgType>text</MsgType><Content>unclosed").status_code == 400
    assert mp.post("not xml at all").status_code == 400
    assert _nothing_stored(session_factory)


def test_malformed_envelope_is_400(client, clock):
    from tests.wechat.conftest import now_ts

    r = client.post("/wechat/mp", params={"timestamp": now_ts(clock), "nonce": "n", "encrypt_type": "aes",
                                          "msg_signature": "x"}, content=b"<xml><Encrypt>")
    assert r.status_code == 400


def test_one_megabyte_body_is_refused_before_parsing(client, clock, session_factory):
    from tests.wechat.conftest import now_ts

    big = b"<xml><Encrypt>" + b"A" * (1024 * 1024) + b"</Encrypt></xml>"
    r = client.post("/wechat/mp", params={"timestamp": now_ts(clock), "nonce": "n", "encrypt_type": "aes",
                                          "msg_signature": "x"}, content=big)
    assert r.status_code == 413
    assert _nothing_stored(session_factory)


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
                  + ']><xml><Encrypt>&i;</Encrypt><MsgType>&i;</MsgType></xml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<xml><Encrypt>&x;</Encrypt><Content>&x;</Content></xml>')


def test_entity_expansion_and_external_entities_are_rejected_fast(client, clock, mp, session_factory):
    from tests.wechat.conftest import now_ts

    for body in (BILLION_LAUGHS, XXE):
        started = time.monotonic()
        r = client.post("/wechat/mp", params={"timestamp": now_ts(clock), "nonce": "n", "encrypt_type": "aes",
                                              "msg_signature": "x"}, content=body)
        assert r.status_code == 400 and "root:" not in r.text
        assert time.monotonic() - started < 1.0
    # the same payloads inside a correctly encrypted and signed envelope: refused too
    for body in (BILLION_LAUGHS, XXE):
        r = mp.post(body)
        assert r.status_code == 400 and "root:" not in r.text
    assert _nothing_stored(session_factory)


def test_plain_mode_rejects_dtd_payloads(wx_settings, clock, session_factory, nlu, demo):
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from tests.wechat.conftest import Mp

    wx_settings.wechat_encoding_aes_key = ""
    with TestClient(create_app(wx_settings, clock=clock, session_factory=session_factory, nlu=nlu)) as client:
        mp = Mp(client, clock)
        for body in (BILLION_LAUGHS, XXE, "<xml><a>"):
            assert mp.post(body, safe=False).status_code == 400
        assert mp.post(text_xml("你好", "9100"), safe=False, signature="f" * 40).status_code == 403
        r = mp.post(text_xml("5号楼电梯按钮坏了", "9101"), safe=False)
        assert r.status_code == 200 and "工单号" in r.text
    with session_factory() as s:
        assert s.scalar(select(Ticket)) is not None


def test_unknown_and_strange_callbacks_are_acknowledged(mp):
    from tests.wechat.conftest import OPENID, xml_of

    odd = [
        {"ToUserName": "g", "FromUserName": OPENID, "CreateTime": "1", "MsgType": "event",
         "Event": "TEMPLATESENDJOBFINISH", "MsgID": "1", "Status": "success"},
        {"ToUserName": "g", "FromUserName": OPENID, "CreateTime": "2", "MsgType": "event", "Event": "LOCATION",
         "Latitude": "1", "Longitude": "2", "Precision": "3"},
        {"ToUserName": "g", "FromUserName": OPENID, "CreateTime": "3", "MsgType": "miniprogrampage", "MsgId": "77"},
        {"ToUserName": "g", "FromUserName": OPENID, "CreateTime": "4", "MsgType": "event", "Event": "CLICK",
         "EventKey": "💥" * 50},
        {"ToUserName": "g", "FromUserName": OPENID, "CreateTime": "5", "MsgType": "text", "MsgId": "78"},
    ]
    for fields in odd:
        assert mp.post(xml_of(fields)).status_code == 200
    assert mp.post("<xml><ToUserName>g</ToUserName></xml>").status_code == 400
