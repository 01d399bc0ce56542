"""HTTP routes of legal holds (docs/data-lifecycle.md, "Legal hold"): compliance officers and
admins only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from contact_center.dependencies import (
    COMPLIANCE_ONLY,
    AuditContextDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from contact_center.holds import service
from contact_center.holds.schemas import (
    HoldState,
    LegalHoldIn,
    LegalHoldOut,
    LegalHoldPage,
    ReleaseIn,
)
from contact_center.models.enums import HoldScope
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(
    prefix="/api/legal-holds",
    tags=["legal holds"],
    responses=ERROR_RESPONSES,
    dependencies=COMPLIANCE_ONLY,
)


@router.post("", status_code=201, response_model=LegalHoldOut, summary="Place a legal hold")
async def place_hold(
    payload: Annotated[LegalHoldIn, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> LegalHoldOut:
    """Nothing the hold covers is purged or deleted while it is active. 422 for a field the
    scope does not take, an unknown interaction (`unknown_interaction`), an end in the past."""
    return await service.place(session, settings.default_phone_region, context, payload)


@router.get("", response_model=LegalHoldPage, summary="List legal holds")
async def list_holds(
    session: SessionDep,
    principal: PrincipalDep,
    state: Annotated[HoldState | None, Query(description="Any when absent.")] = None,
    scope: Annotated[HoldScope | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> LegalHoldPage:
    """Active holds first, then the newest; phones masked."""
    return await service.listing(
        session, principal, state=state, scope=scope, limit=limit, skip=skip
    )


@router.get("/{hold_id}", response_model=LegalHoldOut, summary="Get a legal hold")
async def get_hold(
    hold_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> LegalHoldOut:
    """With how many interactions it covers now."""
    return await service.get(session, principal, hold_id)


@router.post(
    "/{hold_id}/release",
    response_model=LegalHoldOut,
    summary="Release a legal hold",
    responses={409: {"description": "Already released (already_released)"}},
)
async def release_hold(
    hold_id: uuid.UUID,
    payload: Annotated[ReleaseIn, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> LegalHoldOut:
    return await service.release(session, context, hold_id, payload)


# The holds on one interaction: under /api/interactions, for compliance officers and admins.
on_interactions = APIRouter(
    prefix="/api/interactions",
    tags=["legal holds"],
    responses=ERROR_RESPONSES,
    dependencies=COMPLIANCE_ONLY,
)


@on_interactions.get(
    "/{interaction_id}/holds",
    response_model=LegalHoldPage,
    summary="The legal holds that keep an interaction",
)
async def holds_on_interaction(
    interaction_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> LegalHoldPage:
    """The active holds covering it (by itself, its customer or a date range), oldest first;
    404 for an unknown interaction."""
    return await service.holds_on_interaction(session, principal, interaction_id)
