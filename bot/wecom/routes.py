"""GET/POST /wechat/work: the WeCom app's callback (always AES), staff messages and card clicks."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy.enterprise.replies import TextReply

from backend.db import transaction
from backend.models import ChannelMessage
from bot.wechat import render, signing, xmlsafe
from bot.wechat.callback import CallbackRunner, Claim
from bot.wechat.http import epoch, read_capped
from bot.wechat.limits import PASSIVE_TEXT_MAX_BYTES, SUCCESS
from bot.wecom import cards
from bot.wecom.inbound import CHANNEL, WorkCallback, to_inbound
from bot.wecom.sender import WeComSender
from handlers.conversation import Conversation
from handlers.messages import Outbound

log = logging.getLogger("guanjia.wecom")
router = APIRouter(prefix="/wechat", tags=["wecom"])
CLICKED = "已处理"  # what a clicked card's buttons turn into for the one who clicked
SEND_ATTEMPTS = 3


class WorkApp:
    def __init__(self, app: FastAPI) -> None:
        state = app.state
        self._app = app
        self.settings, self.session_factory, self.clock = state.settings, state.session_factory, state.clock
        self.get_nlu = state.get_nlu
        s = self.settings
        self.crypto = signing.SafeMode(s.wecom_token, s.wecom_encoding_aes_key, s.wecom_corp_id, enterprise=True) \
            if s.wecom_token and s.wecom_encoding_aes_key else None
        self.sender = WeComSender(s, self.session_factory, self.clock)
        self.runner = CallbackRunner(self.session_factory, self.clock, s.wechat_reply_deadline_seconds,
                                     s.wechat_callback_workers)

    @property
    def conversation(self) -> Conversation:
        return self._app.state.get_conversation()

    def work(self, cb: WorkCallback, claim: Claim) -> list[Outbound]:
        inbound = to_inbound(cb)
        with transaction(self.session_factory) as session:
            replies = self.conversation.handle_in(session, inbound) if inbound is not None else []
            claim.store(session, replies)
            return replies

    def deliver(self, user_id: str, replies: list[Outbound]) -> None:
        """Replies that cannot be passive (cards, more than one, past the deadline) as app messages."""
        for reply in replies:
            for attempt in range(SEND_ATTEMPTS):
                result = self.sender.send_to_member(user_id, reply)
                if result.status != "retry":
                    break
                time.sleep(min(result.retry_after, 2.0) * (attempt + 1))
            if result.status != "sent":
                log.error("wecom reply to %s not delivered (%s); queued for the worker to retry", user_id[:8], result.error)
                with transaction(self.session_factory) as session:
                    session.add(ChannelMessage(channel=CHANNEL, chat_id=user_id, pushed=False,
                                               external_id="undelivered", body=reply.as_json(),
                                               created_at=self.clock.now()))


def _work_app(request: Request) -> WorkApp:
    work_app = getattr(request.app.state, "wecom_app", None)
    if work_app is None:
        work_app = request.app.state.wecom_app = WorkApp(request.app)
    return work_app


def _checked_query(work_app: WorkApp, query: dict[str, str]) -> signing.SafeMode:
    if work_app.crypto is None:
        raise signing.Forged("WeCom not configured")
    signing.check_fresh(query.get("timestamp", ""), epoch(work_app.clock),
                        work_app.settings.wechat_signature_max_age_seconds)
    return work_app.crypto


@router.get("/work", response_class=PlainTextResponse)
def verify_url(request: Request) -> PlainTextResponse:
    """WeCom's URL check: answer the decrypted echostr."""
    work_app, query = _work_app(request), dict(request.query_params)
    try:
        crypto = _checked_query(work_app, query)
        echo = crypto.decrypt_echo(query.get("echostr", ""), query.get("msg_signature", ""),
                                   query.get("timestamp", ""), query.get("nonce", ""))
    except signing.Forged as err:
        raise HTTPException(403, "forbidden") from err
    return PlainTextResponse(echo)


@router.post("/work")
async def callback(request: Request) -> Response:
    """Staff messages, menu clicks and template-card button clicks."""
    work_app, query = _work_app(request), dict(request.query_params)
    body = await read_capped(request)
    try:
        crypto = _checked_query(work_app, query)
        outer = xmlsafe.parse(body)
        cb = WorkCallback.parse(crypto.decrypt(outer, query.get("msg_signature", ""), query.get("timestamp", ""),
                                               query.get("nonce", "")))
    except signing.Forged as err:
        log.warning("wecom callback refused: %s", err)
        raise HTTPException(403, "forbidden") from err
    except (xmlsafe.BadXml, ValueError, RecursionError, KeyError, AttributeError, TypeError) as err:
        # RecursionError: thousands of nested elements (within the size cap); ValueError: not UTF-8
        log.warning("wecom callback malformed: %s", type(err).__name__)
        raise HTTPException(400, "malformed callback") from err
    answer = await work_app.runner.answer(CHANNEL, cb.dedup_key, lambda claim: work_app.work(cb, claim),
                                          lambda replies: work_app.deliver(cb.user_id, replies))
    if answer.failed:
        raise HTTPException(503, "try again")
    replies = answer.replies or []
    timestamp = query.get("timestamp", "")
    corp = cb.field("ToUserName")
    passive: str | None = None
    if cb.is_card_click and answer.replies is not None:
        passive = cards.update_button_xml(cb.user_id, corp, CLICKED, int(timestamp or 0))
        pushed = replies
    elif len(replies) == 1 and not replies[0].buttons:
        content = render.cut_bytes(replies[0].text, PASSIVE_TEXT_MAX_BYTES)
        passive = TextReply(source=corp, target=cb.user_id, content=content, time=int(timestamp or 0)).render()
        pushed = []
    else:
        pushed = replies
    if pushed and not answer.duplicate:  # a retry's replies went out with the first try
        work_app.runner.pool.submit(work_app.deliver, cb.user_id, pushed)
    if passive is None:
        return PlainTextResponse(SUCCESS)
    return Response(crypto.encrypt(passive, timestamp), media_type="application/xml")
