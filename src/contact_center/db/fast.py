"""Hot write paths below the ORM: statements compiled once, run on the driver's connection.

The ORM session costs a unit of work, identity map, events and a statement compile per call;
on the paths that run for every webhook and every message sent, that machinery was most of the
CPU. Here a SQLAlchemy Core statement is compiled once per dialect, with SQLAlchemy's own bind
and result processors (so every value is written exactly as the ORM writes it and read back as
it reads it), and each call is one driver call: asyncpg's prepared statements on PostgreSQL,
aiosqlite on SQLite. The transaction is ours (`transaction()`), begun and committed on the
driver connection, as the request dependency or a job owns the ORM's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Dialect, Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any] | None
REQUIRED: Any = object()  # a parameter whose value each call gives


@dataclass(frozen=True)
class Compiled:
    """One statement for one dialect: its SQL, its parameters in order, its result columns."""

    sql: str
    # Each parameter: its name, its bind processor, and its value when the statement fixes it
    # (a literal, such as the OFFSET 0 SQLite writes after a LIMIT), else REQUIRED.
    params: tuple[tuple[str, Processor, Any], ...]
    columns: tuple[str, ...]
    results: tuple[Processor, ...]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        return [
            value if process is None or value is None else process(value)
            for value, process in (
                (values[name] if fixed is REQUIRED else fixed, process)
                for name, process, fixed in self.params
            )
        ]

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if process is None or value is None else process(value)
            for name, process, value in zip(self.columns, self.results, raw, strict=True)
        }


@dataclass
class Sql:
    """A Core statement, compiled on first use for each dialect. `keys` names the columns an
    INSERT or UPDATE sets (its parameters are then named after them). Where the dialects need
    different constructs (an INSERT … ON CONFLICT), `statement` builds it from the dialect's
    name."""

    statement: ClauseElement | Callable[[str], ClauseElement]
    keys: Sequence[str] | None = None
    _by_dialect: dict[str, Compiled] = field(default_factory=dict, repr=False)

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> Compiled:
        kwargs: dict[str, Any] = {}
        if self.keys is not None:
            kwargs["column_keys"] = list(self.keys)
        statement = (
            self.statement
            if isinstance(self.statement, ClauseElement)
            else self.statement(dialect.name)
        )
        compiled = statement.compile(dialect=dialect, **kwargs)
        assert isinstance(compiled, SQLCompiler)
        names = compiled.positiontup or []
        processors = compiled._bind_processors
        params = tuple(
            (
                name,
                cast(Processor, processors.get(name)),
                REQUIRED if compiled.binds[name].required else compiled.binds[name].value,
            )
            for name in names
        )
        columns: list[str] = []
        results: list[Processor] = []
        for entry in compiled._result_columns:
            columns.append(entry[0])
            results.append(entry[3]._cached_result_processor(dialect, None))
        return Compiled(compiled.string, params, tuple(columns), tuple(results))


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a sessionmaker binds: the hot paths' transactions below the ORM use it."""
    bind: AsyncEngine = sessions.kw["bind"]
    return bind


def row_of(obj: Any, table: Table) -> dict[str, Any]:
    """Every column of a new mapped object, as the INSERT the ORM would make: attributes left
    unset take the column's Python default (a value, or a function such as `utcnow`)."""
    values: dict[str, Any] = {}
    state = obj.__dict__
    for column in table.columns:
        value = state.get(column.key)
        default = column.default
        if value is None and default is not None:
            arg = cast(Any, default).arg
            value = arg(None) if cast(Any, default).is_callable else arg
        values[column.key] = value
    return values


