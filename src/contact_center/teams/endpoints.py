"""Teams, routing rules, availability, capacity and the people list (docs/workflow.md)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from contact_center.dependencies import (
    SUPERVISOR_ONLY,
    AuditContextDep,
    PrincipalDep,
    SessionDep,
)
from contact_center.schemas import ERROR_RESPONSES, ErrorEnvelope
from contact_center.teams import service
from contact_center.teams.schemas import (
    AgentList,
    AvailabilityOut,
    AvailabilityPut,
    CapacityOut,
    CapacityPut,
    MembersPut,
    RuleCreate,
    RuleList,
    RuleOut,
    TeamCreate,
    TeamList,
    TeamOut,
    TeamPatch,
)

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorEnvelope, "description": "A team with that name exists"}
}
# Every signed-in user: the teams and the people (pickers), their own availability.
router = APIRouter(tags=["teams"], responses=ERROR_RESPONSES)
# Supervisors and admins: teams, members, rules, anyone's availability and capacity.
manage = APIRouter(
    tags=["teams"], responses=ERROR_RESPONSES | CONFLICT, dependencies=SUPERVISOR_ONLY
)


@router.get("/api/teams", response_model=TeamList, summary="Teams with their members")
async def list_teams(session: SessionDep, principal: PrincipalDep) -> TeamList:
    return await service.list_teams(session)


@router.get("/api/teams/{team_id}", response_model=TeamOut, summary="One team")
async def get_team(team_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> TeamOut:
    return await service.get_team(session, team_id)


@router.get("/api/agents", response_model=AgentList, summary="People, for pickers")
async def list_agents(session: SessionDep, principal: PrincipalDep) -> AgentList:
    """Active users with availability, teams, capacity and open conversations per channel."""
    return await service.agents(session)


@router.put(
    "/api/account/availability", response_model=AvailabilityOut, summary="Set my availability"
)
async def set_my_availability(
    body: Annotated[AvailabilityPut, Body()], session: SessionDep, context: AuditContextDep
) -> AvailabilityOut:
    return await service.set_availability(
        session, context, context.principal.user_id, body.availability
    )


@manage.post("/api/teams", status_code=201, response_model=TeamOut, summary="Create a team")
async def create_team(
    body: Annotated[TeamCreate, Body()], session: SessionDep, context: AuditContextDep
) -> TeamOut:
    """A taken name answers 409 `team_name_taken`; `isDefault` clears the flag elsewhere."""
    return await service.create_team(session, context, body)


@manage.patch("/api/teams/{team_id}", response_model=TeamOut, summary="Change a team")
async def update_team(
    team_id: uuid.UUID,
    body: Annotated[TeamPatch, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> TeamOut:
    return await service.update_team(session, context, team_id, body)


@manage.delete("/api/teams/{team_id}", status_code=204, summary="Delete a team")
async def delete_team(
    team_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> Response:
    """Its members and rules go with it; its waiting conversations join the shared pool."""
    await service.delete_team(session, context, team_id)
    return Response(status_code=204)


@manage.put("/api/teams/{team_id}/members", response_model=TeamOut, summary="Set a team's members")
async def set_members(
    team_id: uuid.UUID,
    body: Annotated[MembersPut, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> TeamOut:
    """The members, replaced. An unknown or disabled user: 422, nothing written."""
    return await service.set_members(session, context, team_id, body)


@manage.get("/api/routing/rules", response_model=RuleList, summary="Routing rules")
async def list_rules(session: SessionDep) -> RuleList:
    return RuleList(items=await service.list_rules(session))


@manage.post(
    "/api/routing/rules", status_code=201, response_model=RuleOut, summary="Add a routing rule"
)
async def create_rule(
    body: Annotated[RuleCreate, Body()], session: SessionDep, context: AuditContextDep
) -> RuleOut:
    """An unknown team: 422 `unknown_team`."""
    return await service.create_rule(session, context, body)


@manage.delete("/api/routing/rules/{rule_id}", status_code=204, summary="Delete a routing rule")
async def delete_rule(
    rule_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> Response:
    await service.delete_rule(session, context, rule_id)
    return Response(status_code=204)


@manage.put(
    "/api/users/{user_id}/availability",
    response_model=AvailabilityOut,
    summary="Set someone's availability",
)
async def set_availability(
    user_id: uuid.UUID,
    body: Annotated[AvailabilityPut, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> AvailabilityOut:
    return await service.set_availability(session, context, user_id, body.availability)


@manage.put(
    "/api/users/{user_id}/capacity", response_model=CapacityOut, summary="Set someone's capacity"
)
async def set_capacity(
    user_id: uuid.UUID,
    body: Annotated[CapacityPut, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> CapacityOut:
    """Open conversations per channel at most: integers 0..100."""
    return await service.set_capacity(session, context, user_id, body)
