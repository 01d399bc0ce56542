"""The business calendar, service-level policies and a conversation's clocks
(docs/service-levels.md): admins change, supervisors and admins read; a conversation's clocks
are read in the caller's scope."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from contact_center.dependencies import (
    ADMIN_ONLY,
    SUPERVISOR_ONLY,
    AuditContextDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from contact_center.schemas import ERROR_RESPONSES, ErrorEnvelope
from contact_center.service_levels import service
from contact_center.service_levels.schemas import (
    BusinessCalendarOut,
    CalendarOut,
    CalendarPut,
    ClosedDayIn,
    ClosedDayOut,
    ConversationSlaOut,
    HolidayList,
    PolicyCreate,
    PolicyList,
    PolicyOut,
    PolicyPatch,
)

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorEnvelope, "description": "The name or day exists already"}
}
# Every signed-in user: a conversation's clocks (in their scope).
router = APIRouter(tags=["service levels"], responses=ERROR_RESPONSES)
# Supervisors and admins read the calendar and the policies.
read = APIRouter(tags=["service levels"], responses=ERROR_RESPONSES, dependencies=SUPERVISOR_ONLY)
# Admins change them.
manage = APIRouter(
    tags=["service levels"], responses=ERROR_RESPONSES | CONFLICT, dependencies=ADMIN_ONLY
)


@router.get(
    "/api/interactions/{interaction_id}/sla",
    response_model=ConversationSlaOut,
    summary="A conversation's service-level clocks",
)
async def conversation_sla(
    interaction_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ConversationSlaOut:
    """Due times and states of its first response, next response and resolution (null: not
    timed). An agent reads their own conversations only (others: 404)."""
    return await service.conversation_sla(session, principal, interaction_id)


@read.get(
    "/api/business-calendar", response_model=BusinessCalendarOut, summary="The business calendar"
)
async def business_calendar(session: SessionDep, settings: SettingsDep) -> BusinessCalendarOut:
    return await service.business_calendar(session, settings.app_timezone)


@read.get(
    "/api/business-calendar/holidays",
    response_model=HolidayList,
    summary="National holidays the calendar closes on",
)
async def holidays(
    session: SessionDep,
    settings: SettingsDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> HolidayList:
    return await service.holidays(session, year, settings.app_timezone)


@manage.put(
    "/api/business-calendar/default", response_model=CalendarOut, summary="The default hours"
)
async def put_default(
    body: Annotated[CalendarPut, Body()], session: SessionDep, context: AuditContextDep
) -> CalendarOut:
    """Reversed or overlapping hours, no hours at all, an unknown zone: 422."""
    return await service.put_hours(session, context, None, body)


@manage.put(
    "/api/teams/{team_id}/business-hours", response_model=CalendarOut, summary="A team's hours"
)
async def put_team_hours(
    team_id: uuid.UUID,
    body: Annotated[CalendarPut, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> CalendarOut:
    return await service.put_hours(session, context, team_id, body)


@manage.delete(
    "/api/teams/{team_id}/business-hours", status_code=204, summary="A team back to the default"
)
async def delete_team_hours(
    team_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> Response:
    await service.delete_team_hours(session, context, team_id)
    return Response(status_code=204)


@manage.post(
    "/api/business-calendar/closed-days",
    status_code=201,
    response_model=ClosedDayOut,
    summary="Add a closed day",
)
async def add_closed_day(
    body: Annotated[ClosedDayIn, Body()], session: SessionDep, context: AuditContextDep
) -> ClosedDayOut:
    return await service.add_closed_day(session, context, body)


@manage.delete(
    "/api/business-calendar/closed-days/{day}", status_code=204, summary="Remove a closed day"
)
async def delete_closed_day(day: date, session: SessionDep, context: AuditContextDep) -> Response:
    await service.delete_closed_day(session, context, day)
    return Response(status_code=204)


@read.get("/api/sla-policies", response_model=PolicyList, summary="Service-level policies")
async def list_policies(session: SessionDep) -> PolicyList:
    return await service.list_policies(session)


@read.get(
    "/api/sla-policies/{policy_id}", response_model=PolicyOut, summary="One service-level policy"
)
async def get_policy(policy_id: uuid.UUID, session: SessionDep) -> PolicyOut:
    return await service.get_policy(session, policy_id)


@manage.post(
    "/api/sla-policies",
    status_code=201,
    response_model=PolicyOut,
    summary="Create a service-level policy",
)
async def create_policy(
    body: Annotated[PolicyCreate, Body()], session: SessionDep, context: AuditContextDep
) -> PolicyOut:
    """Targets in business seconds (1 to a year), at least one; a taken name: 409."""
    return await service.create_policy(session, context, body)


@manage.patch("/api/sla-policies/{policy_id}", response_model=PolicyOut, summary="Change a policy")
async def update_policy(
    policy_id: uuid.UUID,
    body: Annotated[PolicyPatch, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> PolicyOut:
    return await service.update_policy(session, context, policy_id, body)


@manage.delete("/api/sla-policies/{policy_id}", status_code=204, summary="Delete a policy")
async def delete_policy(
    policy_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> Response:
    await service.delete_policy(session, context, policy_id)
    return Response(status_code=204)
