from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, exists, func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_ignore, insert_row, lock_key
from contact_center.models.audit_chain import AuditCheckpoint, AuditPrune, AuditSeal
from contact_center.models.audit_log import AuditLog
from contact_center.models.enums import ActorType


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    """Append one row (audit rows are never read back in the transaction that writes them)."""
    await insert_row(session, AuditLog, values)


@dataclass(frozen=True)
class AuditFilters:
    actor_id: str | None = None
    # Who acted: people (USER) or the service and its providers (SYSTEM, AGENT); any when empty.
    actor_types: frozenset[ActorType] = frozenset()
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    occurred_from: datetime | None = None
    occurred_before: datetime | None = None


async def listing(
    session: AsyncSession, filters: AuditFilters, *, limit: int, skip: int
) -> Sequence[AuditLog]:
    """Newest first, ties broken by id; one row more than `limit` tells whether more exist.
    An `action` ending in `.` matches every action under it (`auth.` → `auth.login`, …)."""
    stmt = select(AuditLog)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditLog.actor_id == filters.actor_id)
    if filters.actor_types:
        stmt = stmt.where(AuditLog.actor_type.in_(sorted(filters.actor_types)))
    if filters.action is not None:
        if filters.action.endswith("."):
            stmt = stmt.where(AuditLog.action.startswith(filters.action, autoescape=True))
        else:
            stmt = stmt.where(AuditLog.action == filters.action)
    if filters.entity_type is not None:
        stmt = stmt.where(AuditLog.entity_type == filters.entity_type)
    if filters.entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == filters.entity_id)
    if filters.occurred_from is not None:
        stmt = stmt.where(AuditLog.occurred_at >= filters.occurred_from)
    if filters.occurred_before is not None:
        stmt = stmt.where(AuditLog.occurred_at < filters.occurred_before)
    stmt = (
        stmt.order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc()).limit(limit + 1).offset(skip)
    )
    return (await session.scalars(stmt)).all()


# --- the hash chain (docs/audit-chain.md) ------------------------------------------------------

SEAL = cast(Table, AuditSeal.__table__)
PRUNE = cast(Table, AuditPrune.__table__)
CHECKPOINT = cast(Table, AuditCheckpoint.__table__)
LOG = cast(Table, AuditLog.__table__)
# An audit row's columns in canonical order (audit.chain.canonical), then its mac.
ROW_COLUMNS = (
    LOG.c.id,
    LOG.c.occurred_at,
    LOG.c.actor_type,
    LOG.c.actor_id,
    LOG.c.action,
    LOG.c.entity_type,
    LOG.c.entity_id,
    LOG.c.ip,
    LOG.c.user_agent,
    LOG.c["metadata"],
    LOG.c.mac,
)
SEAL_LOCK = "audit:seal"


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    # When the head's audit row occurred (None when that row is gone).
    occurred_at: datetime | None


async def lock_sealing(session: AsyncSession) -> None:
    """One sealer at a time (PostgreSQL advisory transaction lock; SQLite writers are serial)."""
    await lock_key(session, SEAL_LOCK)


