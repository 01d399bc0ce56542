"""HTTP routes of data-subject requests (docs/data-lifecycle.md): compliance officers and
admins only (everyone else 403, before anything is read)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from contact_center.dependencies import AuditContextDep, PrincipalDep, SessionDep, SettingsDep
from contact_center.models.enums import DsrKind, DsrStatus
from contact_center.schemas import ERROR_RESPONSES
from contact_center.subject_requests import service
from contact_center.subject_requests.schemas import (
    Decision,
    DocumentFormat,
    Refusal,
    RequestCreate,
    RequestOut,
    RequestPage,
)


async def _compliance(principal: PrincipalDep) -> None:
    service.authorize(principal)


router = APIRouter(
    prefix="/api/data-subject-requests",
    tags=["data-subject requests"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(_compliance)],
)
NO_STORE = {"Cache-Control": "no-store"}
FormatQuery = Annotated[DocumentFormat, Query(description="json or html")]


@router.post("", status_code=201, response_model=RequestOut, summary="Receive a request")
async def create(
    body: Annotated[RequestCreate, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> RequestOut:
    """Its number (`SDP-2026-000123`) and legal due date: access 10 calendar days (art. 14),
    rectification and deletion 5 business days on the business calendar (art. 16)."""
    return await service.create(session, settings, context, body)


@router.get("", response_model=RequestPage, summary="Requests by due date")
async def listing(
    session: SessionDep,
    settings: SettingsDep,
    status: Annotated[DsrStatus | None, Query()] = None,
    kind: Annotated[DsrKind | None, Query()] = None,
    overdue: Annotated[bool, Query(description="open and past their due date")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> RequestPage:
    """Soonest due first; phones masked."""
    return await service.listing(
        session, settings, status=status, kind=kind, overdue=overdue, limit=limit
    )


@router.get("/{request_id}", response_model=RequestOut, summary="One request")
async def one(request_id: uuid.UUID, session: SessionDep, settings: SettingsDep) -> RequestOut:
    return await service.get(session, settings, request_id)


@router.post("/{request_id}/review", response_model=RequestOut, summary="Start the review")
async def review(
    request_id: uuid.UUID, session: SessionDep, settings: SettingsDep, context: AuditContextDep
) -> RequestOut:
    """UNDER_REVIEW; a rectification's or deletion's subject data is blocked meanwhile. A
    deletion under a legal hold is REFUSED instead, its reason naming the hold."""
    return await service.review(session, settings, context, request_id)


@router.post("/{request_id}/complete", response_model=RequestOut, summary="Complete the request")
async def complete(
    request_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    body: Annotated[Decision | None, Body()] = None,
) -> RequestOut:
    """Access: the export (its SHA-256 in `result`). Rectification: the corrected
    `customerName`/`customerRef` on every interaction of the subject. Deletion: the erasure
    and its certificate, or REFUSED under a legal hold. Decided already: 409."""
    return await service.complete(session, settings, context, request_id, body or Decision())


@router.post("/{request_id}/refuse", response_model=RequestOut, summary="Refuse the request")
async def refuse(
    request_id: uuid.UUID,
    body: Annotated[Refusal, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> RequestOut:
    return await service.refuse(session, settings, context, request_id, body.reason)


@router.get(
    "/{request_id}/export",
    summary="A completed access request's export",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
async def export(
    request_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    format: FormatQuery = DocumentFormat.JSON,
) -> Response:
    """Everything held about the customer (their own phone unmasked: the document is theirs);
    never cached. `X-Content-SHA256`: the SHA-256 of the JSON document's canonical form."""
    row, document, digest = await service.export(session, settings, context, request_id)
    headers = {**NO_STORE, "X-Content-SHA256": digest}
    if format is DocumentFormat.HTML:
        return HTMLResponse(service.render_export(document, digest, settings), headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{row.number}.json"'
    return JSONResponse(document, headers=headers)


@router.get(
    "/{request_id}/certificate",
    summary="A completed deletion's certificate",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
async def certificate(
    request_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    format: FormatQuery = DocumentFormat.JSON,
) -> Response:
    """What was deleted by data class, what was kept and why, when and by whom, with the
    SHA-256 of the certificate's canonical JSON (sorted keys, no spaces, UTF-8)."""
    _, document = await service.certificate(session, request_id)
    if format is DocumentFormat.HTML:
        return HTMLResponse(service.render_certificate(document, settings), headers=NO_STORE)
    return JSONResponse(document, headers=NO_STORE)
