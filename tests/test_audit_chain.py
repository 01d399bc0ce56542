"""The audit log's hash chain (docs/audit-chain.md): every row authenticated when written,
sealed in commit order, and `verify` names an UPDATE, a DELETE or an INSERT made behind the
application's back, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.audit import chain, prune, repository, tasks
from contact_center.audit import service as audit
from contact_center.audit.tasks import checkpoint_audit_log, seal_audit_log
from contact_center.db.base import utcnow
from contact_center.keys import audit_mac
from contact_center.keys.service import load_audit_mac_key
from contact_center.models import AuditLog, AuditPrune, AuditSeal
from contact_center.models.enums import ActorType
from contact_center.principal import AuditContext, Principal, Role
from contact_center.settings import Settings

SOMEONE = AuditContext(
    principal=Principal(actor_type=ActorType.USER, actor_id="ana", role=Role.AGENT),
    ip="10.0.0.7",
    user_agent="Mozilla/5.0 (ñandú) 🦙",
)
LATER = timedelta(minutes=2)


@pytest.fixture
async def key(engine: AsyncEngine, settings: Settings) -> AsyncIterator[bytes]:
    """The database's AUDIT_MAC_KEY, installed for the process as a command or the app does."""
    loaded = await load_audit_mac_key(engine, settings)
    yield loaded
    audit_mac.install(None)


async def write(
    sessions: async_sessionmaker[AsyncSession], count: int, metadata: Any = None
) -> list[uuid.UUID]:
    ids = []
    async with sessions() as session:
        for n in range(count):
            values = audit.row(
                SOMEONE,
                "test.action",
                entity_type="thing",
                entity_id=n,
                metadata=metadata or {"n": n},
            )
            await repository.add(session, values)
            ids.append(values["id"])
        await session.commit()
    return ids


async def verify(
    sessions: async_sessionmaker[AsyncSession], key: bytes, **kwargs: Any
) -> chain.Report:
    return await chain.verify(sessions, key, utcnow() + kwargs.pop("after", timedelta()), **kwargs)


