from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import Field

from contact_center.models.enums import ActorType
from contact_center.schemas import ApiModel, Timestamp


class AuditEntryOut(ApiModel):
    id: uuid.UUID
    occurred_at: Timestamp
    actor_type: ActorType
    actor_id: str | None
    action: str
    entity_type: str | None
    entity_id: str | None
    ip: str | None
    user_agent: str | None
    metadata: dict[str, Any] | None = Field(default=None, validation_alias="metadata_")


class AuditPage(ApiModel):
    items: list[AuditEntryOut]
    limit: int
    skip: int
    has_more: bool


class AuditCheckpointOut(ApiModel):
    """A checkpoint of the audit chain's head (docs/audit-chain.md)."""

    day: date
    seq: int
    hash: str
    created_at: Timestamp


class AuditCheckpoints(ApiModel):
    items: list[AuditCheckpointOut]
