"""The list query of interactions: from an HTTP query string to `InteractionFilters` (the
interactions list and count, the dashboard, the console's list)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from contact_center.dependencies import SettingsDep
from contact_center.interactions.repository import InteractionFilters
from contact_center.models.enums import Channel, Direction, InteractionStatus, Outcome, Provider
from contact_center.web import date_range, digits_query


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
    started_from, started_before = date_range(settings, date_from, date_to)
    return InteractionFilters(
        channel=channel,
        direction=direction,
        status=status,
        from_digits=digits_query("from", from_),
        to_digits=digits_query("to", to),
        started_from=started_from,
        started_before=started_before,
        assigned_agent=assigned_agent,
        provider=provider,
        customer_ref=customer_ref,
        queue=queue,
        outcome=outcome,
    )


InteractionFiltersDep = Annotated[InteractionFilters, Depends(filters_from_query)]
