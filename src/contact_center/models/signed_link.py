from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, new_id, utcnow
from contact_center.models.enums import MessageKind
from contact_center.models.interaction import str_enum


class SignedLink(Base):
    """A verification or onboarding link we sent: valid until it expires or is used."""

    __tablename__ = "signed_link"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[MessageKind] = mapped_column(
        str_enum(MessageKind, "signed_link_kind", constraint=False)
    )
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_signed_link_interaction", "interaction_id"),)
