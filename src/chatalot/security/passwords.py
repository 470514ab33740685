"""Argon2id password hashing (m = 64 MiB, t = 3, p = 4, 32-byte hash, 16-byte salt), run in a
small dedicated thread pool so a login storm never stalls the event loop, and bounded so it
cannot allocate more than ``workers`` x 64 MiB at once. ``verify_dummy`` spends the same time
as a real verification, for unknown users."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chatalot.errors import ServiceUnavailable

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Argon2Params:
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16


PRODUCTION = Argon2Params()


class PasswordHasher:
    """``max_pending`` bounds the queue: past it, new hashing requests are refused at once with
    ServiceUnavailable (503) instead of piling up behind a login storm."""

    def __init__(
        self, params: Argon2Params = PRODUCTION, workers: int | None = None, max_pending: int = 64
    ) -> None:
        self._pending = 0
        self._max_pending = max_pending
        self._hasher = _Argon2(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=workers or max(os.cpu_count() or 1, 1), thread_name_prefix="argon2"
        )
        self._dummy = self._hasher.hash("dummy password for timing equalisation")

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await self._run(self._verify_sync, stored_hash, password)

    async def _run(self, func: Callable[..., _T], *args: str) -> _T:
        if self._pending >= self._max_pending:
            raise ServiceUnavailable("the server is busy signing people in, try again shortly")
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, func, *args)
        finally:
            self._pending -= 1

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification (unknown user: same timing as a wrong password)."""
        await self.verify(self._dummy, password)

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