async def behind_the_back(engine: AsyncEngine, database_url: str, sql: str, **params: Any) -> None:
    """Run `sql` with the append-only triggers (and foreign keys) out of the way, as someone
    with write access to the database would."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SET session_replication_role = replica")
            await connection.execute(text(sql), params)
            await connection.exec_driver_sql("SET session_replication_role = DEFAULT")
            await connection.commit()
        return
    path = database_url.split("///", 1)[1]
    db = sqlite3.connect(path)
    try:
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit%'"
        ).fetchall()
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(sql, {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in params.items()})
        for _, create in triggers:
            db.execute(create)
        db.commit()
    finally:
        db.close()


def _uuid_param(engine: AsyncEngine, value: uuid.UUID) -> Any:
    # SQLite stores UUIDs as 32 hex digits (SQLAlchemy's Uuid type without native support).
    return value if engine.dialect.name == "postgresql" else value.hex


# --- the canonical form ---------------------------------------------------------------------


HOSTILE: dict[str, Any] = {
    "zeta": "último — 日本語 🦙 \u2028 \\ \" '",
    "Alpha": [1, 2.5, 0.1, 1e16, 1.5e300, -0.0, 10**30, 2**53 + 1, True, False, None],
    "nested": {"b": {"a": [{"z": 1, "y": "x"}]}},
    "huge": "x" * 200_000,
    "empty": {},
}


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"d": [value]}
    return value


@pytest.mark.parametrize(
    "metadata", [HOSTILE, _deep(120), {"n": 3}, None], ids=["hostile", "deep", "plain", "none"]
)
async def test_the_mac_survives_the_round_trip_through_the_database(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, metadata: Any
) -> None:
    async with session_factory() as session:
        values = audit.row(
            SOMEONE, "test.hostile", entity_type="x", entity_id="1", metadata=metadata
        )
        await repository.add(session, values)
        await session.commit()
    assert values["mac"] == chain.mac(key, chain.canonical_of(values))
    async with session_factory() as session:
        (row,) = await repository.unsealed(session, None, 10)
    assert row[10] == values["mac"]
    assert chain.mac(key, chain.canonical(*row[:10])) == values["mac"]
    assert chain.canonical(*row[:10]) == chain.canonical_of(values)
    if session_factory.kw["bind"].dialect.name == "postgresql":
        # PostgreSQL's fast path: the fields but the metadata written by SQL, the metadata
        # re-encoded from jsonb's text.
        async with session_factory() as session:
            (fast,) = await repository.pg_unsealed(session, chain.VERSION, None, None, 10)
        assert fast[1] + chain.metadata_part(fast[2]) == chain.canonical_of(values)


def test_the_canonical_form_is_length_prefixed_and_versioned() -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    one = chain.canonical(uuid.UUID(int=1), at, "USER", "a", "b", None, None, None, None, None)
    two = chain.canonical(uuid.UUID(int=1), at, "USER", "ab", "", None, None, None, None, None)
    assert one != two  # the boundary between fields counts
    assert one.startswith(chain.VERSION)
    assert b"2026-12-01T12:00:00.000000+00:00" in one
    naive = chain.canonical(
        uuid.UUID(int=1), at.replace(tzinfo=None), "USER", "a", "b", None, None, None, None, None
    )
    assert naive == one
    # The same numbers however the database writes them back.
    assert chain._json({"b": 1e16, "a": 2}) == chain._json({"a": 2.0, "b": 10**16})


# --- sealing --------------------------------------------------------------------------------


async def seals(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, uuid.UUID]]:
    async with sessions() as session:
        found = await session.execute(
            select(AuditSeal.seq, AuditSeal.audit_id).order_by(AuditSeal.seq)
        )
        return [(s, a) for s, a in found.all()]


async def test_sealing_links_every_row_once_in_order(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    first = await write(session_factory, 7)
    second = await write(session_factory, 5)
    assert await tasks.seal(session_factory, batch=3) == 12
    assert await tasks.seal(session_factory) == 0
    sealed = await seals(session_factory)
    assert [s for s, _ in sealed] == list(range(1, 13))
    assert [a for _, a in sealed] == first + second or sorted(a for _, a in sealed) == sorted(
        first + second
    )
    async with session_factory() as session:
        occurred = dict((await session.execute(select(AuditLog.id, AuditLog.occurred_at))).all())
    times = [occurred[a] for _, a in sealed]
    assert times == sorted(times)
    report = await verify(session_factory, key)
    assert report.ok, report.findings
    assert report.checked == 12
    assert report.head_seq == 12


async def test_a_row_committed_late_is_sealed_later_and_the_chain_stays_valid(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    early = audit.row(SOMEONE, "test.late")  # stamped now, committed after others were sealed
    await write(session_factory, 3)
    await tasks.seal(session_factory)
    async with session_factory() as session:
        await repository.add(session, early)
        await session.commit()
    assert await tasks.seal(session_factory) == 1
    assert (await seals(session_factory))[-1] == (4, early["id"])
    assert (await verify(session_factory, key)).ok


async def test_writers_and_sealers_at_once_skip_nothing_and_seal_nothing_twice(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    async def writer() -> list[uuid.UUID]:
        ids = []
        for _ in range(10):
            ids += await write(session_factory, 3)
            await asyncio.sleep(0)
        return ids

    async def sealer() -> int:
        total = 0
        for _ in range(10):
            total += await tasks.seal(session_factory, batch=4)
            await asyncio.sleep(0)
        return total

    results = await asyncio.gather(writer(), writer(), sealer(), sealer(), sealer())
    written = results[0] + results[1]
    total = sum(results[2:]) + await tasks.seal(session_factory)
    sealed = await seals(session_factory)
    assert total == len(written) == len(sealed) == 60
    assert sorted(a for _, a in sealed) == sorted(written)
    assert [s for s, _ in sealed] == list(range(1, 61))
    assert (await verify(session_factory, key)).ok


async def test_two_sealers_at_once_seal_a_row_once(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    await write(session_factory, 40)
    counts = await asyncio.gather(*(tasks.seal(session_factory, batch=7) for _ in range(3)))
    assert sum(counts) == 40
    assert len(await seals(session_factory)) == 40
    assert (await verify(session_factory, key)).ok


async def test_a_seal_twice_is_refused_by_the_database(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    (audit_id,) = await write(session_factory, 1)
    await tasks.seal(session_factory)
    async with session_factory() as session:
        with pytest.raises(IntegrityError):
            await repository.add_seals(
                session, [{"seq": 2, "audit_id": audit_id, "hash": "0" * 64, "sealed_at": utcnow()}]
            )


async def test_seals_and_checkpoints_are_append_only(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    await write(session_factory, 2)
    await tasks.seal(session_factory)
    async with session_factory() as session:
        await chain.checkpoint(session, utcnow())
        await session.commit()
    for sql in (
        "UPDATE audit_seal SET hash = 'x'",
        "DELETE FROM audit_seal",
        "UPDATE audit_checkpoint SET hash = 'x'",
        "DELETE FROM audit_checkpoint",
        "UPDATE audit_log SET action = 'x'",
    ):
        async with session_factory() as session:
            with pytest.raises(Exception, match="append-only"):
                await session.execute(text(sql))


async def test_the_job_seals_within_a_minute_without_redis(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    ids = await write(session_factory, 25)
    # The job is given the sessions only: no queue, no Redis.
    assert await seal_audit_log({"sessions": session_factory}) == 25
    async with session_factory() as session:
        pairs = (
            await session.execute(
                select(AuditSeal.sealed_at, AuditLog.occurred_at).join(
                    AuditLog, AuditLog.id == AuditSeal.audit_id
                )
            )
        ).all()
    assert len(pairs) == len(ids)
    assert max(sealed_at - occurred_at for sealed_at, occurred_at in pairs) < chain.SEAL_WITHIN
    report = await verify(session_factory, key, after=LATER)
    assert report.ok
    assert report.unsealed == 0


# --- verify ---------------------------------------------------------------------------------


@pytest.fixture
async def sealed(session_factory: async_sessionmaker[AsyncSession], key: bytes) -> list[uuid.UUID]:
    ids = await write(session_factory, 6)
    await tasks.seal(session_factory)
    return ids


async def test_verify_is_clean_on_an_untouched_log(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, sealed: list[uuid.UUID]
) -> None:
    report = await verify(session_factory, key, after=LATER)
    assert report.ok
    assert report.checked == 6
    assert report.before_sealing == 0


async def test_verify_names_an_update_behind_the_apps_back(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    await behind_the_back(
        engine,
        database_url,
        "UPDATE audit_log SET actor_id = 'mallory' WHERE id = :id",
        id=_uuid_param(engine, sealed[2]),
    )
    report = await verify(session_factory, key)
    first = report.findings[0]
    assert (first.what, first.seq, first.audit_id) == (chain.Broken.CHANGED, 3, str(sealed[2]))
    assert len(report.findings) == 1


async def test_verify_names_a_delete_behind_the_apps_back(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    await behind_the_back(
        engine,
        database_url,
        "DELETE FROM audit_log WHERE id = :id",
        id=_uuid_param(engine, sealed[4]),
    )
    report = await verify(session_factory, key)
    assert [(f.what, f.seq) for f in report.findings] == [(chain.Broken.MISSING, 5)]


async def test_verify_names_a_deleted_link(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    await behind_the_back(engine, database_url, "DELETE FROM audit_seal WHERE seq = 2")
    report = await verify(session_factory, key)
    assert report.findings[0].what is chain.Broken.MISSING
    assert report.findings[0].seq == 2


async def test_verify_names_an_insert_behind_the_apps_back(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    forged = uuid.uuid4()
    at = utcnow() - timedelta(minutes=3)
    await behind_the_back(
        engine,
        database_url,
        "INSERT INTO audit_log (id, occurred_at, actor_type, actor_id, action) "
        "VALUES (:id, :at, 'USER', 'mallory', 'auth.login')",
        id=_uuid_param(engine, forged),
        at=at if engine.dialect.name == "postgresql" else at.replace(tzinfo=None).isoformat(" "),
    )
    # Not sealed yet, and older than a minute: verify says so.
    report = await verify(session_factory, key)
    assert [(f.what, f.audit_id) for f in report.findings] == [(chain.Broken.UNSEALED, str(forged))]
    # Sealed: it is in the chain, but the application did not write it (no mac).
    assert await tasks.seal(session_factory) == 1
    report = await verify(session_factory, key)
    assert [(f.what, f.seq, f.audit_id) for f in report.findings] == [
        (chain.Broken.FORGED, 7, str(forged))
    ]


async def test_a_row_with_a_mac_under_another_key_is_not_the_applications(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, sealed: list[uuid.UUID]
) -> None:
    audit_mac.install(b"someone else's key")
    await write(session_factory, 1)
    await tasks.seal(session_factory)
    report = await verify(session_factory, key)
    assert [(f.what, f.seq, f.detail) for f in report.findings] == [
        (chain.Broken.FORGED, 7, "mac mismatch")
    ]


async def test_rows_from_before_sealing_began_are_not_tampering(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    audit_mac.install(None)  # as the rows written before the migration: no mac
    await write(session_factory, 3)
    audit_mac.install(key)
    await write(session_factory, 2)
    await tasks.seal(session_factory)
    report = await verify(session_factory, key)
    assert report.ok
    assert report.before_sealing == 3


async def test_verify_checks_the_checkpoints(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    assert await checkpoint_audit_log({"sessions": session_factory}) == 6
    assert await checkpoint_audit_log({"sessions": session_factory}) is None  # once a day
    report = await verify(session_factory, key)
    assert report.ok
    assert report.checkpoints_checked == 1
    # Someone rewrites the chain from link 3 on (recomputing every hash after it): the links
    # agree with each other, not with the checkpoint.
    await behind_the_back(
        engine,
        database_url,
        "INSERT INTO audit_checkpoint (seq, day, hash, created_at) VALUES (3, :day, :hash, :at)",
        day=utcnow().date() if engine.dialect.name == "postgresql" else utcnow().date().isoformat(),
        hash="ab" * 32,
        at=utcnow()
        if engine.dialect.name == "postgresql"
        else utcnow().replace(tzinfo=None).isoformat(" "),
    )
    report = await verify(session_factory, key)
    assert [(f.what, f.seq) for f in report.findings] == [(chain.Broken.CHECKPOINT, 3)]
    # An exported checkpoint beyond the chain's end: the chain was cut.
    report = await verify(session_factory, key, anchors={9: "cd" * 32})
    assert (chain.Broken.MISSING, 9) in [(f.what, f.seq) for f in report.findings]


async def test_verify_from_the_latest_checkpoint(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, sealed: list[uuid.UUID]
) -> None:
    async with session_factory() as session:
        await chain.checkpoint(session, utcnow())
        await session.commit()
    await write(session_factory, 4)
    await tasks.seal(session_factory)
    report = await verify(session_factory, key, from_checkpoint=True)
    assert report.ok
    assert report.started_at_seq == 6
    assert report.checked == 4


async def test_verify_reports_many_findings_and_keeps_the_first(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    await behind_the_back(engine, database_url, "UPDATE audit_log SET ip = '6.6.6.6'")
    report = await verify(session_factory, key)
    assert [f.seq for f in report.findings] == [1, 2, 3, 4, 5, 6]
    assert report.as_dict()["findings"][0]["what"] == "row changed"


# --- the checkpoints' API ---------------------------------------------------------------------


async def test_checkpoints_api_is_for_admins(
    app: Any, client: httpx.AsyncClient, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = app.state.session_factory
    await write(sessions, 2)
    await tasks.seal(sessions)
    async with sessions() as session:
        made = await chain.checkpoint(session, utcnow())
        await session.commit()
    assert made is not None
    answer = await client.get("/api/audit/checkpoints")
    assert answer.status_code == 200
    (item,) = answer.json()["items"]
    assert (item["seq"], item["hash"]) == (2, made.hash)
    for who in ("ana", "sup"):
        refused = await people[who].get("/api/audit/checkpoints")
        assert refused.status_code == 403
        assert "error" in refused.json()
    for bad in ("0", "abc", "1001", "1%00"):
        wrong = await client.get(f"/api/audit/checkpoints?limit={bad}")
        assert wrong.status_code == 422, bad


# --- verify in ranges -------------------------------------------------------------------------


async def test_verify_in_ranges_names_the_lowest_broken_link_first(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    # Ranges of 2 links: (0, 2], (2, 4], (4, 6]; on PostgreSQL each in a process of its own.
    await behind_the_back(
        engine,
        database_url,
        "UPDATE audit_log SET actor_id = 'mallory' WHERE id = :id",
        id=_uuid_param(engine, sealed[5]),
    )
    await behind_the_back(
        engine,
        database_url,
        "UPDATE audit_log SET ip = '6.6.6.6' WHERE id = :id",
        id=_uuid_param(engine, sealed[1]),
    )
    await behind_the_back(engine, database_url, "DELETE FROM audit_seal WHERE seq = 4")
    whole = await verify(session_factory, key, workers=0)
    ranged = await verify(session_factory, key, span=2)
    found = [(f.what, f.seq) for f in ranged.findings]
    assert found == [
        (chain.Broken.CHANGED, 2),
        (chain.Broken.MISSING, 4),  # the end of the second range: reported once
        (chain.Broken.CHANGED, 6),
    ]
    assert found == [(f.what, f.seq) for f in whole.findings]
    assert ranged.checked == whole.checked == 5


async def test_verify_in_ranges_counts_rows_from_before_sealing_across_ranges(
    session_factory: async_sessionmaker[AsyncSession], key: bytes
) -> None:
    audit_mac.install(None)
    await write(session_factory, 3)
    audit_mac.install(key)
    await write(session_factory, 2)
    audit_mac.install(None)  # a row without a mac after the chain began: not the application's
    await write(session_factory, 1)
    audit_mac.install(key)
    await tasks.seal(session_factory)
    report = await verify(session_factory, key, span=2)
    assert report.before_sealing == 3
    assert [(f.what, f.seq) for f in report.findings] == [(chain.Broken.FORGED, 6)]


# --- pruning ----------------------------------------------------------------------------------


async def purge(
    sessions: async_sessionmaker[AsyncSession], cutoff: datetime, limit: int = 1000
) -> int:
    async with sessions() as session:
        pruned = await prune.purge_batch(session, cutoff, utcnow(), limit)
        await session.commit()
    return pruned


async def expired(sessions: async_sessionmaker[AsyncSession], cutoff: datetime) -> int:
    async with sessions() as session:
        return await prune.count_expired(session, cutoff, utcnow())


async def test_pruning_removes_the_expired_prefix_and_verify_goes_on_from_it(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, sealed: list[uuid.UUID]
) -> None:
    cutoff = utcnow()
    await write(session_factory, 3)
    await tasks.seal(session_factory)
    assert await expired(session_factory, cutoff) == 6
    assert await purge(session_factory, cutoff, limit=4) == 4
    assert await expired(session_factory, cutoff) == 2
    assert await purge(session_factory, cutoff) == 2
    assert await purge(session_factory, cutoff) == 0
    assert [s for s, _ in await seals(session_factory)] == [7, 8, 9]
    async with session_factory() as session:
        left = (await session.execute(select(func.count()).select_from(AuditLog))).scalar()
    assert left == 3
    report = await verify(session_factory, key)
    assert report.ok, report.findings
    assert (report.pruned_to, report.checked, report.head_seq) == (6, 3, 9)
    # The chain goes on after the prune point, even once every link is pruned.
    assert await purge(session_factory, utcnow()) == 3
    await write(session_factory, 2)
    assert await tasks.seal(session_factory) == 2
    assert [s for s, _ in await seals(session_factory)] == [10, 11]
    report = await verify(session_factory, key, span=1)
    assert report.ok, report.findings
    assert (report.pruned_to, report.checked) == (9, 2)


async def test_pruning_never_removes_unsealed_or_young_rows(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, sealed: list[uuid.UUID]
) -> None:
    late = audit.row(SOMEONE, "test.late")  # old, but committed (and sealed) after young rows
    cutoff = utcnow()
    await write(session_factory, 2)
    await tasks.seal(session_factory)
    async with session_factory() as session:
        await repository.add(session, late)
        await session.commit()
    await tasks.seal(session_factory)
    unsealed = await write(session_factory, 2)
    assert await expired(session_factory, cutoff) == 6
    assert await purge(session_factory, cutoff) == 6
    assert await purge(session_factory, cutoff) == 0  # the late row is behind young ones
    async with session_factory() as session:
        ids = set((await session.scalars(select(AuditLog.id))).all())
    assert ids >= {late["id"], *unsealed}
    assert len(ids) == 5
    # Even with a cutoff after every row, the unsealed ones stay.
    assert await purge(session_factory, utcnow() + LATER) == 3
    async with session_factory() as session:
        assert set((await session.scalars(select(AuditLog.id))).all()) == set(unsealed)


async def test_the_database_refuses_to_delete_an_unpruned_row_or_link(
    session_factory: async_sessionmaker[AsyncSession], key: bytes, sealed: list[uuid.UUID]
) -> None:
    assert await purge(session_factory, utcnow(), limit=3) == 3
    for statement in (
        delete(AuditLog).where(AuditLog.id == sealed[3]),
        delete(AuditSeal).where(AuditSeal.seq == 4),
        delete(AuditPrune),
    ):
        async with session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(statement)


async def test_verify_after_a_prune_names_an_update_a_delete_and_an_insert(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    assert await purge(session_factory, utcnow(), limit=3) == 3
    await behind_the_back(
        engine,
        database_url,
        "UPDATE audit_log SET actor_id = 'mallory' WHERE id = :id",
        id=_uuid_param(engine, sealed[3]),
    )
    await behind_the_back(
        engine,
        database_url,
        "DELETE FROM audit_log WHERE id = :id",
        id=_uuid_param(engine, sealed[5]),
    )
    forged = uuid.uuid4()
    at = utcnow() - timedelta(minutes=3)
    await behind_the_back(
        engine,
        database_url,
        "INSERT INTO audit_log (id, occurred_at, actor_type, actor_id, action) "
        "VALUES (:id, :at, 'USER', 'mallory', 'auth.login')",
        id=_uuid_param(engine, forged),
        at=at if engine.dialect.name == "postgresql" else at.replace(tzinfo=None).isoformat(" "),
    )
    await tasks.seal(session_factory)
    report = await verify(session_factory, key)
    assert [(f.what, f.seq) for f in report.findings] == [
        (chain.Broken.CHANGED, 4),
        (chain.Broken.MISSING, 6),
        (chain.Broken.FORGED, 7),
    ]
    # A deleted link right after the prune point, as well.
    await behind_the_back(engine, database_url, "DELETE FROM audit_seal WHERE seq = 4")
    report = await verify(session_factory, key)
    assert (report.findings[0].what, report.findings[0].seq) == (chain.Broken.MISSING, 4)


async def test_verify_names_a_forged_or_removed_prune_point(
    engine: AsyncEngine,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    key: bytes,
    sealed: list[uuid.UUID],
) -> None:
    assert await purge(session_factory, utcnow(), limit=2) == 2
    async with session_factory() as session:
        (anchor,) = [(c.seq, c.hash) for c in await repository.prune_points(session)]
    # Someone removes links 3–4 and their rows and records a prune point without the key.
    link_4 = (await seals(session_factory))[1][1]
    async with session_factory() as session:
        hash_4 = await repository.hash_at(session, 4)
    await behind_the_back(
        engine,
        database_url,
        "DELETE FROM audit_seal WHERE seq IN (3, 4)",
    )
    await behind_the_back(
        engine,
        database_url,
        "DELETE FROM audit_log WHERE id IN (:a, :b)",
        a=_uuid_param(engine, sealed[2]),
        b=_uuid_param(engine, link_4),
    )
    at = utcnow() if engine.dialect.name == "postgresql" else utcnow().replace(tzinfo=None)
    await behind_the_back(
        engine,
        database_url,
        "INSERT INTO audit_prune (seq, hash, rows, cutoff, pruned_at, mac) "
        "VALUES (4, :hash, 2, :at, :at, :mac)",
        hash=hash_4,
        at=at if engine.dialect.name == "postgresql" else at.isoformat(" "),
        mac="00" * 32,
    )
    report = await verify(session_factory, key)
    assert [(f.what, f.seq) for f in report.findings] == [(chain.Broken.PRUNE, 4)]
    # An exported checkpoint at the genuine prune point must match it.
    report = await verify(session_factory, key, anchors={anchor[0]: "ab" * 32})
    assert (chain.Broken.CHECKPOINT, 2) in [(f.what, f.seq) for f in report.findings]
    report = await verify(session_factory, key, anchors={anchor[0]: anchor[1]})
    assert [(f.what, f.seq) for f in report.findings] == [(chain.Broken.PRUNE, 4)]
    # The forged point removed: the chain has a hole after the genuine one.
    await behind_the_back(engine, database_url, "DELETE FROM audit_prune WHERE seq = 4")
    report = await verify(session_factory, key)
    assert [(f.what, f.seq) for f in report.findings] == [(chain.Broken.MISSING, 3)]
