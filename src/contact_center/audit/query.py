"""The audit log's query: from an HTTP query string to `AuditFilters` (the API and the console)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from contact_center.audit.repository import AuditFilters
from contact_center.dependencies import SettingsDep
from contact_center.models.enums import ActorType
from contact_center.web import date_range


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
    occurred_from, occurred_before = date_range(settings, date_from, date_to)
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
