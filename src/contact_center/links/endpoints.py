"""Signed links: the bank's front end asks whether a token is valid (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from contact_center.dependencies import PrincipalDep, SessionDep
from contact_center.errors import Conflict
from contact_center.links import service
from contact_center.links.service import LinkState, open_link, use_link
from contact_center.messaging.schemas import (
    Accepted,
    LinkStateOut,
    SmsOnboarding,
    SmsVerificationLink,
)
from contact_center.messaging.sender import SEND_RESPONSES, Sender, SenderDep
from contact_center.models.enums import MessageKind
from contact_center.schemas import ERROR_RESPONSES
from contact_center.web import RuntimeDep

router = APIRouter(prefix="/api/links", tags=["links"], responses={404: ERROR_RESPONSES[404]})


def _out(state: LinkState) -> LinkStateOut:
    return LinkStateOut(
        status=state.status,
        kind=state.kind,
        expires_at=state.expires_at,
        interaction_id=state.interaction_id,
    )


@router.get("/{token}", response_model=LinkStateOut, summary="Is a link valid, expired or used?")
async def get_link(
    token: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> LinkStateOut:
    """The first open is recorded on the interaction's timeline (`link.opened`)."""
    return _out(await open_link(session, runtime.keys.link_signing_key, token, principal))


@router.post(
    "/{token}/use",
    response_model=LinkStateOut,
    responses={409: ERROR_RESPONSES[404]},
    summary="Use a link (once)",
)
async def consume_link(
    token: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> LinkStateOut:
    """Marks a valid link used; 409 when it is expired or was used already."""
    state, used_now = await use_link(session, runtime.keys.link_signing_key, token, principal)
    if not used_now:
        raise Conflict(f"The link is {state.status}.", code=f"link_{state.status}")
    return _out(LinkState("used", state.kind, state.expires_at, state.interaction_id))


# --- links sent by SMS (documented with the other sends) -------------------------------------

sms_router = APIRouter(tags=["messaging"], responses=SEND_RESPONSES)


@sms_router.post(
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
        sender, MessageKind.VERIFICATION_LINK, payload.to, payload.url, payload.customer_ref
    )


@sms_router.post(
    "/api/sms/onboarding",
    status_code=202,
    response_model=Accepted,
    summary="Send an onboarding link",
)
async def sms_onboarding(payload: Annotated[SmsOnboarding, Body()], sender: SenderDep) -> Accepted:
    """Without `url`, a signed link `{FRONTEND_URL}/onboarding/{token}` that expires."""
    return await _link_sms(
        sender,
        MessageKind.ONBOARDING_LINK,
        payload.to,
        payload.url,
        payload.customer_ref,
        name=payload.name,
    )


async def _link_sms(
    sender: Sender,
    kind: MessageKind,
    raw_to: str,
    url: str | None,
    customer_ref: str | None,
    *,
    name: str | None = None,
) -> Accepted:
    given = service.given_url(sender.settings, url)
    queued = await service.queue_link_sms(
        sender.session,
        sender.context,
        sender.settings,
        sender.runtime.templates,
        sender.runtime.keys.link_signing_key,
        kind=kind,
        to=await sender.recipient(raw_to),
        url=given,
        from_number=sender.from_number,
        customer_ref=customer_ref,
        name=name,
    )
    return sender.accepted(queued)
