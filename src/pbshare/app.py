"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.routing import Route

from pbshare import __version__
from pbshare.api import document_security, protected, public
from pbshare.config import Settings, get_settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.core.http import (
    BodyLimitMiddleware,
    DatabaseDep,
    RequestContextMiddleware,
    error_body,
    install_error_handlers,
)
from pbshare.core.i18n import T
from pbshare.web.pages import STATIC_DIR
from pbshare.web.pages import router as pages_router

# An envelope a little over channel_max_bytes still reaches its channel, which answers with a signed
# error envelope and keeps the refusal as every channel does; beyond this headroom it is cut at the door.
ENVELOPE_HEADROOM = 64 * 1024


def _schema_current(db: Database) -> bool:
    try:
        current = migrate.is_current(db.engine)
    except Exception:
        current = False
    if not current:
        logging.getLogger("pbshare.app").warning("database schema not current: listeners not started")
    return current


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = database or Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Exchange listeners and the outbox dispatcher for connections in testing or live.
        runtime = None
        # An unmigrated database must not stop the process: /readyz then says what to run.
        current = _schema_current(db)
        if current:
            from sqlalchemy.exc import OperationalError

            from pbshare.collect.runs import service as runs_service

            # Imports whose process died while we were down. A database that is busy now must not stop
            # the start: the same check runs whenever someone lists or opens runs.
            try:
                with db.session() as session:
                    runs_service.fail_abandoned(session)
            except OperationalError:
                logging.getLogger("pbshare.app").warning(
                    "abandoned import runs not checked at start: the database is busy")
        if settings.start_listeners and current:
            from pbshare.exchange.channel import ChannelConfig
            from pbshare.exchange.runtime import Runtime

            runtime = Runtime(db, ChannelConfig.from_settings(settings))
            await runtime.start()
        lander = None
        if settings.start_listeners and current:
            from pbshare.collect.deliveries.tasks import Lander

            # Held deliveries (also those left from before a crash) land as they arrive.
            lander = Lander(db)
            lander.start()
        jobs = None
        if settings.start_listeners and current:
            from pbshare.jobs.scheduler import start_embedded

            # ETL pipelines (docs/jobs.md): the executor runs are handed to; under the local executor this server
            # also runs the scheduling loop (exactly once per fire time, however many servers run it).
            jobs = start_embedded(db)
            app.state.jobs_executor = jobs.executor
        responders = None
        if settings.demo_responders and current:
            from pbshare.demo import responders as demo_responders

            # `pbshare demo` made units whose systems answer requests by themselves (REST, SOAP, AMQP).
            responders = demo_responders.start_if_configured(settings)
        app.state.channels = runtime
        yield
        if responders is not None:
            responders.stop()
        if jobs is not None:
            jobs.stop()
        if lander is not None:
            lander.stop()
        from pbshare.collect.runs import tasks as run_tasks

        run_tasks.interrupt_running(db)
        if runtime is not None:
            await runtime.stop()
        if database is None:
            db.dispose()

    app = FastAPI(
        title="pbshare 个人破产信息共享平台",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    # Added first, so it runs inside the request context (language, request id, headers) but before routing,
    # authentication and body parsing: an over-large body is refused while it streams in.
    envelope_limit = settings.channel_max_bytes + ENVELOPE_HEADROOM
    upload_limit = settings.max_upload_mb * 1024 * 1024
    app.add_middleware(BodyLimitMiddleware, default=settings.max_body_kb * 1024, by_prefix={
        "/api/v1/collect/uploads": upload_limit, "/api/v1/catalog/import": upload_limit,
        "/api/v1/portal/items": upload_limit,  # a unit operator's answer uploaded as Excel/CSV
        "/api/v1/reports/uploads": upload_limit,  # an Excel/CSV report source
        "/api/v1/exchange/messages": envelope_limit, "/ws/exchange": envelope_limit,
    })
    app.add_middleware(RequestContextMiddleware, behind_tls=settings.behind_tls,
                       default_language=settings.default_language)
    install_error_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "alive", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request, database: DatabaseDep):
        engine = database.engine

        def reachable() -> bool:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception:
                return False
            return True

        if not await asyncio.to_thread(reachable):
            return JSONResponse(error_body("database_unreachable", T("数据库无法连接", "The database is unreachable")),
                                status_code=503)
        if not await asyncio.to_thread(migrate.is_current, engine):
            return JSONResponse(
                error_body("migrations_pending", T("数据库结构不是最新，请运行 pbshare db upgrade",
                                                   "The database schema is behind; run `pbshare db upgrade`")),
                status_code=503,
            )
        # A broker that went away does not make the web side unready (REST and SOAP still work): it is
        # named, and the listener reconnects by itself while the messages wait on the broker.
        runtime = getattr(request.app.state, "channels", None)
        waiting = await runtime.waiting_for() if runtime is not None else []
        if waiting:
            return {"status": "waiting", "database": engine.dialect.name, "waiting": waiting,
                    "message": str(T("正在等待消息代理恢复：{c}；监听会自动重连，消息在代理中等待，不会丢失",
                                 "Waiting for the message broker of {c}; the listeners reconnect by themselves and "
                                 "the messages wait on the broker", c=", ".join(w["channel"] for w in waiting)))}
        return {"status": "ready", "database": engine.dialect.name}

    @app.get("/api/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="pbshare API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
        )

    generate_openapi = app.openapi

    def openapi() -> dict:
        """FastAPI's document, with the security schemes the protected routes accept."""
        if app.openapi_schema is None:
            document_security(generate_openapi())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(public)
    app.include_router(protected)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # SOAP Web Service of the exchange (spyne under WSGI); WSDL at /ws/exchange?wsdl
    from a2wsgi import WSGIMiddleware

    from pbshare.channels import soap as soap_channel

    # A plain Starlette route: it takes any ASGI app as its endpoint (``add_route`` is typed for functions only).
    app.router.routes.append(Route(soap_channel.PATH, WSGIMiddleware(soap_channel.wsgi_app(db, settings)),
                                   methods=["GET", "POST"], include_in_schema=False))
    return app
