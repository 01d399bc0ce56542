"""How far each person has read each conversation (docs/inbox.md, "Unread")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, utcnow


class ReadMark(Base):
    """One person's last read message of one conversation. Unread = the customer's messages
    created after `last_read_at` (the created_at of `last_read_message_id`); no row: all of them.
    It only moves forward."""

    __tablename__ = "read_mark"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_message_id: Mapped[uuid.UUID | None]
    last_read_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_read_mark_interaction", "interaction_id"),)