async def head(session: AsyncSession) -> Head | None:
    """The last link of the chain."""
    stmt = (
        select(SEAL.c.seq, SEAL.c.hash, LOG.c.occurred_at)
        .select_from(SEAL.outerjoin(LOG, LOG.c.id == SEAL.c.audit_id))
        .order_by(SEAL.c.seq.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).first()
    if found is not None:
        return Head(found.seq, found.hash, found.occurred_at)
    point = await prune_point(session)  # every link pruned: the chain goes on from the point
    return None if point is None else Head(point.seq, point.hash, None)


async def unsealed(
    session: AsyncSession,
    since: datetime | None,
    limit: int,
    past: tuple[datetime, uuid.UUID] | None = None,
) -> Sequence[Any]:
    """Audit rows without a seal, oldest first (ties by id), from `since` on (all when None)
    and after `past` (occurred_at, id) when given."""
    stmt = select(*ROW_COLUMNS).where(
        ~exists().where(SEAL.c.audit_id == LOG.c.id)  # the unique index on audit_id answers it
    )
    if since is not None:
        stmt = stmt.where(LOG.c.occurred_at >= since)
    if past is not None:
        stmt = stmt.where(tuple_(LOG.c.occurred_at, LOG.c.id) > tuple_(*past))
    stmt = stmt.order_by(LOG.c.occurred_at, LOG.c.id).limit(limit)
    return (await session.execute(stmt)).all()


async def add_seals(session: AsyncSession, seals: list[dict[str, Any]]) -> None:
    if seals:
        await session.execute(insert(SEAL), seals)


async def links(
    session: AsyncSession, after: int, limit: int, *, upto: int | None = None
) -> Sequence[Any]:
    """Links after `after` (up to `upto`) in seq order, each with its audit row (the row's
    columns None when the row is gone): seq, hash, audit_id, then ROW_COLUMNS."""
    stmt = (
        select(SEAL.c.seq, SEAL.c.hash, SEAL.c.audit_id, *ROW_COLUMNS)
        .select_from(SEAL.outerjoin(LOG, LOG.c.id == SEAL.c.audit_id))
        .where(SEAL.c.seq > after)
        .order_by(SEAL.c.seq)
        .limit(limit)
    )
    if upto is not None:
        stmt = stmt.where(SEAL.c.seq <= upto)
    return (await session.execute(stmt)).all()


async def link_at(session: AsyncSession, seq: int) -> Any:
    stmt = (
        select(SEAL.c.seq, SEAL.c.hash, SEAL.c.audit_id, *ROW_COLUMNS)
        .select_from(SEAL.outerjoin(LOG, LOG.c.id == SEAL.c.audit_id))
        .where(SEAL.c.seq == seq)
    )
    return (await session.execute(stmt)).first()


async def unsealed_before(
    session: AsyncSession, before: datetime, limit: int
) -> tuple[int, Sequence[Any]]:
    """How many audit rows that occurred before `before` have no seal, and the oldest few.
    Every row is looked at (an old row inserted behind the back is outside the sealer's
    lookback): on PostgreSQL without the connection's command timeout, which a table of
    millions of rows can outlast."""
    if session.get_bind().dialect.name == "postgresql":
        connection = await driver(session)
        count = await connection.fetchval(PG_UNSEALED_COUNT, before, timeout=LONG_READ)
        rows = await connection.fetch(PG_UNSEALED_FIRST, before, limit, timeout=LONG_READ)
        return int(count or 0), [(row[0], row[1]) for row in rows]
    lonely = ~exists().where(SEAL.c.audit_id == LOG.c.id)
    where = (LOG.c.occurred_at < before) & lonely
    count = (await session.execute(select(func.count()).select_from(LOG).where(where))).scalar()
    rows = (
        await session.execute(
            select(LOG.c.id, LOG.c.occurred_at)
            .where(where)
            .order_by(LOG.c.occurred_at, LOG.c.id)
            .limit(limit)
        )
    ).all()
    return int(count or 0), rows


async def add_checkpoint(session: AsyncSession, values: dict[str, Any]) -> bool:
    """A checkpoint of the head; False when that link has one already."""
    return await insert_ignore(session, AuditCheckpoint, values, ["seq"])


async def checkpoints(session: AsyncSession, limit: int | None = None) -> Sequence[AuditCheckpoint]:
    """Newest first."""
    stmt = select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.scalars(stmt)).all()


async def checkpoint_on(session: AsyncSession, day: date) -> AuditCheckpoint | None:
    stmt = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.day == day)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


# --- PostgreSQL's fast path (docs/audit-chain.md, "How fast") -----------------------------------
# PostgreSQL writes each field of the canonical form but the metadata (presence byte, UTF-8
# length as 8 bytes big-endian, bytes) in C, and the metadata comes as jsonb's text: Python only
# re-encodes the metadata (chain.metadata_part), hashes and compares. Rows come as the driver's
# records, without the ORM's row objects.


