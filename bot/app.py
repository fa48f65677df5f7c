"""The composition root: the one ASGI app that wires settings, database, REST API, NLU and (later) channels."""

from __future__ import annotations

import gc
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.api import api_router
from backend.api.errors import install_error_handlers
from backend.api.limits import BodyLimitMiddleware, InFlightLimitMiddleware
from backend.clock import Clock, SystemClock
from backend.db import make_engine, make_session_factory
from backend.settings import Settings, get_settings
from bot import log_safety
from bot.console import mount as mount_console
from bot.telegram.webhook import mount as mount_telegram
from bot.webchat import mount as mount_webchat
from bot.wechat.routes import mount as mount_wechat

log = logging.getLogger("guanjia.app")


def _nlu_getter(settings: Settings, nlu: Any | None) -> Callable[[], Any]:
    """Load the NLU on first use (training the builtin model takes a moment), once, even under concurrent calls."""
    loaded: list[Any] = [nlu] if nlu is not None else []
    lock = threading.Lock()

    def get_nlu() -> Any:
        if not loaded:
            with lock:
                if not loaded:
                    from nlu import load_nlu

                    loaded.append(load_nlu(settings.nlu, cache_dir=settings.nlu_cache_dir,
                                           timeout=settings.nlu_timeout_seconds))
                    _freeze_heap()
        return loaded[0]

    return get_nlu


def _freeze_heap() -> None:
    """Put what is loaded so far (the NLU's dictionaries and model, mappers, routes) out of the cyclic
    garbage collector's sight. A full collection walked those ~200,000 objects in ~100 ms, a pause that
    every message in the process waited out (the p99 of bench/chat.py)."""
    gc.collect()
    gc.freeze()


class Readiness:
    """What the served app still waits for before GET /healthz answers 200, step by step."""

    def __init__(self, steps: tuple[str, ...]) -> None:
        self._waiting = list(steps)
        self._lock = threading.Lock()
        self.failed = ""  # the step that failed, when one did

    @property
    def waiting(self) -> list[str]:
        with self._lock:
            return list(self._waiting)

    def done(self, step: str) -> None:
        with self._lock:
            if step in self._waiting:
                self._waiting.remove(step)

    def fail(self, step: str) -> None:
        self.failed = step


START_STEPS = ("nlu", "warm-up")
# What the first messages of a day say; each runs through the conversation once at start-up, rolled back.
WARM_UP_LINES: tuple[tuple[str, str], ...] = (
    ("text", "你好"), ("text", "物业费还欠多少"), ("text", "厨房水管漏水了"), ("text", "取消"),
    ("text", "停车费怎么交"), ("text", "我的工单进度怎么样了"), ("payload", "m:fee"), ("text", "谢谢"),
)


def _start_up(app: FastAPI, readiness: Readiness) -> None:
    """Load the NLU, then warm what the first message touches, so it is answered as fast as the hundredth."""
    started = time.perf_counter()
    try:
        app.state.get_nlu()
    except Exception:
        log.exception("start-up: the NLU failed to load; /healthz stays 503")
        readiness.fail("nlu")
        return
    readiness.done("nlu")
    log.info("start-up: NLU ready in %.1f s", time.perf_counter() - started)
    try:
        _warm_up(app)
    except Exception:  # a cold first message is slower, not wrong
        log.exception("start-up: warming up failed; serving cold")
    _freeze_heap()
    readiness.done("warm-up")
    log.info("start-up: ready in %.1f s", time.perf_counter() - started)


def _warm_up(app: FastAPI) -> None:
    """Open the chat threads' database connections, load jieba's dictionary (FAQ matching), and run a few
    messages through the conversation (mappers, compiled statements, flows, catalogue) in a transaction
    that is rolled back, so nothing of it stays."""
    import jieba

    from handlers.messages import Inbound

    state = app.state
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    engine = state.session_factory.kw.get("bind")
    if engine is not None:  # as many pooled connections as chat threads, so no message waits for a connect
        opened = [engine.raw_connection() for _ in range(state.settings.chat_threads)]
        for connection in opened:
            connection.close()  # back to the pool
    conversation = state.get_conversation()
    sender = "warm-up-" + secrets.token_hex(8)  # nobody's id; its rows are rolled back
    with state.session_factory() as session:
        session.begin()
        try:
            for kind, value in WARM_UP_LINES:
                conversation.handle_in(session, Inbound(channel="web", chat_id=sender, sender_id=sender,
                                                        received_at=state.clock.now(), **{kind: value}))
        finally:
            session.rollback()


