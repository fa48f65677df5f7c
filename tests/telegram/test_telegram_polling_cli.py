"""Long polling (getUpdates) with the real Updater, and the `guanjia telegram` commands, against the fake API."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from bot.cli.main import app as cli
from bot.telegram.application import build_application
from tests.telegram import updates as tg
from tests.telegram.conftest import SECRET, TOKEN, fast_limiter
from tests.telegram.fake_bot_api import BOT_USERNAME


@pytest.mark.asyncio
@pytest.mark.filterwarnings("error")
async def test_long_polling_handles_updates_and_registers_commands(tg_settings, conversation, fake_api):
    fake_api.updates.append(tg.text(tg.user(6001), "谢谢"))
    application = build_application(tg_settings, conversation, limiter=fast_limiter())
    async with application:
        await application.post_init(application)
        await application.updater.start_polling(poll_interval=0.0, timeout=0)
        await application.start()
        for _ in range(200):
            if len(fake_api.sent("sendMessage", 6001)) >= 2:
                break
            await asyncio.sleep(0.02)
        await application.updater.stop()
        await application.stop()
    assert fake_api.texts(6001)[-1] == "不客气，有需要随时找我！"
    commands = fake_api.sent("setMyCommands")
    assert {c["command"] for c in commands[0]["commands"]} >= {"start", "menu", "bind", "status", "cancel", "help"}


@pytest.fixture
def env(tg_settings, db_url, demo, monkeypatch):
    monkeypatch.setenv("GUANJIA_DATABASE_URL", db_url)
    monkeypatch.setenv("GUANJIA_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("GUANJIA_TELEGRAM_API_URL", tg_settings.telegram_api_url)
    monkeypatch.setenv("GUANJIA_TELEGRAM_WEBHOOK_SECRET", SECRET)


def test_link_prints_the_community_deep_link(env, fake_api, tmp_path):
    result = CliRunner().invoke(cli, ["telegram", "link", "--community", "demo", "--png", str(tmp_path / "qr.png")])
    assert result.exit_code == 0, result.output
    assert f"https://t.me/{BOT_USERNAME}?start=demo" in result.output
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")
    assert TOKEN not in result.output


def test_set_webhook_sends_the_secret(env, fake_api):
    result = CliRunner().invoke(cli, ["telegram", "set-webhook", "https://guanjia.example/telegram/webhook"])
    assert result.exit_code == 0, result.output
    call = fake_api.sent("setWebhook")[-1]
    assert call["url"] == "https://guanjia.example/telegram/webhook" and call["secret_token"] == SECRET
    assert "callback_query" in call["allowed_updates"]
    assert CliRunner().invoke(cli, ["telegram", "set-webhook", "http://insecure/telegram/webhook"]).exit_code != 0
