"""Inbound provider webhooks and the ledger's operator routes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from contact_center.dependencies import ADMIN_ONLY, SessionDep
from contact_center.errors import Forbidden, NotFound, Unauthenticated, error_response
from contact_center.models.enums import WebhookStatus
from contact_center.providers.base import (
    InboundAdapter,
    InboundAuthFailed,
    InboundRoute,
    ProviderName,
)
from contact_center.providers.registry import INBOUND_ROUTES
from contact_center.schemas import ERROR_RESPONSES
from contact_center.webhooks import repository
from contact_center.webhooks.ingest import WebhookDeps, ingest, replay
from contact_center.webhooks.schemas import (
    WebhookAck,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookUpdateAck,
)
from contact_center.webhooks.service import IncomingDelivery

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])
# A string with a pattern (not the enum) keeps the API's schema of this filter as it was.
STATUS_PATTERN = "^(" + "|".join(WebhookStatus) + ")$"

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
    adapter = deps.adapter(provider)
    try:
        adapter.authenticate(incoming)
    except InboundAuthFailed as exc:
        log.warning("webhook_rejected", provider=provider.value, reason=str(exc))
        raise Unauthenticated(
            "Webhook authentication failed.", code="webhook_unauthenticated"
        ) from None
    # One ledger row per update: a body may batch several (each stored and applied alone).
    results = [
        await ingest(
            deps,
            replace(incoming, raw=body) if body is not raw else incoming,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
        for body in _updates(adapter, provider, raw)
    ]
    invalid = [result for result in results if result.http_status == 422]
    # A batch is answered 200 once every update is stored, even when some could not be read
    # (kept INVALID, each in the answer's `updates`): a 4xx would make the provider deliver the
    # whole batch again for days. Only a body with nothing readable answers 422.
    if invalid and len(invalid) == len(results):
        details: dict[str, Any] = {"deliveryId": str(invalid[0].delivery_id)}
        if len(results) > 1:
            details["deliveryIds"] = [str(result.delivery_id) for result in invalid]
        return error_response(
            422,
            "unparseable_payload",
            invalid[0].error or "The payload could not be read.",
            details=details,
        )
    first = results[0]
    ack = WebhookAck(
        delivery_id=first.delivery_id,
        status=first.status,
        duplicate=first.duplicate,
        updates=[
            WebhookUpdateAck(
                delivery_id=result.delivery_id, status=result.status, duplicate=result.duplicate
            )
            for result in results
        ]
        if len(results) > 1
        else None,
    )
    unbatched = {"updates"} if ack.updates is None else None  # other providers' answer as it was
    return JSONResponse(ack.model_dump(mode="json", by_alias=True, exclude=unbatched))


def _updates(adapter: InboundAdapter, provider: ProviderName, raw: bytes) -> list[bytes]:
    """The body's updates; the whole body (kept INVALID if unreadable) should splitting fail."""
    try:
        bodies = adapter.updates(raw)
    except Exception as exc:  # a splitter's bug is no reason to lose or 500 a delivery
        log.error("webhook_split_failed", provider=provider.value, exc_info=exc)
        return [raw]
    return bodies or [raw]


async def _handshake(request: Request, provider: ProviderName) -> Response:
    deps: WebhookDeps = request.app.state.webhooks
    try:
        challenge = deps.adapter(provider).verify_subscription(dict(request.query_params))
    except InboundAuthFailed as exc:
        log.warning("webhook_verification_failed", provider=provider.value, reason=str(exc))
        raise Forbidden(
            "Webhook subscription verification failed.", code="webhook_verification_failed"
        ) from None
    log.info("webhook_verified", provider=provider.value)
    return PlainTextResponse(challenge)


_ENVELOPE = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
_HANDSHAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The subscription is verified: the body is `hub.challenge`",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    403: {
        "description": "Wrong mode or verify token (or no challenge); nothing is verified",
        "content": _ENVELOPE,
    },
    422: {"description": "A query string no text column takes (NUL)", "content": _ENVELOPE},
}


def _add_webhook_route(provider: ProviderName, route: InboundRoute) -> None:
    async def receive(request: Request) -> JSONResponse:
        return await _receive(request, provider)

    router.add_api_route(
        route.path,
        receive,
        methods=["POST"],
        name=route.name,
        summary=route.summary,
        description=route.description,
        responses=_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {route.content_type: {"schema": {"type": "object"}}},
            }
        },
    )
    if not route.handshake:
        return

    async def verify(
        request: Request,
        mode: Annotated[str | None, Query(alias="hub.mode")] = None,
        verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    ) -> Response:
        return await _handshake(request, provider)

    router.add_api_route(
        route.path,
        verify,
        methods=["GET"],
        name=f"{route.name}_verify",
        summary=f"{route.summary}: subscription handshake",
        description=(
            "The provider proves the callback URL before it delivers: `hub.mode=subscribe` and "
            "`hub.verify_token` equal to the configured verify token answer the raw "
            "`hub.challenge` as `text/plain`; anything else is 403. No signature is asked."
        ),
        response_class=PlainTextResponse,
        responses=_HANDSHAKE_RESPONSES,
    )


for _provider, _route in INBOUND_ROUTES.items():
    _add_webhook_route(_provider, _route)


class WebhookLane:
    """The providers' deliveries without the router's per-request machinery: a POST to a
    webhook path is answered here, inside the request id, the access log, the security headers
    and the body-size cap, by the same code as its documented route (which the OpenAPI
    document keeps describing). Errors answer as the app's handlers answer them; anything
    unexpected reaches the app's 500 handler, as from a route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths = {route.path: provider for provider, route in INBOUND_ROUTES.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self.paths.get(scope["path"]) if scope["type"] == "http" else None
        if provider is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response: Response = await _receive(request, provider)
        except Exception as exc:
            handler = _handler(scope, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _handler(scope: Scope, exc: Exception) -> Any:
    """The app's handler of `exc`, as its exception middleware finds it; None for the catch-all
    (the server-error middleware outside runs it)."""
    handlers = scope["app"].exception_handlers
    for kind in type(exc).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            return handlers[kind]
    return None


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
