"""One-time codes: made with `secrets`, hashed with Argon2id and a pepper, off the event loop."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")
# OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


def new_code(length: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(length))


def _peppered(pepper: bytes, challenge_id: uuid.UUID, code: str) -> bytes:
    # The pepper (a secret outside the database) and the challenge id are mixed in first, so a
    # stolen database alone cannot be brute-forced, and a hash is useless for another challenge.
    return hmac.new(pepper, challenge_id.bytes + code.encode(), hashlib.sha256).digest()


@functools.cache
def _hashing_thread() -> ThreadPoolExecutor:
    # One hashing thread per process: Argon2id is deliberately CPU-heavy, and on a small machine
    # unbounded parallel hashing would starve the event loop (health checks, every other request).
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")


async def _run(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hashing_thread(), function, *args)


async def hash_code(pepper: bytes, challenge_id: uuid.UUID, code: str) -> str:
    return await _run(HASHER.hash, _peppered(pepper, challenge_id, code))


async def code_matches(
    pepper: bytes, challenge_id: uuid.UUID, code: str, code_hash: str | None
) -> bool:
    """Constant-time in the code (Argon2 verification); a missing hash never matches."""
    if code_hash is None:
        await asyncio.to_thread(HASHER.hash, b"equalize the time of a missing hash")
        return False
    try:
        return await asyncio.to_thread(
            HASHER.verify, code_hash, _peppered(pepper, challenge_id, code)
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
