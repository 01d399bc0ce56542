"""One-time codes: made with `secrets`, hashed with Argon2id and a pepper, off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contact_center.hashing import HASHER, off_loop


def new_code(length: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(length))


def _peppered(pepper: bytes, challenge_id: uuid.UUID, code: str) -> bytes:
    # The pepper (a secret outside the database) and the challenge id are mixed in first, so a
    # stolen database alone cannot be brute-forced, and a hash is useless for another challenge.
    return hmac.new(pepper, challenge_id.bytes + code.encode(), hashlib.sha256).digest()


async def hash_code(pepper: bytes, challenge_id: uuid.UUID, code: str) -> str:
    return await off_loop(HASHER.hash, _peppered(pepper, challenge_id, code))


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
