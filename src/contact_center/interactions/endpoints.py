"""HTTP routes of the interactions API (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from contact_center.auth.reveal import IncludePII, RevealAsk, RevealReason
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.interactions import service
from contact_center.interactions.query import InteractionFiltersDep
from contact_center.interactions.schemas import (
    CustomerProfile,
    InteractionCount,
    InteractionDetailOut,
    InteractionPage,
    InteractionPatch,
)
from contact_center.schemas import ERROR_RESPONSES
from contact_center.web import valid_phone

router = APIRouter(prefix="/api/interactions", tags=["interactions"], responses=ERROR_RESPONSES)


IncludeAllEvents = Annotated[bool, Query(alias="includeAllEvents")]
IncludeAllMessages = Annotated[bool, Query(alias="includeAllMessages")]


@router.get("", response_model=InteractionPage, summary="List interactions")
async def list_interactions(
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    filters: InteractionFiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    include_all_events: IncludeAllEvents = False,
    include_all_messages: IncludeAllMessages = False,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionPage:
    """Newest activity first (updatedAt desc, then id). Phones are masked unless revealed.
    An agent sees their own and unassigned interactions."""
    return await service.list_for(
        session,
        settings,
        context,
        filters,
        RevealAsk(include_pii, reveal_reason),
        limit=limit,
        skip=skip,
        all_messages=include_all_messages,
        all_events=include_all_events,
    )


@router.get("/count", response_model=InteractionCount, summary="Count interactions")
async def count_interactions(
    session: SessionDep, filters: InteractionFiltersDep, context: AuditContextDep
) -> InteractionCount:
    return InteractionCount(
        count=await service.count_interactions(session, filters, viewer=context.principal)
    )


@router.get(
    "/client/{phone}", response_model=CustomerProfile, summary="Customer profile by phone number"
)
async def customer_profile(
    phone: str,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_all_events: IncludeAllEvents = False,
    include_all_messages: IncludeAllMessages = False,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> CustomerProfile:
    """The phone may be written in any common format; it is normalised to E.164."""
    return await service.profile_for(
        session,
        settings,
        context,
        valid_phone(settings, phone, field="path.phone"),
        RevealAsk(include_pii, reveal_reason),
        all_messages=include_all_messages,
        all_events=include_all_events,
    )


@router.get("/{interaction_id}", response_model=InteractionDetailOut, summary="Interaction detail")
async def get_interaction(
    interaction_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_all_events: IncludeAllEvents = False,
    include_all_messages: IncludeAllMessages = False,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionDetailOut:
    return await service.detail_for(
        session,
        settings,
        context,
        interaction_id,
        RevealAsk(include_pii, reveal_reason),
        all_events=include_all_events,
        all_messages=include_all_messages,
    )


@router.patch(
    "/{interaction_id}", response_model=InteractionDetailOut, summary="Update an interaction"
)
async def update_interaction(
    interaction_id: uuid.UUID,
    patch: Annotated[InteractionPatch, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionDetailOut:
    """Assign an agent, set queue, status, outcome or intent (`null` clears). Audited, evented."""
    return await service.update_for(
        session, settings, context, interaction_id, patch, RevealAsk(include_pii, reveal_reason)
    )
