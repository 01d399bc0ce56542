"""Request and response bodies of data-subject requests (phones always masked)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from contact_center.models.enums import DsrKind, DsrStatus
from contact_center.schemas import ApiModel, RequestModel, Timestamp


class Clock(StrEnum):
    """Where an open request stands against its due date (APP_TIMEZONE's today)."""

    OVERDUE = "overdue"
    DUE_TODAY = "due_today"
    ON_TIME = "on_time"
    CLOSED = "closed"  # completed or refused


class DocumentFormat(StrEnum):
    JSON = "json"
    HTML = "html"


class RequestCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    kind: DsrKind
    phone: str | None = Field(
        default=None, max_length=64, description="The subject's phone number, any common format."
    )
    customer_ref: str | None = Field(
        default=None, min_length=1, max_length=128, description="The bank's customer reference."
    )
    details: str | None = Field(
        default=None, max_length=4000, description="What the customer asks, as received."
    )


class Decision(RequestModel):
    """What completing a request applies. A rectification names the corrected values (at least
    one); the other kinds take none."""

    model_config = ConfigDict(extra="forbid")

    customer_name: str | None = Field(default=None, min_length=1, max_length=200)
    customer_ref: str | None = Field(default=None, min_length=1, max_length=128)


class Refusal(RequestModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=2000, description="Why, in words the customer's letter carries."
    )


class RequestOut(ApiModel):
    id: uuid.UUID
    number: str = Field(description="The number given to the customer (SDP-2026-000123).")
    kind: DsrKind
    status: DsrStatus
    subject_phone: str | None = Field(description="Masked.")
    subject_ref: str | None
    details: str | None
    received_at: Timestamp
    due_at: Timestamp
    clock: Clock
    blocked: bool = Field(description="The subject's data is blocked while this is reviewed.")
    decided_at: Timestamp | None
    decided_by: str | None
    refusal_reason: str | None
    result: dict[str, Any] | None
    created_by: str
    updated_at: Timestamp


class RequestPage(ApiModel):
    items: list[RequestOut]
