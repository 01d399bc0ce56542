from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow


class InteractionEvent(Base):
    __tablename__ = "interaction_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[Any | None] = mapped_column(JsonType)
    normalized: Mapped[Any | None] = mapped_column(JsonType)
    provider_event_id: Mapped[str | None] = mapped_column(String(256))
    idempotency_key: Mapped[str] = mapped_column(String(256), unique=True)
    # When retention or a deletion request erased its payload (docs/data-lifecycle.md).
    purged_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_interaction_event_interaction_occurred", "interaction_id", "occurred_at", "id"),
        Index("ix_interaction_event_type_occurred", "type", "occurred_at"),
    )
