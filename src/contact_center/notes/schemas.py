from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from contact_center.schemas import ApiModel, RequestModel, Timestamp


class NoteCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=4000, description="`@username` mentions a user.")


class NoteOut(ApiModel):
    id: uuid.UUID
    interaction_id: uuid.UUID
    author: str
    body: str
    mentions: list[str]
    created_at: Timestamp


class NotificationOut(ApiModel):
    id: uuid.UUID
    kind: str
    interaction_id: uuid.UUID | None
    note_id: uuid.UUID | None
    actor: str | None
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationPage(ApiModel):
    items: list[NotificationOut]
    unread: int = Field(description="How many of the user's notifications are unread.")


class ReadAll(ApiModel):
    marked: int
