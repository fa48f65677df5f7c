"""`guanjia notice`: compose and schedule notices, list them, their delivery report, cancel, export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from backend.catalogue import name
from backend.clock import SystemClock
from backend.errors import DomainError
from backend.services import disclosure, notice_targets, notices, permissions
from backend.services.permissions import Perm
from bot.cli.common import COMMUNITY_OPTION, community_by_code, fail, load_settings, staff_by_login, unit_of_work

app = typer.Typer(help="Notices to residents, staff and groups (sent by the worker's broadcast engine).",
                  no_args_is_help=True)

AS_OPTION = typer.Option(None, "--as", help="Staff login acting (checked against the permission matrix).")


def _local_to_utc(text: str, tz: str) -> datetime:
    try:
        local = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        raise fail(f"cannot read the time {text!r}: use 'YYYY-MM-DD HH:MM' (local time, {tz})") from exc
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _local(dt: datetime | None, tz: str) -> str:
    return dt.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if dt else "-"


def _upload(path: Path | None) -> notices.Upload | None:
    if path is None:
        return None
    if not path.is_file():
        raise fail(f"no such file: {path}")
    return notices.Upload(path.name, path.read_bytes())


def _acting(session, community, login: str | None, perm: Perm):  # type: ignore[no-untyped-def]
    """The staff member named by --as, who must be allowed `perm`; None when the operator acts."""
    if login is None:
        return None
    staff = staff_by_login(session, community, login)
    if not permissions.allowed(staff, perm, permissions.community(community.id)):
        raise fail(f"{login} may not do that (permission {perm.value})")
    return staff


@app.command()
def send(
    title: str = typer.Option(..., help="Title (at most 100 characters)."),
    body: str = typer.Option(None, help="The text; or --body-file."),
    body_file: Path = typer.Option(None, help="Read the text from this UTF-8 file."),
    category: str = typer.Option(..., help="outage | safety | fee | event | tip"),
    to: str = typer.Option(None, help="Typed targets: '全小区', '3栋', '3栋2单元', '3栋12层', '欠费住户', '业主群', '工程部'."),
    audience: str = typer.Option(None, help="The audience as JSON instead of --to (see docs/notices.md)."),
    at: str = typer.Option(None, help="Send at this local time 'YYYY-MM-DD HH:MM' (default: now)."),
    expires: str = typer.Option(None, help="Stop showing it to residents after this local time."),
    urgent: bool = typer.Option(False, help="Goes before everything else (停水 within hours)."),
    image: Path = typer.Option(None, help="A PNG, JPEG or GIF sent with the notice."),
    attachment: Path = typer.Option(None, help="A file sent with the notice."),
    acting: str | None = AS_OPTION,
    community: str | None = COMMUNITY_OPTION,
) -> None:
    """Check and schedule a notice; prints its id and how many it reaches."""
    settings = load_settings()
    if (body is None) == (body_file is None):
        raise fail("give exactly one of --body and --body-file")
    text = body if body is not None else body_file.read_text(encoding="utf-8")
    if (to is None) == (audience is None):
        raise fail("give exactly one of --to and --audience")
    clock = SystemClock()
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        staff = _acting(session, place, acting, Perm.NOTICE_SEND)
        try:
            spec = notice_targets.parse(to) if to is not None else json.loads(audience)
            draft = notices.Draft(
                title=title, body=text, category=category, audience=spec, urgent=urgent,
                scheduled_at=_local_to_utc(at, settings.timezone) if at else None,
                expires_at=_local_to_utc(expires, settings.timezone) if expires else None,
                image=_upload(image), attachment=_upload(attachment))
            notice, checked = notices.create(session, clock, place.id, draft,
                                             created_by=staff.id if staff else None, media_dir=settings.media_dir)
        except DomainError as exc:
            raise fail(exc.text()) from exc
        except ValueError as exc:
            raise fail(f"--audience is not JSON: {exc}") from exc
        count = checked.count
        typer.echo(f"通知 #{notice.id} 已安排 {_local(notice.scheduled_at, settings.timezone)} 发送 / notice "
                   f"#{notice.id} scheduled")
        typer.echo(f"对象 / to: {notice_targets.describe(notice.audience)}")
        channels = ", ".join(f"{k} {v}" for k, v in count.by_channel.items()) or "-"
        typer.echo(f"住户 {count.residents}，可送达 {count.reachable}（{channels}），无法送达 {count.unreachable_total}；"
                   f"员工 {count.staff}；群 {sum(count.groups.values())}")
        if count.by_channel.get("wechat"):  # what they get: one message, numbered parts, or the page link
            typer.echo(checked.wechat(settings.wechat_templates).describe())
        typer.echo(f"全文链接 / page: {notices.page_url(settings.base_url, notice)}")


@app.command("list")
def list_(
    status: str = typer.Option(None, help="Only notices in this status."),
    limit: int = typer.Option(20, min=1, max=500),
    community: str | None = COMMUNITY_OPTION,
) -> None:
    """The latest notices, newest first."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        rows, total = notices.listing(session, place.id, status=status, limit=limit)
        for n in rows:
            status_name = name(f"notices.status.{n.status}") if n.status in notices.STATUSES else n.status
            typer.echo(f"#{n.id}\t{status_name}\t{_local(n.scheduled_at, settings.timezone)}\t"
                       f"{notices.category_name(n.category)}\t{'[急] ' if n.urgent else ''}{n.title}\t"
                       f"{notice_targets.describe(n.audience or {})}")
        typer.echo(f"{len(rows)} / {total}")


