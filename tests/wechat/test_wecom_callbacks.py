"""Staff on WeCom: URL check, /bind CODE, a task card's accept button, text fallback; real WeCom crypto."""

from __future__ import annotations

import time

from sqlalchemy import select

from backend.models import Staff, Ticket
from backend.services.invites import create_invite
from tests.wechat.conftest import CORP_ID, text_xml, wait_for, xml_of


def _bind(work, session_factory, clock, wx_settings, user: str, login: str = "eng-lead") -> Staff:
    with session_factory() as s:
        staff = s.scalar(select(Staff).where(Staff.login == login))
        code = create_invite(s, staff, clock, wx_settings)
        s.commit()
    reply = work.decrypt(work.post(text_xml(f"/bind {code}", "8001", user=user).replace("gh_demo", CORP_ID)))
    assert "绑定成功" in reply.get("Content", "")
    return staff


def test_url_check_returns_the_decrypted_echostr(client, clock, work):
    import xmltodict

    from tests.wechat.conftest import now_ts

    ts = now_ts(clock)
    envelope = xmltodict.parse(work.crypto.encrypt_message("echo-42", "n", ts))["xml"]
    params = {"msg_signature": envelope["MsgSignature"], "timestamp": ts, "nonce": "n", "echostr": envelope["Encrypt"]}
    r = client.get("/wechat/work", params=params)
    assert r.status_code == 200 and r.text == "echo-42"
    assert client.get("/wechat/work", params={**params, "msg_signature": "0" * 40}).status_code == 403


def test_staff_accepts_a_ticket_from_a_wecom_card(mp, work, session_factory, clock, wx_settings, fake_api):
    assert "工单号" in mp.say("5号楼电梯按钮坏了", "8100")
    with session_factory() as s:
        ticket = s.scalar(select(Ticket))
    staff = _bind(work, session_factory, clock, wx_settings, "zhouming")
    click = xml_of({"ToUserName": CORP_ID, "FromUserName": "zhouming", "CreateTime": "1700001000",
                    "MsgType": "event", "Event": "template_card_event", "EventKey": f"t:a:{ticket.id}",
                    "TaskId": "gj-1-abc", "CardType": "button_interaction", "ResponseCode": "rc-1",
                    "AgentID": "1000002"})
    response = work.post(click)
    reply = work.decrypt(response)
    assert reply["MsgType"] == "update_button" and reply["Button"]["ReplaceName"]
    with session_factory() as s:
        accepted = s.get(Ticket, ticket.id)
        assert accepted.assignee_id == staff.id and accepted.status in ("accepted", "in_progress")
    assert wait_for(lambda: fake_api.to("/cgi-bin/message/send"))
    time.sleep(0.5)  # the replies go out one after another from a worker thread
    assert fake_api.to("/cgi-bin/message/send")[0].body["touser"] == "zhouming"
    # the same click retried: processed once, nothing sent twice
    sent = len(fake_api.to("/cgi-bin/message/send"))
    assert work.post(click).status_code == 200
    time.sleep(0.3)
    with session_factory() as s:
        assert s.get(Ticket, ticket.id).assignee_id == staff.id
    assert len(fake_api.to("/cgi-bin/message/send")) == sent


def test_forged_and_malformed_wecom_callbacks(client, clock, work):
    from tests.wechat.conftest import now_ts

    r = client.post("/wechat/work", params={"msg_signature": "0" * 40, "timestamp": now_ts(clock), "nonce": "n"},
                    content="<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>")
    assert r.status_code == 403
    assert work.post("<xml><MsgType>text").status_code == 400
    assert work.post('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>').status_code == 400


def test_unknown_wecom_events_are_acknowledged(work):
    for fields in ({"ToUserName": CORP_ID, "FromUserName": "u1", "CreateTime": "1", "MsgType": "event",
                    "Event": "enter_agent", "AgentID": "1"},
                   {"ToUserName": CORP_ID, "FromUserName": "u1", "CreateTime": "2", "MsgType": "event",
                    "Event": "template_card_menu_event", "EventKey": "x"},
                   {"ToUserName": CORP_ID, "FromUserName": "u1", "CreateTime": "3", "MsgType": "event",
                    "Event": "template_card_event", "EventKey": "t:a:99999", "TaskId": "t"}):
        assert work.post(xml_of(fields)).status_code == 200
