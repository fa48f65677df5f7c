"""WeChat / WeCom fixtures: a fake platform API on 127.0.0.1, the app, and signed (and encrypted) callbacks."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from backend.services.demo import seed_demo
from bot.app import create_app
from nlu import load_nlu
from tests.wechat import fake_wechat_api

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"
MP_TOKEN, MP_APP_ID, MP_KEY = "mp-token", "wx1234567890abcdef", base64.b64encode(b"k" * 32).decode().rstrip("=")
WORK_TOKEN, CORP_ID, WORK_KEY = "work-token", "ww0123456789", base64.b64encode(b"w" * 32).decode().rstrip("=")
OPENID = "oResident0001"


@pytest.fixture(scope="session")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def fake_api() -> Iterator[fake_wechat_api.FakeApi]:
    fake, server = fake_wechat_api.start()
    yield fake
    server.shutdown()
    server.server_close()


def configure_wechat(settings, api_url: str):
    """The test official account and WeCom app, talking to the fake platform at api_url."""
    settings.wechat_app_id, settings.wechat_app_secret = MP_APP_ID, "mp-secret"
    settings.wechat_token, settings.wechat_encoding_aes_key = MP_TOKEN, MP_KEY
    settings.wechat_api_url = api_url
    settings.wecom_corp_id, settings.wecom_secret, settings.wecom_agent_id = CORP_ID, "work-secret", "1000002"
    settings.wecom_token, settings.wecom_encoding_aes_key = WORK_TOKEN, WORK_KEY
    settings.wecom_api_url = api_url
    settings.wechat_reply_deadline_seconds = 3.0
    return settings


@pytest.fixture
def wx_settings(settings, fake_api):
    settings.demo_mode = True
    if hasattr(settings, "run_worker_in_app"):
        settings.run_worker_in_app = False
    return configure_wechat(settings, fake_api.url)


@pytest.fixture
def demo(session_factory, clock, wx_settings):
    with session_factory() as s:
        community = seed_demo(s, wx_settings, clock)
        s.commit()
        return community


@pytest.fixture
def app(wx_settings, clock, session_factory, nlu, demo):
    return create_app(wx_settings, clock=clock, session_factory=session_factory, nlu=nlu)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def now_ts(clock) -> str:
    return str(int(clock.now().replace(tzinfo=UTC).timestamp()))


def text_xml(content: str, msg_id: str = "1001", user: str = OPENID, create: int = 1700000000) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def xml_of(fields: dict[str, str]) -> str:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>"


class Mp:
    """Posts official-account callbacks the way WeChat does: signed, and AES-encrypted in safe mode."""

    def __init__(self, client: TestClient, clock) -> None:
        self.client, self.clock = client, clock
        self.crypto = WeChatCrypto(MP_TOKEN, MP_KEY, MP_APP_ID)

    def post(self, xml: str | bytes, *, safe: bool = True, signature: str | None = None, nonce: str = "n0nce"):
        ts = now_ts(self.clock)
        if not safe:
            sig = signature or hashlib.sha1("".join(sorted([MP_TOKEN, ts, nonce])).encode()).hexdigest()
            return self.client.post("/wechat/mp", params={"signature": sig, "timestamp": ts, "nonce": nonce},
                                    content=xml)
        envelope = self.crypto.encrypt_message(xml if isinstance(xml, str) else xml.decode(), nonce, ts)
        import xmltodict

        parsed = xmltodict.parse(envelope)["xml"]
        params = {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                  "msg_signature": signature or parsed["MsgSignature"]}
        body = f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>"
        return self.client.post("/wechat/mp", params=params, content=body)

    def decrypt(self, response) -> str:
        """The reply's Content (passive replies are encrypted too); '' for `success`."""
        if response.text == "success":
            return ""
        import xmltodict

        parsed = xmltodict.parse(response.text)["xml"]
        inner = self.crypto.decrypt_message(response.text, parsed["MsgSignature"], parsed["TimeStamp"], parsed["Nonce"])
        return xmltodict.parse(inner)["xml"].get("Content", "")

    def say(self, content: str, msg_id: str) -> str:
        return self.decrypt(self.post(text_xml(content, msg_id)))


class Work:
    """Posts WeCom app callbacks (always encrypted)."""

    def __init__(self, client: TestClient, clock) -> None:
        self.client, self.clock = client, clock
        self.crypto = WeComCrypto(WORK_TOKEN, WORK_KEY, CORP_ID)

    def post(self, xml: str, nonce: str = "wn0nce"):
        import xmltodict

        ts = now_ts(self.clock)
        parsed = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, ts))["xml"]
        body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID>1000002</AgentID>" \
               f"<Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>"
        return self.client.post("/wechat/work", params={"msg_signature": parsed["MsgSignature"], "timestamp": ts,
                                                         "nonce": nonce}, content=body)

    def decrypt(self, response) -> dict:
        import xmltodict

        if response.text == "success":
            return {}
        parsed = xmltodict.parse(response.text)["xml"]
        inner = self.crypto.decrypt_message(response.text, parsed["MsgSignature"], parsed["TimeStamp"], parsed["Nonce"])
        return xmltodict.parse(inner)["xml"]


@pytest.fixture
def mp(client, clock) -> Mp:
    return Mp(client, clock)


@pytest.fixture
def work(client, clock) -> Work:
    return Work(client, clock)


def wait_for(predicate, timeout: float = 8.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False
