from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow
from contact_center.models.enums import ActorType
from contact_center.models.interaction import str_enum


class AuditLog(Base):
    """Append-only: the database refuses UPDATE and DELETE on this table (see the migration)."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[ActorType] = mapped_column(str_enum(ActorType, "actor_type"))
    actor_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JsonType)
    # HMAC-SHA256 (AUDIT_MAC_KEY) of the row's canonical form, written with the row by the
    # application (docs/audit-chain.md): a row inserted behind its back has none, or a wrong one.
    # Rows from before the chain began have none.
    mac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_occurred", "occurred_at", "id"),
        Index("ix_audit_log_actor", "actor_id", "occurred_at"),
        Index("ix_audit_log_action", "action", "occurred_at"),
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
    )
