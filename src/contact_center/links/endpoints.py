"""Signed links: the bank's front end asks whether a token is valid (docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from contact_center.dependencies import PrincipalDep, SessionDep
from contact_center.errors import Conflict
from contact_center.links.service import LinkState, open_link, use_link
from contact_center.messaging.schemas import LinkStateOut
from contact_center.runtime import Runtime
from contact_center.schemas import ERROR_RESPONSES

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
    token: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> LinkStateOut:
    """The first open is recorded on the interaction's timeline (`link.opened`)."""
    runtime: Runtime = request.app.state.runtime
    return _out(await open_link(session, runtime.keys.link_signing_key, token, principal))


@router.post(
    "/{token}/use",
    response_model=LinkStateOut,
    responses={409: ERROR_RESPONSES[404]},
    summary="Use a link (once)",
)
async def consume_link(
    token: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> LinkStateOut:
    """Marks a valid link used; 409 when it is expired or was used already."""
    runtime: Runtime = request.app.state.runtime
    state, used_now = await use_link(session, runtime.keys.link_signing_key, token, principal)
    if not used_now:
        raise Conflict(f"The link is {state.status}.", code=f"link_{state.status}")
    return _out(LinkState("used", state.kind, state.expires_at, state.interaction_id))
