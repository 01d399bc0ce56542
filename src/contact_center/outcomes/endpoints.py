"""HTTP routes of a conversation's outcomes (docs/service-levels.md)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from contact_center.dependencies import PrincipalDep, SessionDep
from contact_center.outcomes import service
from contact_center.outcomes.schemas import CsatOut
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(tags=["outcomes"], responses=ERROR_RESPONSES)


@router.get(
    "/api/interactions/{interaction_id}/csat",
    response_model=CsatOut,
    summary="A conversation's satisfaction survey and repeat contact",
)
async def get_csat(
    interaction_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> CsatOut:
    """In the caller's scope (an agent: their own conversations); the comment is masked."""
    return service.csat_out(await service.outcomes_for(session, interaction_id, principal))
