"""The unit of work of a webhook delivery: store it and apply it, in one transaction.

This module owns that transaction, as a request dependency or a job would: the ledger row, the
audit row and the delivery's effects commit together, before the provider gets its 200. When
applying fails, that transaction is rolled back and the delivery is stored again, alone, as
FAILED with its error, for the reconciler or a replay. A crash before the commit leaves nothing
the provider was told we have: it gets no 200 and delivers again.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.audit import service as audit
from contact_center.db import fast
from contact_center.db.base import utcnow
from contact_center.live.bus import PENDING, bus_of, publish_pending
from contact_center.logging import redact_text
from contact_center.models.enums import ActorType, WebhookStatus
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.principal import AuditContext, Principal, Role
from contact_center.providers.base import InboundAdapter, ProviderName, UnparseablePayload
from contact_center.providers.registry import build_inbound
from contact_center.redaction import repository as redaction
from contact_center.redaction.service import RedactionKeys, Redactor
from contact_center.settings import Settings
from contact_center.webhooks import repository, service
from contact_center.webhooks.handlers import AppliedDelivery, FastHandler, WebhookHandlers
from contact_center.webhooks.service import Event, IncomingDelivery

log = structlog.get_logger(__name__)
STORED_HEADERS = ("content-type", "user-agent", "x-request-id", "x-forwarded-for")
REPLAYABLE = {
    WebhookStatus.RECEIVED,
    WebhookStatus.FAILED,
    WebhookStatus.INVALID,
    WebhookStatus.DEFERRED,
}
APPLIED = {WebhookStatus.PROCESSED, WebhookStatus.IGNORED}
# A body longer than this is redacted in a worker thread, so that the event loop keeps serving
# other requests meanwhile (a typical delivery takes about a millisecond; a hostile megabyte,
# seconds).
IN_LINE = 16 * 1024


@dataclass(frozen=True)
class WebhookDeps:
    """The ledger's sessions, each provider's adapter (built from the settings) and the
    handlers the domains registered."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    handlers: WebhookHandlers
    # What redacts each delivery before it is read or stored (docs/redaction.md); None when
    # redaction is off.
    redaction: RedactionKeys | None = None
    inbound: Mapping[ProviderName, InboundAdapter] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inbound", build_inbound(self.settings))

    @property
    def engine(self) -> AsyncEngine:
        return fast.engine_of(self.sessions)

    @property
    def bus(self) -> object:
        return bus_of(self.sessions)

    def adapter(self, provider: ProviderName | str) -> InboundAdapter:
        return self.inbound[ProviderName(provider)]


@dataclass(frozen=True)
class IngestResult:
    """What to answer the provider: 200 unless the body could not be read (422)."""

    delivery_id: uuid.UUID | None
    status: WebhookStatus
    duplicate: bool
    error: str | None = None

    @property
    def http_status(self) -> int:
        return 422 if self.status == WebhookStatus.INVALID else 200


def _provider_context(
    provider: ProviderName, ip: str | None, user_agent: str | None
) -> AuditContext:
    principal = Principal(
        actor_type=ActorType.SYSTEM, actor_id=f"provider:{provider.value.lower()}", role=Role.AGENT
    )
    return AuditContext(principal=principal, ip=ip, user_agent=user_agent)


def _ledger_row(
    incoming: IncomingDelivery,
    event_type: str | None,
    now: datetime,
    status: WebhookStatus,
    error: str | None,
    attempts: int,
) -> dict[str, Any]:
    """A delivery's ledger row as received: what was sent, how it was read, and its outcome."""
    raw_body, encoding = service.stored_body(incoming.raw)
    return {
        "provider": incoming.provider.value,
        "event_type": event_type,
        "received_at": now,
        "content_type": incoming.content_type[:128] if incoming.content_type else None,
        "raw_body": raw_body,
        "raw_body_encoding": encoding,
        "headers": {k: v for k, v in incoming.headers.items() if k in STORED_HEADERS},
        "status": status.value,
        "error": error,
        "attempts": attempts,
        # Not erased (docs/data-lifecycle.md, "Data classes").
        "purged_at": None,
    }


