"""The router's SQL. Statements are built once, their values bound at execution (the router runs
several times a second in every worker).

Locks (PostgreSQL; SQLite's transactions begin IMMEDIATE, so its writers already run one at a
time and `FOR UPDATE` compiles to nothing there): a team's row, then its ONLINE members' user
rows in id order, then the waiting conversations with SKIP LOCKED (a row a person is changing
right now is left for the next sweep instead of waited for).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from contact_center.models.audit_log import AuditLog
from contact_center.models.enums import (
    Availability,
    Channel,
    InteractionStatus,
    Priority,
    Role,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.team import RoutingRule, Team, TeamMember
from contact_center.models.user_account import UserAccount

OPEN = (InteractionStatus.NEW, InteractionStatus.IN_PROGRESS)
PRIORITY_RANK = case(
    {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3},
    value=Interaction.priority,
    else_=2,
)
_NOW: BindParameter[datetime] = bindparam("now")
_NOT_SNOOZED = or_(Interaction.snoozed_until.is_(None), Interaction.snoozed_until <= _NOW)
# Waiting for a person: queued, nobody assigned, awake, and open (a finished call that ended
# ESCALATED or TRANSFERRED waits too: the person follows it up).
_WAITING = and_(
    Interaction.queued_at.is_not(None),
    Interaction.assigned_agent.is_(None),
    _NOT_SNOOZED,
    or_(Interaction.status.in_(OPEN), Interaction.channel == Channel.CALL),
)


@dataclass
class Member:
    """An ONLINE member of a team, as the router weighs them."""

    user_id: uuid.UUID
    username: str
    capacity: dict[Channel, int]
    last_assigned_at: datetime | None
    load: dict[Channel, int]


# --- choosing a team ------------------------------------------------------------------------

_RULES = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.created_at, RoutingRule.id)
_DEFAULT_TEAM = select(Team.id).where(Team.is_default.is_(True)).order_by(Team.created_at).limit(1)
_WITHOUT_TEAM = (
    select(Interaction)
    .where(Interaction.team_id.is_(None), _WAITING)
    .order_by(Interaction.queued_at, Interaction.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)


async def rules(session: AsyncSession) -> Sequence[RoutingRule]:
    return (await session.scalars(_RULES)).all()


async def default_team(session: AsyncSession) -> uuid.UUID | None:
    return (await session.execute(_DEFAULT_TEAM)).scalar_one_or_none()


async def waiting_without_team(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[Interaction]:
    """Waiting conversations in no team's queue, oldest first, locked."""
    return (await session.scalars(_WITHOUT_TEAM, {"now": now, "limit": limit})).all()


# --- assigning ------------------------------------------------------------------------------

