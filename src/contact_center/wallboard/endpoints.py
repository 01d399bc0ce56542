"""`GET /api/metrics/wallboard` (docs/service-levels.md, "The wallboard")."""

from __future__ import annotations

from fastapi import APIRouter

from contact_center.dependencies import SUPERVISOR_ONLY, PrincipalDep, SessionDep, SettingsDep
from contact_center.schemas import ERROR_RESPONSES
from contact_center.wallboard import service
from contact_center.wallboard.schemas import Wallboard

router = APIRouter(
    prefix="/api/metrics",
    tags=["metrics"],
    responses=ERROR_RESPONSES,
    dependencies=SUPERVISOR_ONLY,
)


@router.get("/wallboard", response_model=Wallboard, summary="Each team's queue and people now")
async def wallboard(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> Wallboard:
    """Per team of the caller (an admin: every team; a supervisor: theirs) and the shared
    pool: conversations waiting and the longest wait, open conversations held, calls in
    progress, breaches now, service levels met today, people by availability; and each
    person's availability and load."""
    return await service.wallboard(session, settings, principal)
