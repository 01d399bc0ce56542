"""Wire models of a conversation's survey and repeat contact (docs/service-levels.md)."""

from __future__ import annotations

import uuid
from typing import Literal

from contact_center.models.enums import Channel, Handler
from contact_center.schemas import ApiModel, Timestamp


class RepeatContactOut(ApiModel):
    repeat_interaction_id: uuid.UUID
    detected_at: Timestamp


class CsatOut(ApiModel):
    """The conversation's satisfaction survey (`survey` null: none was sent) and whether it was
    resolved first time (`repeatContact` null: no repeat contact found)."""

    interaction_id: uuid.UUID
    survey: CsatSurveyOut | None
    repeat_contact: RepeatContactOut | None
    first_contact_resolution: bool


class CsatSurveyOut(ApiModel):
    id: uuid.UUID
    status: Literal["open", "answered", "expired"]
    channel: Channel
    handler: Handler
    agent: str | None
    team_id: uuid.UUID | None
    sent_at: Timestamp
    expires_at: Timestamp
    answered_at: Timestamp | None
    score: int | None
    # Masked like any customer text (phone-number-like runs).
    comment: str | None


CsatOut.model_rebuild()
