"""Statements below the ORM (`db/fast.py`): the same values as the ORM writes and reads, in a
transaction that commits or rolls back as a whole, which an ORM session can join."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import (
    ClauseElement,
    Integer,
    Table,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.db.fast import Sql, autocommit, transaction
from contact_center.models import AuditLog, WebhookDelivery
from contact_center.models.enums import ActorType

AUDIT = cast(Table, AuditLog.__table__)
LEDGER = cast(Table, WebhookDelivery.__table__)
INSERT_AUDIT = Sql(insert(AUDIT).returning(AUDIT.c.id), keys=[c.key for c in AUDIT.columns])
READ_AUDIT = Sql(select(AUDIT).where(AUDIT.c.id == bindparam("id")))
MARK = Sql(update(LEDGER).where(LEDGER.c.id == bindparam("row")), keys=["status", "attempts"])


def _audit(**values: object) -> dict[str, object]:
    row: dict[str, object] = {c.key: None for c in AUDIT.columns}
    row.update(
        id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        actor_type=ActorType.SYSTEM,
        actor_id="system",
        action="fast.test",
        metadata={"texto": "señal", "n": 3, "nested": {"list": [1, None, True]}},
    )
    row.update(values)
    return row


async def test_a_row_written_below_the_orm_reads_back_the_same_through_the_orm(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = _audit()
    async with transaction(engine) as tx:
        returned = await tx.one(INSERT_AUDIT, **row)
    assert returned == {"id": row["id"]}
    async with session_factory() as session:
        stored = await session.get(AuditLog, row["id"])
    assert stored is not None
    assert stored.occurred_at == row["occurred_at"]
    assert stored.metadata_ == row["metadata"]
    assert stored.actor_type is ActorType.SYSTEM
    async with transaction(engine) as tx:
        read = await tx.one(READ_AUDIT, id=row["id"])
    assert read is not None
    assert read["occurred_at"] == row["occurred_at"]
    assert read["metadata"] == row["metadata"]
    assert read["actor_type"] is ActorType.SYSTEM


async def test_a_failure_rolls_back_everything_the_transaction_wrote(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async def write_then_fail() -> None:
        async with transaction(engine) as tx:
            await tx.one(INSERT_AUDIT, **_audit())
            async with AsyncSession(bind=tx.connection) as session:
                session.add(
                    AuditLog(
                        id=uuid.uuid4(),
                        occurred_at=datetime.now(UTC),
                        actor_type=ActorType.USER,
                        actor_id="ana",
                        action="fast.orm",
                        metadata_={},
                    )
                )
                await session.flush()
            await tx.one(INSERT_AUDIT, **_audit())
            raise RuntimeError("after the writes")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    async with session_factory() as session:
        assert (await session.scalars(select(AuditLog))).all() == []


async def test_an_orm_session_joins_the_transaction_and_commits_with_it(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = _audit()
    orm_id = uuid.uuid4()
    async with transaction(engine) as tx:
        await tx.one(INSERT_AUDIT, **row)
        async with AsyncSession(bind=tx.connection) as session:
            # The ORM sees the row written below it, in the same transaction.
            assert await session.get(AuditLog, row["id"]) is not None
            session.add(
                AuditLog(
                    id=orm_id,
                    occurred_at=datetime.now(UTC) + timedelta(seconds=1),
                    actor_type=ActorType.USER,
                    actor_id="ana",
                    action="fast.orm",
                    metadata_={},
                )
            )
            await session.flush()
        assert await tx.one(READ_AUDIT, id=orm_id) is not None
    async with session_factory() as session:
        actions = {a.action for a in (await session.scalars(select(AuditLog))).all()}
    assert actions == {"fast.test", "fast.orm"}


def _ignoring(dialect: str) -> ClauseElement:
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        build(LEDGER)
        .on_conflict_do_nothing(index_elements=["provider", "event_key"])
        .returning(LEDGER.c.id)
    )


async def test_a_statement_per_dialect_a_conflict_and_an_update_count(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    store = Sql(_ignoring, keys=[c.key for c in LEDGER.columns])
    values: dict[str, object] = {c.key: None for c in LEDGER.columns}
    values.update(
        provider="TWILIO",
        event_key="SM1:delivered",
        received_at=datetime.now(UTC),
        raw_body="MessageSid=SM1",
        headers={},
        status="PROCESSED",
        attempts=1,
    )
    async with transaction(engine) as tx:
        first = await tx.one(store, **{**values, "id": uuid.uuid4()})
        again = await tx.one(store, **{**values, "id": uuid.uuid4()})
        assert first is not None
        assert await tx.run(MARK, row=first["id"], status="FAILED", attempts=2) == 1
        assert await tx.run(MARK, row=uuid.uuid4(), status="FAILED", attempts=2) == 0
    assert again is None
    async with session_factory() as session:
        stored = await session.get(WebhookDelivery, first["id"])
    assert stored is not None
    assert (stored.status, stored.attempts) == ("FAILED", 2)


async def test_autocommit_commits_each_statement_alone_and_discards_a_failed_connection(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    kept = _audit()
    discarded: list[object] = []
    event.listen(engine.sync_engine, "invalidate", lambda conn, *_: discarded.append(conn))
    async with autocommit(engine) as tx:
        await tx.one(READ_AUDIT, id=kept["id"])
    assert discarded == []

    async def insert_twice() -> None:
        async with autocommit(engine) as tx:
            await tx.one(INSERT_AUDIT, **kept)
            await tx.one(INSERT_AUDIT, **kept)  # the same id again

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await insert_twice()
    # The first statement committed on its own; the connection is not pooled again.
    async with session_factory() as session:
        assert await session.get(AuditLog, kept["id"]) is not None
    assert len(discarded) == 1
    async with autocommit(engine) as tx:
        read = await tx.one(READ_AUDIT, id=kept["id"])
    assert read is not None
    assert read["metadata"] == kept["metadata"]


async def test_a_limit_given_per_call_and_a_constant_the_statement_fixes(
    engine: AsyncEngine,
) -> None:
    rows = [_audit(occurred_at=datetime.now(UTC) + timedelta(seconds=n)) for n in range(3)]
    newest = Sql(
        select(AUDIT.c.id)
        .where(AUDIT.c.action == "fast.test")  # a constant: no value at the call
        .order_by(AUDIT.c.occurred_at.desc())
        .limit(bindparam("n", type_=Integer))  # SQLite adds an OFFSET the statement fixes
    )
    async with transaction(engine) as tx:
        for row in rows:
            await tx.one(INSERT_AUDIT, **row)
        assert await tx.all(newest, n=2) == [{"id": rows[2]["id"]}, {"id": rows[1]["id"]}]
        assert len(await tx.all(newest, n=5)) == 3
