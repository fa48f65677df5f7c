"""Visitor passes: a 6-digit code and a QR image valid for one time window; guards verify the code.

Times are stored as naive UTC like every other timestamp; callers convert local windows first.
The QR image lives under an unguessable name (/media/pass/<token>.png) and is served only while the
pass is active and not past its window: a cancelled, used or expired pass is dead everywhere. The
gate's checks are logged and rate-limited per staff member, so codes cannot be enumerated there.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.catalogue import register
from backend.clock import Clock
from backend.errors import Forbidden, IllegalMove, Invalid, NotFound
from backend.models import Household, Resident, Staff, VisitorPass
from backend.ratelimit import Limits, limits_for
from backend.services import outbox, permissions
from backend.services.outbox import Recipient
from backend.services.permissions import Perm
from backend.settings import Settings

log = logging.getLogger("guanjia.visitors")

ACTIVE, CANCELLED, ARRIVED = "active", "cancelled", "arrived"
EARLY_GRACE = timedelta(minutes=30)  # a visitor a little early is still let in
MAX_PEOPLE = 50
MAX_WINDOW = timedelta(days=7)

register({
    "visitor.arrived": (
        "🚪 您登记的访客 {visitor}（{people}人）已于 {time} 到达小区，门岗已核验放行。",
        "🚪 Your visitor {visitor} ({people}) arrived at {time}; the gate verified the pass.",
    ),
    "error.pass_not_found": ("没有找到通行码 {code} 的有效访客登记。", "No visitor pass with code {code}."),
    "error.pass_cancelled": ("通行码 {code} 已被住户取消。", "Pass {code} was cancelled by the resident."),
    "error.pass_used": ("通行码 {code} 已于 {time} 核验使用过。", "Pass {code} was already used at {time}."),
    "error.pass_too_early": ("通行码 {code} 尚未生效，有效时间 {window}。", "Pass {code} is not valid yet: {window}."),
    "error.pass_expired": ("通行码 {code} 已过期（有效时间 {window}）。", "Pass {code} has expired ({window})."),
    "error.pass_not_active": ("该访客登记已{status}，无法修改。", "This pass is {status} and cannot be changed."),
    "error.pass_checks_limited": (
        "通行码核验过于频繁，请 {minutes} 分钟后再试；如有急事请联系安保主管。",
        "Too many gate-code checks; try again in {minutes} min, or call the security lead.",
    ),
})
# The gate: at most this many checks a minute per staff member, and a pause after repeated wrong codes.
CHECKS_PER_MINUTE = 20
FAILURES_BEFORE_PAUSE = 8
FAILURE_WINDOW = timedelta(minutes=10)
TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def local(dt: datetime, tz: str) -> datetime:
    """Naive UTC -> naive local time of the community."""
    return dt.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def to_utc(dt: datetime, tz: str) -> datetime:
    """Naive local time of the community -> naive UTC."""
    return dt.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def window_label(p: VisitorPass, tz: str, lang: str = "zh") -> str:
    """12月2日 下午1:00–下午6:00 (with both dates when it spans days), as people read times."""
    from backend.services.ticket_format import spoken_time

    start, end = local(p.valid_from, tz), local(p.valid_until, tz)
    if start.date() == end.date():
        day_part = spoken_time(end, lang).split(" ", 1 if lang == "zh" else 2)[-1]
        return f"{spoken_time(start, lang)}–{day_part}"
    return f"{spoken_time(start, lang)}–{spoken_time(end, lang)}"


def image_path(settings: Settings, token: str) -> Path:
    return Path(settings.media_dir) / "pass" / f"{token}.png"


def image_url(visitor_pass: VisitorPass) -> str:
    """Where the web layer serves the pass's QR image while the pass is live (unguessable, not the code)."""
    return f"/media/pass/{visitor_pass.image_token}.png" if visitor_pass.image_token else ""


def image_alive(session: Session, clock: Clock, token: str) -> bool:
    """Whether /media/pass/<token>.png may be served now: an active pass inside its window."""
    if not token or len(token) > 48 or not set(token) <= TOKEN_CHARS:
        return False
    visitor_pass = session.scalar(select(VisitorPass).where(VisitorPass.image_token == token))
    return visitor_pass is not None and visitor_pass.status == ACTIVE and clock.now() <= visitor_pass.valid_until


def forget_image(settings: Settings, visitor_pass: VisitorPass) -> None:
    """Remove a dead pass's image file (the route refuses it anyway; this is housekeeping)."""
    if visitor_pass.image_token:
        image_path(settings, visitor_pass.image_token).unlink(missing_ok=True)


