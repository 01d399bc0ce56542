from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_row
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
