"""Outbound SMS and WhatsApp (docs/api.md). Every send answers 202."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import FileResponse

from contact_center.audit import service as audit
from contact_center.auth.reveal import RevealAsk, RevealReason
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import NotFound, ValidationFailed
from contact_center.media import MediaStore, disposition, safe_content_type
from contact_center.messaging import attachments, outbound
from contact_center.messaging.schemas import (
    Accepted,
    Diagnostic,
    DiagnosticRequest,
    SmsActivateCard,
    SmsSend,
    WhatsAppSend,
)
from contact_center.messaging.sender import SEND_RESPONSES, Sender, SenderDep
from contact_center.models.enums import MessageKind
from contact_center.pii import mask_text
from contact_center.schemas import ErrorEnvelope
from contact_center.whatsapp_templates import service as whatsapp_templates
from contact_center.whatsapp_templates.schemas import TemplateSendIn
from contact_center.whatsapp_templates.service import templates_unavailable

router = APIRouter(tags=["messaging"], responses=SEND_RESPONSES)


@router.post("/api/sms/send", status_code=202, response_model=Accepted, summary="Send a text SMS")
async def sms_send(payload: Annotated[SmsSend, Body()], sender: SenderDep) -> Accepted:
    to = await sender.recipient(payload.to)
    queued = await outbound.queue_sms(
        sender.session,
        sender.context,
        to=to,
        body=payload.body,
        kind=MessageKind.TEXT,
        from_number=sender.from_number,
        customer_ref=payload.customer_ref,
        assigned_agent=payload.assigned_agent,
    )
    return sender.accepted(queued)


@router.post(
    "/api/sms/activate-card",
    status_code=202,
    response_model=Accepted,
    summary="Send card-activation instructions",
)
async def sms_activate_card(
    payload: Annotated[SmsActivateCard, Body()], sender: SenderDep
) -> Accepted:
    to = await sender.recipient(payload.to)
    queued = await outbound.queue_sms(
        sender.session,
        sender.context,
        to=to,
        body=sender.runtime.templates.card_activation(payload.card_last4),
        kind=MessageKind.CARD_ACTIVATION,
        from_number=sender.from_number,
        customer_ref=payload.customer_ref,
    )
    return sender.accepted(queued)


@router.post(
    "/api/whatsapp/send",
    status_code=202,
    response_model=Accepted,
    summary="Send a WhatsApp message",
    responses={
        409: {
            "model": ErrorEnvelope,
            "description": "The 24-hour window is closed (whatsapp_window_closed), templates "
            "need the Cloud API (templates_unavailable) or the template is not APPROVED "
            "(template_not_approved)",
        }
    },
)
async def whatsapp_send(payload: Annotated[WhatsAppSend, Body()], sender: SenderDep) -> Accepted:
    """Into the customer's current conversation (activity in the last 24 h) or a new one;
    free text within the 24-hour window, an approved `template` at any time."""
    if payload.template is not None:
        return await _send_template(payload, payload.template, sender)
    assert payload.body is not None  # the schema asks for one of body and template
    if payload.media_url is not None and not payload.media_url.startswith("https://"):
        raise ValidationFailed(
            "mediaUrl must be a public https URL.",
            details=[{"field": "body.mediaUrl", "message": "must start with https://"}],
        )
    to = await sender.recipient(payload.to)
    queued = await outbound.queue_whatsapp(
        sender.session,
        sender.context,
        to=to,
        body=payload.body,
        media_url=payload.media_url,
        assigned_agent=payload.assigned_agent,
        customer_ref=payload.customer_ref,
        provider=sender.whatsapp_provider,
    )
    return sender.accepted(queued)


async def _send_template(
    payload: WhatsAppSend, template: TemplateSendIn, sender: Sender
) -> Accepted:
    if sender.runtime.providers.whatsapp_templates is None:
        raise templates_unavailable()
    row, filled = await whatsapp_templates.for_send(
        sender.session, template.name, template.language, template.variables
    )
    to = await sender.recipient(payload.to)
    queued = await outbound.queue_whatsapp_template(
        sender.session,
        sender.context,
        to=to,
        template_row=row,
        filled=filled,
        assigned_agent=payload.assigned_agent,
        customer_ref=payload.customer_ref,
    )
    return sender.accepted(queued)


@router.post(
    "/api/whatsapp/diagnostic",
    response_model=Diagnostic,
    summary="Diagnose a WhatsApp conversation",
)
async def whatsapp_diagnostic(
    payload: Annotated[DiagnosticRequest, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    reveal_reason: RevealReason = None,
) -> Diagnostic:
    """Message counts by direction and status, the last 10 messages and the provider's errors."""
    return await outbound.diagnostic_for(
        session, settings, context, payload.interaction_id, RevealAsk(False, reveal_reason)
    )


@router.get(
    "/api/interactions/{interaction_id}/messages/{message_id}/media/{index}",
    response_class=FileResponse,
    summary="A WhatsApp message's media (image, document, voice note)",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
    },
)
async def message_media(
    interaction_id: uuid.UUID,
    message_id: uuid.UUID,
    index: Annotated[int, Path(ge=0, le=99, description="The item's position in `media`")],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> FileResponse:
    """The stored copy of the message's `media[index]` (fetched from the provider by a job
    after the message arrived), for whoever may see the conversation; 404 while it is not
    stored (or when it failed: `media[index].error`)."""
    item = await attachments.stored_media(
        session, interaction_id, message_id, index, context.principal
    )
    path = MediaStore(settings.media_dir).path_for(item.sha256)
    if path is None or not path.is_file():
        raise NotFound("No stored media with that index.", code="media_not_found")
    await audit.record(
        session,
        context,
        "whatsapp.media.accessed",
        entity_type="message",
        entity_id=message_id,
        metadata={"interactionId": str(interaction_id), "index": index},
    )
    content_type = safe_content_type(item.content_type)
    return FileResponse(
        path,
        media_type=content_type,
        headers={
            # The name masked as the API shows it (a file name can carry a document number).
            "Content-Disposition": disposition(
                content_type,
                mask_text(item.filename) if item.filename else None,
                f"media-{message_id}-{index}",
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
