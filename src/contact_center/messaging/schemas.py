from __future__ import annotations

import uuid
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from contact_center.interactions.schemas import MessageOut
from contact_center.schemas import ApiModel, RequestModel, Timestamp
from contact_center.whatsapp_templates.schemas import TemplateSendIn


class _Request(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SmsSend(_Request):
    to: str = Field(min_length=1, max_length=64, examples=["+54 9 11 5555-1234"])
    body: str = Field(min_length=1, max_length=1600)
    customer_ref: str | None = Field(default=None, max_length=128)
    assigned_agent: str | None = Field(default=None, max_length=128)


class SmsVerificationLink(_Request):
    to: str = Field(min_length=1, max_length=64)
    url: str | None = Field(default=None, max_length=2000, description="https, under FRONTEND_URL")
    customer_ref: str | None = Field(default=None, max_length=128)


class SmsOnboarding(_Request):
    to: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=60)
    url: str | None = Field(default=None, max_length=2000, description="https, under FRONTEND_URL")
    customer_ref: str | None = Field(default=None, max_length=128)


class SmsActivateCard(_Request):
    to: str = Field(min_length=1, max_length=64)
    card_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    customer_ref: str | None = Field(default=None, max_length=128)


class WhatsAppSend(_Request):
    to: str = Field(min_length=1, max_length=64)
    body: str | None = Field(default=None, min_length=1, max_length=4096)
    # An approved template instead of `body` (any time, also outside the 24-hour window).
    template: TemplateSendIn | None = None
    media_url: str | None = Field(default=None, max_length=2000)
    assigned_agent: str | None = Field(default=None, max_length=128)
    customer_ref: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _body_or_template(self) -> WhatsAppSend:
        if (self.body is None) == (self.template is None):
            raise ValueError("give exactly one of body and template")
        if self.template is not None and self.media_url is not None:
            raise ValueError("a template message takes no mediaUrl")
        return self


class Accepted(ApiModel):
    """202: the message is stored QUEUED; a worker job delivers it."""

    interaction_id: uuid.UUID
    message_id: uuid.UUID
    status: str = "QUEUED"


class DiagnosticRequest(_Request):
    interaction_id: uuid.UUID


class ProviderErrorOut(ApiModel):
    at: Timestamp
    code: str | None
    message: str | None


class Diagnostic(ApiModel):
    interaction_id: uuid.UUID
    message_counts: dict[str, dict[str, int]]
    last_messages: list[MessageOut]
    last_errors: list[ProviderErrorOut]


class LinkStateOut(ApiModel):
    status: str = Field(description="valid | expired | used")
    kind: str
    expires_at: Timestamp
    interaction_id: uuid.UUID


def dump(model: ApiModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
