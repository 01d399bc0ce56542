"""Private notes on a conversation (never sent to the customer) and the notifications of their
@mentions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow


class InteractionNote(Base):
    __tablename__ = "interaction_note"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    # The author's username (kept when the account is later removed).
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # Usernames the note @mentions (each existing user, once).
    mentions: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_interaction_note_interaction", "interaction_id", "created_at"),)


class Notification(Base):
    """Something a user should look at (an @mention), until they mark it read."""

    __tablename__ = "notification"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    note_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interaction_note.id", ondelete="CASCADE")
    )
    # Who caused it (a username), for the list: "ana mentioned you".
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_notification_user", "user_id", "read_at", "created_at"),)
