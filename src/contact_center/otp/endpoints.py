"""OTP for banking flows (docs/api.md). Answers never say whether a phone is a customer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.messaging.sender import Sender, SenderDep
from contact_center.models.enums import OtpChannel
from contact_center.otp import service
from contact_center.otp.schemas import OtpCreate, OtpCreated, OtpVerified, OtpVerify
from contact_center.schemas import ERROR_RESPONSES, ErrorEnvelope
from contact_center.web import RuntimeDep, valid_phone

router = APIRouter(
    tags=["otp"], responses=ERROR_RESPONSES | {429: {"description": "Rate limited (Retry-After)"}}
)
CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorEnvelope,
        "description": "correlationId already used (correlation_id_taken), or a WhatsApp code "
        "without the Cloud API as the sender (whatsapp_otp_unavailable)",
    }
}


async def _create(payload: OtpCreate, sender: Sender) -> OtpCreated:
    # The OTP limit governs OTP messages, not the per-recipient anti-spam limit.
    phone = valid_phone(sender.settings, payload.phone, field="body.phone")
    created = await service.create(
        sender.session,
        sender.settings,
        sender.runtime.templates,
        sender.context,
        payload,
        phone,
        sender.from_number,
    )
    sender.background.add_task(sender.runtime.jobs.enqueue_send, str(created.message_id), 0)
    challenge = created.challenge
    assert challenge.interaction_id is not None
    return OtpCreated(
        id=challenge.id,
        correlation_id=challenge.correlation_id,
        status=challenge.status,
        expires_at=challenge.expires_at,
        interaction_id=challenge.interaction_id,
        channel=challenge.channel,
    )


@router.post(
    "/api/otp",
    status_code=201,
    response_model=OtpCreated,
    responses=CREATE_RESPONSES,
    summary="Create an OTP challenge",
)
async def create_otp(payload: Annotated[OtpCreate, Body()], sender: SenderDep) -> OtpCreated:
    """Queues an SMS (or, with `channel: "WHATSAPP"`, the WhatsApp authentication template)
    with a fresh code; a new challenge cancels the open one for that phone and purpose. At most
    OTP_RATE_LIMIT_MAX per phone and purpose per window (429 otherwise). WHATSAPP needs the
    Cloud API as the WhatsApp sender (409 `whatsapp_otp_unavailable` otherwise); a code WhatsApp
    refuses for good goes by SMS instead."""
    return await _create(payload, sender)


@router.post(
    "/api/sms/otp",
    status_code=201,
    response_model=OtpCreated,
    responses=CREATE_RESPONSES,
    summary="Send an OTP code by SMS",
)
async def sms_otp(payload: Annotated[OtpCreate, Body()], sender: SenderDep) -> OtpCreated:
    """The same as `POST /api/otp`, by SMS only (`channel` WHATSAPP: 422)."""
    if payload.channel is not OtpChannel.SMS:
        message = "this route sends by SMS; use POST /api/otp for WhatsApp"
        raise ValidationFailed(message, details=[{"field": "body.channel", "message": message}])
    return await _create(payload, sender)


@router.post("/api/otp/verify", response_model=OtpVerified, summary="Verify an OTP code")
async def verify_otp(
    payload: Annotated[OtpVerify, Body()],
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> OtpVerified:
    """200 for every existing challenge; `verified` is true only for the one that verifies it."""
    result = await service.verify(session, settings, runtime.keys.otp_pepper, context, payload)
    return OtpVerified(
        verified=result.verified, status=result.status, attempts_remaining=result.attempts_remaining
    )
