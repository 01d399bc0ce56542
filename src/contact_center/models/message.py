from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow
from contact_center.models.enums import Direction, MessageKind, MessageStatus
from contact_center.models.interaction import str_enum


class Message(Base):
    __tablename__ = "message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    body: Mapped[str | None] = mapped_column(Text)
    media: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus, "message_status"))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[MessageKind] = mapped_column(
        str_enum(MessageKind, "message_kind", constraint=False), default=MessageKind.TEXT
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    # When the provider echoed a message we sent (BuilderBot `message.outgoing`).
    provider_confirmed_at: Mapped[datetime | None]
    # When the send job should try again (after a transient provider error); None = now. On a
    # RECEIVED message: when its media fetch is due (None: nothing to fetch).
    next_attempt_at: Mapped[datetime | None]
    # A WhatsApp template message: {"name", "language", "category", "variables": {...},
    # "otp": bool} (docs/whatsapp-cloud.md); None for free text.
    template: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # The provider's id of the message this one replies to (WhatsApp's `context.id`).
    reply_to: Mapped[str | None] = mapped_column(String(128))
    # When the customer read our message (WhatsApp's `read` status).
    read_at: Mapped[datetime | None]
    # When retention or a deletion request erased its body and media (docs/data-lifecycle.md).
    purged_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_message_interaction_created", "interaction_id", "created_at", "id"),
        # The dashboard's first response: the first message of each direction of a conversation.
        Index(
            "ix_message_interaction_direction_created", "interaction_id", "direction", "created_at"
        ),
        Index("ix_message_provider_message_id", "provider_message_id", unique=True),
        Index("ix_message_status_created", "status", "created_at"),
        Index("ix_message_status_next_attempt", "status", "next_attempt_at"),
        # Search results, newest first (docs/inbox.md, "Search").
        Index("ix_message_created", "created_at", "id"),
    )
    # Full-text search (migration 0014) keeps its own structures beside this table, outside the
    # model (they differ by database and no read of a message selects them): on PostgreSQL the
    # generated column `search_vector` (tsvector of the body, GIN index `ix_message_search`); on
    # SQLite the FTS5 table `message_fts` (external content: this table's body, by rowid) and
    # its triggers. contact_center.search.repository reads them.
