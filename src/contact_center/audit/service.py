"""The audit trail: one call records a row in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import chain, repository
from contact_center.db.base import new_id, utcnow
from contact_center.keys import audit_mac
from contact_center.models.audit_log import AuditLog
from contact_center.pii import mask_json
from contact_center.principal import AuditContext


async def record(
    session: AsyncSession,
    context: AuditContext,
    action: str,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Append one audit row. It commits or rolls back with the change it describes."""
    await repository.add(
        session,
        row(context, action, entity_type=entity_type, entity_id=entity_id, metadata=metadata),
    )


def row(
    context: AuditContext,
    action: str,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The audit row of an action, as `record` writes it (and the paths below the ORM do).

    Metadata is masked: the audit log records that a number was used, not the number. The
    actor's own id stays readable where the metadata repeats it (`{"username": "ana"}` on ana's
    sign-in): the row's actor column shows it anyway, so masking it would hide nothing.

    `mac` authenticates the row (docs/audit-chain.md): HMAC-SHA256 under AUDIT_MAC_KEY of its
    canonical form, so `contact-center audit verify` tells it from a row inserted behind the
    service's back.
    """
    values = {
        "id": new_id(),
        "occurred_at": utcnow(),
        "actor_type": context.principal.actor_type,
        "actor_id": context.principal.actor_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "ip": context.ip,
        "user_agent": context.user_agent[:512] if context.user_agent else None,
        "metadata": _masked(metadata, context.principal.actor_id) if metadata else None,
    }
    key = audit_mac.current()
    values["mac"] = None if key is None else chain.mac(key, chain.canonical_of(values))
    return values


def _masked(metadata: dict[str, Any], actor_id: str) -> dict[str, Any]:
    masked: dict[str, Any] = mask_json(metadata)
    for key, value in metadata.items():
        if isinstance(value, str) and value == actor_id and key in masked:
            masked[key] = value
    return masked


async def listing(
    session: AsyncSession, filters: repository.AuditFilters, *, limit: int, skip: int
) -> Sequence[AuditLog]:
    """Newest first; one row more than `limit` tells whether more exist."""
    return await repository.listing(session, filters, limit=limit, skip=skip)
