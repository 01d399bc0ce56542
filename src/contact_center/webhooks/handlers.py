"""The handlers of inbound events: each domain registers one per event type it applies.

The webhook module stores a delivery, asks the provider's adapter what it is, and hands the
event to the handler registered for its type; it imports no domain. The domains import these
types and register at start-up (see `contact_center.inbound`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.fast import Transaction
from contact_center.models.enums import WebhookStatus
from contact_center.providers.base import InboundEvent, UnparseablePayload
from contact_center.settings import Settings

E = TypeVar("E", bound=InboundEvent)


class AppliedDelivery:
    """What a handler knows of the delivery it applies."""

    def __init__(
        self, delivery_id: uuid.UUID, settings: Settings, body: bytes, read: Callable[[bytes], Any]
    ) -> None:
        self.id = delivery_id
        self.settings = settings
        self._body = body
        self._read = read

    @property
    def key(self) -> str:
        """An idempotency key for what the delivery creates (one per delivery)."""
        return f"webhook:{self.id}"

    @cached_property
    def payload(self) -> Any:
        """The body as the timeline keeps it: parsed, or (a body only a later parser reads) as
        text with what no column takes replaced."""
        try:
            return self._read(self._body)
        except UnparseablePayload:
            return self._body.decode("utf-8", "replace").replace("\x00", "\ufffd")


@dataclass(frozen=True)
class Outcome:
    """How applying ended: PROCESSED, or DEFERRED until `waiting_for` (a provider message id)
    is known."""

    status: WebhookStatus = WebhookStatus.PROCESSED
    waiting_for: str | None = None


APPLIED = Outcome()


def deferred(reference: str) -> Outcome:
    return Outcome(WebhookStatus.DEFERRED, waiting_for=reference)


Handler = Callable[[AsyncSession, E, AppliedDelivery], Awaitable[Outcome]]
# The same rules on a transaction below the ORM, for the hot paths (db/fast.py).
FastHandler = Callable[[Transaction, E, AppliedDelivery], Awaitable[Outcome]]


class NoHandler(LookupError):
    """An event type no domain registered for (the delivery is kept FAILED, replayable)."""


class WebhookHandlers:
    """Event type → handler; one handler per type."""

    def __init__(self) -> None:
        self._by_type: dict[type[Any], Handler[Any]] = {}
        self._fast: dict[type[Any], FastHandler[Any]] = {}

    def register(
        self, event_type: type[E], handler: Handler[E], *, fast: FastHandler[E] | None = None
    ) -> None:
        """`fast`: the same rules below the ORM, which a webhook's ingest runs instead."""
        if event_type in self._by_type:
            raise ValueError(f"a handler for {event_type.__name__} is registered already")
        self._by_type[event_type] = handler
        if fast is not None:
            self._fast[event_type] = fast

    def fast(self, event: InboundEvent) -> FastHandler[Any] | None:
        return self._fast.get(type(event))

    def handler(self, event: InboundEvent) -> Handler[Any]:
        try:
            return self._by_type[type(event)]
        except KeyError:
            raise NoHandler(f"no handler for {type(event).__name__}") from None

    def __contains__(self, event_type: type[Any]) -> bool:
        return event_type in self._by_type
