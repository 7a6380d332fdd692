"""The one error shape of the platform: ``{"error": {"code", "message", "detail"}}``.

Services raise these; the API turns them into that JSON with the message in the request's
language, and the CLI prints the message and exits non-zero.
"""

from __future__ import annotations

from typing import Any

from pbshare.core.i18n import T


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"
    default_message = T("请求有误", "The request is not valid")

    def __init__(
        self,
        message: T | None = None,
        *,
        code: str | None = None,
        detail: Any = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.detail = detail
        super().__init__(self.message.render("en"))

    def to_dict(self, language: str | None = None) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message.render(language), "detail": self.detail}}


class Invalid(AppError):
    status = 422
    code = "invalid"
    default_message = T("输入的数据不符合要求", "The input is not valid")


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    default_message = T("请先登录", "Please log in first")


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    default_message = T("您没有执行此操作的权限，请联系管理员", "You do not have permission for this; ask an administrator")


class NotFound(AppError):
    status = 404
    code = "not_found"
    default_message = T("找不到该对象，它可能已被删除", "Not found; it may have been deleted")


class Conflict(AppError):
    status = 409
    code = "conflict"
    default_message = T("与现有数据冲突", "This conflicts with existing data")


class TooLarge(AppError):
    status = 413
    code = "too_large"
    default_message = T("内容超过大小限制", "The content is larger than allowed")


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"
    default_message = T("请求过于频繁，请稍后再试", "Too many requests; try again later")

    def __init__(self, message: T | None = None, *, retry_after: int = 60, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))  # seconds; the API sends it as Retry-After