async def _store(
    session: AsyncSession,
    adapter: InboundAdapter,
    incoming: IncomingDelivery,
    event: Event | None,
    error: str | None,
    *,
    failed: WebhookStatus | None = None,
) -> tuple[WebhookDelivery | None, bool]:
    """Insert the ledger row; (existing row, True) for a repeat delivery."""
    provider = incoming.provider.value
    now = utcnow()
    key = service.event_key(adapter, event, incoming.raw)
    status = WebhookStatus.INVALID if event is None else failed or WebhookStatus.RECEIVED
    values = _ledger_row(
        incoming, service.event_type(adapter, event), now, status, error, 1 if failed else 0
    )
    window = adapter.repeat_window if event is not None else None
    by_body = window is not None
    if by_body:
        values["event_family"] = key
    number: int | None = None  # this body's deliveries before this one, as last tried
    for _ in range(10):
        if window is not None:
            # No id from the provider: the same body within the window is a repeat; later, a
            # new event.
            latest, count = await repository.latest_in_family(session, provider, key)
            if latest is not None and now - latest.received_at <= window:
                return latest, True
            # After a conflict, past the key that conflicted even if the family's count does not
            # see it (a row stored without its family, say).
            number = count if number is None else max(count, number + 1)
            candidate = key if number == 0 else f"{key}:{number + 1}"
        else:
            candidate = key
        stored = await repository.insert(
            session, {**values, "id": uuid.uuid4(), "event_key": candidate}
        )
        if stored is not None:
            return stored, False
        if not by_body:
            return await repository.by_key(session, provider, candidate), True
    raise RuntimeError("could not store the delivery under a unique key")


async def _store_audited(
    session: AsyncSession,
    adapter: InboundAdapter,
    incoming: IncomingDelivery,
    event: Event | None,
    error: str | None,
    context: AuditContext,
    *,
    failed: WebhookStatus | None = None,
) -> tuple[WebhookDelivery, bool]:
    delivery, duplicate = await _store(session, adapter, incoming, event, error, failed=failed)
    assert delivery is not None
    if not duplicate:
        await audit.record(
            session,
            context,
            "webhook.received",
            entity_type="webhook_delivery",
            entity_id=delivery.id,
            metadata={
                "provider": incoming.provider.value,
                "eventType": delivery.event_type,
                "status": delivery.status,
            },
        )
    return delivery, duplicate


async def ingest(
    deps: WebhookDeps, incoming: IncomingDelivery, *, ip: str | None, user_agent: str | None
) -> IngestResult:
    """Store and apply in one transaction. The caller has authenticated the delivery.

    With redaction on, the body is redacted first: the ledger, the event and everything read
    from it see only the redacted body, and the vault rows and proofs commit with the ledger
    row (not for a repeat, which writes nothing)."""
    adapter = deps.adapter(incoming.provider)
    redactor = deps.redaction.redactor() if deps.redaction is not None else None
    if redactor is not None:
        if len(incoming.raw) > IN_LINE:  # seconds for a hostile megabyte: not on the loop
            redacted = await asyncio.to_thread(
                redacted_body, redactor, incoming.raw, incoming.content_type
            )
        else:
            redacted = redacted_body(redactor, incoming.raw, incoming.content_type)
        if redacted is not incoming.raw:
            incoming = replace(incoming, raw=redacted)
    event, error = service.read(adapter, incoming.raw)
    context = _provider_context(incoming.provider, ip, user_agent)
    failure: tuple[WebhookStatus, str] | None = None  # (status, error)
    result: IngestResult | None = None
    below_orm = deps.handlers.fast(event) if event is not None else None
    if below_orm is not None and event is not None:
        try:
            result = await _ingest_fast(
                deps, adapter, incoming, event, below_orm, context, redactor
            )
        except _Repeat:
            result = None  # a repeat (or a body's later delivery): the general path knows
        except Exception as exc:  # rolled back: stored again, alone, as the general path does
            failure = _failure(exc, provider=incoming.provider.value)
            result = None
        if result is not None:
            _log(incoming, adapter, event, result)
            return result
    if failure is None:
        general = await _store_and_apply(deps, adapter, incoming, event, error, context, redactor)
        if isinstance(general, tuple):
            failure = general
        else:
            result = general
    if failure is not None:
        # The effects were rolled back with the ledger row: store the delivery again, alone.
        # A copy of it that arrived meanwhile and was applied makes this one a repeat.
        async with deps.sessions() as session:
            delivery, duplicate = await _store_audited(
                session, adapter, incoming, event, failure[1], context, failed=failure[0]
            )
            if not duplicate:
                await _save_redactions(session, redactor, delivery.id, None)
            await session.commit()
        result = IngestResult(
            delivery.id,
            WebhookStatus(delivery.status),
            duplicate,
            None if duplicate else failure[1],
        )
    assert result is not None
    _log(incoming, adapter, event, result)
    return result


