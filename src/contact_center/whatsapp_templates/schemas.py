from __future__ import annotations

import uuid
from typing import Any

from pydantic import ConfigDict, Field

from contact_center.schemas import ApiModel, RequestModel, Timestamp

# At most this many variables in a send (Meta's templates take far fewer).
MAX_VARIABLES = 100


class TemplateSendIn(RequestModel):
    """An approved template to send instead of a free text (`POST /api/whatsapp/send`)."""

    # Variables keep their spaces (Meta's rules on them are checked, not repaired).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    name: str = Field(min_length=1, max_length=512, examples=["payment_reminder"])
    language: str = Field(min_length=2, max_length=16, examples=["es_AR"])
    variables: list[str] = Field(
        default_factory=list,
        max_length=MAX_VARIABLES,
        description="One value per placeholder: the body's in order, then each URL button's",
    )


class TemplateOut(ApiModel):
    id: uuid.UUID
    name: str
    language: str
    status: str
    category: str
    body_text: str | None
    body_variables: int
    button_variables: int = 0
    header_variables: int = 0
    components: list[dict[str, Any]]
    provider_template_id: str | None
    present: bool
    synced_at: Timestamp
    updated_at: Timestamp


class TemplatePage(ApiModel):
    items: list[TemplateOut]
    limit: int
    skip: int
    has_more: bool


class SyncQueued(ApiModel):
    """202: the sync job is queued; its audit row (`whatsapp.templates.sync`) has the counts."""

    status: str = "QUEUED"
