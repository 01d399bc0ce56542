"""Console pages of teams and people (docs/workflow.md, "Teams and people"): the availability
selector in the header (every signed-in user) and the teams page (supervisors and admins).
The forms call the API (`data-api`); these routes only read, through the teams service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from contact_center.console.pages import page
from contact_center.dependencies import PrincipalDep, SessionDep, require
from contact_center.models.enums import Availability, Channel, RoutingMode
from contact_center.principal import Principal, Role
from contact_center.teams import service as teams

router = APIRouter(include_in_schema=False)
SupervisorPage = Annotated[Principal, Depends(require(Role.SUPERVISOR))]


@router.get("/console/availability", response_class=HTMLResponse)
async def availability_partial(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> HTMLResponse:
    """The header's selector, loaded once per page (the principal carries no availability)."""
    current = await teams.availability_of(session, principal.user_id)
    return page(
        request,
        "_availability_form.html",
        current=current.value if current else None,
        availabilities=[a.value for a in Availability],
    )


@router.get("/teams", response_class=HTMLResponse)
async def teams_page(request: Request, session: SessionDep, _: SupervisorPage) -> HTMLResponse:
    listed = await teams.list_teams(session)
    return page(
        request,
        "teams.html",
        active="teams",
        teams=listed.items,
        names={t.id: t.name for t in listed.items},
        rules=await teams.list_rules(session),
        agents=(await teams.agents(session)).items,
        modes=[m.value for m in RoutingMode],
        channels=[c.value for c in Channel],
        availabilities=[a.value for a in Availability],
    )