def _field(expr: str) -> str:
    raw = f"convert_to({expr}, 'UTF8')"
    return rf"coalesce('\x01'::bytea || int8send(length({raw})::bigint) || {raw}, '\x00'::bytea)"


_WHEN = "to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"
# The canonical form up to the metadata ($1: its version line), from audit_log `l`.
PG_PREFIX = " || ".join(
    [
        "$1::bytea",
        *(
            _field(expr)
            for expr in (
                "l.id::text",
                _WHEN,
                "l.actor_type",
                "l.actor_id",
                "l.action",
                "l.entity_type",
                "l.entity_id",
                "l.ip",
                "l.user_agent",
            )
        ),
    ]
)


def _pg_unsealed(since: bool, past: bool) -> str:
    """`unsealed`'s query for one case ($1 the version, then since, past's occurred_at and id
    when given, then the limit): each case is planned on the (occurred_at, id) index, where an
    `$n IS NULL OR …` condition would make the generic plan read the whole table."""
    where = ["NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.audit_id = l.id)"]
    n = 1
    if since:
        n += 1
        where.append(f"l.occurred_at >= ${n}")
    if past:
        where.append(f"(l.occurred_at, l.id) > (${n + 1}::timestamptz, ${n + 2}::uuid)")
        n += 2
    return (
        f"SELECT l.id, {PG_PREFIX} AS prefix, l.metadata::text AS metadata, l.mac, "  # noqa: S608 - constant SQL: no value is written into it
        f"l.occurred_at FROM audit_log l WHERE {' AND '.join(where)} "
        f"ORDER BY l.occurred_at, l.id LIMIT ${n + 1}"
    )


PG_UNSEALED = {(a, b): _pg_unsealed(a, b) for a in (False, True) for b in (False, True)}
PG_ADD_SEALS = """
INSERT INTO audit_seal (seq, audit_id, hash, sealed_at)
SELECT seq, audit_id, hash, $4::timestamptz
FROM unnest($1::bigint[], $2::uuid[], $3::varchar[]) AS t(seq, audit_id, hash)
"""
# seq, the stored hash, the sealed row's id; then (NULL when the row is gone) the prefix, the
# metadata's text and the mac.
PG_LINKS = f"""
SELECT s.seq, s.hash, s.audit_id::text AS audit_id,
       CASE WHEN l.id IS NULL THEN NULL ELSE {PG_PREFIX} END AS prefix,
       l.metadata::text AS metadata, l.mac
FROM audit_seal s LEFT JOIN audit_log l ON l.id = s.audit_id
WHERE s.seq > $2 AND s.seq <= $3
ORDER BY s.seq
LIMIT $4
"""  # noqa: S608 - constant SQL: no value is written into it
PG_HASH_AT = "SELECT hash FROM audit_seal WHERE seq = $1"
_LONELY = (
    "FROM audit_log l WHERE l.occurred_at < $1 "
    "AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.audit_id = l.id)"
)
PG_UNSEALED_COUNT = f"SELECT count(*) {_LONELY}"
PG_UNSEALED_FIRST = f"SELECT l.id, l.occurred_at {_LONELY} ORDER BY l.occurred_at, l.id LIMIT $2"
LONG_READ = 3600.0  # seconds: verify's whole-table reads
# A range of links joins its rows by index: a hash join would read all of audit_log per range.
# Verify runs its own processes: no parallel workers of PostgreSQL's on top.
PG_WALK_SETTINGS = (
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
    ("jit", "off"),
    ("max_parallel_workers_per_gather", "0"),
)


