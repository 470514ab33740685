"""The log as an operator reads it: every line written by the time the process exits (lines
are written by a background thread), in order, one line per event even when a client sends
control characters, and timestamps exactly as before."""

from __future__ import annotations

import io
import logging
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatalot.logs import LogWriter, TextFormatter, _Timestamps, direct_writer, escape_controls
from tests.support.pg import PgServer
from tests.support.process import base_env, start_server

EXIT_SCRIPT = """
import logging, sys
from chatalot.logs import configure_logging
configure_logging("info", sys.argv[1])
log = logging.getLogger("chatalot_server")
for i in range(5000):
    log.info("line %d", i)
log.warning("last line")
raise SystemExit(3)
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_line_is_written_before_exit(fmt: str) -> None:
    """A process that logs 5,001 lines and exits at once still writes all of them, in order
    (logging.shutdown drains the writer thread)."""
    result = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, fmt],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5001
    assert all(f"line {i}" in lines[i] for i in range(0, 5000, 997))
    assert "last line" in lines[-1]
    assert result.stderr == ""


def test_lines_from_many_threads_are_whole_and_ordered_per_thread() -> None:
    """Records from several threads at once come out as whole lines, each thread's in the
    order it logged them, none lost, including past the in-memory bound (max_pending)."""
    stream = io.StringIO()
    writer = LogWriter(stream, TextFormatter(), max_pending=50)
    logger = logging.Logger("chatalot_server.test_writer")
    logger.addHandler(writer)

    def work(n: int) -> None:
        for i in range(2000):
            logger.info("thread %d record %d", n, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 8000
    for n in range(4):
        mine = [int(line.rsplit(" ", 1)[1]) for line in lines if f"thread {n} record" in line]
        assert mine == list(range(2000))


def wait_for_text(stream: io.StringIO, text: str, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while text not in stream.getvalue():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_writer_wakes_for_a_line_after_a_quiet_spell() -> None:
    """Without any flush, a line logged after the writer went to sleep (nothing logged for a
    while) is still written promptly, and so is the next one: no wake-up is lost."""
    stream = io.StringIO()
    writer = LogWriter(stream, TextFormatter())
    logger = logging.Logger("chatalot_server.test_wake")
    logger.addHandler(writer)
    try:
        for n in range(3):
            deadline = time.monotonic() + 5
            while not writer._sleeping:  # the quiet spell: the writer waits for a record
                assert time.monotonic() < deadline
                time.sleep(0.005)
            logger.info("after quiet spell %d", n)
            assert wait_for_text(stream, f"after quiet spell {n}")
    finally:
        writer.close()


def test_timestamps_match_datetime_formatting() -> None:
    """The cached per-second prefix gives exactly what datetime's formatting gave, rounding
    included (also across second boundaries)."""
    stamp = _Timestamps()
    rng = random.Random(6)
    values = [rng.uniform(1.6e9, 1.9e9) for _ in range(20000)]
    values += [float(s) + 0.9999996 for s in range(1_700_000_000, 1_700_000_050)]
    values += [float(s) + 0.0000004 for s in range(1_700_000_000, 1_700_000_050)]
    for created in values:
        expected = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert stamp(created) == expected


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, accents é and emoji 😀", "plain text, accents é and emoji 😀"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x00\x1b[31m\x7f", "\\x00\\x1b[31m\\x7f"),
        ("\x85\x9b", "\\x85\\x9b"),  # C1: NEL and the 8-bit CSI
        ("x\u2028y\u2029z", "x\\u2028y\\u2029z"),
        (
            "\u202eevil\u202c \u2066\u2069 \u200e\u200f\u061c",
            "\\u202eevil\\u202c \\u2066\\u2069 \\u200e\\u200f\\u061c",
        ),
        ("zero\u200dwidth joiner and\u00a0nbsp", "zero\u200dwidth joiner and\u00a0nbsp"),
    ],
)
def test_escape_controls(raw: str, shown: str) -> None:
    """What is escaped (controls, separators, bidi) and what is left alone (printable text,
    joiners that emoji need)."""
    assert escape_controls(raw) == shown


def test_traceback_keeps_its_lines_but_not_escape_sequences() -> None:
    """An exception's traceback block keeps its line breaks; a terminal escape in the
    exception's message is shown escaped."""
    logger = logging.Logger("chatalot_server.test_tb")
    stream = io.StringIO()
    writer = LogWriter(stream, TextFormatter())
    logger.addHandler(writer)
    try:
        raise ValueError("bad \x1b[2J value")
    except ValueError:
        logger.exception("failed for %s", "a\nb")
    writer.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("ERROR chatalot_server.test_tb: failed for a\\nb")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: bad \\x1b[2J value"


@pytest.mark.slow
async def test_real_server_logs_forged_path_on_one_line(
    pg: PgServer, empty_db: str, tmp_path: Path
) -> None:
    """The reproduction of defect 4 against a real `chatalot serve`: a raw request for
    /x%0aFORGED%1b[31mRED writes one escaped line; at SIGTERM every line is written, in the
    order logged, ending with the shutdown line."""
    env = base_env(DATABASE_URL=pg.url(empty_db).dsn, CHATALOT_ENV="dev")
    server = start_server(tmp_path, env)
    try:
        server.wait_healthy()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"GET /x%0aFORGED%1b[31mRED HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 ")
    finally:
        assert server.stop() == 0, server.log
    log = server.log
    assert "\x1b" not in log
    lines = log.splitlines()
    assert not any(line.startswith("FORGED") for line in lines)
    forged = [i for i, line in enumerate(lines) if "FORGED" in line]
    assert len(forged) == 1
    assert "chatalot_server.http: GET /x\\nFORGED\\x1b[31mRED " in lines[forged[0]]
    order = [
        next(i for i, line in enumerate(lines) if needle in line)
        for needle in ("Migrations applied", "Listening on", "FORGED", "Server shut down")
    ]
    assert order == sorted(order)
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps), "lines are written in the order they were logged"
    assert lines[-1].endswith("INFO chatalot_server: Server shut down gracefully")


