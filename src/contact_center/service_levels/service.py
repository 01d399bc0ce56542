"""The business calendar and the service-level policies (docs/service-levels.md): reads,
admin changes with their audit rows, and a conversation's clocks in the caller's scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.business_time import CalendarError
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, NotFound, ValidationFailed
from contact_center.interactions.service import visible_interaction
from contact_center.models.enums import SlaState
from contact_center.models.service_levels import (
    BusinessHours,
    ClosedDay,
    ConversationSla,
    SlaPolicy,
)
from contact_center.principal import AuditContext, Principal
from contact_center.service_levels import repository
from contact_center.service_levels.calendar import (
    DEFAULT_COUNTRY,
    WEEKDAYS,
    build,
    default_hours,
    from_row,
    national_holidays,
)
from contact_center.service_levels.clocks import CLOSED
from contact_center.service_levels.schemas import (
    BusinessCalendarOut,
    CalendarOut,
    CalendarPut,
    ClosedDayIn,
    ClosedDayOut,
    ConversationSlaOut,
    HolidayList,
    HolidayOut,
    PolicyCreate,
    PolicyList,
    PolicyOut,
    PolicyPatch,
    TargetOut,
    TeamCalendarOut,
)

TARGET_FIELDS = ("first_response_secs", "next_response_secs", "resolution_secs")
MIN_YEAR, MAX_YEAR = 2000, 2100


def _invalid(field_name: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field_name, "message": message}])


# --- the calendar ---------------------------------------------------------------------------


def _week_out(hours: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    return {
        name: [{"opens": a, "closes": b} for a, b in hours.get(str(day), [])]
        for day, name in enumerate(WEEKDAYS)
    }


def _calendar_out(row: BusinessHours | None, zone: str) -> CalendarOut:
    if row is None:
        return CalendarOut(zone=zone, hours=_week_out(default_hours()), holiday_country="AR")
    return CalendarOut(
        zone=row.zone,
        hours=_week_out(row.hours),
        holiday_country=row.holiday_country,
        updated_at=row.updated_at,
    )


def _stored(body: CalendarPut) -> dict[str, list[list[str]]]:
    """The body's hours as stored, checked: a known zone, no reversed or overlapping hours,
    some opening hours (422 `invalid_calendar` naming what is wrong)."""
    week = body.hours
    hours = {
        str(day): sorted([i.opens, i.closes] for i in getattr(week, name))
        for day, name in enumerate(WEEKDAYS)
    }
    try:
        build(body.zone, hours, None)
    except CalendarError as exc:
        raise _invalid("body.hours", str(exc), "invalid_calendar") from None
    except ValueError as exc:
        raise _invalid("body.zone", str(exc), "invalid_calendar") from None
    if body.holiday_country is not None:
        try:
            build(body.zone, hours, body.holiday_country).holiday_name(date(2026, 1, 1))
        except NotImplementedError:
            raise _invalid(
                "body.holidayCountry",
                f"No national holidays known for {body.holiday_country!r}.",
                "invalid_calendar",
            ) from None
    return hours


async def business_calendar(session: AsyncSession, default_zone: str) -> BusinessCalendarOut:
    rows = await repository.all_business_hours(session)
    default = next((row for row, _ in rows if row.team_id is None), None)
    teams = [
        TeamCalendarOut(
            team_id=row.team_id,
            team_name=name or "",
            **_calendar_out(row, default_zone).model_dump(),
        )
        for row, name in rows
        if row.team_id is not None
    ]
    closed = await repository.closed_days(session)
    return BusinessCalendarOut(
        default=_calendar_out(default, default_zone),
        teams=teams,
        closed_days=[ClosedDayOut(day=c.day, name=c.name) for c in closed],
    )


async def put_hours(
    session: AsyncSession, context: AuditContext, team_id: uuid.UUID | None, body: CalendarPut
) -> CalendarOut:
    """A team's own hours (None: the bank's default), created or replaced."""
    hours = _stored(body)
    await repository.lock_calendar(session)
    if team_id is not None and await repository.team(session, team_id) is None:
        raise NotFound(f"No team with id {team_id}.", code="team_not_found")
    row = (await repository.business_hours_for(session, team_id)).get(team_id)
    now = utcnow()
    if row is None:
        row = BusinessHours(
            team_id=team_id,
            zone=body.zone,
            hours=hours,
            holiday_country=body.holiday_country,
            created_at=now,
            updated_at=now,
        )
        await repository.add(session, row)
    else:
        row.zone, row.hours, row.holiday_country, row.updated_at = (
            body.zone,
            hours,
            body.holiday_country,
            now,
        )
    await audit.record(
        session,
        context,
        "business_hours.update",
        entity_type="team" if team_id else "business_hours",
        entity_id=team_id or "default",
        metadata={"zone": body.zone, "hours": hours, "holidayCountry": body.holiday_country},
    )
    await session.flush()
    return _calendar_out(row, body.zone)


async def delete_team_hours(
    session: AsyncSession, context: AuditContext, team_id: uuid.UUID
) -> None:
    """Back to the default hours (404 when the team has none of its own)."""
    await repository.lock_calendar(session)
    if not await repository.delete_team_hours(session, team_id):
        raise NotFound(f"Team {team_id} has no hours of its own.", code="business_hours_not_found")
    await audit.record(
        session, context, "business_hours.delete", entity_type="team", entity_id=team_id
    )


async def add_closed_day(
    session: AsyncSession, context: AuditContext, body: ClosedDayIn
) -> ClosedDayOut:
    name = " ".join(body.name.split())
    if not name:
        raise _invalid("body.name", "A closed day needs a name.")
    if not MIN_YEAR <= body.day.year <= MAX_YEAR:
        raise _invalid("body.day", f"A day between {MIN_YEAR} and {MAX_YEAR}.")
    await repository.lock_calendar(session)
    if await repository.closed_day(session, body.day) is not None:
        raise Conflict(f"{body.day} is a closed day already.", code="closed_day_exists")
    await repository.add(session, ClosedDay(day=body.day, name=name, created_at=utcnow()))
    await audit.record(
        session,
        context,
        "closed_day.create",
        entity_type="closed_day",
        entity_id=body.day.isoformat(),
        metadata={"name": name},
    )
    return ClosedDayOut(day=body.day, name=name)


async def delete_closed_day(session: AsyncSession, context: AuditContext, day: date) -> None:
    await repository.lock_calendar(session)
    found = await repository.closed_day(session, day)
    if found is None:
        raise NotFound(f"{day} is not a closed day.", code="closed_day_not_found")
    await repository.remove(session, found)
    await audit.record(
        session, context, "closed_day.delete", entity_type="closed_day", entity_id=day.isoformat()
    )


async def holidays(session: AsyncSession, year: int, default_zone: str) -> HolidayList:
    """The national holidays the default calendar closes on in `year`."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _invalid("query.year", f"A year between {MIN_YEAR} and {MAX_YEAR}.")
    row = (await repository.business_hours_for(session, None)).get(None)
    calendar = from_row(row, default_zone, [])
    country = row.holiday_country if row is not None else DEFAULT_COUNTRY
    items = []
    day = date(year, 1, 1)
    while day.year == year:
        name = calendar.holiday_name(day)
        if name:
            items.append(HolidayOut(day=day, name=name))
        day = date.fromordinal(day.toordinal() + 1)
    return HolidayList(year=year, country=country, items=items)


