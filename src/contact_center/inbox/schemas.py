"""The inbox API's shapes (docs/inbox.md)."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from contact_center.models.enums import Channel, Direction, InteractionStatus, Priority
from contact_center.schemas import ApiModel, RequestModel, Timestamp


class LastMessageOut(ApiModel):
    direction: Direction
    preview: str = Field(description="The text masked, at most 120 characters; `[image]`…")
    at: Timestamp


class InboxItemOut(ApiModel):
    id: uuid.UUID
    channel: Channel
    status: InteractionStatus
    customer_name: str | None = Field(description="Masked.")
    customer_phone: str | None = Field(description="Masked.")
    last_message: LastMessageOut | None
    unread: int = Field(description="The reader's unread customer messages, at most 99.")
    waiting_since: Timestamp | None
    priority: Priority
    assigned_agent: str | None
    team_id: uuid.UUID | None
    labels: list[str]
    snoozed_until: Timestamp | None
    updated_at: Timestamp


class InboxPageOut(ApiModel):
    items: list[InboxItemOut]
    has_more: bool


class ViewCount(ApiModel):
    conversations: int


class MineCount(ApiModel):
    conversations: int
    unread: int = Field(description="The reader's unread total over Mine (the tab title).")


class TeamCount(ApiModel):
    id: uuid.UUID
    name: str
    conversations: int


class LabelCount(ApiModel):
    label: str
    conversations: int = Field(description="Open conversations with this label that I see.")


class InboxCountsOut(ApiModel):
    model_config = ConfigDict(serialize_by_alias=True)

    mine: MineCount
    unassigned: ViewCount
    teams: list[TeamCount]
    all: ViewCount | None = Field(
        default=None, description="Supervisors and admins only (absent for agents)."
    )
    snoozed: ViewCount
    labels: list[LabelCount] = Field(
        description="The labels of the open conversations I see (each label view's size), "
        "the 30 most used first."
    )


class ReadRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID | None = Field(
        default=None, description="Read up to this message (default: the newest)."
    )


class ReadStateOut(ApiModel):
    unread: int
    last_read_at: Timestamp | None


class PresenceRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    typing: bool = False


class ViewerOut(ApiModel):
    username: str
    display_name: str | None
    typing: bool
    seen_at: Timestamp


class PresenceOut(ApiModel):
    viewers: list[ViewerOut]
