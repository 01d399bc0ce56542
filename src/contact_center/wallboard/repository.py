"""SQL of the wallboard: a handful of statements whose cost follows what is open now (waiting,
open, assigned conversations and today's clocks), never the size of the history.

  * waiting: the queue index (ix_interaction_waiting: team, queued_at; queued rows only);
  * open conversations: ix_interaction_status (open statuses only), each one's clocks by key;
  * people's load: ix_interaction_agent_status (agent, status, channel);
  * today's clocks: ix_conversation_sla_updated (a target met or breached today was written
    today).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from contact_center.models.enums import Availability, Channel, InteractionStatus, Role, SlaState
from contact_center.models.interaction import Interaction
from contact_center.models.service_levels import ConversationSla
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount

OPEN = (InteractionStatus.NEW, InteractionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Scope:
    """The teams whose figures are counted: None, every team and the shared pool (the
    conversations in no team); else those teams only."""

    team_ids: frozenset[uuid.UUID] | None = None

    @property
    def pool(self) -> bool:
        return self.team_ids is None

    def teams(self) -> ColumnElement[bool]:
        """The interactions of the scope."""
        if self.team_ids is None:
            return true()
        return Interaction.team_id.in_(sorted(self.team_ids))


TeamKey = uuid.UUID | None


async def member_teams(session: AsyncSession, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    return frozenset((await session.scalars(stmt)).all())


async def teams(session: AsyncSession, scope: Scope) -> list[tuple[uuid.UUID, str]]:
    stmt = select(Team.id, Team.name).order_by(Team.name)
    if scope.team_ids is not None:
        stmt = stmt.where(Team.id.in_(sorted(scope.team_ids)))
    return [(team_id, name) for team_id, name in (await session.execute(stmt)).all()]


@dataclass(frozen=True)
class Waiting:
    count: int
    oldest: datetime | None


async def waiting(session: AsyncSession, now: datetime, scope: Scope) -> dict[TeamKey, Waiting]:
    """Per team: the conversations waiting for a person (queued, unassigned, awake; open, or a
    finished call a person follows up: as the router reads its queue) and the oldest one's
    `queued_at`."""
    stmt = (
        select(Interaction.team_id, func.count(), func.min(Interaction.queued_at))
        .where(
            Interaction.queued_at.is_not(None),
            # Unassigned, written so that PostgreSQL reads the queue index alone: with
            # `assigned_agent IS NULL` it also walked the agents' index for the hundreds of
            # thousands of unassigned rows of the history, to intersect them (130 ms at 1M).
            func.coalesce(Interaction.assigned_agent, "") == "",
            or_(Interaction.snoozed_until.is_(None), Interaction.snoozed_until <= now),
            or_(Interaction.status.in_(OPEN), Interaction.channel == Channel.CALL),
            scope.teams(),
        )
        .group_by(Interaction.team_id)
    )
    return {
        team_id: Waiting(int(n), oldest)
        for team_id, n, oldest in (await session.execute(stmt)).all()
    }


@dataclass(frozen=True)
class OpenFigures:
    assigned: int  # open and assigned to a person
    active_calls: int  # calls in progress
    breached: int  # open conversations overdue on a target now


# Overdue now, not merely missed once: a first response answered late stays BREACHED (the
# reports count it), as does the last next-response episode after the reply; neither is
# overdue any more. The resolution target is overdue while the conversation is open (the
# only rows read here).
_BREACHED = exists().where(
    ConversationSla.interaction_id == Interaction.id,
    or_(
        and_(
            ConversationSla.first_response_state == SlaState.BREACHED,
            ConversationSla.first_response_at.is_(None),
        ),
        and_(
            ConversationSla.next_response_state == SlaState.BREACHED,
            Interaction.waiting_since.is_not(None),
        ),
        ConversationSla.resolution_state == SlaState.BREACHED,
    ),
)


async def open_figures(session: AsyncSession, scope: Scope) -> dict[TeamKey, OpenFigures]:
    """Per team, over the open conversations: assigned ones, calls in progress, and those with
    a breached target (their clocks read by key)."""
    in_call = and_(
        Interaction.channel == Channel.CALL, Interaction.status == InteractionStatus.IN_PROGRESS
    )
    stmt = (
        select(
            Interaction.team_id,
            func.sum(case((Interaction.assigned_agent.is_not(None), 1), else_=0)),
            func.sum(case((in_call, 1), else_=0)),
            # Calls have no clocks: their rows skip the lookup (CASE tries in order).
            func.sum(case((Interaction.channel == Channel.CALL, 0), (_BREACHED, 1), else_=0)),
        )
        .where(Interaction.status.in_(OPEN), scope.teams())
        .group_by(Interaction.team_id)
    )
    return {
        team_id: OpenFigures(int(a or 0), int(c or 0), int(b or 0))
        for team_id, a, c, b in (await session.execute(stmt)).all()
    }


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    username: str
    display_name: str | None
    availability: Availability
    availability_changed_at: datetime | None
    capacity: int  # open conversations they take at most, every channel together
    team_ids: frozenset[uuid.UUID]


async def people(session: AsyncSession, scope: Scope) -> list[Person]:
    """The active members of the scope's teams; with every team in scope, the active agents in
    no team too."""
    membership = select(TeamMember.user_id, TeamMember.team_id)
    if scope.team_ids is not None:
        membership = membership.where(TeamMember.team_id.in_(sorted(scope.team_ids)))
    teams_of: dict[uuid.UUID, set[uuid.UUID]] = {}
    for user_id, team_id in (await session.execute(membership)).all():
        teams_of.setdefault(user_id, set()).add(team_id)
    who: ColumnElement[bool] = UserAccount.id.in_(sorted(teams_of))
    if scope.team_ids is None:
        who = or_(who, UserAccount.role == Role.AGENT)
    stmt = (
        select(UserAccount).where(UserAccount.active.is_(True), who).order_by(UserAccount.username)
    )
    return [
        Person(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            availability=user.availability,
            availability_changed_at=user.availability_changed_at,
            capacity=user.capacity_call + user.capacity_whatsapp + user.capacity_sms,
            team_ids=frozenset(teams_of.get(user.id, ())),
        )
        for user in (await session.scalars(stmt)).all()
    ]


async def loads(session: AsyncSession, usernames: Sequence[str]) -> dict[str, int]:
    """Each person's open conversations (any team: a person's load is theirs)."""
    if not usernames:
        return {}
    stmt = (
        select(Interaction.assigned_agent, func.count())
        .where(Interaction.assigned_agent.in_(sorted(usernames)), Interaction.status.in_(OPEN))
        .group_by(Interaction.assigned_agent)
    )
    return {str(agent): int(n) for agent, n in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class Targets:
    met: int = 0
    breached: int = 0


def _decided(
    state: InstrumentedAttribute[SlaState | None],
    value: SlaState,
    moment: InstrumentedAttribute[datetime | None],
    start: datetime,
    end: datetime,
) -> ColumnElement[int]:
    """1 for a target in `value` whose deciding moment falls in [start, end), else 0."""
    return func.sum(case((and_(state == value, moment >= start, moment < end), 1), else_=0))


async def targets_today(
    session: AsyncSession, start: datetime, end: datetime, scope: Scope
) -> dict[TeamKey, Targets]:
    """Per team, the first-response and resolution targets decided in [start, end): MET on the
    moment it was met, BREACHED on the moment it fell due (each target of a conversation
    counts). A target decided since `start` was written since then: only the clocks changed
    since `start` are read."""
    sla = ConversationSla
    stmt = (
        select(
            Interaction.team_id,
            _decided(sla.first_response_state, SlaState.MET, sla.first_response_at, start, end),
            _decided(sla.resolution_state, SlaState.MET, sla.resolved_at, start, end),
            _decided(
                sla.first_response_state, SlaState.BREACHED, sla.first_response_due_at, start, end
            ),
            _decided(sla.resolution_state, SlaState.BREACHED, sla.resolution_due_at, start, end),
        )
        .join(Interaction, Interaction.id == sla.interaction_id)
        .where(sla.updated_at >= start, scope.teams())
        .group_by(Interaction.team_id)
    )
    return {
        team_id: Targets(int(mf or 0) + int(mr or 0), int(bf or 0) + int(br or 0))
        for team_id, mf, mr, bf, br in (await session.execute(stmt)).all()
    }


async def availability_by_team(
    session: AsyncSession, scope: Scope
) -> dict[uuid.UUID, dict[Availability, int]]:
    """Per team, its active members by availability."""
    stmt = (
        select(TeamMember.team_id, UserAccount.availability, func.count())
        .join(UserAccount, UserAccount.id == TeamMember.user_id)
        .where(UserAccount.active.is_(True))
        .group_by(TeamMember.team_id, UserAccount.availability)
    )
    if scope.team_ids is not None:
        stmt = stmt.where(TeamMember.team_id.in_(sorted(scope.team_ids)))
    found: dict[uuid.UUID, dict[Availability, int]] = {}
    for team_id, availability, n in (await session.execute(stmt)).all():
        found.setdefault(team_id, {})[availability] = int(n)
    return found
