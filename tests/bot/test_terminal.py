"""`guanjia chat`: a resident and a technician in terminals, numbered buttons, pushed messages before the prompt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {
        "GUANJIA_DATABASE_URL": f"sqlite:///{tmp_path / 'term.db'}",
        "GUANJIA_DEMO_MODE": "false",
        "GUANJIA_SECRET_KEY": "terminal-test-secret",
        "GUANJIA_NLU_CACHE_DIR": str(NLU_CACHE),
    }
    result = CliRunner().invoke(app, ["demo", "--no-serve"], env=env)
    assert result.exit_code == 0, result.output
    return env


def _chat(env: dict[str, str], lines: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["chat", *args], input=lines, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_numbers_press_buttons_and_quit_leaves(env):
    out = _chat(env, "你好\n1\n/quit\n这行不再读\n", "--user", "u-term")
    assert "[1] 🔧 报修" in out
    assert "哪里坏了" in out  # typing 1 pressed 报修
    assert out.rstrip().endswith("再见！")


def test_a_number_without_buttons_is_just_text(env):
    assert "再见！" in _chat(env, "3\n", "--user", "u-number")  # end of input leaves too


def test_repair_accept_and_the_pushed_acceptance(env):
    out = _chat(env, "/bind\n3号楼2单元1502\n13900321502\n厨房水管漏水了\n/quit\n", "--user", "u-term")
    filed = re.search(r"工单号 #(\d+)", out)  # the demo's history holds earlier tickets
    assert "绑定成功" in out and filed
    staff_env = {**env, "GUANJIA_DEMO_MODE": "true"}  # web users staff:<login> are staff in the demo
    out = _chat(staff_env, f"接单 {filed[1]}\n/quit\n", "--user", "staff:tech1", "--channel", "web")
    assert f"已接单：工单 #{filed[1]}" in out
    out = _chat(env, "/quit\n", "--user", "u-term")
    assert "🔔" in out and "已受理" in out  # pushed to the terminal inbox, shown before the first prompt


def test_refuses_unmigrated_database_and_bad_channel(tmp_path):
    env = {"GUANJIA_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = CliRunner().invoke(app, ["chat", "--user", "u-1"], input="", env=env)
    assert result.exit_code == 1 and "no tables" in result.output
    result = CliRunner().invoke(app, ["chat", "--user", "u-1", "--channel", "fax"], input="", env=env)
    assert result.exit_code == 1
