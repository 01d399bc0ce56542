"""HTTP routes of the interactions API (docs/api.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from contact_center.auth.reveal import IncludePII, RevealReason, checked_reason, resolve_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.interactions import service
from contact_center.interactions.repository import InteractionFilters
from contact_center.interactions.schemas import (
    CustomerProfile,
    InteractionCount,
    InteractionDetailOut,
    InteractionPage,
    InteractionPatch,
)
from contact_center.models.enums import Channel, Direction, InteractionStatus, Outcome, Provider
from contact_center.phones import digits_only, normalize_valid
from contact_center.schemas import ERROR_RESPONSES
from contact_center.settings import Settings

router = APIRouter(prefix="/api/interactions", tags=["interactions"], responses=ERROR_RESPONSES)


def parse_moment(name: str, raw: str, settings: Settings, *, end: bool) -> datetime:
    """A date means the day in APP_TIMEZONE; a datetime without offset is UTC."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day = day + timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=settings.zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an ISO-8601 date or datetime.",
            details=[
                {"field": f"query.{name}", "message": f"not an ISO-8601 date or datetime: {raw!r}"}
            ],
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _digits(name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = digits_only(raw)
    if not digits:
        raise ValidationFailed(
            f"{name} must contain digits.",
            details=[{"field": f"query.{name}", "message": "no digits to match"}],
        )
    return digits


async def filters_from_query(
    settings: SettingsDep,
    channel: Channel | None = None,
    direction: Direction | None = None,
    status: InteractionStatus | None = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=64,
            pattern=r"[0-9]",
            description="Digits anywhere in the number.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(max_length=64, pattern=r"[0-9]", description="Digits anywhere in the number."),
    ] = None,
    date_from: Annotated[
        str | None, Query(alias="dateFrom", max_length=40, description="Inclusive, on startedAt.")
    ] = None,
    date_to: Annotated[
        str | None,
        Query(alias="dateTo", max_length=40, description="Exclusive datetime, or a whole day."),
    ] = None,
    assigned_agent: Annotated[str | None, Query(alias="assignedAgent", max_length=128)] = None,
    provider: Provider | None = None,
    customer_ref: Annotated[str | None, Query(alias="customerRef", max_length=128)] = None,
    queue: Annotated[str | None, Query(max_length=128)] = None,
    outcome: Outcome | None = None,
) -> InteractionFilters:
    started_from = parse_moment("dateFrom", date_from, settings, end=False) if date_from else None
    started_before = parse_moment("dateTo", date_to, settings, end=True) if date_to else None
    if started_from and started_before and date_from and date_to:
        start_of_to = parse_moment("dateTo", date_to, settings, end=False)
        if started_from > start_of_to:
            raise ValidationFailed(
                "dateFrom is after dateTo.",
                details=[{"field": "query.dateFrom", "message": "must not be after dateTo"}],
            )
    return InteractionFilters(
        channel=channel,
        direction=direction,
        status=status,
        from_digits=_digits("from", from_),
        to_digits=_digits("to", to),
        started_from=started_from,
        started_before=started_before,
        assigned_agent=assigned_agent,
        provider=provider,
        customer_ref=customer_ref,
        queue=queue,
        outcome=outcome,
    )


FiltersDep = Annotated[InteractionFilters, Depends(filters_from_query)]


IncludeAllEvents = Annotated[bool, Query(alias="includeAllEvents")]
IncludeAllMessages = Annotated[bool, Query(alias="includeAllMessages")]


@router.get("", response_model=InteractionPage, summary="List interactions")
async def list_interactions(
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    filters: FiltersDep,
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
    session: SessionDep, filters: FiltersDep, context: AuditContextDep
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
    detail = await service.get_interaction(
        session,
        interaction_id,
        all_messages=include_all_messages,
        all_events=include_all_events,
        reveal=True,
        viewer=context.principal,
    )
    reveal = await resolve_reveal(
        session,
        settings,
        context,
        include_pii=include_pii,
        reason=reveal_reason,
        resource="interactions.detail",
        entity_type="interaction",
        entity_id=interaction_id,
    )
    return detail if reveal else service.mask_interaction(detail)


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
    return await get_interaction(
        interaction_id,
        session,
        settings,
        context,
        include_pii=include_pii,
        reveal_reason=reveal_reason,
    )
