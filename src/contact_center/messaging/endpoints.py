"""Outbound SMS and WhatsApp (docs/api.md). Every send answers 202."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from contact_center.auth.reveal import RevealReason, resolve_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.interactions.schemas import MessageOut
from contact_center.interactions.service import mask_message
from contact_center.links.service import create_link
from contact_center.messaging import outbound
from contact_center.messaging.schemas import (
    Accepted,
    Diagnostic,
    DiagnosticRequest,
    ProviderErrorOut,
    SmsActivateCard,
    SmsOnboarding,
    SmsSend,
    SmsVerificationLink,
    WhatsAppSend,
)
from contact_center.schemas import ERROR_RESPONSES
from contact_center.settings import Settings
from contact_center.web import Sender, SenderDep

router = APIRouter(
    tags=["messaging"],
    responses=ERROR_RESPONSES
    | {
        413: {"description": "Body over 64 KiB"},
        429: {"description": "Too many messages to this recipient (Retry-After)"},
    },
)


def _link_url(settings: Settings, url: str | None) -> str | None:
    """A given link must be https and under FRONTEND_URL: the bank never sends arbitrary links."""
    if settings.frontend_url is None:
        raise ValidationFailed(
            "FRONTEND_URL is not configured; links cannot be sent.",
            code="frontend_url_missing",
            details=[{"field": "body.url", "message": "set FRONTEND_URL"}],
        )
    if url is None:
        return None
    base = settings.frontend_url
    if not url.startswith("https://") or not (url == base or url.startswith(base + "/")):
        raise ValidationFailed(
            "The link must be https and under FRONTEND_URL.",
            details=[{"field": "body.url", "message": f"must start with {base}/"}],
        )
    return url


@router.post("/api/sms/send", status_code=202, response_model=Accepted, summary="Send a text SMS")
async def sms_send(payload: Annotated[SmsSend, Body()], sender: SenderDep) -> Accepted:
    to = await sender.recipient(payload.to)
    queued = await outbound.queue_sms(
        sender.session,
        sender.context,
        to=to,
        body=payload.body,
        kind="TEXT",
        from_number=sender.from_number,
        customer_ref=payload.customer_ref,
        assigned_agent=payload.assigned_agent,
    )
    return sender.accepted(queued)


@router.post(
    "/api/sms/verification-link",
    status_code=202,
    response_model=Accepted,
    summary="Send an identity-verification link",
)
async def sms_verification_link(
    payload: Annotated[SmsVerificationLink, Body()], sender: SenderDep
) -> Accepted:
    """Without `url`, a signed link `{FRONTEND_URL}/verify/{token}` that expires."""
    return await _link_sms(
        sender, "VERIFICATION_LINK", payload.to, payload.url, payload.customer_ref
    )


@router.post(
    "/api/sms/onboarding",
    status_code=202,
    response_model=Accepted,
    summary="Send an onboarding link",
)
async def sms_onboarding(payload: Annotated[SmsOnboarding, Body()], sender: SenderDep) -> Accepted:
    """Without `url`, a signed link `{FRONTEND_URL}/onboarding/{token}` that expires."""
    return await _link_sms(
        sender, "ONBOARDING_LINK", payload.to, payload.url, payload.customer_ref, name=payload.name
    )


async def _link_sms(
    sender: Sender,
    kind: str,
    raw_to: str,
    url: str | None,
    customer_ref: str | None,
    *,
    name: str | None = None,
) -> Accepted:
    settings, runtime = sender.settings, sender.runtime
    given = _link_url(settings, url)
    to = await sender.recipient(raw_to)
    placeholder = "{link}"
    values = {"url": placeholder, "hours": str(max(1, settings.link_ttl_seconds // 3600))}
    if kind == "ONBOARDING_LINK":
        values["name_part"] = f" {name}" if name else ""
    text = runtime.templates.render(kind, **values)
    queued = await outbound.queue_sms(
        sender.session,
        sender.context,
        to=to,
        body=text,
        kind=kind,
        from_number=sender.from_number,
        customer_ref=customer_ref,
        audit_metadata={"signedLink": given is None},
    )
    link_url = given
    if link_url is None:
        assert settings.frontend_url is not None
        _, link_url = await create_link(
            sender.session,
            kind=kind,
            interaction_id=queued.interaction_id,
            ttl_seconds=settings.link_ttl_seconds,
            key=runtime.keys.link_signing_key,
            frontend_url=settings.frontend_url,
        )
    await outbound.set_body(sender.session, queued.message_id, text.replace(placeholder, link_url))
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
    card_part = f" terminada en {payload.card_last4}" if payload.card_last4 else ""
    queued = await outbound.queue_sms(
        sender.session,
        sender.context,
        to=to,
        body=sender.runtime.templates.render("CARD_ACTIVATION", card_part=card_part),
        kind="CARD_ACTIVATION",
        from_number=sender.from_number,
        customer_ref=payload.customer_ref,
    )
    return sender.accepted(queued)


@router.post(
    "/api/whatsapp/send",
    status_code=202,
    response_model=Accepted,
    summary="Send a WhatsApp message",
)
async def whatsapp_send(payload: Annotated[WhatsAppSend, Body()], sender: SenderDep) -> Accepted:
    """Into the customer's current conversation (activity in the last 24 h) or a new one."""
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
    result = await outbound.diagnostic(session, payload.interaction_id, context.principal)
    reveal = await resolve_reveal(
        session,
        settings,
        context,
        include_pii=False,
        reason=reveal_reason,
        resource="whatsapp.diagnostic",
        entity_type="interaction",
        entity_id=payload.interaction_id,
    )
    messages = [MessageOut.model_validate(m) for m in result["last"]]
    return Diagnostic(
        interaction_id=payload.interaction_id,
        message_counts=result["counts"],
        last_messages=messages if reveal else [mask_message(m) for m in messages],
        last_errors=[ProviderErrorOut(**e) for e in result["errors"]],
    )
