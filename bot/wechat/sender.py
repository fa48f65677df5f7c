"""Delivery to residents on the official account, within the platform's quotas.

Inside the customer-service window a resident's own action opened (B2: a message gives 5
sends in 48 h; a menu click, follow or scan gives 3 in 1 min) we send 客服 text
(`message/custom/send`); outside it a template message for the notification's kind
(`message/template/send`); when neither is possible the result is `unreachable` and the
dispatcher tells customer service. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import Notification
from backend.settings import Settings
from bot.delivery.sender import SendResult, Target
from bot.wechat import quota, render, templates
from bot.wechat.api import ApiError, PlatformApi
from bot.wechat.limits import (
    BUSY_ERRCODES,
    CS_TEXT_MAX_BYTES,
    DAILY_QUOTA_ERRCODES,
    EVENT_WINDOW_SECONDS,
    EVENT_WINDOW_SENDS,
    MESSAGE_WINDOW_SECONDS,
    MESSAGE_WINDOW_SENDS,
    OUT_OF_WINDOW_ERRCODES,
    QUOTA_RESET_UTC_OFFSET_HOURS,
    RECIPIENT_GONE_ERRCODES,
)
from handlers.messages import Outbound

log = logging.getLogger("guanjia.wechat.sender")

CHANNEL = "wechat"
NO_WINDOW = "no customer-service window"
WINDOWS = {"message": (MESSAGE_WINDOW_SENDS, MESSAGE_WINDOW_SECONDS), "event": (EVENT_WINDOW_SENDS, EVENT_WINDOW_SECONDS)}


def make_api(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> PlatformApi:
    return PlatformApi(settings.wechat_api_url, CHANNEL, settings.wechat_app_id, settings.wechat_app_secret,
                       session_factory, clock)


class WeChatSender:
    channel = CHANNEL

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
                 api: PlatformApi | None = None) -> None:
        self.settings, self.session_factory, self.clock = settings, session_factory, clock
        self.api = api or make_api(settings, session_factory, clock)

    # ---- windows ----------------------------------------------------------------------------

    def open_window(self, session: Session, openid: str, window: str) -> None:
        """A resident's action (re)opens its customer-service window."""
        sends, seconds = WINDOWS[window]
        quota.open_window(session, CHANNEL, openid, window, sends, seconds, self.clock.now())

    def take_window(self, openid: str, sends: int = 1) -> str | None:
        """Take `sends` sends from one open window, all or none (the short-lived window first); its name."""
        with transaction(self.session_factory) as session:
            for window in ("event", "message"):
                if quota.take_open(session, CHANNEL, openid, window, self.clock.now(), sends):
                    return window
        return None

    def give_back(self, openid: str, window: str, sends: int = 1) -> None:
        with transaction(self.session_factory) as session:
            quota.give_back(session, CHANNEL, openid, window, self.clock.now(), sends)

    # ---- sending ----------------------------------------------------------------------------

    def send_text(self, openid: str, text: str) -> SendResult:
        """客服 text inside the window, or `unreachable("no window")` without spending anything."""
        window = self.take_window(openid)
        if window is None:
            return SendResult.unreachable(NO_WINDOW)
        return self.post_text(openid, window, text)

    def post_text(self, openid: str, window: str, text: str) -> SendResult:
        """One 客服 text on a send already taken from `window`; the send is given back when the platform
        refused the message (not when it said the window is gone).

        https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
        """
        body = {"touser": openid, "msgtype": "text", "text": {"content": render.cut_bytes(text, CS_TEXT_MAX_BYTES)}}
        try:
            self.api.post("/cgi-bin/message/custom/send", body)
        except ApiError as err:
            if err.errcode in OUT_OF_WINDOW_ERRCODES:
                return SendResult.unreachable(f"{NO_WINDOW} ({err.errcode})")
            self.give_back(openid, window)
            if err.errcode in RECIPIENT_GONE_ERRCODES:
                return SendResult.unreachable(f"recipient gone ({err.errcode})")
            if err.errcode in DAILY_QUOTA_ERRCODES:
                return self.quota_used_up("custom/send", err.errcode)
            return SendResult.retry(60 if err.errcode in BUSY_ERRCODES else 300, f"custom/send {err.errcode}")
        except httpx.HTTPError as exc:
            self.give_back(openid, window)
            return SendResult.retry(30, f"custom/send {type(exc).__name__}")
        return SendResult.sent()

    def quota_used_up(self, call: str, errcode: int) -> SendResult:
        """The API's daily quota is spent: try again when it resets (00:00 Beijing time), not every minute."""
        now = self.clock.now() + timedelta(hours=QUOTA_RESET_UTC_OFFSET_HOURS)
        reset = datetime.combine(now.date() + timedelta(days=1), datetime.min.time()) + timedelta(minutes=1)
        log.warning("wechat %s: daily quota used up (%s); retrying after the reset", call, errcode)
        return SendResult("retry", retry_after=(reset - now).total_seconds(), quota_exhausted=True,
                          error=f"{call} {errcode}: daily quota used up")

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        result = self.send_text(target.chat_id, render.as_text([message], CS_TEXT_MAX_BYTES))
        if not out_of_window(result):
            return result
        return self.template(target.chat_id, message, notification_id)

    def template(self, openid: str, message: Outbound, notification_id: int | None = None, *,
                 link: str = "") -> SendResult:
        """A template message for the notification's kind; `link` (a notice's page) is where tapping it
        leads, before the template's own configured url.

        https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
        """
        kind = str(message.meta.get("kind", ""))
        params = {k: v for k, v in message.meta.items() if k != "page_token"}
        if notification_id is not None:
            with self.session_factory() as session:
                note = session.get(Notification, notification_id)
                if note is not None:
                    kind, params = note.kind, dict(note.params)
        spec = self.settings.wechat_templates.get(kind)
        if not spec:
            return SendResult.unreachable(f"{NO_WINDOW} and no template for {kind or 'this message'}")
        template_id, data, url = templates.build(spec, message.text, params, link=link)
        body = {"touser": openid, "template_id": template_id, "data": data, **({"url": url} if url else {})}
        try:
            result = self.api.post("/cgi-bin/message/template/send", body)
        except ApiError as err:
            if err.errcode in DAILY_QUOTA_ERRCODES:
                return self.quota_used_up("template/send", err.errcode)
            if err.errcode in BUSY_ERRCODES:
                return SendResult.retry(60, f"template/send {err.errcode}")
            log.warning("template %s for %s refused: %s", template_id[:20], kind, err.errcode)
            return SendResult.unreachable(f"template refused ({err.errcode})")
        except httpx.HTTPError as exc:
            return SendResult.retry(30, f"template/send {type(exc).__name__}")
        return SendResult.sent(str(result.get("msgid", "")))


def out_of_window(result: SendResult) -> bool:
    """The 客服 message could not go because the resident has no open window (or it closed): try a template."""
    return result.status == "unreachable" and result.error.startswith(NO_WINDOW)


def factory(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> WeChatSender | None:
    """The official-account sender when the app id and secret are set."""
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        return None
    return WeChatSender(settings, session_factory, clock)
