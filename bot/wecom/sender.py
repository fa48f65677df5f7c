"""Delivery to staff on WeCom: app messages to a member, appchat messages to a department group.

WeCom silently drops messages beyond 30 a minute / 1000 an hour to one member (B3), so the
sender counts per member in channel_quota and answers `retry` instead of sending into the void.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.settings import Settings
from bot.delivery.sender import SendResult, Target
from bot.wechat import quota
from bot.wechat.api import ApiError, PlatformApi
from bot.wechat.limits import BUSY_ERRCODES, WECOM_GROUP_PER_MINUTE, WECOM_MEMBER_PER_HOUR, WECOM_MEMBER_PER_MINUTE
from bot.wecom import cards
from handlers.messages import Outbound

log = logging.getLogger("guanjia.wecom.sender")

CHANNEL = "wecom"
USER_GONE_ERRCODES = frozenset({60111, 81013, 86004, 86003})  # unknown user / not in app scope / bad chat


def make_api(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> PlatformApi:
    return PlatformApi(settings.wecom_api_url, CHANNEL, settings.wecom_corp_id, settings.wecom_secret,
                       session_factory, clock, enterprise=True)


class WeComSender:
    channel = CHANNEL

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
                 api: PlatformApi | None = None) -> None:
        self.settings, self.session_factory, self.clock = settings, session_factory, clock
        self.api = api or make_api(settings, session_factory, clock)

    def _wait(self, recipient: str, limits: tuple[tuple[str, int, int], ...]) -> float:
        """0.0 when a send is allowed now (and counted), else seconds to wait."""
        with transaction(self.session_factory) as session:
            for window, limit, seconds in limits:
                wait = quota.take_rate(session, CHANNEL, recipient, window, limit, seconds, self.clock.now())
                if wait:
                    return wait
        return 0.0

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        if target.audience == "group":
            return self._group(target.chat_id, message)
        return self.send_to_member(target.chat_id, message, notification_id)

    def send_to_member(self, user_id: str, message: Outbound, notification_id: int | None = None) -> SendResult:
        """https://developer.work.weixin.qq.com/document/path/90236 (message/send)."""
        wait = self._wait(user_id, (("minute", WECOM_MEMBER_PER_MINUTE, 60), ("hour", WECOM_MEMBER_PER_HOUR, 3600)))
        if wait:
            return SendResult.retry(wait, "wecom per-member limit")
        body: dict[str, Any] = {"touser": user_id, "agentid": _agent(self.settings.wecom_agent_id),
                                **cards.body_for(message, notification_id)}
        result = self._post("/cgi-bin/message/send", body)
        if isinstance(result, SendResult):
            return result
        if result.get("invaliduser"):
            return SendResult.unreachable("wecom: user not in the app's visible range")
        return SendResult.sent(str(result.get("msgid", "")))

    def _group(self, chat_id: str, message: Outbound) -> SendResult:
        """https://developer.work.weixin.qq.com/document/path/90248 (appchat/send); no cards in group chats."""
        wait = self._wait(f"group:{chat_id}", (("minute", WECOM_GROUP_PER_MINUTE, 60),))
        if wait:
            return SendResult.retry(wait, "wecom group limit")
        result = self._post("/cgi-bin/appchat/send", {"chatid": chat_id, **cards.text_body(message)})
        return result if isinstance(result, SendResult) else SendResult.sent()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | SendResult:
        try:
            return self.api.post(path, body)
        except ApiError as err:
            if err.errcode in USER_GONE_ERRCODES:
                return SendResult.unreachable(f"wecom {err.errcode}")
            return SendResult.retry(60 if err.errcode in BUSY_ERRCODES else 300, f"{path} {err.errcode}")
        except httpx.HTTPError as exc:
            return SendResult.retry(30, f"{path} {type(exc).__name__}")


def _agent(agent_id: str) -> int | str:
    return int(agent_id) if agent_id.isdigit() else agent_id


def factory(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> WeComSender | None:
    """The WeCom sender when the corp id, secret and agent id are set."""
    if not (settings.wecom_corp_id and settings.wecom_secret and settings.wecom_agent_id):
        return None
    return WeComSender(settings, session_factory, clock)