def _conversation_getter(app: FastAPI) -> Callable[[], Any]:
    """One Conversation per app for every channel, built on first use (the NLU loads then)."""
    built: list[Any] = []
    lock = threading.Lock()

    def get_conversation() -> Any:
        if not built:
            with lock:
                if not built:
                    from handlers.conversation import Conversation

                    state = app.state
                    built.append(Conversation(state.session_factory, state.get_nlu(), state.clock, state.settings))
        return built[0]

    return get_conversation


def _mount_nlu(app: FastAPI, get_nlu: Callable[[], Any]) -> None:
    try:
        from nlu.api import make_router
    except ModuleNotFoundError as exc:
        if exc.name != "nlu.api":
            raise
        log.warning("nlu.api is not available yet; POST /model/parse is not mounted")
        return
    app.include_router(make_router(get_nlu))


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None,
    session_factory: sessionmaker[Session] | None = None, nlu: Any | None = None, preload: bool | None = None,
) -> FastAPI:
    """`preload`: load the NLU and warm up at start-up, /healthz answering 503 until done; by default when
    the app owns its database (served by uvicorn), not when the caller hands it a session factory."""
    settings = settings or get_settings()
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
    if preload is None:
        preload = engine is not None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:  # in a thread: uvicorn listens meanwhile and /healthz says what it waits for
            app.state.readiness = Readiness(START_STEPS)
            threading.Thread(target=_start_up, args=(app, app.state.readiness), name="guanjia-start-up",
                             daemon=True).start()
        worker = None
        if settings.run_worker_in_app:  # pushes reach the web chat with no second process
            from bot.worker import Worker

            worker = Worker(app.state.session_factory, app.state.clock, settings)
            worker.start_thread()
        try:
            yield
        finally:
            if worker is not None:
                worker.shutdown()
            if engine is not None:  # only what this app created
                engine.dispose()

    app = FastAPI(title="Guanjia 管家", version="0.1.0", docs_url="/docs", lifespan=lifespan,
                  description="REST API of the Guanjia property-management assistant.")
    log_safety.install(settings)  # no secret, callback signature or phone number in this process's logs
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.session_factory = session_factory
    app.state.get_nlu = _nlu_getter(settings, nlu)
    app.state.get_conversation = _conversation_getter(app)
    app.state.readiness = Readiness(())  # nothing to wait for unless the lifespan preloads

    # Console uploads: twice the file limit, so a file just over it reaches the page that says why it is refused.
    upload = int(settings.console_max_upload_mb * 2 * 1024 * 1024)
    app.add_middleware(BodyLimitMiddleware, larger={"/console/imports/": upload})
    app.add_middleware(InFlightLimitMiddleware)  # outermost: waiting requests hold no thread
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"], responses={503: {"description": "Starting (see `waiting_for`) or broken."}})
    def healthz(request: Request) -> JSONResponse:
        """Ready to answer chat messages at full speed: the NLU loaded, the app warmed up, the database
        reachable (select 1). 503 while starting, with `waiting_for` naming what is still loading."""
        readiness: Readiness = request.app.state.readiness
        try:
            with request.app.state.session_factory() as session:
                session.execute(text("select 1"))
        except SQLAlchemyError as exc:
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        if readiness.failed:
            return JSONResponse({"status": "error", "database": "ok", "failed": readiness.failed}, status_code=503)
        waiting = readiness.waiting
        if waiting:
            return JSONResponse({"status": "starting", "database": "ok", "waiting_for": waiting}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    # Channels, each a router of its own: /api/webchat (web chat API), /telegram and /wechat (webhooks),
    # /console (office console). Routes are matched in order, the busiest first: the web chat's
    # messages before the REST API, whose /api prefix would otherwise be searched route by route.
    mount_webchat(app)  # /chat, /api/webchat, /media, /n/<token> (notices' public pages)
    mount_telegram(app)  # /telegram/webhook (when GUANJIA_TELEGRAM_TOKEN is set)
    mount_wechat(app)  # /wechat/mp (official account), /wechat/work (WeCom)
    app.include_router(api_router, prefix="/api")
    mount_console(app)  # /console (office console)
    _mount_nlu(app, app.state.get_nlu)
    return app
