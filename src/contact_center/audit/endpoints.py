"""`GET /api/audit`: the audit trail for admins and compliance officers, with filters;
`GET /api/audit/checkpoints`: the hash chain's checkpoints, for anchoring outside the database
(docs/audit-chain.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contact_center.audit import chain, service
from contact_center.audit.query import AuditFiltersDep
from contact_center.audit.schemas import (
    AuditCheckpointOut,
    AuditCheckpoints,
    AuditEntryOut,
    AuditPage,
)
from contact_center.dependencies import COMPLIANCE_ONLY, SessionDep
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/audit", tags=["audit"], responses=ERROR_RESPONSES, dependencies=COMPLIANCE_ONLY
)


@router.get("", response_model=AuditPage, summary="The audit trail")
async def list_audit(
    session: SessionDep,
    filters: AuditFiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """Newest first. Metadata is stored masked: the trail says a number was used, not which."""
    rows = await service.listing(session, filters, limit=limit, skip=skip)
    return AuditPage(
        items=[AuditEntryOut.model_validate(r) for r in rows[:limit]],
        limit=limit,
        skip=skip,
        has_more=len(rows) > limit,
    )


@router.get(
    "/checkpoints", response_model=AuditCheckpoints, summary="The audit chain's checkpoints"
)
async def list_checkpoints(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> AuditCheckpoints:
    """Newest first: each checkpoint is the chain's head (seq and hash) on a day. Keep them
    outside the database; `contact-center audit verify --anchors FILE` checks the chain against
    them."""
    made = await chain.checkpoints(session, limit)
    return AuditCheckpoints(items=[AuditCheckpointOut.model_validate(c.__dict__) for c in made])
