"""The WhatsApp templates the account holds, synced from the provider (docs/whatsapp-cloud.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow


class WhatsAppTemplate(Base):
    __tablename__ = "whatsapp_template"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # A template is one (name, language): names repeat across languages.
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    # APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … (TemplateStatus; plain string: the
    # provider adds values). Only APPROVED is offered and sent.
    status: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))  # MARKETING, UTILITY, AUTHENTICATION
    components: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    # The BODY's text with its {{1}}… placeholders, and how many variables it takes.
    body_text: Mapped[str | None] = mapped_column(Text)
    body_variables: Mapped[int] = mapped_column(default=0)
    provider_template_id: Mapped[str | None] = mapped_column(String(64))
    # False once a sync no longer finds it in the account (kept: messages name it).
    present: Mapped[bool] = mapped_column(default=True)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("name", "language"),
        Index("ix_whatsapp_template_status", "status", "name"),
    )
