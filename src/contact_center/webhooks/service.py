"""Inbound webhooks, provider-neutral: read a delivery with its provider's adapter, keep its
body, and apply its event with the handler a domain registered for it."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.logging import redact_text
from contact_center.models.enums import WebhookStatus
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.providers.base import (
    IgnoredEvent,
    InboundAdapter,
    InboundAuthFailed,
    InboundEvent,
    InboundRequest,
    ProviderName,
    UnparseablePayload,
)
from contact_center.providers.inbound import body_digest
from contact_center.storable import BASE64, stored_body
from contact_center.webhooks import repository
from contact_center.webhooks.handlers import AppliedDelivery, WebhookHandlers

__all__ = [
    "BASE64",
    "AuthenticationFailed",
    "IncomingDelivery",
    "body_digest",
    "stored_body",
    "stored_keys",
]

Event = InboundEvent
AuthenticationFailed = InboundAuthFailed
log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class IncomingDelivery(InboundRequest):
    """One HTTP delivery as received: what authentication and the ledger need."""

    provider: ProviderName
    content_type: str | None


def read(adapter: InboundAdapter, raw: bytes) -> tuple[Event | None, str | None]:
    """(event, None), or (None, why) for a body kept as INVALID: unparseable, or one a parser
    failed on in a way it should not have (a bug is no reason to lose or 500 a delivery)."""
    try:
        return adapter.parse(raw), None
    except UnparseablePayload as exc:
        return None, redact_text(f"unparseable payload: {exc}")[:2000]
    except Exception as exc:  # the backstop: kept INVALID, replayable once the parser is fixed
        log.error("webhook_parser_failed", provider=adapter.provider.value, exc_info=exc)
        return None, f"unreadable payload ({type(exc).__name__})"


def received_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes of a stored delivery."""
    if delivery.raw_body_encoding == BASE64:
        return base64.b64decode(delivery.raw_body)
    return delivery.raw_body.encode("utf-8")


def event_key(adapter: InboundAdapter, event: Event | None, raw: bytes) -> str:
    """The provider's identity of a delivery: a repeat has the same key."""
    if event is None:
        return f"invalid:{body_digest(raw)}"
    return adapter.event_key(event, raw)


def event_type(adapter: InboundAdapter, event: Event | None) -> str | None:
    """A short name of what the delivery was, for the ledger and the logs."""
    return None if event is None else adapter.event_type(event)[:64]


async def process(
    session: AsyncSession,
    adapter: InboundAdapter,
    handlers: WebhookHandlers,
    delivery: WebhookDelivery,
    event: Event,
    applied: AppliedDelivery,
) -> WebhookStatus:
    """Apply one parsed delivery with its handler; returns the ledger status it ends in."""
    if isinstance(event, IgnoredEvent):
        return WebhookStatus.IGNORED
    outcome = await handlers.handler(event)(session, event, applied)
    if outcome.status is WebhookStatus.DEFERRED:
        delivery.waiting_for = outcome.waiting_for
        return outcome.status
    kept = adapter.applied_body(received_body(delivery), event)
    if kept is not None:
        delivery.raw_body, delivery.raw_body_encoding = stored_body(kept)
    return outcome.status


async def stored_keys(session: AsyncSession, provider: ProviderName, keys: list[str]) -> set[str]:
    """Which of these event keys the ledger holds for `provider` (to find webhooks that never
    came)."""
    return await repository.existing_keys(session, provider.value, keys)
