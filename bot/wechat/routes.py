"""GET/POST /wechat/mp: the official account's callback (URL check, plain and safe mode)."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import update

from backend.db import transaction
from backend.models import ChannelMessage, ChatIdentity
from bot.wechat import render, signing, xmlsafe
from bot.wechat.callback import CallbackRunner, Claim
from bot.wechat.http import epoch, read_capped
from bot.wechat.inbound import CHANNEL, Callback, to_inbound
from bot.wechat.limits import CS_TEXT_MAX_BYTES, SUCCESS
from bot.wechat.sender import WeChatSender
from handlers.conversation import Conversation
from handlers.messages import Outbound

log = logging.getLogger("guanjia.wechat")
router = APIRouter(prefix="/wechat", tags=["wechat"])
LATE_SEND_ATTEMPTS = 3


class OfficialAccount:
    """Everything one app needs to answer official-account callbacks."""

    def __init__(self, app: FastAPI) -> None:
        state = app.state
        self._app = app
        self.settings, self.session_factory, self.clock = state.settings, state.session_factory, state.clock
        self.get_nlu = state.get_nlu
        s = self.settings
        self.safe = signing.SafeMode(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_app_id) \
            if s.wechat_encoding_aes_key else None
        self.sender = WeChatSender(s, self.session_factory, self.clock)
        self.runner = CallbackRunner(self.session_factory, self.clock, s.wechat_reply_deadline_seconds,
                                     s.wechat_callback_workers)

    @property
    def conversation(self) -> Conversation:
        return self._app.state.get_conversation()

    def verify(self, query: dict[str, str], body: bytes) -> str:
        """The callback's XML once it is proven to be WeChat's; Forged / BadXml otherwise."""
        if not self.settings.wechat_token:
            raise signing.Forged("official account not configured")
        ts, nonce = query.get("timestamp", ""), query.get("nonce", "")
        signing.check_fresh(ts, epoch(self.clock), self.settings.wechat_signature_max_age_seconds)
        if self.safe is not None:  # plain signatures do not cover the body: with a key, only AES bodies
            if query.get("encrypt_type", "") != "aes":
                raise signing.Forged("plain body while safe mode is configured")
            outer = xmlsafe.parse(body)
            return self.safe.decrypt(outer, query.get("msg_signature", ""), ts, nonce)
        signing.check((self.settings.wechat_token, ts, nonce), query.get("signature", ""))
        return xmlsafe.checked(body)

    def work(self, cb: Callback, claim: Claim) -> list[Outbound]:
        inbound = to_inbound(cb, self._download, self.settings.media_dir)  # media fetched outside the transaction
        with transaction(self.session_factory) as session:
            if cb.window is not None:
                self.sender.open_window(session, cb.openid, cb.window)
            reachable = cb.kind != "unsubscribe"
            session.execute(update(ChatIdentity).where(ChatIdentity.channel == CHANNEL,
                                                       ChatIdentity.external_id == cb.openid)
                            .values(unreachable=not reachable))
            replies = self.conversation.handle_in(session, inbound) if inbound is not None and reachable else []
            claim.store(session, replies)
            return replies

    def _download(self, media_id: str) -> tuple[bytes, str]:
        """https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html"""
        return self.sender.api.download("/cgi-bin/media/get", {"media_id": media_id})

    def late(self, openid: str, replies: list[Outbound]) -> None:
        """Past the deadline: the replies go out as one customer-service message."""
        text = render.as_text(replies, CS_TEXT_MAX_BYTES)
        if not text:
            return
        for attempt in range(LATE_SEND_ATTEMPTS):
            result = self.sender.send_text(openid, text)
            if result.status == "sent":
                return
            if result.status == "unreachable":
                break
            time.sleep(min(result.retry_after, 2.0) * (attempt + 1))
        log.error("late reply to %s… not delivered (%s); queued for the worker to retry", openid[:8], result.error)
        with transaction(self.session_factory) as session:
            session.add(ChannelMessage(channel=CHANNEL, chat_id=openid, pushed=False, external_id="undelivered",
                                       body={"text": text, "buttons": [], "image_url": None},
                                       created_at=self.clock.now()))


def _account(request: Request) -> OfficialAccount:
    account = getattr(request.app.state, "wechat_mp", None)
    if account is None:
        account = request.app.state.wechat_mp = OfficialAccount(request.app)
    return account


@router.get("/mp", response_class=PlainTextResponse)
def verify_url(request: Request) -> PlainTextResponse:
    """WeChat's URL check: echo `echostr` when the signature is ours."""
    account, query = _account(request), dict(request.query_params)
    try:
        if not account.settings.wechat_token:
            raise signing.Forged("not configured")
        signing.check((account.settings.wechat_token, query.get("timestamp", ""), query.get("nonce", "")),
                      query.get("signature", ""))
    except signing.Forged as err:
        raise HTTPException(403, "forbidden") from err
    return PlainTextResponse(query.get("echostr", "")[:200])


@router.post("/mp")
async def callback(request: Request) -> Response:
    """Messages and events from the official account; answered within the deadline."""
    account, query = _account(request), dict(request.query_params)
    body = await read_capped(request)
    try:
        xml = account.verify(query, body)
        cb = Callback.parse(xml)
    except signing.Forged as err:
        log.warning("wechat callback refused: %s", err)
        raise HTTPException(403, "forbidden") from err
    except (xmlsafe.BadXml, ValueError, RecursionError, KeyError, AttributeError, TypeError) as err:
        # RecursionError: thousands of nested elements (within the size cap); ValueError: not UTF-8
        log.warning("wechat callback malformed: %s", type(err).__name__)
        raise HTTPException(400, "malformed callback") from err
    answer = await account.runner.answer(CHANNEL, cb.dedup_key, lambda claim: account.work(cb, claim),
                                         lambda replies: account.late(cb.openid, replies))
    if answer.failed:
        raise HTTPException(503, "try again")  # the dedup key was released: WeChat's retry reprocesses
    text = render.as_text(answer.replies or [])
    if not text:
        return PlainTextResponse(SUCCESS)
    reply = render.passive_text(cb.openid, str(cb.fields.get("ToUserName", "")), text)
    if account.safe is not None:
        reply = account.safe.encrypt(reply, query.get("timestamp", str(int(epoch(account.clock)))))
    return Response(reply, media_type="application/xml")


def mount(app: FastAPI) -> None:
    """/wechat/mp (official account, residents) and /wechat/work (WeCom, staff)."""
    from bot.wecom.routes import router as wecom_router

    app.include_router(router)
    app.include_router(wecom_router)
