"""Secrets people hold: passwords (Argon2id), API tokens and session cookies (SHA-256 at rest).

Tokens are 256 random bits, so a fast hash is enough to make a stolen table useless; passwords are
chosen by people, so they get Argon2id. Neither is ever stored, logged or returned after creation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contact_center.hashing import HASHER, off_loop

TOKEN_PREFIX = "cc_pat_"  # noqa: S105 - a label, not a secret
PASSWORD_MIN = 12
PASSWORD_MAX = 256
# A real Argon2id hash of a random string: verifying against it costs what a real check costs,
# so an unknown username answers as slowly as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_bytes(16))


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_password() -> str:
    """A generated password (first admin, resets): 20 characters from a URL-safe alphabet."""
    return secrets.token_urlsafe(15)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[: len(TOKEN_PREFIX) + 4]


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the cookie, so nothing more is stored, and only
    a page of this origin (which can read what we render) can know it."""
    mac = hmac.new(session_token.encode(), b"contact-center csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < PASSWORD_MIN:
        return f"A password needs at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"A password has at most {PASSWORD_MAX} characters."
    if password.strip().lower() == username.lower():
        return "The password cannot be the username."
    return None


async def hash_password(password: str) -> str:
    return await off_loop(HASHER.hash, password)


async def password_matches(password: str, password_hash: str | None) -> bool:
    """Argon2id verification off the event loop; a missing hash costs the same and fails."""

    def verify() -> bool:
        try:
            return HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await off_loop(verify)


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)
