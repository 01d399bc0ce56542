"""Customer satisfaction surveys and repeat contacts (docs/service-levels.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, new_id, utcnow
from contact_center.models.enums import Channel, Handler
from contact_center.models.interaction import str_enum


class CsatSurvey(Base):
    """One survey per resolved conversation: sent on its channel (WhatsApp inside the window,
    else SMS with a signed link), answered once (1–5 and a comment), expiring after 7 days."""

    __tablename__ = "csat_survey"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), unique=True
    )
    # The channel it went by (WHATSAPP or SMS) and the message that carried it.
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    # Whom the answer is about: the AI agent, or the person (username) who resolved it.
    handler: Mapped[Handler] = mapped_column(str_enum(Handler, "handler"))
    agent: Mapped[str | None] = mapped_column(String(128))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_csat_survey_answered", "answered_at"),
        Index("ix_csat_survey_updated", "updated_at"),
    )


class RepeatContact(Base):
    """A resolved conversation whose customer came back on any channel within 7 days: it was
    not resolved first time. One row per resolved conversation (the first repeat found)."""

    __tablename__ = "repeat_contact"

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True
    )
    repeat_interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_repeat_contact_repeat", "repeat_interaction_id"),
        Index("ix_repeat_contact_detected", "detected_at"),
    )
