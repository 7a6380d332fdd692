"""HTTP plumbing every router shares: the request's session, request ids, language, errors, headers."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pbshare.config import Settings
from pbshare.core import validation
from pbshare.core.db import Database
from pbshare.core.errors import AppError, TooManyRequests
from pbshare.core.i18n import T, current_language, pick_language
from pbshare.core.logs import request_id_var

log = logging.getLogger("pbshare.http")

_HTTP_MESSAGES: dict[int, T] = {
    400: T("请求有误", "Bad request"),
    401: T("请先登录", "Please log in first"),
    403: T("您没有执行此操作的权限", "You do not have permission for this"),
    404: T("找不到请求的地址或对象", "The address or object was not found"),
    405: T("不支持此请求方法", "This method is not allowed here"),
    413: T("内容超过大小限制", "The content is larger than allowed"),
    429: T("请求过于频繁，请稍后再试", "Too many requests; try again later"),
}


def get_database(request: Request) -> Database:
    return request.app.state.db


def takes_write_lock(endpoint):
    """Mark a route that reads then writes while background workers write (the exchange inbound routes).

    Not the default: a route that also writes through a second connection (warehouse DDL and loads on
    SQLite) would wait on its own lock.
    """
    endpoint.takes_write_lock = True
    return endpoint


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns without error.

    A route marked ``@takes_write_lock`` begins its session with SQLite's write lock (see
    ``Database.session``), so it waits its turn beside the listeners instead of failing "database is locked".
    """
    endpoint = request.scope.get("endpoint")
    with request.app.state.db.session(immediate=getattr(endpoint, "takes_write_lock", False)) as session:
        yield session


# The request's unit of work. ``scope="function"`` commits before the answer is sent (FastAPI's
# default for yield dependencies is after it), so a client that reads right after a write sees it,
# and a failed commit is reported instead of lost. Every route and auth dependency uses this one,
# so a request has one session.
UNIT_OF_WORK = Depends(get_db, scope="function")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_data_dir(request: Request) -> Path:
    return request.app.state.settings.resolved_data_dir


# Annotated dependencies: a route says ``db: DbSession, data_dir: DataDir`` instead of repeating
# ``Depends(...)`` defaults (Polar's kit does the same).
DbSession = Annotated[Session, UNIT_OF_WORK]
DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DataDir = Annotated[Path, Depends(get_data_dir)]


class ErrorDetail(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorBody(BaseModel):
    """The one error shape every route answers with (``pbshare.core.errors``), as the OpenAPI document shows it."""

    error: ErrorDetail


def error_body(code: str, message: T | str, detail=None) -> dict:
    text = message.render() if isinstance(message, T) else message
    return {"error": {"code": code, "message": text, "detail": detail}}


class BodyTooLarge(StarletteHTTPException):
    """A request body over its route's limit; an HTTPException so FastAPI's body parsing lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


def _too_large_body(limit: int) -> dict:
    size = f"{limit // 1024} KiB" if limit < 1024 * 1024 else f"{limit / (1024 * 1024):g} MiB"
    return error_body("too_large", T("请求内容超过上限 {n}，未处理", "The request body is over the limit of {n}; "
                                     "nothing was done", n=size), {"limit_bytes": limit})


class BodyLimitMiddleware:
    """Caps every request body while it streams in, before authentication or parsing (pure ASGI).

    A declared ``Content-Length`` over the limit is refused before a byte is read; a chunked body is
    counted as it arrives and refused as soon as it passes the limit, so nobody can make the server
    hold a body larger than its route's class allows. Limits are by path prefix (the longest match
    wins), ``default`` otherwise.
    """

    def __init__(self, app: ASGIApp, *, default: int, by_prefix: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        payload = json.dumps(_too_large_body(limit), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware(BaseHTTPMiddleware):
    """Request id, language and security headers on every response; one access log line."""

    def __init__(self, app, *, behind_tls: bool = False, default_language: str = "zh-CN") -> None:
        super().__init__(app)
        self.behind_tls = behind_tls
        self.default_language = default_language

    async def dispatch(self, request: Request, call_next):
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        rid_token = request_id_var.set(rid)
        lang = pick_language(request.cookies.get("lang"), request.headers.get("accept-language"),
                             self.default_language)
        lang_token = current_language.set(lang)
        request.state.request_id = rid
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            current_language.reset(lang_token)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        response.headers["X-Request-ID"] = rid
        path = request.url.path
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if path == "/api/docs" or path.startswith("/api/docs/"):
            csp = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                   "img-src 'self' data:; frame-ancestors 'none'")
        else:
            # Vue's in-browser template compiler needs 'unsafe-eval' (STACK-NOTES); nothing inline runs
            # except the import map, whose hash the index page adds.
            script_extra = getattr(request.state, "csp_script_hashes", "")
            csp = (f"default-src 'self'; script-src 'self' 'unsafe-eval' {script_extra}; "
                   "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                   "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
                   "frame-ancestors 'none'")
        response.headers.setdefault("Content-Security-Policy", csp)
        if self.behind_tls:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        log.info("%s %s %s", request.method, path, response.status_code,
                 extra={"status": response.status_code, "ms": elapsed_ms})
        request_id_var.reset(rid_token)
        return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(BodyTooLarge)
    async def _body_too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse(_too_large_body(exc.limit), status_code=413, headers={"Connection": "close"})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code, T("请求失败", "The request failed"))
        detail = exc.detail if isinstance(exc.detail, (dict, list)) else None
        return JSONResponse(error_body(f"http_{exc.status_code}", message, detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Each field by its label, in the request's language; loc stays so the browser shows it at the field.
        route = request.scope.get("route")
        body_field = getattr(route, "body_field", None)
        body_model = validation.model_of(getattr(getattr(body_field, "field_info", None), "annotation", None))
        language = current_language.get()
        problems = validation.problems(exc.errors(), body_model=body_model, language=language)
        message = validation.message(problems, language)
        return JSONResponse({"error": {"code": "invalid", "message": message, "detail": problems}}, status_code=422)

    @app.exception_handler(DataError)
    async def _data_refused_by_database(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (a NUL character in text on PostgreSQL, a number out
        # of its column's range): the input's fault, and the transaction is rolled back, so nothing changed.
        log.warning("database refused the data: %s %s", request.method, request.url.path)
        message = T("输入中有数据库无法保存的值（例如 NUL 字符或超出范围的数字），未作任何修改",
                    "The input has a value the database cannot store (a NUL character, or a number out of "
                    "range); nothing was changed")
        return JSONResponse(error_body("invalid_data", message), status_code=422)

    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: OperationalError) -> JSONResponse:
        if "database is locked" not in str(exc.orig):
            return await _unexpected(request, exc)
        log.warning("database busy: %s %s", request.method, request.url.path)
        message = T("数据库正忙（其他任务正在写入），本次操作未生效，请稍后几秒重试",
                    "The database is busy (another task is writing); nothing was changed. Try again in a "
                    "few seconds")
        return JSONResponse(error_body("database_busy", message), status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        message = T(
            "服务器内部错误，已记录（请求编号 {rid}）；请稍后重试，若仍失败请联系管理员并提供请求编号",
            "Internal error, logged as request {rid}; try again later, and if it keeps failing give the "
            "administrator this request id",
            rid=getattr(request.state, "request_id", "-"),
        )
        return JSONResponse(error_body("internal", message), status_code=500)
