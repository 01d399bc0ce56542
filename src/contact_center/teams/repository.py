"""All SQL of teams, their members, routing rules, and people's availability and capacity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import lock_key
from contact_center.models.enums import Channel, InteractionStatus, Role
from contact_center.models.interaction import Interaction
from contact_center.models.team import RoutingRule, Team, TeamMember
from contact_center.models.user_account import UserAccount

OPEN = (InteractionStatus.NEW, InteractionStatus.IN_PROGRESS)


async def lock_teams(session: AsyncSession) -> None:
    """Team writes run one at a time (PostgreSQL: an advisory lock until commit; SQLite writes
    already do), so the checks they make (a free name, one default team) hold at commit."""
    await lock_key(session, "teams")


# --- teams ----------------------------------------------------------------------------------


async def list_teams(session: AsyncSession, team_id: uuid.UUID | None = None) -> list[Team]:
    stmt = select(Team).order_by(Team.name)
    if team_id is not None:
        stmt = stmt.where(Team.id == team_id)
    return list((await session.scalars(stmt)).all())


async def get_team(session: AsyncSession, team_id: uuid.UUID) -> Team | None:
    return await session.get(Team, team_id)


async def team_named(session: AsyncSession, name: str) -> Team | None:
    return (await session.scalars(select(Team).where(Team.name == name))).one_or_none()


async def add_team(session: AsyncSession, team: Team) -> None:
    session.add(team)
    await session.flush()


async def clear_default(session: AsyncSession, keep: uuid.UUID) -> list[uuid.UUID]:
    """Every other team stops being the default; the ids of those that were."""
    stmt = (
        update(Team)
        .where(Team.is_default.is_(True), Team.id != keep)
        .values(is_default=False)
        .returning(Team.id)
        .execution_options(synchronize_session="fetch")
    )
    return list((await session.scalars(stmt)).all())


async def delete_team(session: AsyncSession, team: Team) -> None:
    await session.delete(team)
    await session.flush()


async def members_of(
    session: AsyncSession, team_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[UserAccount]]:
    """Each team's members (by username), in one statement."""
    found: dict[uuid.UUID, list[UserAccount]] = {team_id: [] for team_id in team_ids}
    if not team_ids:
        return found
    stmt = (
        select(TeamMember.team_id, UserAccount)
        .join(UserAccount, UserAccount.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(list(team_ids)))
        .order_by(UserAccount.username)
    )
    for team_id, user in (await session.execute(stmt)).all():
        found.setdefault(team_id, []).append(user)
    return found


async def member_ids(session: AsyncSession, team_id: uuid.UUID) -> set[uuid.UUID]:
    stmt = select(TeamMember.user_id).where(TeamMember.team_id == team_id)
    return set((await session.scalars(stmt)).all())


async def replace_members(
    session: AsyncSession,
    team_id: uuid.UUID,
    removed: Sequence[uuid.UUID],
    added: Sequence[uuid.UUID],
    now: datetime,
) -> None:
    """Remove and add members (those who stay keep their round-robin turn)."""
    if removed:
        await session.execute(
            delete(TeamMember).where(
                TeamMember.team_id == team_id, TeamMember.user_id.in_(list(removed))
            )
        )
    if added:
        await session.execute(
            insert(TeamMember),
            [{"team_id": team_id, "user_id": user_id, "added_at": now} for user_id in added],
        )


# --- users ----------------------------------------------------------------------------------


async def users_by_ids(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, UserAccount]:
    if not user_ids:
        return {}
    stmt = select(UserAccount).where(UserAccount.id.in_(list(user_ids)))
    return {user.id: user for user in (await session.scalars(stmt)).all()}


async def user_for_update(session: AsyncSession, user_id: uuid.UUID) -> UserAccount | None:
    stmt = select(UserAccount).where(UserAccount.id == user_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


def _load_by_agent() -> Any:
    """Open conversations per assigned person and channel (a subquery, one row per person)."""

    def count(channel: Channel) -> Any:
        return func.coalesce(func.sum(case((Interaction.channel == channel, 1), else_=0)), 0)

    return (
        select(
            Interaction.assigned_agent.label("agent"),
            count(Channel.CALL).label("call"),
            count(Channel.WHATSAPP).label("whatsapp"),
            count(Channel.SMS).label("sms"),
        )
        .where(Interaction.assigned_agent.is_not(None), Interaction.status.in_(OPEN))
        .group_by(Interaction.assigned_agent)
        .subquery("load")
    )


async def people(session: AsyncSession) -> list[tuple[UserAccount, dict[str, int]]]:
    """Active users who work conversations (not compliance officers) with their load per
    channel: one statement."""
    load = _load_by_agent()
    stmt = (
        select(UserAccount, load.c.call, load.c.whatsapp, load.c.sms)
        .outerjoin(load, load.c.agent == UserAccount.username)
        .where(UserAccount.active.is_(True), UserAccount.role != Role.COMPLIANCE)
        .order_by(UserAccount.username)
    )
    return [
        (user, {"call": int(c or 0), "whatsapp": int(w or 0), "sms": int(s or 0)})
        for user, c, w, s in (await session.execute(stmt)).all()
    ]


async def teams_by_user(session: AsyncSession) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Every membership, by user: one statement."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    stmt = select(TeamMember.user_id, TeamMember.team_id)
    for user_id, team_id in (await session.execute(stmt)).all():
        found.setdefault(user_id, []).append(team_id)
    return found


# --- routing rules --------------------------------------------------------------------------


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    stmt = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.created_at)
    return list((await session.scalars(stmt)).all())


async def next_position(session: AsyncSession) -> int:
    last = await session.scalar(select(func.max(RoutingRule.position)))
    return 0 if last is None else int(last) + 1


async def add_rule(session: AsyncSession, rule: RoutingRule) -> None:
    session.add(rule)
    await session.flush()


async def get_rule(session: AsyncSession, rule_id: uuid.UUID) -> RoutingRule | None:
    return await session.get(RoutingRule, rule_id)


async def delete_rule(session: AsyncSession, rule: RoutingRule) -> None:
    await session.delete(rule)
    await session.flush()
