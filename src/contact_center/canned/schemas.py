"""Canned replies on the wire (docs/api.md)."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from contact_center.schemas import ApiModel, RequestModel, Timestamp

SHORTCUT_PATTERN = r"^[a-z0-9_-]{1,32}$"
MAX_BODY = 1600


class _Request(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CannedReplyIn(_Request):
    shortcut: str = Field(pattern=SHORTCUT_PATTERN, examples=["saludo"])
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(
        min_length=1,
        max_length=MAX_BODY,
        description="May hold {{customer_first_name}} and {{agent_name}}, filled on send.",
    )
    team_id: uuid.UUID | None = Field(default=None, description="Absent or null: global.")


class CannedReplyPatch(_Request):
    """Only the fields present change; `teamId: null` makes the reply global."""

    shortcut: str | None = Field(default=None, pattern=SHORTCUT_PATTERN)
    title: str | None = Field(default=None, min_length=1, max_length=100)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    team_id: uuid.UUID | None = None


class CannedReplyOut(ApiModel):
    id: uuid.UUID
    team_id: uuid.UUID | None = Field(description="null: global")
    shortcut: str
    title: str
    body: str
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp


class CannedReplyList(ApiModel):
    items: list[CannedReplyOut]


class PreviewIn(_Request):
    interaction_id: uuid.UUID


class PreviewOut(ApiModel):
    text: str = Field(description="The body with its variables filled, masked for the viewer.")
