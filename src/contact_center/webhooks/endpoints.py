"""Inbound provider webhooks and the ledger's operator routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from contact_center.dependencies import ADMIN_ONLY, SessionDep
from contact_center.errors import NotFound, Unauthenticated, error_response
from contact_center.models.enums import WebhookStatus
from contact_center.providers.base import InboundAuthFailed, ProviderName
from contact_center.schemas import ERROR_RESPONSES
from contact_center.webhooks import repository
from contact_center.webhooks.ingest import WebhookDeps, ingest, replay
from contact_center.webhooks.schemas import WebhookAck, WebhookDeliveryOut, WebhookDeliveryPage
from contact_center.webhooks.service import IncomingDelivery

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])
# A string with a pattern (not the enum) keeps the API's schema of this filter as it was.
STATUS_PATTERN = "^(" + "|".join(WebhookStatus) + ")$"

_JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WebhookAck, "description": "Stored (and applied, unless it failed or waits)"},
    401: ERROR_RESPONSES[404]
    | {"description": "Signature or token missing or wrong; nothing stored"},
    422: ERROR_RESPONSES[422] | {"description": "Unparseable body; stored with its error"},
}


async def _receive(request: Request, provider: ProviderName) -> JSONResponse:
    raw = await request.body()
    deps: WebhookDeps = request.app.state.webhooks
    incoming = IncomingDelivery(
        provider=provider,
        raw=raw,
        headers={key.lower(): value for key, value in request.headers.items()},
        query=dict(request.query_params),
        url=str(request.url),
        content_type=request.headers.get("content-type"),
    )
    try:
        deps.adapter(provider).authenticate(incoming)
    except InboundAuthFailed as exc:
        log.warning("webhook_rejected", provider=provider.value, reason=str(exc))
        raise Unauthenticated(
            "Webhook authentication failed.", code="webhook_unauthenticated"
        ) from None
    result = await ingest(
        deps,
        incoming,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    if result.http_status == 422:
        return error_response(
            422,
            "unparseable_payload",
            result.error or "The payload could not be read.",
            details={"deliveryId": str(result.delivery_id)},
        )
    ack = WebhookAck(
        delivery_id=result.delivery_id, status=result.status, duplicate=result.duplicate
    )
    return JSONResponse(ack.model_dump(mode="json", by_alias=True))


@router.post(
    "/webhooks/elevenlabs/call",
    responses=_RESPONSES,
    openapi_extra=_JSON_BODY,
    summary="ElevenLabs post-call events",
)
async def elevenlabs_call(request: Request) -> JSONResponse:
    """`post_call_transcription`, `post_call_audio`, `call_initiation_failure`; HMAC-signed."""
    return await _receive(request, ProviderName.ELEVENLABS)


@router.post(
    "/webhooks/builderbot/whatsapp",
    responses=_RESPONSES,
    openapi_extra=_JSON_BODY,
    summary="BuilderBot WhatsApp events",
)
async def builderbot_whatsapp(request: Request) -> JSONResponse:
    """`message.incoming` and `message.outgoing`; `X-Webhook-Token` or `?token=`."""
    return await _receive(request, ProviderName.BUILDERBOT)


@router.post(
    "/webhooks/twilio/sms/status",
    responses=_RESPONSES,
    openapi_extra=_FORM_BODY,
    summary="Twilio SMS status callbacks",
)
async def twilio_status(request: Request) -> JSONResponse:
    """Form-encoded status callbacks, checked with `X-Twilio-Signature`."""
    return await _receive(request, ProviderName.TWILIO)


@router.get(
    "/api/webhooks",
    response_model=WebhookDeliveryPage,
    tags=["webhooks"],
    summary="Webhook ledger",
    responses=ERROR_RESPONSES,
    dependencies=ADMIN_ONLY,
)
async def list_deliveries(
    session: SessionDep,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    provider: ProviderName | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> WebhookDeliveryPage:
    """Every stored delivery, newest first; `status=FAILED` lists what needs a replay."""
    rows = await repository.listing(
        session,
        status=WebhookStatus(status) if status else None,
        provider=provider.value if provider else None,
        limit=limit,
        skip=skip,
    )
    return WebhookDeliveryPage(
        items=[WebhookDeliveryOut.model_validate(r) for r in rows[:limit]],
        limit=limit,
        skip=skip,
        has_more=len(rows) > limit,
    )


@router.post(
    "/api/webhooks/{delivery_id}/replay",
    response_model=WebhookDeliveryOut,
    responses=ERROR_RESPONSES,
    dependencies=ADMIN_ONLY,
    summary="Replay a stored delivery",
)
async def replay_delivery(
    delivery_id: uuid.UUID, request: Request, session: SessionDep
) -> WebhookDeliveryOut:
    """Apply a FAILED, INVALID or DEFERRED delivery again; a processed one is left as it is."""
    deps: WebhookDeps = request.app.state.webhooks
    try:
        await replay(deps, delivery_id)
    except LookupError:
        raise NotFound(
            f"No webhook delivery with id {delivery_id}.", code="delivery_not_found"
        ) from None
    row = await repository.get(session, delivery_id)
    assert row is not None
    return WebhookDeliveryOut.model_validate(row)
