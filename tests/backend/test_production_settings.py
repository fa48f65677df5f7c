"""Production refuses settings that are fine for a demo: demo mode, short admin tokens, plain-mode WeChat."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.settings import Settings

GOOD = {"environment": "production", "admin_token": "a" * 32, "secret_key": "k" * 40}


def make(**overrides: object) -> Settings:
    return Settings(_env_file=None, **{**GOOD, **overrides})  # type: ignore[arg-type]


def test_a_proper_production_configuration_is_accepted() -> None:
    settings = make(wechat_token="wxtoken", wechat_encoding_aes_key="x" * 43)
    assert settings.environment == "production" and not settings.demo_mode


@pytest.mark.parametrize(("overrides", "why"), [
    ({"demo_mode": True}, "DEMO_MODE"),
    ({"admin_token": "a" * 31}, "at least 32"),
    ({"admin_token": "change-me"}, "ADMIN_TOKEN"),
    ({"secret_key": "change-me"}, "SECRET_KEY"),
    ({"wechat_token": "wxtoken"}, "ENCODING_AES_KEY"),  # plain mode: signatures do not cover the body
])
def test_production_refuses(overrides: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        make(**overrides)


def test_development_allows_the_demo() -> None:
    settings = Settings(_env_file=None, demo_mode=True, wechat_token="wxtoken")
    assert settings.demo_mode and settings.admin_token == "change-me"
