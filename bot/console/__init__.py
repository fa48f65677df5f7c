"""The office console at /console: server-rendered pages (Jinja2) with htmx, signed in with a staff login."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.errors import Forbidden, NotFound


def mount(app: FastAPI) -> None:
    from bot.console.auth_pages import router as auth_router
    from bot.console.dashboard import router as dashboard_router
    from bot.console.deps import ConsoleRedirect, CsrfRefused, render, set_cookie
    from bot.console.events_pages import router as events_router
    from bot.console.gate_page import router as gate_router
    from bot.console.imports_page import router as imports_router
    from bot.console.notices_pages import router as notices_router
    from bot.console.office_pages import router as office_router
    from bot.console.static import router as static_router
    from bot.console.tickets_pages import router as tickets_router

    async def _redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleRedirect)
        response: Response
        if request.headers.get("hx-request"):  # htmx follows this with a full page load
            response = Response(status_code=204, headers={"HX-Redirect": exc.url})
        else:
            response = RedirectResponse(exc.url, status_code=303)
        if exc.cookie:
            set_cookie(response, request.app.state.settings, exc.cookie)
        return response

    async def _csrf(request: Request, _exc: Exception) -> HTMLResponse:
        return render(request, "console/message.html", status_code=403, key="console.csrf", c=None)

    def _page_for(status: int, key: str):  # type: ignore[no-untyped-def]
        """A domain error: the console's page under /console, the REST API's JSON elsewhere."""

        async def handler(request: Request, exc: Exception) -> Response:
            if not request.url.path.startswith("/console"):
                from backend.api.errors import _domain_error

                return await _domain_error(request, exc)
            # The request's transaction is rolled back by now: the page is drawn without the menu (c=None).
            return render(request, "console/message.html", status_code=status, key=key, c=None)

        return handler

    app.add_exception_handler(ConsoleRedirect, _redirect)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(Forbidden, _page_for(403, "console.forbidden"))
    app.add_exception_handler(NotFound, _page_for(404, "console.not_found"))
    for router in (static_router, auth_router, tickets_router, office_router, imports_router, gate_router,
                   notices_router, events_router):
        app.include_router(router, prefix="/console")
    app.include_router(dashboard_router)  # /console/dashboard: the service plan's KPIs
