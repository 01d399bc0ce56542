"""Dialect-aware statements that both PostgreSQL and SQLite run: insert-or-ignore, locks."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import Integer, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

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


class json_array_length(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it is
    """The length of a JSON array column: `jsonb_array_length` on PostgreSQL (JsonType is JSONB
    there), `json_array_length` on SQLite. Counting in SQL spares loading the documents."""

    type = Integer()
    inherit_cache = True
    name = "json_array_length"


@compiles(json_array_length)
def _json_array_length(element: json_array_length, compiler: Any, **kw: Any) -> str:
    return f"json_array_length({compiler.process(element.clauses, **kw)})"


@compiles(json_array_length, "postgresql")
def _jsonb_array_length(element: json_array_length, compiler: Any, **kw: Any) -> str:
    return f"jsonb_array_length({compiler.process(element.clauses, **kw)})"
