"""The `guanjia` command line, run in-process against a migrated SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory, transaction
from backend.models import ApiToken, ChatIdentity, Community, Household, Resident, Staff
from backend.services.api_tokens import staff_for_token
from backend.services.invites import redeem_invite
from bot.cli.main import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "GUANJIA_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'cli.db'}",
        "GUANJIA_DEMO_MODE": "false",  # restored after each invoke, so `demo` cannot leak demo mode
        "GUANJIA_SECRET_KEY": "cli-test-secret",
    }


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def demo_db(runner: CliRunner, env: dict[str, str]) -> str:
    result = runner.invoke(app, ["demo", "--no-serve", "--port", "8123"], env=env)
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/chat" in result.output
    assert "http://127.0.0.1:8123/docs" in result.output
    assert "language model ready" in result.output  # trained (or loaded) here, not on the first message
    return env["GUANJIA_DATABASE_URL"]


def _session(url: str):  # type: ignore[no-untyped-def]
    return transaction(make_session_factory(make_engine(url)))


def test_db_upgrade_then_demo_is_repeatable(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    for _ in range(2):
        assert runner.invoke(app, ["demo", "--no-serve"], env=env).exit_code == 0
    with _session(env["GUANJIA_DATABASE_URL"]) as s:
        assert s.scalar(select(func.count()).select_from(Household)) == 864
        assert s.scalar(select(Community.name)) == "和谐家园"
        chats = set(s.scalars(select(ChatIdentity.external_id)))  # the demo's web chats, once each
        assert {"staff:cs1", "staff:tech1", "staff:guard1", "staff:manager", "resident:3-2-1502"} <= chats
        assert s.scalar(select(func.count()).select_from(ChatIdentity)) == 15 + 2


def test_import_before_upgrade_explains(runner: CliRunner, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("楼栋,单元,房号,面积,电话\n1,1,0101,98,13900110101\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "residents", str(path)], env=env)
    assert result.exit_code == 1
    assert "guanjia db upgrade" in result.output


def test_import_residents(runner: CliRunner, env: dict[str, str], demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("楼栋,单元,房号,面积,姓名,电话,关系\n7,1,0101,88,新住户,13907110101,业主\n".encode("gbk"))
    result = runner.invoke(app, ["import", "residents", str(path), "--community", "demo"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 row(s) imported" in result.output
    with _session(demo_db) as s:
        assert s.scalars(select(Resident.name).where(Resident.household_id.in_(
            select(Household.id).where(Household.label == "7-1-0101")))).all() == ["新住户"]


def test_import_bad_row_exits_1_with_line(runner: CliRunner, env: dict[str, str], demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "工号,姓名,岗位,部门,电话\nnew1,新人,专员,客服部,13800009999\nnew2,另一个,专员,财务部,13800009998\n",
        encoding="utf-8-sig",
    )
    result = runner.invoke(app, ["import", "staff", str(path), "--community", "demo"], env=env)
    assert result.exit_code == 1
    assert "line 3" in result.output and "unknown department" in result.output
    with _session(demo_db) as s:
        assert s.scalar(select(func.count()).select_from(Staff).where(Staff.login.like("new%"))) == 0


def test_unknown_community(runner: CliRunner, env: dict[str, str], demo_db: str) -> None:
    result = runner.invoke(app, ["staff", "invite", "cs1", "--community", "nowhere"], env=env)
    assert result.exit_code == 1 and "nowhere" in result.output


def test_invite_prints_a_code_redeem_accepts(runner: CliRunner, env: dict[str, str], demo_db: str) -> None:
    result = runner.invoke(app, ["staff", "invite", "cs1", "--community", "demo"], env=env)
    assert result.exit_code == 0, result.output
    bind = next(line for line in result.output.splitlines() if "/bind " in line)
    code = bind.rsplit("/bind ", 1)[1].strip()
    with _session(demo_db) as s:
        staff = redeem_invite(s, code, "telegram", "777", SystemClock(), display_name="Zhang Min")
        assert staff.login == "cs1"
    with _session(demo_db) as s:
        assert s.scalars(select(ChatIdentity.staff_id).where(ChatIdentity.channel == "telegram")).one() == staff.id


def test_token(runner: CliRunner, env: dict[str, str], demo_db: str) -> None:
    result = runner.invoke(app, ["staff", "token", "manager", "--label", "console"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[0].strip()
    with _session(demo_db) as s:
        assert staff_for_token(s, token).login == "manager"
        assert s.scalars(select(ApiToken.label)).one() == "console"
    assert runner.invoke(app, ["staff", "token", "nobody"], env=env).exit_code == 1


def test_worker_once(runner: CliRunner, env: dict[str, str], demo_db: str) -> None:
    result = runner.invoke(app, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "swept: 0" in result.output


def test_help_lists_every_group(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "serve", "worker", "db", "import", "staff", "nlu"):
        assert name in result.output


def test_worker_loop_stops_on_signal(
    runner: CliRunner, env: dict[str, str], demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    import bot.worker

    sweeps: list[int] = []

    def fake_sweep(factory, clock, settings) -> int:  # type: ignore[no-untyped-def]
        sweeps.append(1)
        if len(sweeps) == 3:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C delivers
        return 0

    monkeypatch.setattr(bot.worker, "sweep_once", fake_sweep)  # what Worker.run_forever calls
    old = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        result = runner.invoke(app, ["worker"], env={**env, "GUANJIA_SWEEP_INTERVAL_SECONDS": "0.01"})
    finally:
        signal.signal(signal.SIGINT, old[0])
        signal.signal(signal.SIGTERM, old[1])
    assert result.exit_code == 0, result.output
    assert len(sweeps) == 3
    assert "worker stopped" in result.output
