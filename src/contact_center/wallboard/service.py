"""The wallboard's figures now (docs/service-levels.md, "The wallboard").

Who sees what is decided here, once, as the reports decide it: an admin every team and the
shared pool (conversations in no team); a supervisor the teams they are a member of (the pool is
not theirs; a supervisor in no team sees an empty board); an agent nothing (403).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.errors import Forbidden
from contact_center.metrics.service import day_bounds, today
from contact_center.models.enums import Availability, Role
from contact_center.principal import Principal
from contact_center.settings import Settings
from contact_center.wallboard import repository
from contact_center.wallboard.repository import OpenFigures, Targets, Waiting
from contact_center.wallboard.schemas import (
    AgentsByAvailability,
    SlaToday,
    Wallboard,
    WallboardAgent,
    WallboardTeam,
    WallboardTotals,
)


async def scope_of(session: AsyncSession, viewer: Principal) -> repository.Scope:
    if not viewer.allows(Role.SUPERVISOR):
        raise Forbidden("The wallboard is for supervisors and admins.", code="forbidden")
    if viewer.trusted_network or viewer.role is Role.ADMIN or viewer.user_id is None:
        return repository.Scope()
    return repository.Scope(team_ids=await repository.member_teams(session, viewer.user_id))


def _sla(targets: Targets) -> SlaToday:
    total = targets.met + targets.breached
    return SlaToday(
        met=targets.met,
        breached=targets.breached,
        total=total,
        rate=round(targets.met / total, 4) if total else None,
    )


def _agents(counts: dict[Availability, int]) -> AgentsByAvailability:
    return AgentsByAvailability(
        online=counts.get(Availability.ONLINE, 0),
        busy=counts.get(Availability.BUSY, 0),
        away=counts.get(Availability.AWAY, 0),
        offline=counts.get(Availability.OFFLINE, 0),
    )


def _wait(oldest: datetime | None, now: datetime) -> int | None:
    return None if oldest is None else max(0, int((now - oldest).total_seconds()))


async def wallboard(session: AsyncSession, settings: Settings, viewer: Principal) -> Wallboard:
    scope = await scope_of(session, viewer)
    now = utcnow()
    day = today(settings)
    start, end = day_bounds(settings, day)
    waiting = await repository.waiting(session, now, scope)
    open_now = await repository.open_figures(session, scope)
    targets = await repository.targets_today(session, start, end, scope)
    by_availability = await repository.availability_by_team(session, scope)
    people = await repository.people(session, scope)
    loads = await repository.loads(session, [p.username for p in people])

    rows: list[WallboardTeam] = []
    keys: list[tuple[uuid.UUID | None, str | None]] = list(await repository.teams(session, scope))
    if scope.pool:
        keys.append((None, None))
    for team_id, name in keys:
        queued = waiting.get(team_id, Waiting(0, None))
        figures = open_now.get(team_id, OpenFigures(0, 0, 0))
        rows.append(
            WallboardTeam(
                team_id=team_id,
                name=name,
                waiting=queued.count,
                oldest_waiting_since=queued.oldest,
                oldest_waiting_secs=_wait(queued.oldest, now),
                open_assigned=figures.assigned,
                active_calls=figures.active_calls,
                breaches_now=figures.breached,
                sla_today=_sla(targets.get(team_id, Targets())),
                agents=_agents(by_availability.get(team_id, {}) if team_id else {}),
            )
        )
    oldest = min((r.oldest_waiting_since for r in rows if r.oldest_waiting_since), default=None)
    everyone: dict[Availability, int] = {}
    for person in people:
        everyone[person.availability] = everyone.get(person.availability, 0) + 1
    totals = WallboardTotals(
        waiting=sum(r.waiting for r in rows),
        oldest_waiting_since=oldest,
        oldest_waiting_secs=_wait(oldest, now),
        open_assigned=sum(r.open_assigned for r in rows),
        active_calls=sum(r.active_calls for r in rows),
        breaches_now=sum(r.breaches_now for r in rows),
        sla_today=_sla(
            Targets(
                met=sum(r.sla_today.met for r in rows),
                breached=sum(r.sla_today.breached for r in rows),
            )
        ),
        agents=_agents(everyone),
    )
    agents = [
        WallboardAgent(
            username=p.username,
            display_name=p.display_name,
            availability=p.availability,
            availability_since=p.availability_changed_at,
            load=loads.get(p.username, 0),
            capacity=p.capacity,
            team_ids=sorted(p.team_ids),
        )
        for p in people
    ]
    return Wallboard(
        generated_at=now,
        day=day,
        timezone=settings.app_timezone,
        totals=totals,
        teams=rows,
        agents=agents,
    )
