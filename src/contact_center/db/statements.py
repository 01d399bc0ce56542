"""Dialect-aware statements that both PostgreSQL and SQLite run: insert-or-ignore, locks."""

from __future__ import annotations

import zlib
from typing import Any, TypeVar, cast

from sqlalchemy import Integer, Table, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from contact_center.db.base import Base
from contact_center.db.fast import Transaction

M = TypeVar("M", bound=Base)


def _dialect(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


_IGNORING: dict[tuple[str, type[Base], tuple[str, ...], bool], Any] = {}


def _ignoring_insert(
    session: AsyncSession, model: type[Base], conflict: list[str], returning: bool
) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for a model, built once per dialect: the values are bound
    at execution. Building a statement with `.values(...)` on every call costs more CPU than the
    round trip on the hot paths (webhooks, events)."""
    key = (_dialect(session), model, tuple(conflict), returning)
    stmt = _IGNORING.get(key)
    if stmt is None:
        dialect_insert = pg_insert if key[0] == "postgresql" else sqlite_insert
        if returning:  # an ORM insert: the row comes back as the model's object
            stmt = dialect_insert(model).on_conflict_do_nothing(index_elements=conflict)
            stmt = stmt.returning(model)
        else:  # a Core insert on the table: its rowcount tells whether the row went in
            stmt = dialect_insert(cast(Table, model.__table__)).on_conflict_do_nothing(
                index_elements=conflict
            )
        _IGNORING[key] = stmt
    return stmt


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT … ON CONFLICT (conflict) DO NOTHING. True when the row was inserted."""
    result = await session.execute(_ignoring_insert(session, model, conflict, False), values)
    return bool(getattr(result, "rowcount", 0) == 1)


async def insert_ignore_returning(
    session: AsyncSession, model: type[M], values: dict[str, Any], conflict: list[str]
) -> M | None:
    """INSERT … ON CONFLICT (conflict) DO NOTHING RETURNING the row as an ORM object (in the
    session, as if loaded), or None when a row with that key exists: one statement, no re-read."""
    stmt = _ignoring_insert(session, model, conflict, True)
    return (await session.scalars(stmt, values)).one_or_none()


async def insert_row(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> None:
    """A plain INSERT of one row that nothing reads back in this transaction (an audit row):
    no ORM unit of work, the statement built once."""
    await session.execute(insert(cast(Table, model.__table__)), values)


async def lock_key(session: AsyncSession, key: str) -> None:
    """Serialize transactions on `key` until commit: a PostgreSQL advisory transaction lock.

    SQLite needs nothing: its transactions begin IMMEDIATE, so writers already run one at a time.
    """
    if _dialect(session) == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(key.encode()) - 2**31}
        )


async def lock_key_fast(tx: Transaction, key: str) -> None:
    """`lock_key` on a transaction below the ORM (db/fast.py)."""
    if tx.postgresql:
        await tx.raw("SELECT pg_advisory_xact_lock($1)", zlib.crc32(key.encode()) - 2**31)


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
