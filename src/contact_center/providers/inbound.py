"""What every provider's inbound adapter shares: the webhook token and a body's digest."""

from __future__ import annotations

import hashlib
import hmac

from contact_center.providers.base import InboundRequest

TOKEN_HEADER = "x-webhook-token"  # noqa: S105 - a header name


def token_matches(expected: str | None, request: InboundRequest) -> bool:
    """`X-Webhook-Token` or `?token=` equals `expected` (constant-time); no token expected: true."""
    if expected is None:
        return True
    given = request.headers.get(TOKEN_HEADER) or request.query.get("token") or ""
    return hmac.compare_digest(given.encode(), expected.encode())


def body_digest(raw: bytes) -> str:
    """A delivery's identity when the provider gives none we trust: its body."""
    return hashlib.sha256(raw).hexdigest()
