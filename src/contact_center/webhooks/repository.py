"""SQL of the webhook ledger."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ClauseElement, Table, bindparam, func, select, update
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.fast import Sql, Transaction
from contact_center.db.statements import insert_ignore_returning
from contact_center.models.audit_log import AuditLog
from contact_center.models.enums import WebhookStatus
from contact_center.models.webhook_delivery import WebhookDelivery


async def insert(session: AsyncSession, values: dict[str, Any]) -> WebhookDelivery | None:
    """Store a delivery unless (provider, event_key) exists; the stored row, else None."""
    return await insert_ignore_returning(
        session, WebhookDelivery, values, ["provider", "event_key"]
    )


async def get(
    session: AsyncSession, delivery_id: uuid.UUID, *, lock: bool = False
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def by_key(session: AsyncSession, provider: str, event_key: str) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.provider == provider, WebhookDelivery.event_key == event_key
    )
    return (await session.scalars(stmt)).one_or_none()


_LATEST_IN_FAMILY = (
    select(WebhookDelivery, func.count().over())
    .where(
        WebhookDelivery.provider == bindparam("provider"),
        WebhookDelivery.event_family == bindparam("family"),
    )
    .order_by(WebhookDelivery.received_at.desc())
    .limit(1)
)


async def latest_in_family(
    session: AsyncSession, provider: str, family: str
) -> tuple[WebhookDelivery | None, int]:
    """The newest delivery of a body (see WebhookDelivery.event_family), and how many there are:
    one short range of ix_webhook_delivery_family, whatever the size of the ledger. (Built once:
    it runs on every BuilderBot delivery.)"""
    found = await session.execute(_LATEST_IN_FAMILY, {"provider": provider, "family": family})
    row = found.one_or_none()
    return (None, 0) if row is None else (row[0], int(row[1]))


async def waiting_for(session: AsyncSession, reference: str) -> list[WebhookDelivery]:
    """DEFERRED deliveries waiting for this provider message id (any provider's: the id is the
    one a handler deferred on)."""
    stmt = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.waiting_for == reference,
            WebhookDelivery.status == WebhookStatus.DEFERRED.value,
        )
        .order_by(WebhookDelivery.received_at)
        .with_for_update()
    )
    return list((await session.scalars(stmt)).all())


async def listing(
    session: AsyncSession,
    *,
    status: WebhookStatus | None,
    provider: str | None,
    limit: int,
    skip: int,
) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    if provider:
        stmt = stmt.where(WebhookDelivery.provider == provider)
    stmt = stmt.order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
    return list((await session.scalars(stmt.offset(skip).limit(limit + 1))).all())


async def pending(
    session: AsyncSession, limit: int, *, received_before: datetime, max_attempts: int
) -> list[uuid.UUID]:
    """FAILED deliveries, and RECEIVED or DEFERRED ones stored before `received_before`, oldest
    first."""
    stmt = (
        select(WebhookDelivery.id)
        .where(
            (WebhookDelivery.status == WebhookStatus.FAILED.value)
            | (
                WebhookDelivery.status.in_(
                    [WebhookStatus.RECEIVED.value, WebhookStatus.DEFERRED.value]
                )
                & (WebhookDelivery.received_at < received_before)
            ),
            WebhookDelivery.attempts < max_attempts,
        )
        .order_by(WebhookDelivery.received_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def existing_keys(session: AsyncSession, provider: str, event_keys: list[str]) -> set[str]:
    """Which of these event keys the ledger holds (in chunks, for long lists)."""
    found: set[str] = set()
    for start in range(0, len(event_keys), 500):
        chunk = event_keys[start : start + 500]
        stmt = select(WebhookDelivery.event_key).where(
            WebhookDelivery.provider == provider, WebhookDelivery.event_key.in_(chunk)
        )
        found.update(str(key) for key in (await session.scalars(stmt)).all())
    return found


# --- the hot path, below the ORM (db/fast.py) -------------------------------------------------

LEDGER = cast(Table, WebhookDelivery.__table__)
AUDIT = cast(Table, AuditLog.__table__)
LEDGER_KEYS = [c.key for c in LEDGER.columns]
AUDIT_KEYS = [c.key for c in AUDIT.columns]


def _store_ignoring(dialect: str) -> ClauseElement:
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        build(LEDGER)
        .values({key: bindparam(key, type_=LEDGER.c[key].type) for key in LEDGER_KEYS})
        .on_conflict_do_nothing(index_elements=["provider", "event_key"])
        .returning(LEDGER.c.id)
    )


def _store_audited(dialect: str) -> ClauseElement:
    """PostgreSQL: the ledger row and, when it went in, its audit row, in one statement."""
    stored = cast(Any, _store_ignoring(dialect)).cte("stored")
    audit_row = select(
        *(bindparam(f"audit_{key}", type_=AUDIT.c[key].type) for key in AUDIT_KEYS)
    ).select_from(stored)
    audited = core_insert(AUDIT).from_select(AUDIT_KEYS, audit_row).cte("audited")
    return select(stored.c.id).add_cte(audited)


STORE = Sql(_store_ignoring)
STORE_AUDITED = Sql(_store_audited)
INSERT_AUDIT = Sql(core_insert(AUDIT), keys=AUDIT_KEYS)
SET_OUTCOME = Sql(
    update(LEDGER).where(LEDGER.c.id == bindparam("delivery_id")),
    keys=["status", "waiting_for"],
)


async def store_fast(
    tx: Transaction, values: dict[str, Any], audit: dict[str, Any]
) -> uuid.UUID | None:
    """Store a delivery unless (provider, event_key) exists, with its audit row; its id, or
    None for a repeat (and no audit row then)."""
    if tx.postgresql:
        stored = await tx.one(
            STORE_AUDITED, **values, **{f"audit_{key}": value for key, value in audit.items()}
        )
        return None if stored is None else stored["id"]
    stored = await tx.one(STORE, **values)
    if stored is None:
        return None
    await tx.run(INSERT_AUDIT, **audit)
    return cast(uuid.UUID, stored["id"])


async def set_outcome_fast(
    tx: Transaction, delivery_id: uuid.UUID, status: WebhookStatus, waiting_for: str | None
) -> None:
    await tx.run(SET_OUTCOME, delivery_id=delivery_id, status=status.value, waiting_for=waiting_for)


# Asked by the send job once it recorded its sends: which of their ids a status callback waits for.
@functools.cache
def _waiting_among(count: int) -> Sql:
    return Sql(
        select(LEDGER.c.waiting_for)
        .where(
            LEDGER.c.waiting_for.in_([bindparam(f"reference_{i}") for i in range(count)]),
            LEDGER.c.status == bindparam("deferred"),
        )
        .distinct()
    )


async def waiting_among_fast(tx: Transaction, references: Sequence[str]) -> set[str]:
    """Those of these provider message ids a DEFERRED delivery waits for (see `waiting_for`)."""
    if not references:
        return set()
    found = await tx.all(
        _waiting_among(len(references)),
        deferred=WebhookStatus.DEFERRED.value,
        **{f"reference_{i}": reference for i, reference in enumerate(references)},
    )
    return {row["waiting_for"] for row in found}
