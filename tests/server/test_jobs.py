"""Background jobs (chatalot/jobs.py): a failing run is logged and the job runs again; a run
that finds the database unavailable logs one line without a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from chatalot.errors import ServiceUnavailable
from chatalot.jobs import Jobs


async def test_failures_are_logged_and_the_job_keeps_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    failures: list[Exception] = [
        ServiceUnavailable("the database is unavailable, try again shortly"),
        RuntimeError("a bug"),
    ]

    async def job() -> None:
        runs.append(len(runs))
        if failures:
            raise failures.pop(0)

    jobs = Jobs()
    with caplog.at_level(logging.WARNING, logger="chatalot_server.jobs"):
        jobs.every("flaky", 0.01, job)
        for _ in range(200):
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.01)
        await jobs.stop()
    assert len(runs) >= 3
    outage, bug = caplog.records[:2]
    assert outage.levelno == logging.WARNING and outage.exc_info is None
    assert outage.getMessage().startswith(
        "Background job flaky: the database is unavailable, try again shortly; retrying"
    )
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert bug.getMessage().startswith("Background job flaky failed")
