"""Reading the API's answers in tests."""

from __future__ import annotations

import httpx


def error(response: httpx.Response) -> tuple[int, str]:
    """(status, the error's message) of an error response."""
    return response.status_code, response.json()["error"]["message"]
