"""The process's audit MAC key (docs/audit-chain.md).

Every audit row is written with an HMAC of its canonical form. Rows are built in many places
(`audit.service.row`, called by requests, jobs and commands alike), so the key is held here for
the process: `load_keys` installs it once it is loaded (one process, one database, one key).
Until then rows are written without a mac, which `contact-center audit verify` reports.
"""

from __future__ import annotations

_key: bytes | None = None


def install(key: bytes | None) -> None:
    global _key
    _key = key


def current() -> bytes | None:
    return _key
