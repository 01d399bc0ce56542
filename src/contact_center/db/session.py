"""Engine and session factory, built once at start-up from the settings."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
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


# A pooled connection idle for longer than this is checked (one round trip) before use; a busy
# process reuses its connections within milliseconds and skips that check. SQLAlchemy's
# pool_pre_ping checks on every checkout: about a tenth of the API process's CPU under load.
PING_AFTER_IDLE_SECONDS = 2.0
_CHECKED_IN = "checked_in_at"


def _ping_if_idle(engine: AsyncEngine) -> None:
    sync_engine: Engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is not None and time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (a database restart
            # leaves every pooled connection dead: each is replaced on its next use).
            raise DisconnectionError("pooled connection is dead") from exc


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for the configured database.

    `hide_parameters`: a statement's values (phone numbers, names, message bodies) never appear
    in an error's text, which reaches the logs and the webhook ledger's `error` column.
    """
    url = settings.async_database_url
    pool_size = settings.database_pool_size
    if settings.database_kind is DatabaseKind.SQLITE:
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True
        )
        sync_engine: Engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)
        event.listen(sync_engine, "begin", _sqlite_begin)
        return engine
    engine = create_async_engine(
        url,
        hide_parameters=True,
        # Overflow connections are closed when returned: keep the pool large enough that a busy
        # process does not open (and TLS-negotiate) a connection per request.
        pool_size=pool_size,
        max_overflow=max(2, pool_size // 4),
        pool_recycle=1800,
        connect_args={"timeout": 10, "command_timeout": 30}
        if url.startswith("postgresql+asyncpg")
        else {},
    )
    _ping_if_idle(engine)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