# --- policies -------------------------------------------------------------------------------


def _policy_out(policy: SlaPolicy) -> PolicyOut:
    return PolicyOut.model_validate(policy)


def _not_found(policy_id: uuid.UUID) -> NotFound:
    return NotFound(f"No service-level policy with id {policy_id}.", code="sla_policy_not_found")


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise _invalid("body.name", "A policy needs a name.")
    return name


def _require_target(policy: SlaPolicy) -> None:
    if all(getattr(policy, f) is None for f in TARGET_FIELDS):
        raise _invalid(
            "body",
            "A policy needs at least one target: firstResponseSecs, nextResponseSecs or "
            "resolutionSecs.",
            "sla_policy_without_target",
        )


async def _require_free_name(session: AsyncSession, name: str, policy_id: uuid.UUID | None) -> None:
    found = await repository.policy_named(session, name)
    if found is not None and found.id != policy_id:
        raise Conflict(f"A policy named {name!r} exists.", code="sla_policy_name_taken")


async def _require_team(session: AsyncSession, team_id: uuid.UUID | None) -> None:
    if team_id is not None and await repository.team(session, team_id) is None:
        raise _invalid("body.teamId", f"No team with id {team_id}.", "unknown_team")


def _audit_values(policy: SlaPolicy) -> dict[str, Any]:
    return _policy_out(policy).model_dump(mode="json", exclude={"id", "created_at", "updated_at"})


async def list_policies(session: AsyncSession) -> PolicyList:
    return PolicyList(items=[_policy_out(p) for p in await repository.policies(session)])


async def get_policy(session: AsyncSession, policy_id: uuid.UUID) -> PolicyOut:
    found = await repository.policy(session, policy_id)
    if found is None:
        raise _not_found(policy_id)
    return _policy_out(found)


async def create_policy(
    session: AsyncSession, context: AuditContext, body: PolicyCreate
) -> PolicyOut:
    name = _name(body.name)
    await repository.lock_policies(session)
    await _require_free_name(session, name, None)
    await _require_team(session, body.team_id)
    now = utcnow()
    policy = SlaPolicy(
        id=uuid.uuid4(),
        name=name,
        position=body.position,
        team_id=body.team_id,
        channel=body.channel,
        priority=body.priority,
        first_response_secs=body.first_response_secs,
        next_response_secs=body.next_response_secs,
        resolution_secs=body.resolution_secs,
        pause_while_waiting_on_customer=body.pause_while_waiting_on_customer,
        breach_action=body.breach_action,
        enabled=body.enabled,
        created_at=now,
        updated_at=now,
    )
    _require_target(policy)
    await repository.add(session, policy)
    await audit.record(
        session,
        context,
        "sla_policy.create",
        entity_type="sla_policy",
        entity_id=policy.id,
        metadata=_audit_values(policy),
    )
    return _policy_out(policy)


