"""The request log through the real app: one line per request whatever the client sends
(escaped control characters, defect 4 of issue 6), JSON lines that stay JSON, and the line's
content (method, path, status, duration, request id)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from chatalot.logs import configure_logging, flush_logging
from chatalot.services import lockout

FORGED_PATH = "/api/x%0aFORGED%1b[31mRED"  # under /api: a JSON 404, not the SPA page
EVIL_USERNAME = "eve\x1b[2J\n2026-01-01T00:00:00.000000Z  INFO chatalot_server: FORGED\u202e"

Capture = Callable[..., io.StringIO]


@pytest.fixture
def capture_log() -> Iterator[Capture]:
    """configure_logging into a string (text or JSON); the test's logging setup is put back
    afterwards. The test client's own lines (httpx, at INFO) are left out."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    client_logger = logging.getLogger("httpx")
    client_level = client_logger.level
    client_logger.setLevel(logging.WARNING)
    flags = (logging.logThreads, logging.logProcesses, logging.logMultiprocessing)

    def capture(fmt: str = "text") -> io.StringIO:
        stream = io.StringIO()
        configure_logging("info", fmt, stream)
        return stream

    yield capture
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    client_logger.setLevel(client_level)
    logging.logThreads, logging.logProcesses, logging.logMultiprocessing = flags


def written(stream: io.StringIO) -> list[str]:
    flush_logging()
    return stream.getvalue().splitlines()


async def test_forged_path_is_one_escaped_line(
    client: httpx.AsyncClient, capture_log: Capture
) -> None:
    """A path with an encoded newline and a terminal escape is logged on one line, with both
    written as visible escapes; nothing raw reaches the log."""
    stream = capture_log()
    response = await client.get(FORGED_PATH)
    assert response.status_code == 404
    lines = written(stream)
    assert len(lines) == 1, lines
    assert re.fullmatch(
        r"\S+Z  INFO chatalot_server\.http: GET /api/x\\nFORGED\\x1b\[31mRED 404 [\d.]+ms "
        r"id=[0-9a-f]{16}",
        lines[0],
    ), lines[0]
    assert "\x1b" not in stream.getvalue()


async def test_username_with_escapes_is_one_escaped_line(
    client: httpx.AsyncClient, capture_log: Capture
) -> None:
    """A username carrying a terminal escape, a newline followed by a fake log line and a
    right-to-left override is logged (by the lockout warning) on that warning's own line."""
    stream = capture_log()
    for _ in range(lockout.THRESHOLD + 1):
        response = await client.post(
            "/api/auth/login", json={"username": EVIL_USERNAME, "password": "Wrong-Pass-1"}
        )
        assert response.status_code in (401, 429)
    lines = written(stream)
    warnings = [line for line in lines if "locked out" in line]
    assert len(warnings) == 1, lines
    assert "Account 'eve\\x1b[2J\\n2026-01-01T00:00:00.000000Z  INFO" in warnings[0]
    assert "FORGED\\u202e'" in warnings[0]
    assert not any(line.startswith("2026-01-01T00:00:00.000000Z") for line in lines)
    assert all(line.isprintable() for line in lines)


async def test_json_lines_stay_json_and_keep_the_text(
    client: httpx.AsyncClient, capture_log: Capture
) -> None:
    """In JSON format the same request is one valid JSON line whose message decodes back to
    the exact path the server saw; C1 controls and bidi overrides are \\u escapes, not raw."""
    stream = capture_log("json")
    await client.get("/api/x%0a%c2%9b31m%e2%80%aeRTL%7f")
    lines = written(stream)
    assert len(lines) == 1, lines
    assert lines[0].isprintable()
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO"
    assert entry["target"] == "chatalot_server.http"
    assert entry["message"].startswith("GET /api/x\n\x9b31m\u202eRTL\x7f 404 ")


async def test_request_line_names_method_path_status_and_request_id(
    client: httpx.AsyncClient, capture_log: Capture
) -> None:
    """The line carries what the request log always recorded, including the client's
    X-Request-Id when it is safe to repeat."""
    stream = capture_log()
    response = await client.get("/api/auth/config", headers={"X-Request-Id": "abc-123.Z_9"})
    assert response.headers["x-request-id"] == "abc-123.Z_9"
    lines = written(stream)
    assert len(lines) == 1
    assert re.search(
        r"INFO chatalot_server\.http: GET /api/auth/config 200 [\d.]+ms id=abc-123\.Z_9$", lines[0]
    )


async def test_health_checks_are_quiet_at_info(
    client: httpx.AsyncClient, capture_log: Capture
) -> None:
    """A successful health check writes nothing at the default level (uptime monitors poll
    it)."""
    stream = capture_log()
    await client.get("/api/health")
    assert written(stream) == []


async def test_request_line_reaches_other_handlers(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """With a handler other than ours on the way (here pytest's capture), the request line is
    an ordinary log record that handler sees, with the same text."""
    with caplog.at_level(logging.INFO, logger="chatalot_server.http"):
        response = await client.get("/api/auth/config")
    records = [r for r in caplog.records if r.name == "chatalot_server.http"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert re.fullmatch(
        r"GET /api/auth/config 200 [\d.]+ms id=" + response.headers["x-request-id"],
        records[0].getMessage(),
    )
