"""The search API's shapes (docs/inbox.md, "Search")."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from contact_center.models.enums import Channel
from contact_center.schemas import ApiModel, Timestamp

Source = Literal["message", "transcript", "summary", "customer"]


class SearchHit(ApiModel):
    interaction_id: uuid.UUID
    channel: Channel
    source: Source = Field(
        description="Where the words were found: a message's text, a call's transcript or "
        "summary, or the customer (their reference, or digits of their number)."
    )
    message_id: uuid.UUID | None = Field(description="The message found (source `message`).")
    snippet: str = Field(description="Masked text around the hit, about 160 characters.")
    at: Timestamp = Field(
        description="The message's time; a call's start for a transcript or summary; the "
        "conversation's last change for a customer."
    )
    customer_name: str | None
    customer_phone: str | None


class SearchPage(ApiModel):
    items: list[SearchHit]
    has_more: bool
