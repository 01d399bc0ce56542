"""SQL of the metrics: aggregates over one day of interactions, messages and OTP challenges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.interactions.repository import AgentView, visible_condition
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import Availability, Channel, Direction, InteractionStatus
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount

OPEN = (InteractionStatus.NEW, InteractionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Scope:
    """Which interactions the figures count: a viewer's view and one team (None: all)."""

    view: AgentView | None = None
    team_id: uuid.UUID | None = None

    def condition(self) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = []
        if self.view is not None:
            conditions.append(visible_condition(self.view))
        if self.team_id is not None:
            conditions.append(Interaction.team_id == self.team_id)
        return and_(true(), *conditions)


EVERYTHING = Scope()


@dataclass(frozen=True)
class Group:
    channel: str
    status: str
    direction: str
    agent: str | None
    ai_handled: bool
    count: int


async def groups(
    session: AsyncSession, start: datetime, end: datetime, scope: Scope = EVERYTHING
) -> list[Group]:
    stmt = (
        select(
            Interaction.channel,
            Interaction.status,
            Interaction.direction,
            Interaction.assigned_agent,
            Interaction.ai_handled,
            func.count(),
        )
        .where(Interaction.started_at >= start, Interaction.started_at < end, scope.condition())
        .group_by(
            Interaction.channel,
            Interaction.status,
            Interaction.direction,
            Interaction.assigned_agent,
            Interaction.ai_handled,
        )
    )
    return [
        Group(
            channel=str(channel.value),
            status=str(status.value),
            direction=str(direction.value),
            agent=agent,
            ai_handled=bool(ai),
            count=int(n),
        )
        for channel, status, direction, agent, ai, n in (await session.execute(stmt)).all()
    ]


async def average_handle_time(
    session: AsyncSession, start: datetime, end: datetime, scope: Scope = EVERYTHING
) -> float | None:
    stmt = (
        select(func.avg(CallDetail.duration_secs))
        .join(Interaction, Interaction.id == CallDetail.interaction_id)
        .where(
            Interaction.channel == Channel.CALL,
            Interaction.status == InteractionStatus.COMPLETED,
            Interaction.started_at >= start,
            Interaction.started_at < end,
            CallDetail.duration_secs.is_not(None),
            scope.condition(),
        )
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    return float(value) if value is not None else None


async def first_response_pairs(
    session: AsyncSession, start: datetime, end: datetime, scope: Scope = EVERYTHING
) -> list[tuple[datetime, datetime]]:
    """Per WhatsApp interaction of the day: its first INBOUND and first OUTBOUND message times.

    Two correlated MIN()s per interaction of the day, each the first entry of a range of
    ix_message_interaction_direction_created: the cost follows the day's conversations, not the
    size of the message table (an aggregate over every message since `start` took seconds at 5M
    rows).
    """

    def first(direction: Direction) -> ScalarSelect[datetime]:
        return (
            select(func.min(Message.created_at))
            .where(Message.interaction_id == Interaction.id, Message.direction == direction)
            .scalar_subquery()
        )

    pairs = (
        select(first(Direction.INBOUND).label("first_in"), first(Direction.OUTBOUND).label("out"))
        .where(
            Interaction.channel == Channel.WHATSAPP,
            Interaction.started_at >= start,
            Interaction.started_at < end,
            scope.condition(),
        )
        .subquery()
    )
    stmt = select(pairs.c.first_in, pairs.c.out).where(pairs.c.out > pairs.c.first_in)
    return [(a, b) for a, b in (await session.execute(stmt)).all()]


async def otp_statuses(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    stmt = (
        select(OtpChallenge.status, func.count())
        .where(OtpChallenge.created_at >= start, OtpChallenge.created_at < end)
        .group_by(OtpChallenge.status)
    )
    return {
        str(s.value if hasattr(s, "value") else s): int(n)
        for s, n in (await session.execute(stmt)).all()
    }


async def recent(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    stmt = select(Interaction.id).order_by(Interaction.updated_at.desc(), Interaction.id.desc())
    return list((await session.scalars(stmt.limit(limit))).all())


# --- teams, now -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    team_id: uuid.UUID | None  # None: the shared pool (conversations in no team)
    name: str | None
    waiting: int
    open_assigned: int
    members_online: int


async def team_figures(session: AsyncSession, now: datetime, scope: Scope) -> list[TeamRow]:
    """Per team (and the shared pool, team None), now: conversations waiting in its queue
    (queued, unassigned, open, not snoozed), open ones assigned, members ONLINE. Three
    statements, whatever the number of teams."""
    awake = or_(Interaction.snoozed_until.is_(None), Interaction.snoozed_until <= now)
    waiting = and_(Interaction.assigned_agent.is_(None), Interaction.queued_at.is_not(None), awake)
    counts = (
        select(
            Interaction.team_id,
            func.sum(case((waiting, 1), else_=0)),
            func.sum(case((Interaction.assigned_agent.is_not(None), 1), else_=0)),
        )
        .where(Interaction.status.in_(OPEN), scope.condition())
        .group_by(Interaction.team_id)
    )
    by_team = {
        team_id: (int(w or 0), int(a or 0))
        for team_id, w, a in (await session.execute(counts)).all()
    }
    online_stmt = (
        select(TeamMember.team_id, func.count())
        .join(UserAccount, UserAccount.id == TeamMember.user_id)
        .where(UserAccount.active.is_(True), UserAccount.availability == Availability.ONLINE)
        .group_by(TeamMember.team_id)
    )
    online = {t: int(n) for t, n in (await session.execute(online_stmt)).all()}
    teams_stmt = select(Team.id, Team.name).order_by(Team.name)
    if scope.team_id is not None:
        teams_stmt = teams_stmt.where(Team.id == scope.team_id)
    if scope.view is not None:
        teams_stmt = teams_stmt.where(Team.id.in_(sorted(scope.view.team_ids)))
    rows = [
        TeamRow(team_id, name, *by_team.get(team_id, (0, 0)), online.get(team_id, 0))
        for team_id, name in (await session.execute(teams_stmt)).all()
    ]
    if scope.team_id is None:
        rows.append(TeamRow(None, None, *by_team.get(None, (0, 0)), 0))
    return rows


async def team_exists(session: AsyncSession, team_id: uuid.UUID) -> bool:
    return (await session.get(Team, team_id)) is not None