_TEAMS_WAITING = (
    select(Interaction.team_id)
    .where(Interaction.team_id.is_not(None), _WAITING)
    .group_by(Interaction.team_id)
)
_LOCK_TEAM = (
    select(Team.routing_mode)
    .where(Team.id == bindparam("team_id"))
    .with_for_update(skip_locked=True)
)
# One statement reads the members and locks their user rows, in id order: two teams' routers
# sharing a member lock them in the same order (no deadlock) and one waits for the other.
_ONLINE_MEMBERS = (
    select(
        UserAccount.id,
        UserAccount.username,
        UserAccount.capacity_call,
        UserAccount.capacity_whatsapp,
        UserAccount.capacity_sms,
        TeamMember.last_assigned_at,
    )
    .join(TeamMember, TeamMember.user_id == UserAccount.id)
    .where(
        TeamMember.team_id == bindparam("team_id"),
        UserAccount.availability == Availability.ONLINE,
        UserAccount.active.is_(True),
        # A compliance officer works no conversations, whatever team they were put in.
        UserAccount.role != Role.COMPLIANCE,
    )
    .order_by(UserAccount.id)
    .with_for_update(of=UserAccount)
)
_LOAD = (
    select(Interaction.assigned_agent, Interaction.channel, func.count())
    .where(
        Interaction.assigned_agent.in_(bindparam("usernames", expanding=True)),
        Interaction.status.in_(OPEN),
    )
    .group_by(Interaction.assigned_agent, Interaction.channel)
)
_WAITING_IN_TEAM = (
    select(
        Interaction.id,
        Interaction.channel,
        Interaction.status,
        Interaction.updated_at,
        Interaction.team_id,
    )
    .where(
        Interaction.team_id == bindparam("team_id"),
        Interaction.channel.in_(bindparam("channels", expanding=True)),
        _WAITING,
    )
    .order_by(PRIORITY_RANK, Interaction.queued_at, Interaction.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_INTERACTION = cast(Table, Interaction.__table__)
# A batch's assignments: one statement on PostgreSQL (the rows' values as arrays), one
# statement run for each row on SQLite.
_ASSIGN_PG = text(
    "UPDATE interaction AS i SET assigned_agent = v.agent, assigned_at = v.at, "
    "queued_at = NULL, updated_at = v.updated "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:agents AS varchar[]), "
    "CAST(:ats AS timestamptz[]), CAST(:updated AS timestamptz[])) AS v(id, agent, at, updated) "
    "WHERE i.id = v.id"
)
_ASSIGN = (
    update(_INTERACTION)
    .where(_INTERACTION.c.id == bindparam("b_id"))
    .values(
        assigned_agent=bindparam("b_agent"),
        assigned_at=bindparam("b_at"),
        queued_at=None,
        updated_at=bindparam("b_updated"),
    )
)
_MEMBER = cast(Table, TeamMember.__table__)
_MEMBER_ASSIGNED = (
    update(_MEMBER)
    .where(_MEMBER.c.team_id == bindparam("b_team_id"), _MEMBER.c.user_id == bindparam("b_user_id"))
    .values(last_assigned_at=bindparam("b_at"))
)


async def teams_waiting(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """The teams with a conversation waiting."""
    return [row for row in (await session.scalars(_TEAMS_WAITING, {"now": now})).all() if row]


async def lock_team(session: AsyncSession, team_id: uuid.UUID) -> str | None:
    """Lock a team's row and read its routing mode; None when another router holds it (it is
    routing the team right now) or the team is gone."""
    found = (await session.execute(_LOCK_TEAM, {"team_id": team_id})).scalar_one_or_none()
    return None if found is None else str(found)


async def online_members(session: AsyncSession, team_id: uuid.UUID) -> list[Member]:
    """The team's ONLINE members, their user rows locked in id order (load not yet read)."""
    rows = (await session.execute(_ONLINE_MEMBERS, {"team_id": team_id})).all()
    return [
        Member(
            user_id=row.id,
            username=row.username,
            capacity={
                Channel.CALL: row.capacity_call,
                Channel.WHATSAPP: row.capacity_whatsapp,
                Channel.SMS: row.capacity_sms,
            },
            last_assigned_at=row.last_assigned_at,
            load={},
        )
        for row in rows
    ]


async def load(session: AsyncSession, usernames: Sequence[str]) -> dict[tuple[str, Channel], int]:
    """Open conversations per (username, channel)."""
    if not usernames:
        return {}
    rows = (await session.execute(_LOAD, {"usernames": list(usernames)})).all()
    return {(str(agent), Channel(channel)): int(count) for agent, channel, count in rows}


async def waiting_in_team(
    session: AsyncSession,
    team_id: uuid.UUID,
    channels: Sequence[Channel],
    now: datetime,
    limit: int,
) -> list[Interaction]:
    """The team's waiting conversations of `channels` in order (priority, then oldest), locked:
    detached copies holding what the router reads (it writes a batch in one statement,
    `assign`)."""
    rows = await session.execute(
        _WAITING_IN_TEAM,
        {"team_id": team_id, "channels": list(channels), "now": now, "limit": limit},
    )
    return [
        Interaction(
            id=row.id,
            channel=row.channel,
            status=row.status,
            updated_at=row.updated_at,
            team_id=row.team_id,
        )
        for row in rows
    ]


async def assign(session: AsyncSession, assigned: Sequence[Interaction]) -> None:
    """Write a batch's assignments (`assigned_agent`, `assigned_at`, out of the queue)."""
    if not assigned:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            _ASSIGN_PG,
            {
                "ids": [i.id for i in assigned],
                "agents": [i.assigned_agent for i in assigned],
                "ats": [i.assigned_at for i in assigned],
                "updated": [i.updated_at for i in assigned],
            },
        )
        return
    await session.execute(
        _ASSIGN,
        [
            {
                "b_id": i.id,
                "b_agent": i.assigned_agent,
                "b_at": i.assigned_at,
                "b_updated": i.updated_at,
            }
            for i in assigned
        ],
    )


async def members_assigned(
    session: AsyncSession, team_id: uuid.UUID, assigned: dict[uuid.UUID, datetime]
) -> None:
    """Each member's last assignment in the team."""
    if assigned:
        await session.execute(
            _MEMBER_ASSIGNED,
            [
                {"b_team_id": team_id, "b_user_id": user_id, "b_at": at}
                for user_id, at in assigned.items()
            ],
        )


_AUDIT = insert(cast(Table, AuditLog.__table__))
_EVENTS = {
    "postgresql": pg_insert(cast(Table, InteractionEvent.__table__)).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    ),
    "sqlite": sqlite_insert(cast(Table, InteractionEvent.__table__)).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    ),
}


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """A batch's timeline events in one statement (each key once)."""
    if rows:
        await session.execute(_EVENTS[session.get_bind().dialect.name], rows)


async def add_audit_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """A batch's audit rows in one statement."""
    if rows:
        await session.execute(_AUDIT, rows)


# --- snoozed and offline ---------------------------------------------------------------------

_SNOOZE_OVER = (
    select(Interaction)
    .where(Interaction.snoozed_until.is_not(None), Interaction.snoozed_until <= _NOW)
    .order_by(Interaction.snoozed_until, Interaction.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_OF_OFFLINE = (
    select(Interaction)
    .join(UserAccount, UserAccount.username == Interaction.assigned_agent)
    .where(
        UserAccount.availability == Availability.OFFLINE,
        # NULL: never went offline through the availability switch (accounts made before it).
        UserAccount.availability_changed_at <= bindparam("offline_since"),
        Interaction.status.in_(OPEN),
    )
    .order_by(Interaction.id)
    .limit(bindparam("limit"))
    .with_for_update(of=Interaction, skip_locked=True)
)


async def snooze_over(session: AsyncSession, now: datetime, limit: int) -> Sequence[Interaction]:
    """Snoozed conversations whose time has come, locked."""
    return (await session.scalars(_SNOOZE_OVER, {"now": now, "limit": limit})).all()


async def of_offline(
    session: AsyncSession, offline_since: datetime, limit: int
) -> Sequence[Interaction]:
    """Open conversations of people OFFLINE since `offline_since` or earlier, locked."""
    return (
        await session.scalars(_OF_OFFLINE, {"offline_since": offline_since, "limit": limit})
    ).all()
