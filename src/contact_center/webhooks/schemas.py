from __future__ import annotations

import uuid

from contact_center.schemas import ApiModel, Timestamp


class WebhookAck(ApiModel):
    """The answer to a provider: the ledger id and what became of the delivery."""

    delivery_id: uuid.UUID | None
    status: str
    duplicate: bool


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
