"""Wire models of the ElevenLabs routes (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from contact_center.schemas import ApiModel, RequestModel, Timestamp


class ConversationItemOut(ApiModel):
    conversation_id: str
    agent_id: str | None
    agent_name: str | None
    started_at: Timestamp | None
    duration_secs: int | None
    status: str | None
    call_successful: str | None
    direction: str | None
    interaction_id: uuid.UUID | None = Field(description="Our interaction, when we have the call")


class ConversationPageOut(ApiModel):
    items: list[ConversationItemOut]
    next_cursor: str | None
    has_more: bool


class ConversationDetailOut(ApiModel):
    conversation_id: str
    interaction_id: uuid.UUID | None
    conversation: dict[str, Any] = Field(description="The provider's JSON, masked")


class SyncIn(RequestModel):
    hours: int = Field(default=24, ge=1, le=168, description="Conversations started this far back")
    limit: int = Field(default=500, ge=1, le=5000, description="At most this many, newest first")
    include_details: bool = Field(
        default=True, description="Fetch each conversation (transcript, numbers), not only the list"
    )


class SyncOut(ApiModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    missing_webhooks: int = Field(
        description="Finished conversations whose post-call webhook never arrived"
    )
    missing_webhook_ids: list[str] = Field(description="Up to 100 of them")
    seen: int = Field(description="Conversations the provider listed in the window")
    duration_ms: int
