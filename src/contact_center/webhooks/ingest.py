"""The unit of work of a webhook delivery: store it (one transaction), then apply it (another).

This module owns those transactions, as a request dependency or a job would: a delivery is
committed to the ledger before anything else happens, so a crash while applying it loses nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit import service as audit
from contact_center.audit.service import AuditContext
from contact_center.auth.principal import Principal, Role
from contact_center.calls.recordings import RecordingStore
from contact_center.db.base import utcnow
from contact_center.models.enums import ActorType
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.providers.base import ProviderName, UnparseablePayload
from contact_center.settings import Settings
from contact_center.webhooks import repository, service
from contact_center.webhooks.service import Event, IncomingDelivery

log = structlog.get_logger(__name__)
STORED_HEADERS = ("content-type", "user-agent", "x-request-id", "x-forwarded-for")
REPLAYABLE = {"RECEIVED", "FAILED", "INVALID", "DEFERRED"}
APPLIED = {"PROCESSED", "IGNORED"}


@dataclass(frozen=True)
class WebhookDeps:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    recordings: RecordingStore


@dataclass(frozen=True)
class IngestResult:
    """What to answer the provider: 200 unless the body could not be read (422)."""

    delivery_id: uuid.UUID | None
    status: str
    duplicate: bool
    error: str | None = None

    @property
    def http_status(self) -> int:
        return 422 if self.status == "INVALID" else 200


def _provider_context(
    provider: ProviderName, ip: str | None, user_agent: str | None
) -> AuditContext:
    principal = Principal(
        actor_type=ActorType.SYSTEM, actor_id=f"provider:{provider.value.lower()}", role=Role.AGENT
    )
    return AuditContext(principal=principal, ip=ip, user_agent=user_agent)


async def _store(
    session: AsyncSession, incoming: IncomingDelivery, event: Event | None, error: str | None
) -> tuple[WebhookDelivery | None, bool]:
    """Insert the ledger row; (existing row, True) for a repeat delivery."""
    provider = incoming.provider.value
    now = utcnow()
    key = service.event_key(incoming.provider, event, incoming.raw)
    values: dict[str, Any] = {
        "provider": provider,
        "event_type": service.event_type(event),
        "received_at": now,
        "content_type": incoming.content_type,
        "raw_body": incoming.raw.decode("utf-8", "replace"),
        "headers": {k: v for k, v in incoming.headers.items() if k in STORED_HEADERS},
        "status": "INVALID" if event is None else "RECEIVED",
        "error": error,
        "attempts": 0,
    }
    by_body = incoming.provider is ProviderName.BUILDERBOT and event is not None
    for _ in range(5):
        if by_body:
            # No id from BuilderBot: the same body within 10 s is a repeat; later, a new message.
            latest, count = await repository.latest_with_prefix(session, provider, key)
            if latest is not None and now - latest.received_at <= timedelta(
                seconds=service.DUPLICATE_WINDOW_SECONDS
            ):
                return latest, True
            candidate = key if count == 0 else f"{key}:{count + 1}"
        else:
            candidate = key
        row_id = uuid.uuid4()
        if await repository.insert(session, {**values, "id": row_id, "event_key": candidate}):
            return await repository.get(session, row_id), False
        if not by_body:
            return await repository.by_key(session, provider, candidate), True
    raise RuntimeError("could not store the delivery under a unique key")


async def ingest(
    deps: WebhookDeps, incoming: IncomingDelivery, *, ip: str | None, user_agent: str | None
) -> IngestResult:
    """Store, then apply. The caller has authenticated the delivery."""
    try:
        event: Event | None = service.parse(incoming.provider, incoming.raw)
        error = None
    except UnparseablePayload as exc:
        event, error = None, f"unparseable payload: {exc}"
    async with deps.sessions() as session:
        delivery, duplicate = await _store(session, incoming, event, error)
        assert delivery is not None
        if not duplicate:
            await audit.record(
                session,
                _provider_context(incoming.provider, ip, user_agent),
                "webhook.received",
                entity_type="webhook_delivery",
                entity_id=delivery.id,
                metadata={
                    "provider": incoming.provider.value,
                    "eventType": delivery.event_type,
                    "status": delivery.status,
                },
            )
        await session.commit()
        delivery_id, status = delivery.id, delivery.status
    if duplicate or event is None:
        result = IngestResult(delivery_id, status, duplicate, error if event is None else None)
    else:
        result = await apply(deps, delivery_id, event)
    log.info(
        "webhook",
        provider=incoming.provider.value,
        event_type=service.event_type(event),
        delivery_id=str(result.delivery_id),
        status=result.status,
        duplicate=result.duplicate,
        error=result.error,
    )
    return result


async def apply(
    deps: WebhookDeps, delivery_id: uuid.UUID, event: Event | None = None
) -> IngestResult:
    """Apply a stored delivery in its own transaction; a failure is recorded, never raised.

    The row lock serializes appliers (the web request that stored it, the reconciler, a replay);
    whoever gets the lock after the delivery was applied leaves it as it is.
    """
    try:
        async with deps.sessions() as session:
            delivery = await repository.get(session, delivery_id, lock=True)
            if delivery is None:
                raise LookupError(delivery_id)
            if delivery.status in APPLIED:
                return IngestResult(delivery_id, delivery.status, duplicate=True)
            if event is None:
                event = service.parse(ProviderName(delivery.provider), delivery.raw_body.encode())
            status = await service.process(session, deps.settings, deps.recordings, delivery, event)
            delivery.status = status
            delivery.error = None
            delivery.attempts += 1
            delivery.processed_at = utcnow()
            await session.commit()
            return IngestResult(delivery_id, status, duplicate=False)
    except UnparseablePayload as exc:
        return await _mark(deps, delivery_id, "INVALID", f"unparseable payload: {exc}")
    except LookupError:
        raise
    except Exception as exc:  # kept with its error for the reconciler or a replay
        log.error("webhook_processing_failed", delivery_id=str(delivery_id), exc_info=exc)
        return await _mark(deps, delivery_id, "FAILED", f"{type(exc).__name__}: {exc}"[:2000])


async def _mark(deps: WebhookDeps, delivery_id: uuid.UUID, status: str, error: str) -> IngestResult:
    async with deps.sessions() as session:
        delivery = await repository.get(session, delivery_id, lock=True)
        assert delivery is not None
        delivery.status = status
        delivery.error = error
        delivery.attempts += 1
        await session.commit()
    return IngestResult(delivery_id, status, duplicate=False, error=error)


async def replay(deps: WebhookDeps, delivery_id: uuid.UUID) -> IngestResult:
    """Process a stored delivery again (after the cause of its failure was fixed)."""
    async with deps.sessions() as session:
        delivery = await repository.get(session, delivery_id)
        if delivery is None:
            raise LookupError(delivery_id)
        status = delivery.status
    if status not in REPLAYABLE:
        return IngestResult(delivery_id, status, duplicate=True)
    return await apply(deps, delivery_id)


async def apply_waiting(deps: WebhookDeps, provider_message_id: str) -> int:
    """Apply status callbacks that were waiting for this provider message id."""
    async with deps.sessions() as session:
        ids = [d.id for d in await service.deferred_for(session, provider_message_id)]
    for delivery_id in ids:
        await apply(deps, delivery_id)
    return len(ids)


# The reconciler gives up on a delivery after this many tries; a replay can still apply it.
AUTOMATIC_ATTEMPTS = 10


async def replay_pending(deps: WebhookDeps, *, limit: int = 500) -> list[IngestResult]:
    """Retry FAILED deliveries, and RECEIVED ones stuck for RECONCILE_AFTER_SECONDS (a web
    process died between storing and applying them; a younger one is being applied now),
    oldest first, up to AUTOMATIC_ATTEMPTS each."""
    stuck_before = utcnow() - timedelta(seconds=deps.settings.reconcile_after_seconds)
    async with deps.sessions() as session:
        ids = await repository.pending(
            session, limit, received_before=stuck_before, max_attempts=AUTOMATIC_ATTEMPTS
        )
    return [await apply(deps, delivery_id) for delivery_id in ids]
