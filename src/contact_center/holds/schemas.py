"""Legal holds on the wire (docs/data-lifecycle.md, "Legal hold")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from contact_center.models.enums import HoldScope
from contact_center.schemas import ApiModel, RequestModel, Timestamp

MIN_REASON = 10
MAX_REASON = 1000


class HoldState(StrEnum):
    ACTIVE = "ACTIVE"  # in force: not released, its end (if any) not reached
    RELEASED = "RELEASED"  # released by someone, with a reason
    LAPSED = "LAPSED"  # its end passed: it holds nothing any more


class _Request(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _utc(value: datetime | None) -> datetime | None:
    """In UTC, or 422 for a moment no column takes (year 1 with a positive offset…)."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


class LegalHoldIn(_Request):
    """A hold. CUSTOMER: `customerPhone` and/or `customerRef`; INTERACTION: `interactionId`;
    DATE_RANGE: `rangeStart` and, optionally, `rangeEnd` (interactions started in
    [start, end)). Fields another scope uses are refused."""

    scope: HoldScope
    customer_phone: str | None = Field(
        default=None, max_length=64, description="Normalized to E.164; masked in every response."
    )
    customer_ref: str | None = Field(default=None, min_length=1, max_length=128)
    interaction_id: uuid.UUID | None = None
    range_start: AwareDatetime | None = None
    range_end: AwareDatetime | None = Field(default=None, description="Absent: open-ended.")
    reason: str = Field(
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        description="Why (a case, an order, a regulator's request): 10 to 1000 characters.",
    )
    ends_at: AwareDatetime | None = Field(
        default=None, description="When the hold lapses by itself: in the future. Absent: never."
    )

    _in_utc = field_validator("range_start", "range_end", "ends_at", mode="after")(_utc)


class ReleaseIn(_Request):
    reason: str = Field(
        min_length=MIN_REASON,
        max_length=MAX_REASON,
        description="Why the hold ends: 10 to 1000 characters.",
    )


class LegalHoldOut(ApiModel):
    id: uuid.UUID
    scope: HoldScope
    state: HoldState
    customer_phone: str | None = Field(description="Masked.")
    customer_ref: str | None
    interaction_id: uuid.UUID | None
    range_start: Timestamp | None
    range_end: Timestamp | None
    reason: str
    ends_at: Timestamp | None
    created_by: str
    created_at: Timestamp
    released_at: Timestamp | None
    released_by: str | None
    release_reason: str | None
    covered_interactions: int = Field(
        description="How many interactions the hold covers now (0 once it is not active; a "
        "customer's later interactions are covered too)."
    )


class LegalHoldPage(ApiModel):
    items: list[LegalHoldOut]
    limit: int
    skip: int
    has_more: bool