async def _store_and_apply(
    deps: WebhookDeps,
    adapter: InboundAdapter,
    incoming: IncomingDelivery,
    event: Event | None,
    error: str | None,
    context: AuditContext,
    redactor: Redactor | None,
) -> IngestResult | tuple[WebhookStatus, str]:
    """The general path, on the ORM: the result, or (status, error) when applying failed and
    everything was rolled back."""
    async with deps.sessions() as session:
        delivery, duplicate = await _store_audited(
            session, adapter, incoming, event, error, context
        )
        if duplicate or event is None:
            result = IngestResult(
                delivery.id,
                WebhookStatus(delivery.status),
                duplicate,
                error if event is None else None,
            )
            if not duplicate:
                await _save_redactions(session, redactor, delivery.id, None)
            await session.commit()
            return result
        try:
            status = await _process(session, deps, delivery, event)
            await _save_redactions(session, redactor, delivery.id, _applied_to(session.info))
            await session.commit()
        except Exception as exc:  # kept with its error for the reconciler or a replay
            await session.rollback()
            return _failure(exc, provider=incoming.provider.value)
        return IngestResult(delivery.id, status, duplicate=False)


class _Repeat(Exception):
    """The delivery's key is taken: the general path answers it (a repeat, or a later delivery
    of a body within its family)."""


async def _ingest_fast(
    deps: WebhookDeps,
    adapter: InboundAdapter,
    incoming: IncomingDelivery,
    event: Event,
    handler: FastHandler[Any],
    context: AuditContext,
    redactor: Redactor | None,
) -> IngestResult:
    """The hot path below the ORM, with the same rows as the general one: the ledger row
    (written as PROCESSED: it commits with the effects or not at all) and its audit row in one
    statement on PostgreSQL, the handler's writes, and the outcome only when it is not
    PROCESSED; committed before the answer. Raises _Repeat when the key is taken."""
    now = utcnow()
    delivery_id = uuid.uuid4()
    key = service.event_key(adapter, event, incoming.raw)
    kind = service.event_type(adapter, event)
    values = {
        **_ledger_row(incoming, kind, now, WebhookStatus.PROCESSED, None, 1),
        "id": delivery_id,
        "event_key": key,
        "processed_at": now,
        "waiting_for": None,
        "event_family": key if adapter.repeat_window is not None else None,
    }
    audited = audit.row(
        context,
        "webhook.received",
        entity_type="webhook_delivery",
        entity_id=delivery_id,
        metadata={
            "provider": incoming.provider.value,
            "eventType": kind,
            "status": WebhookStatus.RECEIVED.value,
        },
    )
    applied = AppliedDelivery(delivery_id, deps.settings, incoming.raw, adapter.payload)
    async with fast.transaction(deps.engine) as tx:
        if await repository.store_fast(tx, values, audited) is None:
            raise _Repeat
        outcome = await handler(tx, event, applied)
        if outcome.status is not WebhookStatus.PROCESSED:
            await repository.set_outcome_fast(tx, delivery_id, outcome.status, outcome.waiting_for)
        if redactor is not None and redactor.count:
            await redaction.save_fast(tx, redactor, _source(delivery_id), _applied_to(tx.info))
    publish_pending(tx.info, deps.bus)
    return IngestResult(delivery_id, outcome.status, duplicate=False)


def redacted_body(redactor: Redactor, raw: bytes, content_type: str | None) -> bytes:
    """The delivery's body with its sensitive data replaced (`Redactor.body`: a JSON document's
    strings, a form's values). A body neither reads (invalid UTF-8, a NUL, broken or too deep
    JSON) is kept INVALID exactly as it came, so it is redacted as one text instead: its
    undecodable bytes are kept as they are (surrogate escapes), the numbers in it are not."""
    redacted = redactor.body(raw, content_type)
    if redacted is not raw or _readable(raw, content_type):
        return redacted
    text = raw.decode("utf-8", "surrogateescape")
    cleaned = redactor.text(text, "raw_body")
    return raw if cleaned is text else cleaned.encode("utf-8", "surrogateescape")


