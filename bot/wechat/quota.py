"""Per-recipient sending windows in channel_quota, taken atomically so several workers never overspend.

Two shapes:
* an opened window (WeChat 客服): a resident's action opens it with N sends until it expires;
  sending only takes from an open window (`open_window`, `take_open`);
* a rate window (WeCom 30/min per member): it renews itself when expired (`take_rate`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import ChannelQuota


def _where(channel: str, recipient: str, window: str) -> tuple:
    return (ChannelQuota.channel == channel, ChannelQuota.recipient == recipient[:200], ChannelQuota.window == window)


def open_window(session: Session, channel: str, recipient: str, window: str, sends: int, seconds: int,
                now: datetime) -> None:
    """(Re)open a window: a new action resets the count and the expiry."""
    values = {"opened_at": now, "expires_at": now + timedelta(seconds=seconds), "remaining": sends}
    result = session.execute(update(ChannelQuota).where(*_where(channel, recipient, window)).values(**values))
    if result.rowcount:
        return
    try:
        with session.begin_nested():
            session.add(ChannelQuota(channel=channel, recipient=recipient[:200], window=window, **values))
    except IntegrityError:  # inserted concurrently: update that one
        session.execute(update(ChannelQuota).where(*_where(channel, recipient, window)).values(**values))


def take_open(session: Session, channel: str, recipient: str, window: str, now: datetime, sends: int = 1) -> bool:
    """Spend `sends` sends of an open, unexpired window, all or none; False when fewer are left."""
    result = session.execute(
        update(ChannelQuota).where(*_where(channel, recipient, window), ChannelQuota.expires_at > now,
                                   ChannelQuota.remaining >= sends)
        .values(remaining=ChannelQuota.remaining - sends))
    return bool(result.rowcount)


def give_back(session: Session, channel: str, recipient: str, window: str, now: datetime, sends: int = 1) -> None:
    """Return sends the platform did not take (it refused the message, or the parts after it were not sent)."""
    if sends <= 0:
        return
    session.execute(update(ChannelQuota).where(*_where(channel, recipient, window), ChannelQuota.expires_at > now)
                    .values(remaining=ChannelQuota.remaining + sends))


def take_rate(session: Session, channel: str, recipient: str, window: str, limit: int, seconds: int,
              now: datetime) -> float:
    """Spend one send of a self-renewing rate window: 0.0 when taken, else seconds until it renews."""
    if take_open(session, channel, recipient, window, now):
        return 0.0
    renewed = session.execute(
        update(ChannelQuota).where(*_where(channel, recipient, window), ChannelQuota.expires_at <= now)
        .values(opened_at=now, expires_at=now + timedelta(seconds=seconds), remaining=limit - 1))
    if renewed.rowcount:
        return 0.0
    row = session.scalar(select(ChannelQuota).where(*_where(channel, recipient, window)))
    if row is None:
        try:
            with session.begin_nested():
                session.add(ChannelQuota(channel=channel, recipient=recipient[:200], window=window, opened_at=now,
                                         expires_at=now + timedelta(seconds=seconds), remaining=limit - 1))
            return 0.0
        except IntegrityError:
            return 1.0  # a concurrent first send: try again in a moment
    return max((row.expires_at - now).total_seconds(), 1.0)
