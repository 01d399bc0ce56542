"""The web kit: request parsing and dependencies that endpoint modules share (dates, phone
numbers, list filters, the sender of outbound messages). Endpoint modules import this module,
never another endpoint module."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit.repository import AuditFilters
from contact_center.auth.reveal import resolve_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.errors import ValidationFailed
from contact_center.interactions import service as interactions
from contact_center.interactions.repository import InteractionFilters
from contact_center.interactions.schemas import InteractionDetailOut
from contact_center.messaging import outbound
from contact_center.messaging.outbound import Queued
from contact_center.messaging.schemas import Accepted
from contact_center.models.enums import (
    ActorType,
    Channel,
    Direction,
    InteractionStatus,
    Outcome,
    Provider,
)
from contact_center.phones import digits_only, normalize_valid
from contact_center.principal import AuditContext
from contact_center.providers.registry import twilio_credentials
from contact_center.runtime import Runtime
from contact_center.settings import Settings

# --- dates ------------------------------------------------------------------------------------


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


InteractionFiltersDep = Annotated[InteractionFilters, Depends(filters_from_query)]


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


# --- audit filters ----------------------------------------------------------------------------


async def audit_filters(
    settings: SettingsDep,
    actor: Annotated[
        str | None, Query(max_length=128, description="The actor id (a username, `system`).")
    ] = None,
    actor_type: Annotated[
        list[ActorType] | None,
        Query(
            alias="actorType",
            description="Who acted: `USER` (people), `SYSTEM` (the service, providers' "
            "webhooks, the command line), `AGENT`; repeat for several. Any when absent.",
        ),
    ] = None,
    action: Annotated[
        str | None,
        Query(max_length=64, description="An action (`pii.reveal`), or a prefix ending in `.`."),
    ] = None,
    entity_type: Annotated[str | None, Query(alias="entityType", max_length=64)] = None,
    entity_id: Annotated[str | None, Query(alias="entityId", max_length=128)] = None,
    date_from: Annotated[
        str | None, Query(alias="dateFrom", max_length=40, description="Inclusive.")
    ] = None,
    date_to: Annotated[
        str | None,
        Query(alias="dateTo", max_length=40, description="Exclusive datetime, or a whole day."),
    ] = None,
) -> AuditFilters:
    occurred_from = parse_moment("dateFrom", date_from, settings, end=False) if date_from else None
    occurred_before = parse_moment("dateTo", date_to, settings, end=True) if date_to else None
    if (
        date_to
        and occurred_from is not None
        and occurred_from > parse_moment("dateTo", date_to, settings, end=False)
    ):
        raise ValidationFailed(
            "dateFrom is after dateTo.",
            details=[{"field": "query.dateFrom", "message": "must not be after dateTo"}],
        )
    return AuditFilters(
        actor_id=actor or None,
        actor_types=frozenset(actor_type or ()),
        action=action or None,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        occurred_from=occurred_from,
        occurred_before=occurred_before,
    )


AuditFiltersDep = Annotated[AuditFilters, Depends(audit_filters)]


# --- one interaction, as the detail route shows it ---------------------------------------------


async def interaction_detail(
    interaction_id: uuid.UUID,
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    *,
    include_all_events: bool = False,
    include_all_messages: bool = False,
    include_pii: bool = False,
    reveal_reason: str | None = None,
) -> InteractionDetailOut:
    """`GET /api/interactions/{id}`'s answer: the caller's scope, masked unless revealed (a
    reveal is audited). Other routes that answer an interaction (PATCH, a call's refresh) too."""
    detail = await interactions.get_interaction(
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
    return detail if reveal else interactions.mask_interaction(detail)


# --- outbound messages ------------------------------------------------------------------------


def valid_phone(settings: Settings, raw: str, field: str = "to") -> str:
    phone = normalize_valid(raw, settings.default_phone_region)
    if phone is None:
        raise ValidationFailed(
            "The phone number is not valid.",
            code="invalid_phone",
            details=[{"field": f"body.{field}", "message": "not a valid phone number"}],
        )
    return phone


@dataclass
class Sender:
    """What every send endpoint needs: the transaction, who asks, and the queue for afterwards."""

    runtime: Runtime
    session: AsyncSession
    settings: Settings
    context: AuditContext
    background: BackgroundTasks

    @property
    def from_number(self) -> str:
        return twilio_credentials(self.settings).from_number

    async def recipient(self, raw: str) -> str:
        """The validated E.164 number, within the per-recipient limit."""
        phone = valid_phone(self.settings, raw)
        await outbound.check_recipient_limit(self.runtime.ratelimits, phone)
        return phone

    def accepted(self, queued: Queued) -> Accepted:
        # Enqueued after the response, so after the commit; if lost, the reconciler finds the row.
        self.background.add_task(
            self.runtime.jobs.enqueue_send, str(queued.message_id), queued.attempt
        )
        return Accepted(interaction_id=queued.interaction_id, message_id=queued.message_id)


async def get_sender(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Sender:
    return Sender(request.app.state.runtime, session, settings, context, background)


SenderDep = Annotated[Sender, Depends(get_sender)]
