"""HTTP routes of the interactions API (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from contact_center.auth.reveal import IncludePII, RevealReason, checked_reason, resolve_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.interactions import service
from contact_center.interactions.schemas import (
    CustomerProfile,
    InteractionCount,
    InteractionDetailOut,
    InteractionPage,
    InteractionPatch,
)
from contact_center.phones import normalize_valid
from contact_center.schemas import ERROR_RESPONSES
from contact_center.web import InteractionFiltersDep, interaction_detail

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
    reveal = await resolve_reveal(
        session,
        settings,
        context,
        include_pii=include_pii,
        reason=reveal_reason,
        resource="interactions.list",
    )
    return await service.list_interactions(
        session,
        filters,
        viewer=context.principal,
        limit=limit,
        skip=skip,
        all_messages=include_all_messages,
        all_events=include_all_events,
        reveal=reveal,
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
    normalized = normalize_valid(phone, settings.default_phone_region)
    if normalized is None:
        raise ValidationFailed(
            "The phone number is not valid.",
            code="invalid_phone",
            details=[{"field": "path.phone", "message": "not a valid phone number"}],
        )
    reveal = await resolve_reveal(
        session,
        settings,
        context,
        include_pii=include_pii,
        reason=reveal_reason,
        resource="interactions.client",
        entity_type="customer",
        entity_id=normalized,
    )
    return await service.customer_profile(
        session,
        normalized,
        all_messages=include_all_messages,
        all_events=include_all_events,
        reveal=reveal,
        viewer=context.principal,
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
    return await interaction_detail(
        interaction_id,
        session,
        settings,
        context,
        include_all_events=include_all_events,
        include_all_messages=include_all_messages,
        include_pii=include_pii,
        reveal_reason=reveal_reason,
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
    # A reveal without its reason is refused before the change is made.
    checked_reason(settings, context, include_pii=include_pii, reason=reveal_reason)
    await service.update_interaction(session, interaction_id, patch, context)
    return await interaction_detail(
        interaction_id,
        session,
        settings,
        context,
        include_pii=include_pii,
        reveal_reason=reveal_reason,
    )
