"""Engine and session factory, built once at start-up from the settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from contact_center.settings import DatabaseKind, Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while a writer commits; busy_timeout makes concurrent writers queue
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Transactions are begun by us (see _sqlite_begin), not by the driver.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at BEGIN: two writers queue on busy_timeout instead of one
    # failing when it upgrades a read lock. The embedded database trades parallel reads for that.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for the configured database."""
    url = settings.async_database_url
    pool_size = settings.database_pool_size
    if settings.database_kind is DatabaseKind.SQLITE:
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
        sync_engine: Engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)
        event.listen(sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        # Overflow connections are closed when returned: keep the pool large enough that a busy
        # process does not open (and TLS-negotiate) a connection per request.
        pool_size=pool_size,
        max_overflow=max(2, pool_size // 4),
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"timeout": 10, "command_timeout": 30}
        if url.startswith("postgresql+asyncpg")
        else {},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
