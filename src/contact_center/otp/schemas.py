from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from contact_center.models.enums import OtpChannel, OtpPurpose, OtpStatus
from contact_center.schemas import ApiModel, RequestModel, Timestamp


class TxContext(RequestModel):
    """What a TX_CONFIRMATION code confirms: shown in the SMS, checked at verification."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: str = Field(max_length=32, examples=["150000.00"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["ARS"])
    payee: str = Field(min_length=1, max_length=100)

    @field_validator("amount")
    @classmethod
    def _decimal(cls, value: str) -> str:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError("must be a decimal number such as 150000.00") from None
        if not amount.is_finite() or amount <= 0:
            raise ValueError("must be a positive decimal number")
        return value


class OtpCreate(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    purpose: OtpPurpose
    interaction_id: uuid.UUID | None = Field(
        default=None, description="Where the OTP was requested from"
    )
    customer_ref: str | None = Field(default=None, max_length=128)
    correlation_id: str | None = Field(default=None, min_length=1, max_length=128)
    context: dict[str, Any] | None = None
    channel: OtpChannel = Field(
        default=OtpChannel.SMS,
        description="How the code goes: SMS, or WHATSAPP (the authentication template; needs "
        "WHATSAPP_PROVIDER=cloud, falls back to SMS when WhatsApp refuses it for good)",
    )


class OtpCreated(ApiModel):
    id: uuid.UUID
    correlation_id: str
    status: OtpStatus
    expires_at: Timestamp
    # The interaction the code goes on (its own outbound SMS or WhatsApp interaction).
    interaction_id: uuid.UUID
    channel: OtpChannel


class OtpVerify(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    challenge_id: uuid.UUID | None = None
    correlation_id: str | None = Field(default=None, max_length=128)
    code: str = Field(max_length=16)
    context: dict[str, Any] | None = None


class OtpVerified(ApiModel):
    verified: bool
    status: OtpStatus
    attempts_remaining: int
