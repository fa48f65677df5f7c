"""The broadcast engine's WeChat channel: a notice to one official-account follower, whole.

A customer-service (客服) text holds 2,048 bytes; a notice may be far longer. So
(backend/services/notice_text.py cuts the text the same way for the preview):

* **Fits one message**: one 客服 message inside the 48-hour window, else a template message whose
  link opens the notice's public page (/n/<token>): template fields hold 20 characters, the page
  holds the whole notice. `via` customer_service / template.
* **Longer (n parts)**: when one window has n sends left, they are taken together and the parts go in
  order, numbered （1/3）…, the 收到 link on the last (`via` cs_parts, external_id `parts:3/3`). With
  fewer sends left, or outside the window: the template message with the link. Without a template
  for the notice's kind (or when it is refused): one 客服 message with the heading and the link, if
  the window has a send (`cs_link`).
* **A part fails after others went out**: the row remembers how many parts arrived: each part
  that the platform took is written at once (`notice_delivery.parts_sent` of `parts_total`, one small
  UPDATE, never lowering it), and the sends not used go back to the window. If the platform said the
  window is gone, the rest goes at once as the link (a template message; `via` parts_link). Any
  other failure (busy, network) retries the row later, and the retry sends only the missing parts —
  or, when the window no longer has sends for them, the link. A part that arrived is never sent
  again; a worker killed mid-way can repeat only the one part in flight (the row is queued again as
  in doubt, as every send is). The row is `sent` only when every part, or the link, went out; a row
  that ends `failed` or `unreachable` says "parts k/n delivered" in its error (external_id `parts:k/n`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import select, update

from backend.catalogue import register, render
from backend.db import transaction
from backend.models import NoticeDelivery
from backend.ratelimit import Bucket, Limits, Rate
from backend.services import notice_text
from bot.delivery.broadcast_rows import Outcome, Row
from bot.delivery.broadcast_senders import backoff
from bot.delivery.sender import SendResult
from bot.wechat import render as wx_render
from bot.wechat.limits import CS_TEXT_MAX_BYTES
from bot.wechat.sender import WeChatSender, out_of_window
from handlers.messages import Outbound

log = logging.getLogger("guanjia.broadcast")

register({
    "broadcast.wechat.read_all": ("全文较长，请点击阅读：{url}", "The full text is long; read it here: {url}"),
    "broadcast.wechat.read_rest": ("（续）其余内容请点击阅读全文：{url}", "(continued) Read the rest here: {url}"),
})


@dataclass
class Attempt:
    """One row's delivery in progress: the parts that arrived so far (with earlier attempts')."""

    row: Row
    message: Outbound
    parts: list[str]
    sent: int = 0
    count: int = 0  # parts in all (those of an earlier rendering when the row resumes one)

    def __post_init__(self) -> None:
        self.count = self.count or len(self.parts)

    @property
    def progress(self) -> str:
        return f"parts:{self.sent}/{self.count}" if self.sent else ""


class WeChatNoticeBroadcast:
    """Notices on the official account, through the outbox's WeChatSender (its windows in channel_quota)."""

    channel = "wechat"

    def __init__(self, sender: WeChatSender, shared: Limits, rate: Rate) -> None:
        self.wx, self.limits = sender, shared
        self.buckets: list[Bucket] = [("wx:*", rate)]

    def reserve(self, row: Row, ahead: float = 0.0) -> float:
        """The first API call's turn; the parts after it book theirs as they go (`_pace`)."""
        return self.limits.reserve(self.buckets, ahead=ahead)

    async def send(self, row: Row, message: Outbound) -> Outcome:
        attempt = Attempt(row, message, notice_text.wechat_parts(message.text))
        try:
            result, via = await asyncio.to_thread(self.deliver, attempt)
        except Exception as exc:  # a bug or a database error mid-way: retry, keeping what arrived
            log.warning("wechat notice send failed: %s", type(exc).__name__)
            result, via = SendResult.retry(0, f"wechat: {type(exc).__name__}"), ""
        if result.status == "sent":
            return Outcome(row, "sent", external_id=result.external_id, via=via)
        if result.quota_exhausted:  # every send would meet the same answer: the whole channel waits
            self.limits.pause(self.buckets, result.retry_after)
        error = result.error + (f" (parts {attempt.sent}/{attempt.count} delivered)" if attempt.sent else "")
        return Outcome(row, result.status, retry_after=result.retry_after or backoff(row.attempts + 1),
                       error=error, external_id=attempt.progress)

    async def aclose(self) -> None:
        return None

    # ---- one row, in the sender's thread ---------------------------------------------------------

    def deliver(self, attempt: Attempt) -> tuple[SendResult, str]:
        """(result, via). `attempt.sent` says how many parts have arrived, whatever happens."""
        openid, message = attempt.row.chat_id, attempt.message
        if attempt.count == 1:
            result = self.wx.send_text(openid, wx_render.as_text([message], CS_TEXT_MAX_BYTES))
            if not out_of_window(result):
                return result, "customer_service"
            return self._link(attempt)
        done, total = self._progress(attempt.row)
        attempt.sent = done
        if done and total != attempt.count:  # cut differently before (the resident changed language): the link
            attempt.count = total
            return self._link(attempt)
        if done >= attempt.count:  # every part arrived; the outcome was lost (a worker killed): nothing to send
            return SendResult.sent(f"parts:{done}/{done}"), "cs_parts"
        return self._parts(attempt)

    def _progress(self, row: Row) -> tuple[int, int]:
        """(parts delivered, parts in all) by earlier attempts of this row; (0, 0) on the first."""
        if row.attempts == 0:
            return 0, 0
        with self.wx.session_factory() as session:
            found = session.execute(select(NoticeDelivery.parts_sent, NoticeDelivery.parts_total)
                                    .where(NoticeDelivery.id == row.id)).first()
        return (found.parts_sent, found.parts_total) if found is not None else (0, 0)

    def _arrived(self, attempt: Attempt) -> None:
        """Write at once that one more part reached the platform (never lowering the count)."""
        with transaction(self.wx.session_factory) as session:
            session.execute(update(NoticeDelivery)
                            .where(NoticeDelivery.id == attempt.row.id, NoticeDelivery.parts_sent < attempt.sent)
                            .values(parts_sent=attempt.sent, parts_total=attempt.count),
                            execution_options={"synchronize_session": False})

    def _parts(self, attempt: Attempt) -> tuple[SendResult, str]:
        openid, first = attempt.row.chat_id, attempt.sent
        window = self.wx.take_window(openid, attempt.count - first)
        if window is None:  # fewer sends left than parts to send, or no window
            return self._link(attempt)
        index = first
        try:
            for index in range(first, attempt.count):
                if index > first:
                    self._pace()
                result = self.wx.post_text(openid, window, self._part_text(attempt, index))
                if result.status != "sent":
                    if out_of_window(result):  # the window closed under us: the rest as the link, now
                        return self._link(attempt)
                    return result, ""
                attempt.sent += 1
                self._arrived(attempt)
        finally:
            unused = attempt.count - index - 1
            self.wx.give_back(openid, window, unused)
        return SendResult.sent(f"parts:{attempt.count}/{attempt.count}"), "cs_parts"

    def _part_text(self, attempt: Attempt, index: int) -> str:
        lang = attempt.row.lang
        text = notice_text.part_label(index + 1, attempt.count, lang) + attempt.parts[index]
        last = index == attempt.count - 1
        return wx_render.as_text([Outbound(text, attempt.message.buttons if last else [])], CS_TEXT_MAX_BYTES)

    def _link(self, attempt: Attempt) -> tuple[SendResult, str]:
        """The rest (or all) of the notice as its page's link: a template message, else one 客服 message."""
        openid, message, sent = attempt.row.chat_id, attempt.message, attempt.sent
        link = notice_text.page_url(self.wx.settings.base_url, str(message.meta.get("page_token", "")))
        result = self.wx.template(openid, message, link=link)
        if result.status == "sent":
            if sent:
                return SendResult.sent(f"{attempt.progress}+{result.external_id}"[:100]), "parts_link"
            return result, "template"
        if result.status == "unreachable" and link and attempt.count > 1:
            words = render("broadcast.wechat.read_rest" if sent else "broadcast.wechat.read_all", attempt.row.lang,
                           url=link)
            first_line = message.text.split("\n", 1)[0]
            text = words if sent else f"{first_line}\n\n{words}"
            cs = self.wx.send_text(openid, wx_render.as_text([Outbound(text, message.buttons)], CS_TEXT_MAX_BYTES))
            if cs.status == "sent":
                return SendResult.sent(attempt.progress), "parts_link" if sent else "cs_link"
            if not out_of_window(cs):
                result = cs
        return result, ""

    def _pace(self) -> None:
        """Book the next part's API call in the shared limits (the engine booked the first)."""
        while (wait := self.limits.reserve(self.buckets)) > 0:
            time.sleep(wait)
