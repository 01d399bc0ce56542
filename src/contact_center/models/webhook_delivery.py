from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow


class WebhookDelivery(Base):
    """The webhook ledger: every authenticated delivery, stored before it is processed."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_type: Mapped[str | None] = mapped_column(String(128))
    raw_body: Mapped[str] = mapped_column(Text)
    # NULL: `raw_body` is the body as received (UTF-8 text). "base64": the body held bytes a text
    # column refuses (NUL, invalid UTF-8), and `raw_body` is their base64.
    raw_body_encoding: Mapped[str | None] = mapped_column(String(16))
    headers: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # RECEIVED → PROCESSED | IGNORED | FAILED | INVALID | DEFERRED
    status: Mapped[str] = mapped_column(String(16), default="RECEIVED")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None]
    # A status callback for a message we do not know yet waits on its provider id.
    waiting_for: Mapped[str | None] = mapped_column(String(128))
    # Deliveries identified by their body (BuilderBot): the body's digest, shared by every
    # delivery of that body (their keys are `digest`, `digest:2`, …). Repeats are found by it.
    event_family: Mapped[str | None] = mapped_column(String(128))
    # When retention or a deletion request erased its body and headers (docs/data-lifecycle.md).
    purged_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("provider", "event_key"),
        Index("ix_webhook_delivery_status_received", "status", "received_at"),
        Index("ix_webhook_delivery_waiting_for", "waiting_for"),
        Index("ix_webhook_delivery_received", "received_at", "id"),
        Index("ix_webhook_delivery_family", "provider", "event_family", "received_at"),
    )