async def driver(session: AsyncSession) -> Any:
    """The session's asyncpg connection, in the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def pg_unsealed(
    session: AsyncSession,
    version: bytes,
    since: datetime | None,
    past: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """`unsealed` on PostgreSQL: id, prefix, metadata (jsonb's text), mac; after `past`
    (occurred_at, id) when given."""
    args: list[Any] = [version]
    if since is not None:
        args.append(since)
    if past is not None:
        args.extend(past)
    sql = PG_UNSEALED[since is not None, past is not None]
    return list(await (await driver(session)).fetch(sql, *args, limit))


async def pg_add_seals(
    session: AsyncSession, seqs: list[int], ids: list[Any], hashes: list[str], at: datetime
) -> None:
    if seqs:
        await (await driver(session)).execute(PG_ADD_SEALS, seqs, ids, hashes, at)


async def pg_links(connection: Any, version: bytes, after: int, upto: int, limit: int) -> list[Any]:
    """Links `after` < seq ≤ `upto` on an asyncpg connection (see PG_LINKS)."""
    return list(await connection.fetch(PG_LINKS, version, after, upto, limit))


async def pg_prepare_walk(connection: Any, *, local: bool, sealing: bool = False) -> None:
    """Plan the walk's joins by index (`local`: for the current transaction only). `sealing`:
    the lookback window read by its (occurred_at, id) index too, never the whole table."""
    settings = (*PG_WALK_SETTINGS, ("enable_seqscan", "off")) if sealing else PG_WALK_SETTINGS
    for name, value in settings:
        await connection.execute(f"SET {'LOCAL ' if local else ''}{name} = {value}")


async def pg_hash_at(connection: Any, seq: int) -> str | None:
    found: str | None = await connection.fetchval(PG_HASH_AT, seq)
    return found


async def hash_at(session: AsyncSession, seq: int) -> str | None:
    return (await session.execute(select(SEAL.c.hash).where(SEAL.c.seq == seq))).scalar()


# --- pruning (audit.prune) ----------------------------------------------------------------------


async def prune_point(session: AsyncSession) -> AuditPrune | None:
    """The latest prune point: the chain's links up to its seq are gone on purpose."""
    stmt = select(AuditPrune).order_by(AuditPrune.seq.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def prune_points(session: AsyncSession) -> Sequence[AuditPrune]:
    """Newest first."""
    return (await session.scalars(select(AuditPrune).order_by(AuditPrune.seq.desc()))).all()


async def add_prune_point(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(PRUNE), values)


async def first_young(session: AsyncSession, after: int, cutoff: datetime) -> int | None:
    """The first link after `after` whose row is not older than `cutoff` (or is gone): where a
    prunable prefix ends."""
    stmt = (
        select(SEAL.c.seq)
        .select_from(SEAL.outerjoin(LOG, LOG.c.id == SEAL.c.audit_id))
        .where(SEAL.c.seq > after, (LOG.c.id.is_(None)) | (LOG.c.occurred_at >= cutoff))
        .order_by(SEAL.c.seq)
        .limit(1)
    )
    found: int | None = (await session.execute(stmt)).scalar()
    return found


async def count_links(session: AsyncSession, after: int, before: int | None) -> int:
    stmt = select(func.count()).select_from(SEAL).where(SEAL.c.seq > after)
    if before is not None:
        stmt = stmt.where(SEAL.c.seq < before)
    return int((await session.execute(stmt)).scalar() or 0)


async def delete_pruned(session: AsyncSession, after: int, upto: int) -> int:
    """Remove links `after` < seq ≤ `upto` and their rows (the guards allow it once a prune
    point at `upto` is recorded). The link → row foreign key is checked at commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET CONSTRAINTS fk_audit_seal_audit_id_audit_log DEFERRED"))
    else:
        await session.execute(text("PRAGMA defer_foreign_keys = ON"))
    in_range = (SEAL.c.seq > after) & (SEAL.c.seq <= upto)
    result = await session.execute(
        delete(LOG).where(LOG.c.id.in_(select(SEAL.c.audit_id).where(in_range)))
    )
    await session.execute(delete(SEAL).where(in_range))
    return int(cast(Any, result).rowcount or 0)
