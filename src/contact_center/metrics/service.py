"""Today's numbers: totals, breakdowns, agent activity and the KPIs (docs/api.md)."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.errors import ValidationFailed
from contact_center.interactions.repository import AgentView
from contact_center.metrics import repository
from contact_center.metrics.schemas import (
    AgentActivity,
    AiActivity,
    Kpis,
    MetricsSummary,
    TeamFigures,
)
from contact_center.models.enums import Channel, Direction, InteractionStatus
from contact_center.principal import SYSTEM, Principal
from contact_center.settings import Settings


def day_bounds(settings: Settings, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=settings.zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=settings.zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def today(settings: Settings) -> date:
    return datetime.now(settings.zone).date()


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def _scope(
    session: AsyncSession, viewer: Principal, team_id: uuid.UUID | None
) -> repository.Scope:
    """What `viewer` may count (docs/workflow.md, "Who sees what"), narrowed to `team_id`."""
    if team_id is not None and not await repository.team_exists(session, team_id):
        raise ValidationFailed(
            f"No team with id {team_id}.",
            code="unknown_team",
            details=[{"field": "query.teamId", "message": "unknown team"}],
        )
    agent = viewer.agent_scope
    view = None if agent is None else AgentView(agent, viewer.team_ids)
    return repository.Scope(view=view, team_id=team_id)


async def summary(
    session: AsyncSession,
    settings: Settings,
    day: date,
    *,
    viewer: Principal = SYSTEM,
    team_id: uuid.UUID | None = None,
) -> MetricsSummary:
    """The day's figures and each team's queue now, as far as `viewer` sees (an agent: their
    own work, their teams' queues and the shared pool); `team_id` narrows the interaction
    figures and the teams to one team (OTP figures are the whole service's)."""
    scope = await _scope(session, viewer, team_id)
    start, end = day_bounds(settings, day)
    groups = await repository.groups(session, start, end, scope)
    by_channel: Counter[str] = Counter({c.value: 0 for c in Channel})
    by_status: Counter[str] = Counter()
    by_direction: Counter[str] = Counter({d.value: 0 for d in Direction})
    agents: dict[str | None, Counter[str]] = defaultdict(Counter)
    ai: Counter[str] = Counter()
    calls = abandoned = ai_calls = 0
    for group in groups:
        by_channel[group.channel] += group.count
        by_status[group.status] += group.count
        by_direction[group.direction] += group.count
        # People's work by person; what the AI (voice agent, WhatsApp bot) handled, apart.
        if group.ai_handled:
            ai[group.channel] += group.count
        else:
            agents[group.agent][group.channel] += group.count
        if group.channel == Channel.CALL.value:
            calls += group.count
            abandoned += group.count if group.status == InteractionStatus.ABANDONED.value else 0
            ai_calls += group.count if group.ai_handled else 0
    pairs = await repository.first_response_pairs(session, start, end, scope)
    waits = [(answered - asked).total_seconds() for asked, answered in pairs]
    otp = await repository.otp_statuses(session, start, end)
    otp_total = sum(n for status, n in otp.items() if status != "CANCELED")
    aht = await repository.average_handle_time(session, start, end, scope)
    teams = [
        TeamFigures(
            team_id=row.team_id,
            name=row.name,
            waiting=row.waiting,
            open_assigned=row.open_assigned,
            members_online=row.members_online,
        )
        for row in await repository.team_figures(session, utcnow(), scope)
    ]
    by_agent = sorted(
        (
            AgentActivity(agent=agent, total=sum(counts.values()), by_channel=dict(counts))
            for agent, counts in agents.items()
        ),
        key=lambda a: (-a.total, a.agent or "\uffff"),
    )
    return MetricsSummary(
        date=day,
        timezone=settings.app_timezone,
        total=sum(by_channel.values()),
        by_channel=dict(by_channel),
        by_status=dict(sorted(by_status.items())),
        by_direction=dict(by_direction),
        by_agent=by_agent,
        ai_activity=AiActivity(total=sum(ai.values()), by_channel=dict(ai)),
        kpis=Kpis(
            abandonment_rate=_ratio(abandoned, calls),
            ai_containment_rate=_ratio(ai_calls, calls),
            average_handle_time_secs=round(aht, 1) if aht is not None else None,
            whatsapp_first_response_secs=round(statistics.median(waits), 1) if waits else None,
            otp_success_rate=_ratio(otp.get("VERIFIED", 0), otp_total),
            calls=calls,
            otp_challenges=otp_total,
        ),
        team_id=team_id,
        teams=teams,
    )
