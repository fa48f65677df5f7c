"""The composition root: the one ASGI app that wires settings, database, REST API, NLU and (later) channels."""

from __future__ import annotations

import gc
import logging
import threading
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
    session_factory: sessionmaker[Session] | None = None, nlu: Any | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(InFlightLimitMiddleware)  # outermost: waiting requests hold no thread
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    def healthz(request: Request) -> JSONResponse:
        """Liveness and database reachability (select 1)."""
        try:
            with request.app.state.session_factory() as session:
                session.execute(text("select 1"))
        except SQLAlchemyError as exc:
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    # Channels, each a router of its own: /api/webchat (web chat API), /telegram and /wechat (webhooks),
    # later /console (office console). Routes are matched in order, the busiest first: the web chat's
    # messages before the REST API, whose /api prefix would otherwise be searched route by route.
    mount_webchat(app)  # /chat, /api/webchat, /media
    mount_telegram(app)  # /telegram/webhook (when GUANJIA_TELEGRAM_TOKEN is set)
    mount_wechat(app)  # /wechat/mp (official account), /wechat/work (WeCom)
    app.include_router(api_router, prefix="/api")
    _mount_nlu(app, app.state.get_nlu)
    return app
