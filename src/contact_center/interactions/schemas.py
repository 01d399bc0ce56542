from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageStatus,
    OtpChannel,
    OtpPurpose,
    OtpStatus,
    Outcome,
    Priority,
    Provider,
)
from contact_center.pii import mask_link_tokens
from contact_center.schemas import ApiModel, RequestModel, Timestamp


class MediaOut(ApiModel):
    # BuilderBot's attachments: the provider's URL. The Cloud API's media: our copy's route
    # (`/api/interactions/{id}/messages/{messageId}/media/{index}`), answering once `stored`.
    url: str | None = None
    content_type: str | None = None
    filename: str | None = None
    # The Cloud API's media, named by id and fetched by a job: stored (our SHA-256 and size)
    # or failed (`error`); `voice` for a voice note.
    media_id: str | None = None
    stored: bool | None = None
    size: int | None = None
    sha256: str | None = None
    voice: bool | None = None
    error: str | None = None


class MessageOut(ApiModel):
    id: uuid.UUID
    interaction_id: uuid.UUID
    direction: Direction
    body: str | None
    media: list[MediaOut]
    status: MessageStatus
    provider_message_id: str | None
    error_code: str | None
    error_message: str | None
    kind: str
    created_at: Timestamp
    updated_at: Timestamp
    sent_at: Timestamp | None
    delivered_at: Timestamp | None
    attempts: int
    # WhatsApp: the provider's id of the message this one replies to, and when it was read.
    reply_to: str | None = None
    read_at: Timestamp | None = None

    @field_validator("body")
    @classmethod
    def _no_link_tokens(cls, body: str | None) -> str | None:
        """A survey's or signed link's token never leaves in a message's text (revealed or
        not): the customer's copy was sent with it; whoever reads the thread needs no key."""
        return mask_link_tokens(body) if body else body

    @model_validator(mode="after")
    def _media_urls(self) -> MessageOut:
        for index, item in enumerate(self.media):
            if item.url is None and item.media_id is not None:
                item.url = (
                    f"/api/interactions/{self.interaction_id}/messages/{self.id}/media/{index}"
                )
        return self


class EventOut(ApiModel):
    id: uuid.UUID
    interaction_id: uuid.UUID
    type: str
    occurred_at: Timestamp
    payload: Any | None
    normalized: Any | None
    provider_event_id: str | None
    idempotency_key: str


class TranscriptTurn(ApiModel):
    role: str
    message: str | None = None
    time_in_call_secs: float | None = None


class CallDetailOut(ApiModel):
    transcript: list[TranscriptTurn]
    summary: str | None
    recording_url: str | None
    duration_secs: int | None
    hangup_reason: str | None
    call_successful: str | None
    analysis: dict[str, Any] | None
    has_audio: bool
    # The transcript held a card number or a security code: admins only hear it, with a reason.
    sensitive_audio: bool = False
    fetched_at: Timestamp | None


class OtpChallengeOut(ApiModel):
    id: uuid.UUID
    correlation_id: str
    phone: str
    purpose: OtpPurpose
    status: OtpStatus
    attempts: int
    max_attempts: int
    expires_at: Timestamp
    verified_at: Timestamp | None
    interaction_id: uuid.UUID | None
    requested_from_interaction_id: uuid.UUID | None
    context: dict[str, Any] | None
    # How the code goes (SMS, or WHATSAPP until it falls back to SMS at `fallbackAt`).
    channel: OtpChannel
    fallback_at: Timestamp | None
    created_at: Timestamp


class InteractionOut(ApiModel):
    id: uuid.UUID
    channel: Channel
    direction: Direction
    status: InteractionStatus
    started_at: Timestamp
    ended_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    from_: str | None = Field(alias="from")
    to: str | None
    customer_phone: str | None
    customer_name: str | None
    provider: Provider
    provider_conversation_id: str | None
    assigned_agent: str | None
    customer_ref: str | None
    queue: str | None
    intent: str | None
    outcome: Outcome | None
    ai_handled: bool
    # The conversation workflow (docs/workflow.md).
    team_id: uuid.UUID | None = Field(default=None, description="The team whose queue holds it.")
    queued_at: Timestamp | None = Field(
        default=None, description="When it entered its queue; null when not waiting for a person."
    )
    assigned_at: Timestamp | None = None
    snoozed_until: Timestamp | None = None
    resolution_code: str | None = None
    priority: Priority = Priority.NORMAL
    labels: list[str] = Field(default_factory=list)
    whatsapp_window_closes_at: Timestamp | None = Field(
        default=None,
        description="WhatsApp: when free text can no longer be sent (24 h after the customer's "
        "last message); null for other channels or before the customer wrote.",
    )
    messages: list[MessageOut] = Field(
        default_factory=list,
        description="Oldest first; the 10 most recent unless includeAllMessages.",
    )
    events: list[EventOut] = Field(
        default_factory=list,
        description="Oldest first; the 10 most recent unless includeAllEvents.",
    )


class InteractionDetailOut(InteractionOut):
    call_detail: CallDetailOut | None = None
    otp_challenges: list[OtpChallengeOut] = Field(default_factory=list)


class InteractionPage(ApiModel):
    items: list[InteractionOut]
    limit: int
    skip: int
    has_more: bool


class InteractionCount(ApiModel):
    count: int


class OtpStats(ApiModel):
    issued: int
    verified: int
    failed: int
    locked: int
    expired: int


class CustomerStats(ApiModel):
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_outcome: dict[str, int]
    first_contact_at: Timestamp | None
    last_contact_at: Timestamp | None
    otp: OtpStats


class CustomerProfile(ApiModel):
    phone: str
    interactions: list[InteractionOut]
    stats: CustomerStats


class InteractionPatch(RequestModel):
    """Only the fields present are changed; `null` clears a field."""

    model_config = ConfigDict(extra="forbid")

    assigned_agent: str | None = Field(default=None, min_length=1, max_length=128)
    queue: str | None = Field(default=None, min_length=1, max_length=128)
    status: InteractionStatus | None = None
    outcome: Outcome | None = None
    intent: str | None = Field(default=None, min_length=1, max_length=128)


# --- the conversation workflow (docs/workflow.md) -------------------------------------------


class _WorkflowRequest(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssignRequest(_WorkflowRequest):
    agent: str = Field(min_length=1, max_length=64, description="A user's username.")


class TransferRequest(_WorkflowRequest):
    """Exactly one of `agent` (a person) or `teamId` (a team's queue)."""

    agent: str | None = Field(default=None, min_length=1, max_length=64)
    team_id: uuid.UUID | None = None


class ResolveRequest(_WorkflowRequest):
    resolution_code: str = Field(
        min_length=1,
        max_length=64,
        description="How it was resolved: lower-case letters, digits, `_` and `-`.",
        examples=["answered"],
    )


class SnoozeRequest(_WorkflowRequest):
    until: datetime = Field(description="When it wakes: in the future, at most 90 days ahead.")


class PriorityRequest(_WorkflowRequest):
    priority: Priority


class LabelsRequest(_WorkflowRequest):
    labels: list[str] = Field(
        max_length=20,
        description="The conversation's labels, replacing its current ones: each 1 to 50 "
        "characters, stored lower-case; duplicates count once.",
    )
