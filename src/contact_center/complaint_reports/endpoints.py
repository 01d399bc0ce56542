"""`GET /api/complaints/report`: the regulator's periodic report, as JSON or CSV
(docs/complaints.md, "Regulator's report")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from contact_center.complaint_reports import service
from contact_center.complaint_reports.schemas import ComplaintReport, ReportFormat
from contact_center.dependencies import PrincipalDep, SessionDep, SettingsDep
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/complaints", tags=["complaints"], responses=ERROR_RESPONSES)

FromQuery = Annotated[
    str | None,
    Query(
        alias="from", description="first day, YYYY-MM-DD in the bank's zone (30 days before `to`)"
    ),
]
ToQuery = Annotated[
    str | None, Query(alias="to", description="last day, included (today); 400 days at most")
]


@router.get(
    "/report",
    response_model=ComplaintReport,
    summary="The regulator's report: complaints opened in a period and how they were answered",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def complaints_report(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    format: Annotated[ReportFormat, Query(description="json or csv")] = ReportFormat.JSON,
) -> ComplaintReport | Response:
    found = await service.report(session, settings, principal, from_, to)
    if format is ReportFormat.CSV:
        return Response(
            service.to_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{service.csv_name(found)}"'},
        )
    return found