def create_pass(
    session: Session, clock: Clock, settings: Settings, resident: Resident, household: Household, *,
    visitor_name: str, valid_from: datetime, valid_until: datetime, people: int = 1, plate: str = "",
) -> VisitorPass:
    """A pass for the resident's own household; valid_from/until in naive UTC."""
    if resident.household_id != household.id:
        raise Forbidden()
    _check(visitor_name, valid_from, valid_until, people, clock)
    visitor_pass = VisitorPass(
        community_id=household.community_id, household_id=household.id, resident_id=resident.id,
        visitor_name=visitor_name.strip()[:50], people=people, plate=plate.strip().upper()[:12],
        code=_new_code(session, household.community_id, clock), valid_from=valid_from, valid_until=valid_until,
        status=ACTIVE, created_at=clock.now(), image_token=secrets.token_urlsafe(24),
    )
    session.add(visitor_pass)
    session.flush()
    write_qr(settings, visitor_pass.code, visitor_pass.image_token)
    return visitor_pass


def amend_pass(
    session: Session, clock: Clock, resident: Resident, pass_id: int, *, visitor_name: str | None = None,
    valid_from: datetime | None = None, valid_until: datetime | None = None, people: int | None = None,
    plate: str | None = None,
) -> VisitorPass:
    """Correct an active pass (不对，是3个人); the code stays the same."""
    visitor_pass = _own(session, resident, pass_id)
    if visitor_pass.status != ACTIVE:
        raise IllegalMove("error.pass_not_active", status=_status_name(visitor_pass.status))
    name = visitor_pass.visitor_name if visitor_name is None else visitor_name
    start = valid_from or visitor_pass.valid_from
    end = valid_until or visitor_pass.valid_until
    count = visitor_pass.people if people is None else people
    _check(name, start, end, count, clock)
    visitor_pass.visitor_name, visitor_pass.valid_from, visitor_pass.valid_until = name.strip()[:50], start, end
    visitor_pass.people = count
    if plate is not None:
        visitor_pass.plate = plate.strip().upper()[:12]
    session.flush()
    return visitor_pass


def cancel_pass(session: Session, clock: Clock, resident: Resident, pass_id: int) -> VisitorPass:
    """Cancel a pass of the resident's household; NotFound for anyone else's."""
    visitor_pass = _own(session, resident, pass_id)
    if visitor_pass.status != ACTIVE:
        raise IllegalMove("error.pass_not_active", status=_status_name(visitor_pass.status))
    visitor_pass.status = CANCELLED
    session.flush()
    return visitor_pass


def active_passes(session: Session, clock: Clock, resident: Resident) -> list[VisitorPass]:
    """The household's passes still to be used, soonest first."""
    if resident.household_id is None:
        return []
    return list(session.scalars(
        select(VisitorPass).where(
            VisitorPass.household_id == resident.household_id, VisitorPass.status == ACTIVE,
            VisitorPass.valid_until >= clock.now(),
        ).order_by(VisitorPass.valid_from, VisitorPass.id)
    ))


def verify_code(session: Session, clock: Clock, settings: Settings, staff: Staff, code: str) -> VisitorPass:
    """The gate checks a code: valid now -> marked arrived and the resident told; else a DomainError why.

    Raises NotFound-like IllegalMove errors with catalogue keys error.pass_* (not found, cancelled,
    used, too early, expired) that the staff handler can show as they are (err.text(lang)).
    """
    code = "".join(ch for ch in (code or "") if ch.isascii() and ch.isdigit())[:12]
    permissions.require(staff, Perm.VISITOR_CHECK, permissions.gate(staff.community_id))
    _GATE.admit(staff.id, clock.now(), settings)
    try:
        visitor_pass = _verify(session, clock, settings, staff, code)
    except IllegalMove as err:
        _GATE.failed(staff.id, clock.now(), settings)
        log.info("gate check by staff %s (community %s): %s for %s", staff.id, staff.community_id, err.key,
                 _masked(code))
        raise
    log.info("gate check by staff %s (community %s): pass %s admitted", staff.id, staff.community_id,
             visitor_pass.id)
    return visitor_pass


def _verify(session: Session, clock: Clock, settings: Settings, staff: Staff, code: str) -> VisitorPass:
    candidates = list(session.scalars(
        select(VisitorPass).where(VisitorPass.community_id == staff.community_id, VisitorPass.code == code)
        .order_by(VisitorPass.valid_until.desc()).with_for_update()
    )) if len(code) == 6 else []
    if not candidates:
        raise IllegalMove("error.pass_not_found", code=code or "—")
    visitor_pass = next((p for p in candidates if p.status == ACTIVE), candidates[0])
    now = clock.now()
    window = window_label(visitor_pass, settings.timezone)
    if visitor_pass.status == CANCELLED:
        raise IllegalMove("error.pass_cancelled", code=code)
    if visitor_pass.status == ARRIVED:
        at = local(visitor_pass.arrived_at or now, settings.timezone)
        raise IllegalMove("error.pass_used", code=code, time=f"{at:%m-%d %H:%M}")
    if now < visitor_pass.valid_from - EARLY_GRACE:
        raise IllegalMove("error.pass_too_early", code=code, window=window)
    if now > visitor_pass.valid_until:
        raise IllegalMove("error.pass_expired", code=code, window=window)
    visitor_pass.status, visitor_pass.arrived_at, visitor_pass.verified_by = ARRIVED, now, staff.id
    session.flush()
    if visitor_pass.resident_id is not None:
        outbox.enqueue(session, clock, visitor_pass.community_id, Recipient.resident(visitor_pass.resident_id),
                       "visitor.arrived", {
                           "pass_id": visitor_pass.id, "visitor": visitor_pass.visitor_name,
                           "people": visitor_pass.people, "plate": visitor_pass.plate,
                           "time": f"{local(now, settings.timezone):%H:%M}",
                       })
    return visitor_pass