@app.command()
def report(notice_id: int, community: str | None = COMMUNITY_OPTION) -> None:
    """How many it reached, on which channel, who did not and why, who acknowledged."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        try:
            notice = notices.get(session, place.id, notice_id)
        except DomainError as exc:
            raise fail(exc.text()) from exc
        summary = notices.report(session, notice)
        typer.echo(f"通知 #{notice.id} {notice.title}（{name(f'notices.status.{notice.status}')}）")
        typer.echo(f"住户 {summary.residents}，已送达 {summary.residents_reached}，确认收到 {summary.acknowledged}，"
                   f"未送达 {len(summary.not_reached)}")
        typer.echo("渠道 / by channel: " + (", ".join(f"{k} {v}" for k, v in summary.sent_by_channel.items()) or "-"))
        if summary.wechat_via:
            typer.echo("微信 / WeChat: " + ", ".join(f"{notices.via_name(k)} {v}" for k, v in summary.wechat_via.items()))
        typer.echo("状态 / by status: " + (", ".join(f"{k} {v}" for k, v in summary.by_status.items()) or "-"))
        for row in summary.not_reached:
            typer.echo(f"  未送达 {row.name or '-'} {row.place or ''} {row.channel}: {row.error or row.status}")
        if summary.awaiting_owner:
            typer.echo(f"待群主确认 / awaiting the group owner: {summary.awaiting_owner}")
        for row in summary.groups:
            reason = f"：{row.error}" if row.error and row.status != "sent" else ""
            typer.echo(f"  群 {row.name or '-'} {row.channel}: {row.state}{reason}")


@app.command()
def cancel(notice_id: int, acting: str | None = AS_OPTION, community: str | None = COMMUNITY_OPTION) -> None:
    """Cancel a notice that has not started sending."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        _acting(session, place, acting, Perm.NOTICE_SEND)
        try:
            notices.cancel(session, SystemClock(), notices.get(session, place.id, notice_id))
        except DomainError as exc:
            raise fail(exc.text()) from exc
    typer.echo(f"通知 #{notice_id} 已取消 / cancelled")


@app.command()
def export(
    notice_id: int,
    output: Path = typer.Option(None, "--output", "-o", help="File to write (.csv or .xlsx); default notice-ID.csv."),
    community: str | None = COMMUNITY_OPTION,
) -> None:
    """Write the per-recipient delivery record as CSV or XLSX."""
    settings = load_settings()
    output = output or Path(f"notice-{notice_id}.csv")
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        try:
            notice = notices.get(session, place.id, notice_id)
        except DomainError as exc:
            raise fail(exc.text()) from exc
        rows = notices.record(session, notice)
    data = notices.export_xlsx(rows) if output.suffix.lower() == ".xlsx" else notices.export_csv(rows)
    output.write_bytes(data)
    typer.echo(f"{len(rows)} 行 / rows -> {output}")


@app.command()
def disclose(
    period: str = typer.Option(..., help="The month to disclose, e.g. 2026-11."),
    community: str | None = COMMUNITY_OPTION,
) -> None:
    """Publish a month's shared-income disclosure now (the worker does it monthly on its own)."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        try:
            notice = disclosure.publish(session, SystemClock(), place.id, disclosure.parse_period(period),
                                        media_dir=settings.media_dir)
        except (DomainError, ValueError) as exc:
            raise fail(exc.text() if isinstance(exc, DomainError) else str(exc)) from exc
        if notice is None:
            raise fail(f"nothing to disclose for {period}: no ledger lines, or it was disclosed already")
        typer.echo(f"通知 #{notice.id}「{notice.title}」已安排发送 / scheduled")