def test_direct_writer_only_when_nothing_else_would_see_the_line() -> None:
    """The request log may skip the logging machinery only when our writer is the one and
    only destination: another handler, a filter, or a level above the line's turns it off."""
    root = logging.Logger("root-for-test")
    child = logging.Logger("chatalot_server.http")
    child.parent = root
    writer = LogWriter(io.StringIO(), TextFormatter())
    try:
        assert direct_writer(child, logging.INFO) is None  # no handler at all
        root.addHandler(writer)
        assert direct_writer(child, logging.INFO) is writer
        writer.setLevel(logging.WARNING)
        assert direct_writer(child, logging.INFO) is None
        writer.setLevel(logging.NOTSET)
        other = logging.NullHandler()
        root.addHandler(other)
        assert direct_writer(child, logging.INFO) is None
        root.removeHandler(other)
        child.addFilter(lambda record: True)
        assert direct_writer(child, logging.INFO) is None
    finally:
        writer.close()


OUTBOUND_SCRIPT = """
import logging, sys
from chatalot.logs import configure_logging
configure_logging("info", "text")
logging.getLogger("httpx").info("HTTP Request: GET https://api.giphy.com/v1?api_key=SECRET")
logging.getLogger("httpcore.http11").info("send_request_headers.started")
logging.getLogger("httpx").warning("outbound warning")
"""


def test_outbound_request_urls_are_not_logged_at_info() -> None:
    """httpx logs each outbound URL at INFO (GIPHY's carries the API key): only its warnings
    and errors reach the log."""
    result = subprocess.run(
        [sys.executable, "-c", OUTBOUND_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "SECRET" not in result.stdout
    assert "send_request_headers" not in result.stdout
    assert "outbound warning" in result.stdout


def test_default_writer_follows_stdout_when_it_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A writer set up without a stream writes to whatever sys.stdout is at the time: one set up
    while stdout was a temporary file (a test's capture, a redirect) must not keep writing to
    that file once it is closed (CI saw 'I/O operation on closed file' from the writer thread)."""
    temporary, later = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", temporary)
    writer = LogWriter(None, TextFormatter())
    try:
        writer.handle(logging.makeLogRecord({"name": "t", "msg": "first", "levelno": 20}))
        writer.flush()
        assert "first" in temporary.getvalue()
        temporary.close()
        monkeypatch.setattr(sys, "stdout", later)
        writer.handle(logging.makeLogRecord({"name": "t", "msg": "second", "levelno": 20}))
        writer.flush()
        assert "second" in later.getvalue()
    finally:
        writer.close()
