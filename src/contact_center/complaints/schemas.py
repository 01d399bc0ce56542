"""The complaints API's bodies and answers (docs/complaints.md, "API")."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field

from contact_center.models.enums import (
    Channel,
    ComplaintSource,
    ComplaintStatus,
    MessageStatus,
    Priority,
)
from contact_center.schemas import ApiModel, RequestModel, Timestamp

# At most this many conversations in one request (a complaint about a customer's history).
MAX_INTERACTIONS = 20
Amount = Decimal


class _Body(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintFields(_Body):
    """What a person says of a complaint (on creating it, or confirming a draft)."""

    type: str | None = Field(default=None, min_length=1, max_length=64)
    product: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    amount_disputed: Decimal | None = Field(
        default=None, gt=0, max_digits=18, decimal_places=2, examples=["15000.50"]
    )
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", examples=["ARS"])
    priority: Priority | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=128)
    team_id: uuid.UUID | None = None


class ComplaintCreate(ComplaintFields):
    """A complaint opened by a person from one or more conversations of the same customer."""

    interaction_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_INTERACTIONS)
    type: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)


class ComplaintConfirm(ComplaintFields):
    """Confirming a draft: any field may be corrected at the same time."""


class Reason(_Body):
    reason: str = Field(min_length=1, max_length=1000)


class OptionalReason(_Body):
    reason: str | None = Field(default=None, min_length=1, max_length=1000)


class LinkBody(_Body):
    interaction_id: uuid.UUID


class AnswerBody(_Body):
    text: str = Field(min_length=1, max_length=4000, description="Sent to the customer as is.")


class ReportBody(_Body):
    regulator_reference: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, min_length=1, max_length=1000)


class NoticeOut(ApiModel):
    """A message sent to the customer (the claim number, or the answer) and how it went."""

    message_id: uuid.UUID
    channel: Channel | None
    status: MessageStatus
    error_code: str | None = None


class ComplaintEventOut(ApiModel):
    id: uuid.UUID
    type: str
    actor: str
    occurred_at: Timestamp
    data: dict[str, Any] | None


class LinkedInteractionOut(ApiModel):
    id: uuid.UUID
    channel: Channel
    status: str
    started_at: Timestamp
    customer_phone: str | None


class ComplaintOut(ApiModel):
    id: uuid.UUID
    number: str | None
    status: ComplaintStatus
    source: ComplaintSource
    customer_phone: str | None = Field(description="Masked unless revealed.")
    customer_ref: str | None
    type: str
    product: str
    description: str
    amount_disputed: Decimal | None
    currency: str | None
    priority: Priority
    owner: str | None
    team_id: uuid.UUID | None
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    opened_at: Timestamp | None
    due_at: Timestamp | None
    warn_at: Timestamp | None
    escalate_at: Timestamp | None
    warned_at: Timestamp | None
    auto_escalated_at: Timestamp | None
    overdue_at: Timestamp | None
    overdue: bool = Field(description="Unanswered past its due date.")
    answered_at: Timestamp | None
    answer_text: str | None
    escalated_at: Timestamp | None
    escalated_to: str | None
    reported_at: Timestamp | None
    regulator_reference: str | None
    closed_at: Timestamp | None
    notice_message_id: uuid.UUID | None
    answer_message_id: uuid.UUID | None


class ComplaintDetail(ComplaintOut):
    interactions: list[LinkedInteractionOut]
    events: list[ComplaintEventOut]
    notice: NoticeOut | None
    answer: NoticeOut | None