class Reader:
    """Statements that read (or write with RETURNING, in a `Transaction`), straight on a driver
    connection; `connection` is the same connection as SQLAlchemy sees it."""

    def __init__(self, dialect: Dialect, driver: Any, connection: AsyncConnection) -> None:
        self.dialect = dialect
        self.postgresql = dialect.name == "postgresql"
        self.connection = connection
        self._driver = driver

    async def one(self, sql: Sql, **values: Any) -> dict[str, Any] | None:
        """The first row the statement returns (a SELECT, or a write with RETURNING)."""
        compiled = sql.compiled(self.dialect)
        args = compiled.args(values)
        if self.postgresql:
            raw = await self._driver.fetchrow(compiled.sql, *args)
        else:
            cursor = await self._driver.execute(compiled.sql, args)
            try:
                raw = await cursor.fetchone()
            finally:
                await cursor.close()
        return None if raw is None else compiled.row(raw)

    async def all(self, sql: Sql, **values: Any) -> list[dict[str, Any]]:
        compiled = sql.compiled(self.dialect)
        args = compiled.args(values)
        if self.postgresql:
            rows = await self._driver.fetch(compiled.sql, *args)
        else:
            cursor = await self._driver.execute(compiled.sql, args)
            try:
                rows = await cursor.fetchall()
            finally:
                await cursor.close()
        return [compiled.row(raw) for raw in rows]


class Transaction(Reader):
    """A transaction: hot statements go straight to its driver connection; `connection` is the
    same connection as SQLAlchemy sees it, for code that keeps the ORM (a session bound to it
    joins this transaction). `info` collects what is published after the commit (live notices).
    Nothing here commits: `transaction()` does. (From `autocommit()`, the same statements run
    each in its own transaction.)"""

    def __init__(self, dialect: Dialect, driver: Any, connection: AsyncConnection) -> None:
        super().__init__(dialect, driver, connection)
        self.info: dict[str, Any] = {}

    async def run(self, sql: Sql, **values: Any) -> int:
        """Execute a write without RETURNING; the number of rows it touched."""
        compiled = sql.compiled(self.dialect)
        args = compiled.args(values)
        if self.postgresql:
            status: str = await self._driver.execute(compiled.sql, *args)
            tail = status.rsplit(" ", 1)[-1]
            return int(tail) if tail.isdigit() else 0
        cursor = await self._driver.execute(compiled.sql, args)
        try:
            return int(cursor.rowcount)
        finally:
            await cursor.close()

    async def raw(self, sql: str, *args: Any) -> None:
        """A statement in the dialect's own SQL whose arguments need no processing (a lock)."""
        if self.postgresql:
            await self._driver.execute(sql, *args)
        else:
            await (await self._driver.execute(sql, args)).close()


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """A pooled connection in a transaction: committed when the block ends, rolled back when it
    raises (SQLite's begins IMMEDIATE, as every transaction of ours does)."""
    async with engine.begin() as connection:
        fairy = await connection.get_raw_connection()
        driver = fairy.driver_connection
        assert driver is not None
        if engine.dialect.name == "postgresql":
            # SQLAlchemy's asyncpg adapter begins on its first statement; ours go to the driver,
            # so the transaction is begun here (as the adapter would, and committed by it).
            adapted: Any = fairy.dbapi_connection
            if adapted._transaction is None:
                await adapted._start_transaction()
        yield Transaction(engine.dialect, driver, connection)


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """A pooled connection outside any transaction: each statement commits on its own.

    For work that needs no snapshot or atomicity across statements (a lone read, or a read and
    a lone write that does not depend on the read's snapshot): it saves the BEGIN and COMMIT
    round trips, which cost more than a one-row read by its key. A connection that failed under
    a statement is discarded rather than pooled again (SQLAlchemy did not see the failure)."""
    async with engine.connect() as connection:
        fairy = await connection.get_raw_connection()
        driver = fairy.driver_connection
        assert driver is not None
        try:
            yield Transaction(engine.dialect, driver, connection)
        except BaseException:
            await connection.invalidate()
            raise


async def reader(session: AsyncSession) -> Reader:
    """Reads below the ORM on a request's session: its connection, and its transaction once
    that has begun. On PostgreSQL the session begins its transaction at its first statement of
    its own, so reads made before it (a read-only request) run each alone: READ COMMITTED gives
    every statement its own snapshot inside a transaction too, and the BEGIN and COMMIT round
    trips are saved. Changes the session holds are flushed first, so the reads see them."""
    await session.flush()
    connection = await session.connection()
    fairy = await connection.get_raw_connection()
    assert fairy.driver_connection is not None
    return Reader(connection.dialect, fairy.driver_connection, connection)
