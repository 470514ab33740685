"""Response helpers for shapes the original clients expect."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.response.base import ASGIResponse


class EmptyResponse(Response[bytes]):
    """200 with an empty body and no Content-Type (rest-api.md 1.7): what the original answers
    for actions that return nothing (the client treats an empty body as `undefined`)."""

    def __init__(self) -> None:
        super().__init__(content=b"", status_code=200)

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        response = super().to_asgi_response(*args, **kwargs)
        del response.headers["content-type"]
        return response


def empty() -> EmptyResponse:
    return EmptyResponse()
