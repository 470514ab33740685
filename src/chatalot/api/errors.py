"""The single place where errors become HTTP responses, always in one shape:
``{"error": {"code": "<code>", "message": "<text>"}}``.

Unexpected exceptions are logged with the request id and answered as ``internal_error`` with a
generic message: exception text never reaches a client.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from chatalot.errors import INTERNAL_ERROR_MESSAGE, ChatalotError, ErrorCode, RateLimited
from chatalot.protocol.api.errors import ErrorDetail, ErrorOut

log = logging.getLogger("chatalot_server.http")

REQUEST_ID_KEY = "chatalot.request_id"

_CODE_BY_STATUS = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    416: ErrorCode.RANGE_NOT_SATISFIABLE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}

_MESSAGE_BY_STATUS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "unsupported content type (expected application/json)",
}


def error_body(code: str, message: str) -> bytes:
    return msgspec.json.encode(ErrorOut(error=ErrorDetail(code=code, message=message)))


async def send_error(
    send: Any,
    status: int,
    code: str,
    message: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Answer from raw ASGI middleware (before the framework runs), in the same shape."""
    body = error_body(code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        content=error_body(code, message),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def handle_chatalot_error(request: Request[Any, Any, Any], exc: ChatalotError) -> Response[bytes]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(exc.status, exc.code.value, exc.message, headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= 500:
        return handle_unexpected(request, exc)
    code = _CODE_BY_STATUS.get(status, ErrorCode.VALIDATION_ERROR)
    if isinstance(exc, ValidationException):
        message = _validation_message(exc)
    elif status == 404 and request.url.path.startswith("/api"):
        message = f"no such endpoint: {request.method} {request.url.path}"
    else:
        message = _MESSAGE_BY_STATUS.get(status) or str(exc.detail or "invalid request")
    headers = {
        k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "retry-after")
    }
    return error_response(status, code.value, message, headers or None)


_WEBHOOK_EXECUTE_PATH = "/api/webhooks/execute/"


def loggable_path(path: str) -> str:
    """``path`` as written to the log: a webhook execute path without its token (the token is
    the credential)."""
    if path.startswith(_WEBHOOK_EXECUTE_PATH):
        return _WEBHOOK_EXECUTE_PATH + "[token]"
    return path


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    request_id = request.scope.get(REQUEST_ID_KEY, "-")
    log.error(
        "Unexpected error: %s %s (request %s)",
        request.method,
        loggable_path(request.url.path),
        request_id,
        exc_info=exc,
    )
    return error_response(500, ErrorCode.INTERNAL_ERROR.value, INTERNAL_ERROR_MESSAGE)


_MISSING_FIELD = re.compile(r"Object missing required field `([^`]+)`")


def _validation_message(exc: ValidationException) -> str:
    """One readable sentence naming the field, e.g. ``password is required`` or
    ``username: Expected `str`, got `int```."""
    extra = exc.extra
    if isinstance(extra, list) and extra:
        first = extra[0]
        if isinstance(first, dict):
            key = first.get("key")
            text = str(first.get("message") or exc.detail)
            missing = _MISSING_FIELD.search(text)
            if missing:
                return f"{missing.group(1)} is required"
            if key == "data" and text.strip("'\"") == "data":
                return "request body is required"
            if key and key != "data":
                return f"{key}: {text}"
            return text
    return str(exc.detail or "invalid request")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ChatalotError: handle_chatalot_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
