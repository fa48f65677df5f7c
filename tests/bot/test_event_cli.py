"""`guanjia event …` and `guanjia import bills|payments`, run in-process against a migrated SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory, transaction
from backend.models import Bill, CommunityEvent, Notice, Resident
from backend.services import events
from backend.settings import Settings
from bot.cli.main import app
from tests.builders import build_world


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"GUANJIA_DATABASE_URL": url, "GUANJIA_DEFAULT_COMMUNITY": "t1", "GUANJIA_SECRET_KEY": "cli-test"}
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    with transaction(make_session_factory(make_engine(url))) as s:
        build_world(s, SystemClock(), Settings(_env_file=None, database_url=url))
    return env


def _session(env):  # type: ignore[no-untyped-def]
    return transaction(make_session_factory(make_engine(env["GUANJIA_DATABASE_URL"])))


def test_event_commands(env, tmp_path):
    run = CliRunner()
    day = (datetime.now() + timedelta(days=5)).strftime("%Y-%m-%d")
    args = ["event", "create", "--title", "义诊", "--starts", f"{day} 09:00", "--place", "服务中心",
            "--capacity", "20", "--buildings", "1"]
    refused = run.invoke(app, [*args, "--as", "tech1"], env=env)
    assert refused.exit_code == 1 and "权限" in refused.output + str(refused.stderr)
    made = run.invoke(app, [*args, "--as", "manager"], env=env)
    assert made.exit_code == 0, made.output
    bad = run.invoke(app, ["event", "create", "--title", "x", "--starts", "2020-01-01 09:00"], env=env)
    assert bad.exit_code == 1
    with _session(env) as s:
        event = s.scalar(select(CommunityEvent))
        assert s.scalar(select(Notice.audience).where(Notice.event_id == event.id)) == {"buildings": ["1"]}
        signup = events.sign_up(s, SystemClock(), s.scalar(select(Resident).where(Resident.name == "住户1")), event.id)
        event_id, code = event.id, signup.checkin_code
    listed = run.invoke(app, ["event", "list"], env=env)
    assert "义诊" in listed.output and "signed 1/20" in listed.output
    edited = run.invoke(app, ["event", "edit", str(event_id), "--place", "会所"], env=env)
    assert edited.exit_code == 0 and "change notice" in edited.output and "queued" in edited.output
    out = tmp_path / "a.xlsx"
    assert run.invoke(app, ["event", "attendees", str(event_id), "-o", str(out)], env=env).exit_code == 0
    assert load_workbook(out).active["B2"].value == "住户1"
    early = run.invoke(app, ["event", "checkin", code, "--as", "guard1"], env=env)
    assert early.exit_code == 1  # not the event's day yet
    cancelled = run.invoke(app, ["event", "cancel", str(event_id), "--reason", "下雨"], env=env)
    assert cancelled.exit_code == 0 and "queued" in cancelled.output
    with _session(env) as s:
        assert s.get(CommunityEvent, event_id).status == "cancelled"
        notices = list(s.scalars(select(Notice).order_by(Notice.id)))
        assert [n.kind for n in notices] == ["invitation", "event_update", "event_update"]
        assert notices[-1].audience == {"event_id": event_id, "waiting": True}
        assert f"notice {notices[-1].id} queued" in cancelled.output


def test_an_event_nobody_signed_up_for_changes_and_cancels_without_a_notice(env):
    run = CliRunner()
    day = (datetime.now() + timedelta(days=5)).strftime("%Y-%m-%d")
    made = run.invoke(app, ["event", "create", "--title", "义诊", "--starts", f"{day} 09:00", "--capacity", "20"],
                      env=env)
    assert made.exit_code == 0, made.output
    with _session(env) as s:
        event_id = s.scalar(select(CommunityEvent.id))
    quiet = run.invoke(app, ["event", "edit", str(event_id), "--capacity", "30"], env=env)
    assert quiet.exit_code == 0 and quiet.output.strip() == f"event {event_id} changed"  # nothing to tell
    moved = run.invoke(app, ["event", "edit", str(event_id), "--place", "会所"], env=env)
    assert moved.exit_code == 0 and "nobody signed up or waiting to tell, no notice" in moved.output
    cancelled = run.invoke(app, ["event", "cancel", str(event_id), "--reason", "下雨"], env=env)
    assert cancelled.exit_code == 0 and "nobody signed up or waiting to tell, no notice" in cancelled.output
    with _session(env) as s:
        assert [n.kind for n in s.scalars(select(Notice))] == ["invitation"]


def test_import_bills_and_payments(env, tmp_path):
    run = CliRunner()
    bills = tmp_path / "bills.csv"
    bills.write_text("楼栋,单元,房号,费用类型,账期,金额\n1,1,0101,物业费,2026-10,274.40\n", encoding="utf-8")
    preview = run.invoke(app, ["import", "bills", str(bills), "--dry-run"], env=env)
    assert preview.exit_code == 0 and "dry run" in preview.output
    assert run.invoke(app, ["import", "bills", str(bills), "--as", "cs1"], env=env).exit_code == 1
    assert run.invoke(app, ["import", "bills", str(bills)], env=env).exit_code == 0
    pays = tmp_path / "pay.csv"
    pays.write_text("楼栋,单元,房号,费用类型,账期,金额,流水号\n1,1,0101,物业费,2026-10,74.40,X1\n"
                    "1,1,0101,物业费,2026-10,500,X2\n", encoding="utf-8")
    bad = run.invoke(app, ["import", "payments", str(pays)], env=env)
    assert bad.exit_code == 1 and "line 3" in bad.output + str(bad.stderr)
    pays.write_text("楼栋,单元,房号,费用类型,账期,金额,流水号\n1,1,0101,物业费,2026-10,74.40,X1\n", encoding="utf-8")
    assert run.invoke(app, ["import", "payments", str(pays)], env=env).exit_code == 0
    with _session(env) as s:
        assert str(s.scalar(select(Bill.paid_amount))) == "74.40"
