"""Argon2id for what people type (OTP codes, passwords), run off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type

T = TypeVar("T")
# OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


@functools.cache
def _hashing_thread() -> ThreadPoolExecutor:
    # One hashing thread per process: Argon2id is deliberately CPU-heavy, and on a small machine
    # unbounded parallel hashing would starve the event loop (health checks, every other request).
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a hashing function on the process's hashing thread."""
    return await asyncio.get_running_loop().run_in_executor(_hashing_thread(), function, *args)
