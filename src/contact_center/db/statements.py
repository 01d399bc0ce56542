"""Dialect-aware statements that both PostgreSQL and SQLite run: insert-or-ignore, locks."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import Base


def _dialect(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT … ON CONFLICT (conflict) DO NOTHING. True when the row was inserted."""
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0) == 1)


async def lock_key(session: AsyncSession, key: str) -> None:
    """Serialize transactions on `key` until commit: a PostgreSQL advisory transaction lock.

    SQLite needs nothing: its transactions begin IMMEDIATE, so writers already run one at a time.
    """
    if _dialect(session) == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(key.encode()) - 2**31}
        )
