"""What a database text column takes, checked where outside text comes in.

PostgreSQL refuses the NUL character in text and in jsonb (`\\u0000`), and neither database takes
a lone surrogate (it has no UTF-8 form). Such text is refused at the edge (a request, a provider's
payload) with a 4xx naming the field, instead of failing at the INSERT with a 500.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
REASON = "must not contain NUL characters or invalid code points"


def storable(value: str) -> bool:
    """Whether a text column takes `value`: no NUL, no lone surrogate."""
    return _UNSTORABLE.search(value) is None
