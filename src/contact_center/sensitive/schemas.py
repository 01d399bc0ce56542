"""Request and response bodies of the reveal, the proofs and the confirmation."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from contact_center.schemas import ApiModel, RequestModel, Timestamp

REASON_MIN = 10
REASON_MAX = 500

Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=REASON_MIN, max_length=REASON_MAX),
    Field(description="Why (10 to 500 characters, trimmed); kept in the audit row."),
]


class RevealIn(RequestModel):
    reason: Reason


class RevealOut(ApiModel):
    token: str
    entity: str
    value: str


class ProofOut(ApiModel):
    id: uuid.UUID
    source: str
    field: str
    entity: str
    detector: str
    start: int
    end: int
    fingerprint: str | None
    key_id: str | None
    token: str | None
    created_at: Timestamp


class ProofList(ApiModel):
    items: list[ProofOut]


class ConfirmIn(RequestModel):
    proof_id: uuid.UUID
    candidate: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ConfirmOut(ApiModel):
    confirmed: bool
