"""WeChat and WeCom late replies that could not be sent: re-queued and retried by the worker, not only logged.

A callback answered after WeChat's 5-second deadline sends its replies through the API; when that keeps
failing, the reply is kept as a channel_message row with external_id "undelivered". The worker retries
those rows with backoff, each under a compare-and-set claim on external_id (so two workers never send
the same row at once; a claim older than the lease is taken over, the send counted as in doubt):

    undelivered                     new, not tried by the worker yet
    undelivered:<tries>:<epoch>     to try again from <epoch> (unix seconds)
    sending:<epoch>:<token>         a worker is sending it (since <epoch>)
    late:sent | late:failed:<tries> | late:unreachable   final
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models import ChannelMessage
from bot.delivery.sender import Sender, SendResult
from handlers.messages import Button, Outbound

log = logging.getLogger("guanjia.delivery.late")
MAX_TRIES = 6
LEASE_SECONDS = 120
BATCH = 20


def _send_via(sender: Sender) -> Callable[[str, Outbound], SendResult]:
    send_text = getattr(sender, "send_text", None)
    if send_text is not None and sender.channel == "wechat":  # the reply was 客服 text: only inside the window
        from bot.wechat import render
        from bot.wechat.limits import CS_TEXT_MAX_BYTES

        return lambda chat, message: send_text(chat, render.as_text([message], CS_TEXT_MAX_BYTES))
    send_to_member = getattr(sender, "send_to_member", None)
    if send_to_member is not None:
        return lambda chat, message: send_to_member(chat, message)
    return lambda chat, message: SendResult.unreachable(f"no late sender for {sender.channel}")


def retry_once(session_factory: sessionmaker[Session], senders: dict[str, Sender], now: float | None = None) -> int:
    """Retry due undelivered late replies once each; how many were sent."""
    now = time.time() if now is None else now
    channels = [c for c in ("wechat", "wecom") if c in senders]
    if not channels:
        return 0
    with session_factory() as session:
        rows = session.execute(select(ChannelMessage.id, ChannelMessage.external_id).where(
            ChannelMessage.channel.in_(channels), ChannelMessage.pushed.is_(False),
            or_(ChannelMessage.external_id.like("undelivered%"), ChannelMessage.external_id.like("sending:%")))
            .order_by(ChannelMessage.id).limit(BATCH * 5)).all()
    sent = 0
    for row_id, state in rows:
        tries, ready = _parse(state, now)
        if not ready:
            continue
        token = f"sending:{int(now)}:{uuid.uuid4().hex[:12]}"
        with transaction(session_factory) as session:
            taken = session.execute(update(ChannelMessage).where(ChannelMessage.id == row_id,
                                                                 ChannelMessage.external_id == state)
                                    .values(external_id=token), execution_options={"synchronize_session": False})
            if not taken.rowcount:  # type: ignore[attr-defined]
                continue  # another worker has it
            row = session.get(ChannelMessage, row_id)
            assert row is not None
            channel, chat, body = row.channel, row.chat_id, dict(row.body or {})
        message = Outbound(str(body.get("text") or ""), [Button(b["title"], b["payload"])
                                                         for b in body.get("buttons") or []],
                           image_url=body.get("image_url"))
        try:
            result = _send_via(senders[channel])(chat, message)
        except Exception as exc:  # a sender bug or the network: try again later
            result = SendResult.retry(60, type(exc).__name__)
        tries += 1
        if result.status == "sent":
            final, sent = "late:sent", sent + 1
        elif result.status == "unreachable":
            final = "late:unreachable"
        elif tries >= MAX_TRIES:
            final = f"late:failed:{tries}"
        else:
            final = f"undelivered:{tries}:{int(now + max(result.retry_after, 30 * 2 ** tries))}"
        if final.startswith("late:") and final != "late:sent":
            log.error("late %s reply %s not delivered after %d tries: %s", channel, row_id, tries, result.error)
        with transaction(session_factory) as session:
            session.execute(update(ChannelMessage).where(ChannelMessage.id == row_id,
                                                         ChannelMessage.external_id == token)
                            .values(external_id=final[:100]), execution_options={"synchronize_session": False})
    return sent


def _parse(state: str, now: float) -> tuple[int, bool]:
    """(tries so far, due now?) of a row's state."""
    parts = state.split(":")
    if parts[0] == "undelivered":
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return int(parts[1]), int(parts[2]) <= now
        return 0, True
    if parts[0] == "sending" and len(parts) >= 2 and parts[1].isdigit():
        return MAX_TRIES - 1, int(parts[1]) + LEASE_SECONDS <= now  # its worker died: one last try
    return 0, False
