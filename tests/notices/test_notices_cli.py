"""`guanjia notice send|list|report|cancel|export` against a migrated SQLite file."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory, transaction
from backend.models import Notice, NoticeDelivery, Resident
from backend.settings import Settings
from bot.cli.main import app
from tests.builders import build_world


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"GUANJIA_DATABASE_URL": url, "GUANJIA_DEMO_MODE": "false", "GUANJIA_SECRET_KEY": "cli-test-secret",
           "GUANJIA_DEFAULT_COMMUNITY": "t1", "GUANJIA_MEDIA_DIR": str(tmp_path / "media")}
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    with transaction(make_session_factory(make_engine(url))) as s:
        build_world(s, SystemClock(), Settings(database_url=url, _env_file=None), code="t1")
    return env


def run(env, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["notice", *args], env=env)
    assert result.exit_code == code, result.output
    return result.output


def _session(env):  # type: ignore[no-untyped-def]
    return transaction(make_session_factory(make_engine(env["GUANJIA_DATABASE_URL"])))


def test_send_list_report_export_cancel(env, tmp_path):
    out = run(env, "send", "--title", "停水通知", "--body", "今天下午 1栋停水。", "--category", "outage", "--to", "1栋",
              "--urgent", "--as", "cs1")
    assert "已安排" in out and "对象 / to: 1栋" in out and "住户 1" in out
    assert re.search(r"全文链接 / page: http://127.0.0.1:8000/n/[\w-]{32}\n", out)
    later = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    run(env, "send", "--title", "消防演练", "--body", "明天上午消防演练。", "--category", "safety", "--to", "全小区",
        "--at", later)
    with _session(env) as s:
        first, second = s.query(Notice).order_by(Notice.id).all()
        assert (first.urgent, first.audience, first.created_by is not None) == (True, {"buildings": ["1"]}, True)
        assert second.scheduled_at > datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=23)
        resident_id = s.query(Resident.id).filter(Resident.community_id == first.community_id).order_by(Resident.id).first()[0]
        s.add(NoticeDelivery(notice_id=first.id, resident_id=resident_id, channel="telegram", chat_id="5",
                             status="unreachable", error="never bound", next_attempt_at=first.scheduled_at))
        s.add(NoticeDelivery(notice_id=first.id, channel="wechat", chat_id="o-1", status="sent", via="cs_parts",
                             external_id="parts:2/2", next_attempt_at=first.scheduled_at))
        first_id, second_id = first.id, second.id
    listed = run(env, "list")
    assert f"#{second_id}\t待发送" in listed and "[急] 停水通知" in listed and "2 / 2" in listed
    report = run(env, "report", str(first_id))
    assert "未送达 1" in report and "住户1 1-1-0101 telegram: never bound" in report
    assert "微信 / WeChat: 分段客服消息 1" in report
    target = tmp_path / "record.xlsx"
    assert "2 行" in run(env, "export", str(first_id), "-o", str(target))
    assert load_workbook(target).worksheets[0].max_row == 3
    csv_path = tmp_path / "record.csv"
    run(env, "export", str(first_id), "-o", str(csv_path))
    assert list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))[1][-1] == "never bound"
    assert "已取消" in run(env, "cancel", str(second_id), "--as", "manager")
    assert "不能取消" in run(env, "cancel", str(second_id), code=1)


@pytest.mark.parametrize(("args", "says"), [
    (["--to", "火星"], "看不懂通知对象「火星」"),
    (["--to", "9栋"], "小区里没有9栋"),
    (["--to", "1栋", "--at", "2020-01-01 09:00"], "已经过去"),
    (["--to", "1栋", "--at", "tomorrow"], "cannot read the time"),
    (["--to", "1栋", "--as", "tech1"], "may not do that"),
    (["--to", "1栋", "--as", "nobody"], "no active staff member"),
    (["--audience", "{bad"], "not JSON"),
    (["--audience", "{}"], "请选择通知对象"),
    ([], "exactly one of --to and --audience"),
    (["--to", "1栋", "--image", "MISSING"], "no such file"),
    (["--to", "1栋", "--image", "TEXT"], "不是图片"),
])
def test_refusals(env, tmp_path, args, says):
    text_file = tmp_path / "fake.png"
    text_file.write_text("not an image")
    args = [str(tmp_path / "nope.png") if a == "MISSING" else str(text_file) if a == "TEXT" else a for a in args]
    out = run(env, "send", "--title", "t", "--body", "b", "--category", "tip", *args, code=1)
    assert says in out
    with _session(env) as s:
        assert s.query(Notice).count() == 0
    assert "不存在" in run(env, "report", "999", code=1) or "找不到" in run(env, "report", "999", code=1)


def test_import_shared_income_and_disclose(env, tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("月份,项目,金额\n2026-11,电梯广告,3000\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "shared-income", str(ledger)], env=env)
    assert result.exit_code == 0 and "1 row(s) imported" in result.output, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("月份,项目,金额\n2026-11,电梯广告,-1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "shared-income", str(bad)], env=env)
    assert result.exit_code == 1 and "line 2: bad amount" in result.output
    assert "2026年11月公共收益公示" in run(env, "disclose", "--period", "2026-11")
    assert "nothing to disclose" in run(env, "disclose", "--period", "2026-11", code=1)
    assert "bad month" in run(env, "disclose", "--period", "someday", code=1)
