"""Outbound SMS and WhatsApp (SPEC §5 SMS and WhatsApp, §9.6). Every send answers 202."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Request

from contact_center.auth.reveal import resolve_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.interactions.schemas import MessageOut
from contact_center.interactions.service import mask_message
from contact_center.links.service import create_link
from contact_center.messaging import outbound
from contact_center.messaging.outbound import Queued
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
from contact_center.phones import normalize_valid
from contact_center.providers.registry import twilio_credentials
from contact_center.runtime import Runtime
from contact_center.schemas import ERROR_RESPONSES
from contact_center.settings import Settings

router = APIRouter(
    tags=["messaging"],
    responses=ERROR_RESPONSES
    | {
        413: {"description": "Body over 64 KiB"},
        429: {"description": "Too many messages to this recipient (Retry-After)"},
    },
)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _phone(settings: Settings, raw: str, field: str = "to") -> str:
    phone = normalize_valid(raw, settings.default_phone_region)
    if phone is None:
        raise ValidationFailed(
            "The phone number is not valid.",
            code="invalid_phone",
            details=[{"field": f"body.{field}", "message": "not a valid phone number"}],
        )
    return phone


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
    if not url.startswith("https://") or not (
        url == settings.frontend_url or url.startswith(settings.frontend_url + "/")
    ):
        raise ValidationFailed(
            "The link must be https and under FRONTEND_URL.",
            details=[{"field": "body.url", "message": f"must start with {settings.frontend_url}/"}],
        )
    return url


def _accepted(queued: Queued, background: BackgroundTasks, runtime: Runtime) -> Accepted:
    # Enqueued after the response, so after the commit; if lost, the reconciler finds the row.
    background.add_task(runtime.jobs.enqueue_send, str(queued.message_id), queued.attempt)
    return Accepted(interaction_id=queued.interaction_id, message_id=queued.message_id)


@router.post("/api/sms/send", status_code=202, response_model=Accepted, summary="Send a text SMS")
async def sms_send(
    payload: Annotated[SmsSend, Body()],
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Accepted:
    runtime = _runtime(request)
    to = _phone(settings, payload.to)
    await outbound.check_recipient_limit(runtime.ratelimits, to)
    queued = await outbound.queue_sms(
        session,
        context,
        to=to,
        body=payload.body,
        kind="TEXT",
        from_number=twilio_credentials(settings).from_number,
        customer_ref=payload.customer_ref,
        assigned_agent=payload.assigned_agent,
    )
    return _accepted(queued, background, runtime)


@router.post(
    "/api/sms/verification-link",
    status_code=202,
    response_model=Accepted,
    summary="Send an identity-verification link",
)
async def sms_verification_link(
    payload: Annotated[SmsVerificationLink, Body()],
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Accepted:
    """Without `url`, a signed link `{FRONTEND_URL}/verify/{token}` that expires."""
    return await _link_sms(
        "VERIFICATION_LINK",
        payload.to,
        payload.url,
        None,
        payload.customer_ref,
        request,
        background,
        session,
        settings,
        context,
    )


@router.post(
    "/api/sms/onboarding",
    status_code=202,
    response_model=Accepted,
    summary="Send an onboarding link",
)
async def sms_onboarding(
    payload: Annotated[SmsOnboarding, Body()],
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Accepted:
    """Without `url`, a signed link `{FRONTEND_URL}/onboarding/{token}` that expires."""
    return await _link_sms(
        "ONBOARDING_LINK",
        payload.to,
        payload.url,
        payload.name,
        payload.customer_ref,
        request,
        background,
        session,
        settings,
        context,
    )


async def _link_sms(
    kind: str,
    raw_to: str,
    url: str | None,
    name: str | None,
    customer_ref: str | None,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: Settings,
    context: AuditContextDep,
) -> Accepted:
    runtime = _runtime(request)
    to = _phone(settings, raw_to)
    given = _link_url(settings, url)
    await outbound.check_recipient_limit(runtime.ratelimits, to)
    hours = str(max(1, settings.link_ttl_seconds // 3600))
    placeholder = "{link}"
    values = {"url": placeholder, "hours": hours}
    if kind == "ONBOARDING_LINK":
        values["name_part"] = f" {name}" if name else ""
    template_body = runtime.templates.render(kind, **values)
    queued = await outbound.queue_sms(
        session,
        context,
        to=to,
        body=template_body,
        kind=kind,
        from_number=twilio_credentials(settings).from_number,
        customer_ref=customer_ref,
        audit_metadata={"signedLink": given is None},
    )
    if given is None:
        assert settings.frontend_url is not None
        _, link_url = await create_link(
            session,
            kind=kind,
            interaction_id=queued.interaction_id,
            ttl_seconds=settings.link_ttl_seconds,
            key=runtime.keys.link_signing_key,
            frontend_url=settings.frontend_url,
        )
    else:
        link_url = given
    await outbound.set_body(
        session, queued.message_id, template_body.replace(placeholder, link_url)
    )
    return _accepted(queued, background, runtime)


@router.post(
    "/api/sms/activate-card",
    status_code=202,
    response_model=Accepted,
    summary="Send card-activation instructions",
)
async def sms_activate_card(
    payload: Annotated[SmsActivateCard, Body()],
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Accepted:
    runtime = _runtime(request)
    to = _phone(settings, payload.to)
    await outbound.check_recipient_limit(runtime.ratelimits, to)
    card_part = f" terminada en {payload.card_last4}" if payload.card_last4 else ""
    queued = await outbound.queue_sms(
        session,
        context,
        to=to,
        body=runtime.templates.render("CARD_ACTIVATION", card_part=card_part),
        kind="CARD_ACTIVATION",
        from_number=twilio_credentials(settings).from_number,
        customer_ref=payload.customer_ref,
    )
    return _accepted(queued, background, runtime)


@router.post(
    "/api/whatsapp/send",
    status_code=202,
    response_model=Accepted,
    summary="Send a WhatsApp message",
)
async def whatsapp_send(
    payload: Annotated[WhatsAppSend, Body()],
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Accepted:
    """Into the customer's current conversation (activity in the last 24 h) or a new one."""
    runtime = _runtime(request)
    to = _phone(settings, payload.to)
    if payload.media_url is not None and not payload.media_url.startswith("https://"):
        raise ValidationFailed(
            "mediaUrl must be a public https URL.",
            details=[{"field": "body.mediaUrl", "message": "must start with https://"}],
        )
    await outbound.check_recipient_limit(runtime.ratelimits, to)
    queued = await outbound.queue_whatsapp(
        session,
        context,
        to=to,
        body=payload.body,
        media_url=payload.media_url,
        assigned_agent=payload.assigned_agent,
        customer_ref=payload.customer_ref,
    )
    return _accepted(queued, background, runtime)


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
) -> Diagnostic:
    """Message counts by direction and status, the last 10 messages and the provider's errors."""
    result = await outbound.diagnostic(session, payload.interaction_id)
    reveal = await resolve_reveal(
        session,
        settings,
        context,
        include_pii=False,
        reason=None,
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
