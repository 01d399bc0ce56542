"""`GET /api/metrics/summary` (docs/api.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from contact_center.dependencies import SUPERVISOR_ONLY, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.metrics import service
from contact_center.metrics.schemas import MetricsSummary
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/metrics",
    tags=["metrics"],
    responses=ERROR_RESPONSES,
    dependencies=SUPERVISOR_ONLY,
)


def parse_day(raw: str | None, settings_zone_today: dt.date) -> dt.date:
    if raw is None or not raw.strip():
        return settings_zone_today
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(
            "date must be YYYY-MM-DD.",
            details=[{"field": "query.date", "message": f"not a date: {raw!r}"}],
        ) from None


@router.get("/summary", response_model=MetricsSummary, summary="One day's totals and KPIs")
async def metrics_summary(
    session: SessionDep,
    settings: SettingsDep,
    date: Annotated[str | None, Query(description="YYYY-MM-DD in APP_TIMEZONE (today)")] = None,
) -> MetricsSummary:
    return await service.summary(session, settings, parse_day(date, service.today(settings)))
