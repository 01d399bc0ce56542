"""The data lifecycle (docs/data-lifecycle.md): legal holds, data-subject requests and the
retention purge's runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow
from contact_center.models.enums import DsrKind, DsrStatus, HoldScope, PurgeStatus
from contact_center.models.interaction import str_enum


class LegalHold(Base):
    """Data that must not be purged or deleted while the hold is active: not released and
    `ends_at` (optional) not passed. No cap on how many."""

    __tablename__ = "legal_hold"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    scope: Mapped[HoldScope] = mapped_column(str_enum(HoldScope, "hold_scope"))
    # CUSTOMER: a phone (E.164, masked in every response) and/or a customer reference.
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_ref: Mapped[str | None] = mapped_column(String(128))
    # INTERACTION: the interaction held.
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    # DATE_RANGE: interactions started in [range_start, range_end).
    range_start: Mapped[datetime | None]
    range_end: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    # An optional end: the hold lapses by itself then.
    ends_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(128))
    release_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_legal_hold_customer_phone", "customer_phone"),
        Index("ix_legal_hold_customer_ref", "customer_ref"),
        Index("ix_legal_hold_interaction", "interaction_id"),
        Index("ix_legal_hold_released", "released_at"),
    )


class DataSubjectRequest(Base):
    """A customer's request to access, rectify or delete their data, with its legal due date
    (business days on the business calendar) and its outcome."""

    __tablename__ = "data_subject_request"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The number given to the customer ("SDP-2026-000123").
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[DsrKind] = mapped_column(str_enum(DsrKind, "dsr_kind"))
    status: Mapped[DsrStatus] = mapped_column(str_enum(DsrStatus, "dsr_status"))
    # Who it is about: a phone (E.164, masked in every response) and/or a customer reference.
    subject_phone: Mapped[str | None] = mapped_column(String(32))
    subject_ref: Mapped[str | None] = mapped_column(String(128))
    # What the customer asks (what to rectify, what to delete), as received.
    details: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    # The subject's data is blocked (not used, not disclosed) while the request is reviewed.
    blocked: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    # REFUSED: why (a legal hold, a minimum retention…), as told to the customer.
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    # COMPLETED: what was done (counts by data class, the export's or certificate's SHA-256).
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_data_subject_request_status_due", "status", "due_at"),
        Index("ix_data_subject_request_subject_phone", "subject_phone"),
        Index("ix_data_subject_request_subject_ref", "subject_ref"),
    )


class PurgeRun(Base):
    """One run of the retention purge: its counts by data class (the report) and its progress,
    so a run killed midway is resumed by the next."""

    __tablename__ = "purge_run"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    status: Mapped[PurgeStatus] = mapped_column(str_enum(PurgeStatus, "purge_status"))
    # "cron" or "cli".
    trigger: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # {data class: rows deleted or anonymized}.
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # {data class: the cutoff it purged before, and where it got to}.
    progress: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_purge_run_started", "started_at"),)
