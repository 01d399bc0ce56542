"""What a database text column takes, checked where outside text comes in.

PostgreSQL refuses the NUL character in text and in jsonb (`\\u0000`), and neither database takes
a lone surrogate (it has no UTF-8 form). Such text is refused at the edge (a request, a provider's
payload) with a 4xx naming the field, instead of failing at the INSERT with a 500.
"""

from __future__ import annotations

import base64
import re

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
REASON = "must not contain NUL characters or invalid code points"


def storable(value: str) -> bool:
    """Whether a text column takes `value`: no NUL, no lone surrogate."""
    return _UNSTORABLE.search(value) is None


# How a received body is kept in a text column (the webhook ledger's `raw_body`): as received when
# it is UTF-8 text a text column takes, else base64 of the exact bytes (NUL bytes, invalid UTF-8),
# with its encoding named beside it, so that what is read back is what came.
BASE64 = "base64"


def stored_body(raw: bytes) -> tuple[str, str | None]:
    """(text, encoding) for a body: the text itself and None, or its base64 and "base64"."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text, None
    return base64.b64encode(raw).decode("ascii"), BASE64
