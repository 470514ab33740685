"""Argon2id at the original's parameters, off the event loop, with a bounded queue."""

from __future__ import annotations

import asyncio

import pytest

from chatalot.errors import ServiceUnavailable
from chatalot.security.passwords import PRODUCTION, Argon2Params, PasswordHasher


async def test_production_parameters() -> None:
    """Hashes are Argon2id v19, m=65536 KiB, t=3, p=4, verifiable; wrong passwords fail."""
    hasher = PasswordHasher(PRODUCTION, workers=1)
    try:
        stored = await hasher.hash("Correct-Horse-9")
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert await hasher.verify(stored, "Correct-Horse-9")
        assert not await hasher.verify(stored, "correct-horse-9")
        assert not await hasher.verify("not a hash", "x")
    finally:
        hasher.close()


async def test_hashing_does_not_block_the_event_loop() -> None:
    """While a production-cost hash runs, the loop keeps ticking."""
    hasher = PasswordHasher(PRODUCTION, workers=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    try:
        await hasher.hash("Correct-Horse-9")
    finally:
        task.cancel()
        hasher.close()
    assert ticks >= 5


async def test_queue_is_bounded() -> None:
    """Beyond max_pending waiting hashes, requests are refused at once with 503."""
    hasher = PasswordHasher(
        Argon2Params(time_cost=2, memory_cost_kib=8192, parallelism=1), workers=1, max_pending=3
    )
    try:
        results = await asyncio.gather(
            *(hasher.hash(f"pw{i}") for i in range(6)), return_exceptions=True
        )
    finally:
        hasher.close()
    refused = [r for r in results if isinstance(r, ServiceUnavailable)]
    assert len(refused) == 3
    assert all(isinstance(r, str) for r in results if not isinstance(r, Exception))


@pytest.mark.parametrize("password", ["", "ä" * 200, "\x00"])
async def test_odd_passwords_hash(password: str) -> None:
    """Any string hashes and verifies (validation happens before, in services)."""
    hasher = PasswordHasher(
        Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1), workers=1
    )
    try:
        assert await hasher.verify(await hasher.hash(password), password)
    finally:
        hasher.close()
