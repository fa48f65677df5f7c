"""POST /api/webchat/messages (say or press), GET /api/webchat/messages (what was pushed), GET /api/webchat/session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from backend import catalogue
from backend.api.messages import error_body
from backend.catalogue import register
from backend.services import demo as demo_data
from bot import chat_threads
from bot.delivery import inbox
from bot.webchat import CHANNEL, once
from bot.webchat import identity as web_identity
from bot.webchat.schemas import USER_PATTERN, PushedOut, RepliesOut, SessionOut, WebMessageIn
from handlers.conversation import Conversation
from handlers.messages import Inbound
from nlu.api import scrub

register({
    "webchat.forbidden": (
        "无权以该用户身份聊天：请先打开聊天页面获取会话（GET /api/webchat/session）。",
        "You may not chat as this user: get a session first (GET /api/webchat/session).",
    ),
    "webchat.demo.resident": ("住户 {name} {household}（{tag}）", "Resident {name}, {household} ({tag})"),
    "webchat.demo.tag.bound": ("已绑定", "bound"),
    "webchat.demo.tag.arrears": ("欠物业费", "owes fees"),
    "webchat.demo.visitor": ("新访客（未绑定）", "New visitor (not bound)"),
    "webchat.demo.staff": ("{department} {name}（{login}）", "{department}: {name} ({login})"),
})
# The staff on duty the demo page offers, one per department that residents' matters reach first.
DEMO_PAGE_STAFF = ("cs1", "tech1", "guard1", "manager")

router = APIRouter(tags=["web chat"])
MAX_CURSOR_DIGITS = 18


def conversation(app: FastAPI) -> Conversation:
    """The app's Conversation (shared by every channel)."""
    return app.state.get_conversation()


def _forbidden() -> JSONResponse:
    return JSONResponse(error_body("webchat.forbidden"), status_code=403)


@router.post("/messages", response_model=RepliesOut, responses={403: {}, 422: {}})
async def post_message(body: WebMessageIn, request: Request) -> JSONResponse:
    """Say something (`text`) or press a button (`payload`) as `user`; the bot's replies come back at once.

    With a `message_id`, sending the same message again (say, after a dropped connection) is handled once
    and answers the first replies again."""
    settings = request.app.state.settings
    if not web_identity.may_speak_as(settings, request, body.user):
        return _forbidden()
    text = scrub((body.text or "")[: settings.max_message_chars])  # lone surrogates and NULs cannot be stored
    payload = scrub(body.payload) if body.payload is not None else None
    inbound = Inbound(channel=CHANNEL, chat_id=body.user, sender_id=body.user, text=text, payload=payload,
                      received_at=request.app.state.clock.now())
    if body.message_id is None:
        replies = await chat_threads.run(request.app, conversation(request.app).handle, inbound)
    else:
        replies = await chat_threads.run(request.app, once.handle, conversation(request.app),
                                         request.app.state.session_factory, request.app.state.clock, inbound,
                                         body.message_id)
    return JSONResponse({"replies": [r.as_json() for r in replies]})


def _cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > MAX_CURSOR_DIGITS:
        raise RequestValidationError([{"loc": ("query", "after"), "type": "value_error",
                                       "msg": "not a cursor returned by this API"}])
    return int(after)


@router.get("/messages", response_model=PushedOut, responses={403: {}, 422: {}})
def pushed_messages(
    request: Request,
    user: Annotated[str, Query(pattern=USER_PATTERN)],
    after: Annotated[str | None, Query(max_length=64, description="The cursor of the previous answer.")] = None,
) -> JSONResponse:
    """Messages pushed to `user` (notifications, task cards) after the cursor, oldest first."""
    settings = request.app.state.settings
    if not web_identity.may_speak_as(settings, request, user):
        return _forbidden()
    start = _cursor(after)
    with request.app.state.session_factory() as session:
        rows = inbox.fetch(session, CHANNEL, user, start)
        messages = [row.body for row in rows]
    cursor = rows[-1].id if rows else start
    return JSONResponse({"messages": messages, "cursor": str(cursor)})


def demo_people() -> list[dict[str, str | None]]:
    """Who the demo page lets a visitor be: the bound demo residents, a new visitor, the staff on duty."""
    people: list[dict[str, str | None]] = []
    for person in demo_data.DEMO_RESIDENTS:
        labels = [catalogue.render("webchat.demo.resident", lang, name=person.name, household=person.household,
                         tag=catalogue.name(f"webchat.demo.tag.{person.tag}", lang)) for lang in ("zh", "en")]
        people.append({"user": demo_data.web_resident_id(person.household), "kind": "resident",
                       "label": labels[0], "label_en": labels[1]})
    people.append({"user": None, "kind": "visitor", "label": catalogue.render("webchat.demo.visitor"),
                   "label_en": catalogue.render("webchat.demo.visitor", "en")})
    staff = {spec.login: spec for spec in demo_data.DEMO_STAFF}
    for login in DEMO_PAGE_STAFF:
        spec = staff[login]
        labels = [catalogue.render("webchat.demo.staff", lang, name=spec.name, login=login,
                         department=catalogue.name(f"dept.{spec.department}", lang)) for lang in ("zh", "en")]
        people.append({"user": demo_data.web_staff_id(login), "kind": "staff", "label": labels[0],
                       "label_en": labels[1]})
    return people


@router.get("/session", response_model=SessionOut)
def session(request: Request) -> JSONResponse:
    """The caller's web chat id and its signed token (also set as an HttpOnly cookie); reused while the cookie lasts."""
    settings = request.app.state.settings
    user = request.cookies.get(web_identity.COOKIE_USER, "")
    token = request.cookies.get(web_identity.COOKIE_TOKEN, "")
    if not (user.startswith(web_identity.ISSUED_PREFIX) and len(user) <= 64
            and web_identity.token_matches(settings, user, token)):
        user = web_identity.new_user()
        token = web_identity.sign(settings, user)
    response = JSONResponse({"user": user, "token": token, "demo": settings.demo_mode,
                             "poll_seconds": settings.webchat_poll_seconds,
                             "people": demo_people() if settings.demo_mode else []})
    secure = request.url.scheme == "https"
    for name, value in ((web_identity.COOKIE_USER, user), (web_identity.COOKIE_TOKEN, token)):
        response.set_cookie(name, value, max_age=web_identity.COOKIE_MAX_AGE, httponly=True, samesite="lax",
                            secure=secure, path="/")
    return response
