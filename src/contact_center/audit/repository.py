from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_ignore, insert_row, lock_key
from contact_center.models.audit_chain import AuditCheckpoint, AuditSeal
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
    return None if found is None else Head(found.seq, found.hash, found.occurred_at)


async def unsealed(session: AsyncSession, since: datetime | None, limit: int) -> Sequence[Any]:
    """Audit rows without a seal, oldest first (ties by id), from `since` on (all when None)."""
    stmt = select(*ROW_COLUMNS).where(
        ~exists().where(SEAL.c.audit_id == LOG.c.id)  # the unique index on audit_id answers it
    )
    if since is not None:
        stmt = stmt.where(LOG.c.occurred_at >= since)
    stmt = stmt.order_by(LOG.c.occurred_at, LOG.c.id).limit(limit)
    return (await session.execute(stmt)).all()


async def add_seals(session: AsyncSession, seals: list[dict[str, Any]]) -> None:
    if seals:
        await session.execute(insert(SEAL), seals)


async def links(session: AsyncSession, after: int, limit: int) -> Sequence[Any]:
    """Links after `after` in seq order, each with its audit row (the row's columns None when
    the row is gone): seq, hash, audit_id, then ROW_COLUMNS."""
    stmt = (
        select(SEAL.c.seq, SEAL.c.hash, SEAL.c.audit_id, *ROW_COLUMNS)
        .select_from(SEAL.outerjoin(LOG, LOG.c.id == SEAL.c.audit_id))
        .where(SEAL.c.seq > after)
        .order_by(SEAL.c.seq)
        .limit(limit)
    )
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
    """How many audit rows that occurred before `before` have no seal, and the oldest few."""
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
