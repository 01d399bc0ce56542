"""The data-subject requests pages (docs/data-lifecycle.md): the list by due date with its
clock, the form that receives a request, and one request with its steps (the forms call the
API, `data-api`). Compliance officers and admins; everyone else the forbidden page."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from contact_center.console.pages import page
from contact_center.dependencies import PrincipalDep, SessionDep
from contact_center.models.enums import DsrKind
from contact_center.subject_requests import service

router = APIRouter(include_in_schema=False)
ACTIVE = "compliance-requests"


@router.get("/compliance/requests", response_class=HTMLResponse)
async def requests_page(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> HTMLResponse:
    service.authorize(principal)
    settings = request.app.state.settings
    listed = await service.listing(
        session, settings, status=None, kind=None, overdue=False, limit=500
    )
    return page(
        request,
        "compliance_requests.html",
        active=ACTIVE,
        items=listed.items,
        kinds=[k.value for k in DsrKind],
    )


@router.get("/compliance/requests/{request_id}", response_class=HTMLResponse)
async def request_page(
    request_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> HTMLResponse:
    service.authorize(principal)
    settings = request.app.state.settings
    return page(
        request,
        "compliance_request.html",
        active=ACTIVE,
        item=await service.get(session, settings, request_id),
    )
