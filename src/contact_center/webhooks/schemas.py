from __future__ import annotations

import uuid

from contact_center.schemas import ApiModel, Timestamp


class WebhookUpdateAck(ApiModel):
    """One update of a body that carried several (the Cloud API batches them)."""

    delivery_id: uuid.UUID | None
    status: str
    duplicate: bool


class WebhookAck(ApiModel):
    """The answer to a provider: the ledger id and what became of the delivery (of its first
    update, when it carried several: then `updates` lists each one's, in order)."""

    delivery_id: uuid.UUID | None
    status: str
    duplicate: bool
    updates: list[WebhookUpdateAck] | None = None


class WebhookDeliveryOut(ApiModel):
    id: uuid.UUID
    provider: str
    event_key: str
    event_type: str | None
    received_at: Timestamp
    status: str
    error: str | None
    attempts: int
    processed_at: Timestamp | None
    waiting_for: str | None


class WebhookDeliveryPage(ApiModel):
    items: list[WebhookDeliveryOut]
    limit: int
    skip: int
    has_more: bool