def _readable(raw: bytes, content_type: str | None) -> bool:
    """Whether `Redactor.body` read the body (so nothing it left is a sensitive datum)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return True
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _source(delivery_id: uuid.UUID) -> str:
    return f"webhook:{delivery_id}"


def _applied_to(info: dict[str, Any]) -> uuid.UUID | None:
    """The conversation a delivery was applied to: the first one whose timeline got an event in
    this transaction (each event leaves its live notice in the transaction's `info`); None when
    none did (a status waiting for its message, an ignored event)."""
    for notice in info.get(PENDING) or ():
        found = notice.get("interactionId")
        if found is not None:
            try:
                return uuid.UUID(str(found))
            except ValueError:
                continue
    return None


async def _save_redactions(
    session: AsyncSession,
    redactor: Redactor | None,
    delivery_id: uuid.UUID,
    interaction_id: uuid.UUID | None,
) -> None:
    if redactor is not None and redactor.count:
        await redaction.save(session, redactor, _source(delivery_id), interaction_id)


def _log(
    incoming: IncomingDelivery, adapter: InboundAdapter, event: Event | None, result: IngestResult
) -> None:
    log.info(
        "webhook",
        provider=incoming.provider.value,
        event_type=service.event_type(adapter, event),
        delivery_id=str(result.delivery_id),
        status=result.status,
        duplicate=result.duplicate,
        error=result.error,
    )


async def _process(
    session: AsyncSession, deps: WebhookDeps, delivery: WebhookDelivery, event: Event
) -> WebhookStatus:
    """Apply a delivery's effects in the caller's transaction and mark it applied."""
    adapter = deps.adapter(delivery.provider)
    applied = AppliedDelivery(
        delivery.id, deps.settings, service.received_body(delivery), adapter.payload
    )
    status = await service.process(session, adapter, deps.handlers, delivery, event, applied)
    delivery.status = status.value
    delivery.error = None
    delivery.attempts += 1
    delivery.processed_at = utcnow()
    return status


def _failure(exc: Exception, **context: str) -> tuple[WebhookStatus, str]:
    """The status and error a delivery keeps when applying it raised `exc` (masked as a log
    line is: an exception's text may quote a phone number or a code from the payload)."""
    if isinstance(exc, UnparseablePayload):
        return WebhookStatus.INVALID, redact_text(f"unparseable payload: {exc}")[:2000]
    log.error("webhook_processing_failed", exc_info=exc, **context)
    return WebhookStatus.FAILED, redact_text(f"{type(exc).__name__}: {exc}")[:2000]


async def apply(
    deps: WebhookDeps, delivery_id: uuid.UUID, event: Event | None = None
) -> IngestResult:
    """Apply a stored delivery in its own transaction; a failure is recorded, never raised.

    The row lock serializes appliers (the reconciler, a replay); whoever gets the lock after the
    delivery was applied leaves it as it is.
    """
    try:
        async with deps.sessions() as session:
            delivery = await repository.get(session, delivery_id, lock=True)
            if delivery is None:
                raise LookupError(delivery_id)
            if delivery.status in APPLIED:
                return IngestResult(delivery_id, WebhookStatus(delivery.status), duplicate=True)
            if event is None:
                event, error = service.read(
                    deps.adapter(delivery.provider), service.received_body(delivery)
                )
                if event is None:
                    assert error is not None
                    delivery.status, delivery.error = WebhookStatus.INVALID.value, error
                    delivery.attempts += 1
                    await session.commit()
                    return IngestResult(
                        delivery_id, WebhookStatus.INVALID, duplicate=False, error=error
                    )
            status = await _process(session, deps, delivery, event)
            await session.commit()
            return IngestResult(delivery_id, status, duplicate=False)
    except LookupError:
        raise
    except Exception as exc:  # kept with its error for the reconciler or a replay
        return await _mark(deps, delivery_id, *_failure(exc, delivery_id=str(delivery_id)))


async def _mark(
    deps: WebhookDeps, delivery_id: uuid.UUID, status: WebhookStatus, error: str
) -> IngestResult:
    async with deps.sessions() as session:
        delivery = await repository.get(session, delivery_id, lock=True)
        assert delivery is not None
        delivery.status = status.value
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
        status = WebhookStatus(delivery.status)
    if status not in REPLAYABLE:
        return IngestResult(delivery_id, status, duplicate=True)
    return await apply(deps, delivery_id)


async def apply_waiting(deps: WebhookDeps, provider_message_id: str) -> int:
    """Apply deliveries (status callbacks) that were waiting for this provider message id."""
    async with deps.sessions() as session:
        ids = [d.id for d in await repository.waiting_for(session, provider_message_id)]
    for delivery_id in ids:
        await apply(deps, delivery_id)
    return len(ids)


# The reconciler gives up on a delivery after this many tries; a replay can still apply it.
AUTOMATIC_ATTEMPTS = 10


async def replay_pending(deps: WebhookDeps, *, limit: int = 500) -> list[IngestResult]:
    """Retry FAILED deliveries, oldest first, up to AUTOMATIC_ATTEMPTS each; RECEIVED ones older
    than RECONCILE_AFTER_SECONDS, which only earlier versions left (they committed the ledger row
    before applying it, and a web process could die in between); and DEFERRED ones as old: a
    status callback stored while its message's send was committing is missed by the send's own
    look for waiting callbacks, and is applied here (one still waiting stays DEFERRED)."""
    stuck_before = utcnow() - timedelta(seconds=deps.settings.reconcile_after_seconds)
    async with deps.sessions() as session:
        ids = await repository.pending(
            session, limit, received_before=stuck_before, max_attempts=AUTOMATIC_ATTEMPTS
        )
    return [await apply(deps, delivery_id) for delivery_id in ids]
