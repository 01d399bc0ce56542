"""`GET /api/metrics/report` and its export (docs/api.md, "Reports")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from contact_center.dependencies import SUPERVISOR_ONLY, PrincipalDep, SessionDep, SettingsDep
from contact_center.reports import export, service
from contact_center.reports.schemas import ExportFormat, GroupBy, Report
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/metrics",
    tags=["metrics"],
    responses=ERROR_RESPONSES,
    dependencies=SUPERVISOR_ONLY,
)

FromQuery = Annotated[
    str | None,
    Query(alias="from", description="first day, YYYY-MM-DD in APP_TIMEZONE (30 days before `to`)"),
]
ToQuery = Annotated[
    str | None, Query(alias="to", description="last day, included (today); 400 days at most")
]
GroupByQuery = Annotated[GroupBy, Query(alias="groupBy", description="one row per …")]


@router.get("/report", response_model=Report, summary="Figures over a range of days")
async def metrics_report(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    group_by: GroupByQuery = GroupBy.TEAM,
) -> Report:
    first, last = service.parse_range(settings, from_, to)
    return await service.report(session, settings, first, last, group_by, viewer=principal)


@router.get(
    "/report/export",
    summary="The report as a CSV or XLSX file",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
async def metrics_report_export(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    group_by: GroupByQuery = GroupBy.TEAM,
    format: Annotated[ExportFormat, Query(description="csv or xlsx")] = ExportFormat.CSV,
) -> Response:
    first, last = service.parse_range(settings, from_, to)
    report = await service.report(session, settings, first, last, group_by, viewer=principal)
    name = f"report-{first.isoformat()}-{last.isoformat()}-{group_by.value}"
    if format is ExportFormat.XLSX:
        return Response(
            export.to_xlsx(report),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        export.to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