def todays_expected(session: Session, clock: Clock, settings: Settings, community_id: int) -> list[VisitorPass]:
    """Passes (active or arrived) whose window touches today in the community's local time, by start."""
    today = local(clock.now(), settings.timezone).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = to_utc(today, settings.timezone), to_utc(today + timedelta(days=1), settings.timezone)
    return list(session.scalars(
        select(VisitorPass).where(
            VisitorPass.community_id == community_id, VisitorPass.status.in_([ACTIVE, ARRIVED]),
            VisitorPass.valid_from < end, VisitorPass.valid_until >= start,
        ).order_by(VisitorPass.valid_from, VisitorPass.id)
    ))


def household_label(session: Session, visitor_pass: VisitorPass) -> str:
    household = session.get(Household, visitor_pass.household_id)
    return household.label if household else ""


def write_qr(settings: Settings, code: str, token: str) -> Path:
    """Render the code as a PNG QR image under media_dir/pass/, named by the pass's image token."""
    import segno

    path = image_path(settings, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(code, error="m").save(str(path), kind="png", scale=8, border=2)
    return path


def _check(visitor_name: str, start: datetime, end: datetime, people: int, clock: Clock) -> None:
    if not visitor_name or not visitor_name.strip():
        raise Invalid("visitor name / 访客姓名")
    if not 1 <= people <= MAX_PEOPLE:
        raise Invalid(f"people 1–{MAX_PEOPLE} / 人数")
    if end <= start or end - start > MAX_WINDOW:
        raise Invalid("time window / 时间段")
    if end < clock.now():
        raise Invalid("the time is already past / 时间已过")


def _own(session: Session, resident: Resident, pass_id: int) -> VisitorPass:
    visitor_pass = session.get(VisitorPass, pass_id, with_for_update=True)
    if visitor_pass is None or resident.household_id is None or visitor_pass.household_id != resident.household_id \
            or visitor_pass.community_id != resident.community_id:
        raise NotFound("访客登记")
    return visitor_pass


def _new_code(session: Session, community_id: int, clock: Clock) -> str:
    """Six random digits, unique among the community's passes still in use."""
    taken = set(session.scalars(select(VisitorPass.code).where(
        VisitorPass.community_id == community_id, VisitorPass.status == ACTIVE,
        VisitorPass.valid_until >= clock.now() - timedelta(days=1),
    )))
    for _ in range(100):
        code = f"{secrets.randbelow(1_000_000):06d}"
        if code not in taken:
            return code
    raise RuntimeError("no free visitor code")  # a million codes; unreachable in practice


def _masked(code: str) -> str:
    """A gate code in the log: enough to match a complaint, not to walk in."""
    return f"{code[:2]}****" if code else "—"


class GateLimiter:
    """Per staff member: checks a minute, and a pause after repeated wrong codes.

    Counted in the deployment's shared limits (backend.ratelimit): this process's view on the embedded
    default, every process's with GUANJIA_REDIS_URL set, so codes cannot be walked through several workers."""

    def _limits(self, settings: Settings | None) -> Limits:
        return limits_for(settings.redis_url if settings is not None else "")

    def admit(self, staff_id: int, now: datetime, settings: Settings | None = None) -> None:
        limits, at = self._limits(settings), now.timestamp()
        failures, oldest = limits.count(f"gate:fail:{staff_id}", FAILURE_WINDOW.total_seconds(), at)
        if failures >= FAILURES_BEFORE_PAUSE:
            wait = oldest + FAILURE_WINDOW.total_seconds() - at
            log.warning("gate checks paused for staff %s after %d wrong codes", staff_id, failures)
            raise IllegalMove("error.pass_checks_limited", minutes=max(1, int(wait // 60) + 1))
        if limits.hit(f"gate:check:{staff_id}", 60.0, CHECKS_PER_MINUTE, at):
            log.warning("gate checks limited for staff %s: %d in a minute", staff_id, CHECKS_PER_MINUTE)
            raise IllegalMove("error.pass_checks_limited", minutes=1)

    def failed(self, staff_id: int, now: datetime, settings: Settings | None = None) -> None:
        self._limits(settings).record(f"gate:fail:{staff_id}", FAILURE_WINDOW.total_seconds(), now.timestamp())

    def reset(self) -> None:
        """Forget this process's counts (tests)."""
        limits_for("").reset()


_GATE = GateLimiter()


def _status_name(status: str) -> str:
    return {CANCELLED: "取消", ARRIVED: "使用"}.get(status, status)


def own_pass(session: Session, resident: Resident, pass_id: int) -> VisitorPass:
    """A pass of the resident's household; NotFound for anyone else's."""
    return _own(session, resident, pass_id)
