"""Secrets people hold: passwords (Argon2id), API tokens and session cookies (SHA-256 at rest).

Tokens are 256 random bits, so a fast hash is enough to make a stolen table useless; passwords are
chosen by people, so they get Argon2id. Neither is ever stored, logged or returned after creation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from contact_center.hashing import HASHER, off_loop

TOKEN_PREFIX = "cc_pat_"  # noqa: S105 - a label, not a secret
PASSWORD_MIN = 12
PASSWORD_MAX = 256
# zxcvbn's score 3 of 4: under 10^10 guesses is refused ("safely unguessable" against an offline
# attack on a slow hash), as NIST SP 800-63B asks of a check against common, repetitive and
# context-specific passwords.
PASSWORD_MIN_SCORE = 3
# zxcvbn's cost grows fast with the length (about 15 ms at 72 characters, 300 ms at 256), and
# its own cap is 72: only the first 72 characters are scored. A strong start is strong enough.
SCORED_LENGTH = 72
# Words of this service that make a password easy to guess wherever it is used.
SERVICE_WORDS = ("contact", "center", "contactcenter", "console", "banco", "bank")
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


def _words(texts: Iterable[str]) -> list[str]:
    """Each text, its words and the words run together ("Banco Demo" → banco, demo,
    bancodemo): what a person would build a password from."""
    found: list[str] = []
    for text in texts:
        words = [w for w in re.split(r"[^0-9a-zà-ÿ]+", text.lower()) if w]
        for word in (text.lower(), "".join(words), *words):
            if word and word not in found:
                found.append(word)
    return found


def guesses_log10(value: str, hints: Iterable[str] = ()) -> float:
    """zxcvbn's estimate of how many guesses find `value` (log10), knowing `hints` (names an
    attacker would try first). CPU-bound: a few milliseconds for the first SCORED_LENGTH
    characters."""
    result = zxcvbn(value[:SCORED_LENGTH], user_inputs=_words(hints))
    return float(result["guesses_log10"])


def password_problem(password: str, username: str, context: Iterable[str] = ()) -> str | None:
    """Why a new password is refused, or None: too short or too long, the username, or easy to
    guess (zxcvbn: common passwords, repeats, sequences, keyboard patterns, dates, the username
    and `context`, such as the bank's name). CPU-bound: call it off the event loop."""
    if len(password) < PASSWORD_MIN:
        return f"A password needs at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"A password has at most {PASSWORD_MAX} characters."
    if password.strip().lower() == username.lower():
        return "The password cannot be the username."
    hints = [username, *context, *SERVICE_WORDS]
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=_words(hints))
    if int(result["score"]) >= PASSWORD_MIN_SCORE:
        return None
    feedback = result["feedback"]
    why = str(feedback.get("warning") or "").strip().rstrip(".")
    advice = " ".join(str(s) for s in feedback.get("suggestions") or [])
    text = "This password is too easy to guess"
    text += f": {why[:1].lower()}{why[1:]}." if why else "."
    return f"{text} {advice or 'Add another word or two: uncommon words are better.'}"


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
