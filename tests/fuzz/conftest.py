"""One app with every channel configured (Telegram webhook, WeChat official account, WeCom, web chat, /model/parse),
the demo community seeded, the real NLU, fake platform APIs on 127.0.0.1; and signed / encrypted posting helpers."""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import xmltodict
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from backend.services.demo import seed_demo
from bot.app import create_app
from nlu import load_nlu
from tests.telegram.fake_bot_api import FakeBotApi
from tests.wechat import fake_wechat_api
from tests.wechat.conftest import CORP_ID, MP_APP_ID, MP_KEY, MP_TOKEN, WORK_KEY, WORK_TOKEN, configure_wechat

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"
TG_TOKEN, TG_SECRET = "123456789:AAfuzz-token_for-the-fake-api", "fuzz_secret-123"
TG_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Examples per test in the bounded run; bench/fuzz.py sets GUANJIA_FUZZ_EXAMPLES much higher (all scale with it).
DEFAULT_EXAMPLES = 25
EXAMPLES = int(os.environ.get("GUANJIA_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))


def bounded(examples: int = DEFAULT_EXAMPLES, **kwargs: Any) -> hsettings:
    """Few examples, no deadline (the machine is shared), no shrinking unless asked (it costs minutes);
    GUANJIA_FUZZ_RANDOM=1 draws new examples each run instead of the fixed derandomized ones."""
    examples = max(1, examples * EXAMPLES // DEFAULT_EXAMPLES)
    phases = tuple(Phase) if os.environ.get("GUANJIA_FUZZ_SHRINK") == "1" else \
        (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
    return hsettings(max_examples=examples, deadline=None, derandomize=os.environ.get("GUANJIA_FUZZ_RANDOM") != "1",
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.data_too_large], phases=phases, database=None, **kwargs)


@pytest.fixture(scope="session")
def nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


@pytest.fixture
def fake_tg() -> Iterator[FakeBotApi]:
    api = FakeBotApi(TG_TOKEN).start()
    yield api
    api.stop()


@pytest.fixture
def fake_wx() -> Iterator[fake_wechat_api.FakeApi]:
    fake, server = fake_wechat_api.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def fuzz_settings(settings, fake_tg, fake_wx):
    settings.demo_mode = True  # web chat: any user id, demo residents and staff
    settings.telegram_token, settings.telegram_api_url, settings.telegram_webhook_secret = \
        TG_TOKEN, fake_tg.url, TG_SECRET
    return configure_wechat(settings, fake_wx.url)


@pytest.fixture
def app(fuzz_settings, clock, session_factory, nlu):
    with session_factory() as s:
        seed_demo(s, fuzz_settings, clock)
        s.commit()
    return create_app(fuzz_settings, clock=clock, session_factory=session_factory, nlu=nlu)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:  # a 500 is an answer to assert on, not a raise
        yield c


def epoch(clock) -> str:
    return str(int(clock.now().replace(tzinfo=UTC).timestamp()))


class Signed:
    """Posts WeChat and WeCom callbacks the way the platforms do: signed, and AES-encrypted where configured."""

    def __init__(self, client: TestClient, clock) -> None:
        self.client, self.clock = client, clock
        self.mp_crypto = WeChatCrypto(MP_TOKEN, MP_KEY, MP_APP_ID)
        self.work_crypto = WeComCrypto(WORK_TOKEN, WORK_KEY, CORP_ID)
        self.nonces = itertools.count()

    def mp_plain(self, body: bytes):
        ts, nonce = epoch(self.clock), f"n{next(self.nonces)}"
        sig = hashlib.sha1("".join(sorted([MP_TOKEN, ts, nonce])).encode()).hexdigest()
        return self.client.post("/wechat/mp", params={"signature": sig, "timestamp": ts, "nonce": nonce},
                                content=body)

    def _envelope(self, crypto: Any, inner: str, to: str) -> tuple[bytes, dict[str, str]]:
        ts, nonce = epoch(self.clock), f"n{next(self.nonces)}"
        parsed = xmltodict.parse(crypto.encrypt_message(inner, nonce, ts))["xml"]
        body = f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>"
        return body.encode(), {"timestamp": ts, "nonce": nonce, "msg_signature": parsed["MsgSignature"]}

    def mp_safe(self, inner: str):
        body, params = self._envelope(self.mp_crypto, inner, "gh_demo")
        return self.client.post("/wechat/mp", params={**params, "encrypt_type": "aes"}, content=body)

    def work(self, inner: str):
        body, params = self._envelope(self.work_crypto, inner, CORP_ID)
        return self.client.post("/wechat/work", params=params, content=body)


@pytest.fixture
def signed(client, clock) -> Signed:
    return Signed(client, clock)


def within(seconds: float) -> float:
    return time.monotonic() + seconds
