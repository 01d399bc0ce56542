from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow
from contact_center.models.enums import OtpChannel, OtpPurpose, OtpStatus
from contact_center.models.interaction import str_enum


class OtpChallenge(Base):
    __tablename__ = "otp_challenge"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    correlation_id: Mapped[str] = mapped_column(String(128), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[OtpPurpose] = mapped_column(str_enum(OtpPurpose, "otp_purpose"))
    code_hash: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[OtpStatus] = mapped_column(str_enum(OtpStatus, "otp_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="SET NULL")
    )
    requested_from_interaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="SET NULL")
    )
    customer_ref: Mapped[str | None] = mapped_column(String(128))
    context: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # How the code goes now (WHATSAPP falls back to SMS when WhatsApp refuses it for good),
    # and when it fell back.
    channel: Mapped[OtpChannel] = mapped_column(
        str_enum(OtpChannel, "otp_channel"), default=OtpChannel.SMS, server_default="SMS"
    )
    fallback_at: Mapped[datetime | None]
    # When retention or a deletion request anonymized it (docs/data-lifecycle.md).
    purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_otp_challenge_phone_purpose_created", "phone", "purpose", "created_at"),
        Index("ix_otp_challenge_interaction", "interaction_id"),
        Index("ix_otp_challenge_requested_from", "requested_from_interaction_id"),
        Index("ix_otp_challenge_status_expires", "status", "expires_at"),
    )
