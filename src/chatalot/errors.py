"""The error tree and the stable machine codes every client sees.

Only `api/errors.py` turns these into HTTP responses (one shape:
``{"error": {"code": ..., "message": ...}}``); the WebSocket layer uses the same codes.

    ChatalotError (code, message, status)
    ├── Invalid               400 validation_error
    ├── Unauthorized          401 unauthorized      (only a bad/expired token: clients log out)
    ├── Forbidden             403 forbidden
    ├── NotFound              404 not_found
    ├── Conflict              409 conflict
    ├── PayloadTooLarge       413 payload_too_large
    ├── RateLimited           429 rate_limited      (carries retry_after seconds)
    ├── BadGateway            502 bad_gateway       (an upstream service such as GIPHY failed)
    └── ServiceUnavailable    503 service_unavailable (e.g. no database connection in time)
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Machine-readable error codes. The first six are the original server's."""

    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    VALIDATION_ERROR = "validation_error"
    INTERNAL_ERROR = "internal_error"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    BAD_GATEWAY = "bad_gateway"


INTERNAL_ERROR_MESSAGE = "an internal error occurred"


class ChatalotError(Exception):
    """Base of every error a client may see. `message` is safe to show to users."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR
    status: int = 500
    default_message: str = INTERNAL_ERROR_MESSAGE

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)


class Invalid(ChatalotError):
    code = ErrorCode.VALIDATION_ERROR
    status = 400
    default_message = "invalid request"


class Unauthorized(ChatalotError):
    code = ErrorCode.UNAUTHORIZED
    status = 401
    default_message = "unauthorized"


class Forbidden(ChatalotError):
    code = ErrorCode.FORBIDDEN
    status = 403
    default_message = "forbidden"


class NotFound(ChatalotError):
    code = ErrorCode.NOT_FOUND
    status = 404
    default_message = "not found"


class Conflict(ChatalotError):
    code = ErrorCode.CONFLICT
    status = 409
    default_message = "conflict"


class PayloadTooLarge(ChatalotError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    status = 413
    default_message = "request body too large"


class RateLimited(ChatalotError):
    code = ErrorCode.RATE_LIMITED
    status = 429
    default_message = "too many requests, please slow down"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadGateway(ChatalotError):
    """A service this server relies on (e.g. GIPHY) failed or did not answer in time."""

    code = ErrorCode.BAD_GATEWAY
    status = 502
    default_message = "an upstream service is unavailable, try again later"


class ServiceUnavailable(ChatalotError):
    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503
    default_message = "the server is busy, try again shortly"