NULLABLE = {"team_id", "channel", "priority", *TARGET_FIELDS}


async def update_policy(
    session: AsyncSession, context: AuditContext, policy_id: uuid.UUID, body: PolicyPatch
) -> PolicyOut:
    await repository.lock_policies(session)
    policy = await repository.policy(session, policy_id)
    if policy is None:
        raise _not_found(policy_id)
    changes: dict[str, Any] = {}
    before = _audit_values(policy)
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in NULLABLE:
            raise _invalid(f"body.{name}", "May not be null.")
        if name == "name":
            value = _name(value)
            await _require_free_name(session, value, policy.id)
        if name == "team_id":
            await _require_team(session, value)
        if getattr(policy, name) != value:
            setattr(policy, name, value)
    _require_target(policy)
    after = _audit_values(policy)
    changes = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
    if changes:
        policy.updated_at = utcnow()
        await audit.record(
            session,
            context,
            "sla_policy.update",
            entity_type="sla_policy",
            entity_id=policy.id,
            metadata=changes,
        )
    await session.flush()
    return _policy_out(policy)


async def delete_policy(session: AsyncSession, context: AuditContext, policy_id: uuid.UUID) -> None:
    await repository.lock_policies(session)
    policy = await repository.policy(session, policy_id)
    if policy is None:
        raise _not_found(policy_id)
    name = policy.name
    await repository.remove(session, policy)
    await audit.record(
        session,
        context,
        "sla_policy.delete",
        entity_type="sla_policy",
        entity_id=policy_id,
        metadata={"name": name},
    )


# --- a conversation's clocks ----------------------------------------------------------------


def _target(row: ConversationSla | None, name: str) -> TargetOut:
    if row is None:
        return TargetOut(due_at=None, state=None)
    return TargetOut(due_at=getattr(row, f"{name}_due_at"), state=getattr(row, f"{name}_state"))


async def conversation_sla(
    session: AsyncSession, principal: Principal, interaction_id: uuid.UUID
) -> ConversationSlaOut:
    """The conversation's clocks (404 outside the caller's scope, as for the conversation)."""
    interaction = await visible_interaction(session, interaction_id, principal)
    row = await repository.clocks(session, interaction.id)
    policy = (
        await repository.policy(session, row.policy_id)
        if row is not None and row.policy_id
        else None
    )
    return ConversationSlaOut(
        interaction_id=interaction.id,
        policy_id=row.policy_id if row else None,
        policy_name=policy.name if policy else None,
        first_response=_target(row, "first_response"),
        first_response_at=row.first_response_at if row else None,
        next_response=_target(row, "next_response"),
        next_responses=row.next_responses if row else 0,
        next_responses_met=row.next_responses_met if row else 0,
        resolution=_target(row, "resolution"),
        resolved_at=row.resolved_at if row else None,
        paused=bool(row and row.paused_since),
        paused_secs=row.paused_secs if row else 0,
        paused_since=row.paused_since if row else None,
        updated_at=row.updated_at if row else None,
    )


async def upcoming_holidays(
    session: AsyncSession, today: date, default_zone: str, *, language: str, days: int = 366
) -> list[HolidayOut]:
    """The default calendar's national holidays from `today` on (named in `language`: `es`
    or `en_US`), for the console."""
    row = (await repository.business_hours_for(session, None)).get(None)
    country = row.holiday_country if row is not None else DEFAULT_COUNTRY
    if country is None:
        return []
    found = national_holidays(country, [today.year, today.year + 1], language)
    end = date.fromordinal(today.toordinal() + days)
    return [HolidayOut(day=d, name=n) for d, n in sorted(found.items()) if today <= d < end]


@dataclass(frozen=True)
class Pending:
    """The conversation's most pressing clock: its target, due time and state."""

    target: str
    due_at: datetime
    state: SlaState


async def pending(session: AsyncSession, interaction_id: uuid.UUID) -> Pending | None:
    """The target an open conversation waits on now (a breached one first, then the earliest
    due), for the inbox's header; None when nothing is timed or pending. The caller has read
    the conversation through the reader's scope."""
    interaction = await repository.interaction(session, interaction_id)
    if interaction is None or interaction.status in CLOSED:
        return None
    row = await repository.clocks(session, interaction.id)
    if row is None:
        return None
    running = (SlaState.RUNNING, SlaState.WARNING)
    found: list[Pending] = []
    due, state = row.first_response_due_at, row.first_response_state
    if due and state and row.first_response_at is None and state is not SlaState.MET:
        found.append(Pending("FIRST_RESPONSE", due, state))
    due, state = row.next_response_due_at, row.next_response_state
    if (
        due
        and state
        and (
            state in running
            or (state is SlaState.BREACHED and interaction.waiting_since is not None)
        )
    ):
        found.append(Pending("NEXT_RESPONSE", due, state))
    due, state = row.resolution_due_at, row.resolution_state
    if due and state and state is not SlaState.MET:
        found.append(Pending("RESOLUTION", due, state))
    if not found:
        return None
    return min(found, key=lambda p: (p.state is not SlaState.BREACHED, p.due_at))
