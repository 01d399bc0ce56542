"""Complaints (reclamos) with the regulator's clock (docs/complaints.md): the case, the
conversations it concerns, and its timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow
from contact_center.models.enums import ComplaintSource, ComplaintStatus, Priority
from contact_center.models.interaction import str_enum


class Complaint(Base):
    """One complaint of one customer. `number` (the claim number given to the customer) is
    issued when the complaint is opened (a draft has none)."""

    __tablename__ = "complaint"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[ComplaintStatus] = mapped_column(str_enum(ComplaintStatus, "complaint_status"))
    source: Mapped[ComplaintSource] = mapped_column(str_enum(ComplaintSource, "complaint_source"))
    # What opened it automatically, once: "call-outcome:<interaction id>" (unique, so a
    # repeated webhook never opens a second draft). NULL for complaints opened by a person.
    source_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # The customer (the same customer as every linked interaction).
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_ref: Mapped[str | None] = mapped_column(String(128))
    # Classification (values from settings: COMPLAINT_TYPES, COMPLAINT_PRODUCTS).
    type: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    amount_disputed: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    priority: Mapped[Priority] = mapped_column(
        str_enum(Priority, "priority"), default=Priority.NORMAL
    )
    owner: Mapped[str | None] = mapped_column(String(128))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The clock (business time on the business calendar), set when opened.
    opened_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    escalate_at: Mapped[datetime | None]
    # When each clock event fired (each fires once).
    warned_at: Mapped[datetime | None]
    auto_escalated_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    # The claim number's notice to the customer: the message sent (its delivery status is the
    # message's).
    notice_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None]
    answer_text: Mapped[str | None] = mapped_column(Text)
    answer_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    escalated_at: Mapped[datetime | None]
    escalated_to: Mapped[str | None] = mapped_column(String(128))
    reported_at: Mapped[datetime | None]
    regulator_reference: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_complaint_status_due", "status", "due_at"),
        Index("ix_complaint_team_status", "team_id", "status"),
        Index("ix_complaint_customer_phone", "customer_phone"),
        Index("ix_complaint_customer_ref", "customer_ref"),
        Index("ix_complaint_opened", "opened_at"),
    )


class ComplaintInteraction(Base):
    """A conversation the complaint concerns (one or more, of the same customer)."""

    __tablename__ = "complaint_interaction"

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True
    )
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True
    )
    linked_by: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_complaint_interaction_interaction", "interaction_id"),)


class ComplaintEvent(Base):
    """The complaint's timeline: every step (opened, notice sent, warned, escalated, answered,
    reported, closed…), who and when. `key` makes a clock event fire once."""

    __tablename__ = "complaint_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    # "<complaint id>:<type>" for events that happen once (the clock's), NULL otherwise.
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    actor: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any] | None] = mapped_column(JsonType)

    __table_args__ = (Index("ix_complaint_event_complaint", "complaint_id", "occurred_at"),)
