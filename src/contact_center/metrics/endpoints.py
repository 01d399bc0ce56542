"""`GET /api/metrics/summary` (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from contact_center.dependencies import SUPERVISOR_ONLY, PrincipalDep, SessionDep, SettingsDep
from contact_center.metrics import service
from contact_center.metrics.schemas import MetricsSummary
from contact_center.schemas import ERROR_RESPONSES
from contact_center.web import parse_day

router = APIRouter(
    prefix="/api/metrics",
    tags=["metrics"],
    responses=ERROR_RESPONSES,
    dependencies=SUPERVISOR_ONLY,
)


@router.get("/summary", response_model=MetricsSummary, summary="One day's totals and KPIs")
async def metrics_summary(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    date: Annotated[str | None, Query(description="YYYY-MM-DD in APP_TIMEZONE (today)")] = None,
    team_id: Annotated[
        uuid.UUID | None,
        Query(alias="teamId", description="one team's figures (its queue, its conversations)"),
    ] = None,
) -> MetricsSummary:
    return await service.summary(
        session,
        settings,
        parse_day(date, service.today(settings)),
        viewer=principal,
        team_id=team_id,
    )
