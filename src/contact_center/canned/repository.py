"""All SQL of canned replies."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.errors import unique_constraint
from contact_center.models.canned_reply import CannedReply
from contact_center.models.interaction import Interaction
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount

SHORTCUT_CONSTRAINT = "uq_canned_reply_scope_key_shortcut"
LIST_LIMIT = 500


async def team_ids_of(session: AsyncSession, user_id: uuid.UUID | None) -> list[uuid.UUID]:
    if user_id is None:
        return []
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    return list((await session.scalars(stmt)).all())


async def team_exists(session: AsyncSession, team_id: uuid.UUID) -> bool:
    return (await session.get(Team, team_id)) is not None


async def teams(session: AsyncSession) -> list[Team]:
    return list((await session.scalars(select(Team).order_by(Team.name))).all())


async def listed(
    session: AsyncSession,
    *,
    teams: list[uuid.UUID] | None,
    q: str | None,
    team_id: uuid.UUID | None,
) -> list[CannedReply]:
    """Global replies and those of `teams` (None: of every team), by shortcut."""
    stmt = select(CannedReply)
    if teams is not None:
        stmt = stmt.where(or_(CannedReply.team_id.is_(None), CannedReply.team_id.in_(teams)))
    if team_id is not None:
        stmt = stmt.where(CannedReply.team_id == team_id)
    if q:
        needle = q.lower()
        stmt = stmt.where(
            or_(
                func.lower(CannedReply.shortcut).contains(needle, autoescape=True),
                func.lower(CannedReply.title).contains(needle, autoescape=True),
                func.lower(CannedReply.body).contains(needle, autoescape=True),
            )
        )
    stmt = stmt.order_by(CannedReply.shortcut, CannedReply.id).limit(LIST_LIMIT)
    return list((await session.scalars(stmt)).all())


async def get(
    session: AsyncSession, reply_id: uuid.UUID, *, for_update: bool = False
) -> CannedReply | None:
    stmt = select(CannedReply).where(CannedReply.id == reply_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def saved_unless_taken(session: AsyncSession, reply: CannedReply) -> bool:
    """Insert or update the reply; False when its shortcut is taken in its scope, by a
    transaction that committed first or is about to (the database decides)."""
    try:
        async with session.begin_nested():
            session.add(reply)
            await session.flush()
    except IntegrityError as exc:
        if unique_constraint(exc) != SHORTCUT_CONSTRAINT:
            raise
        return False
    return True


async def delete(session: AsyncSession, reply: CannedReply) -> None:
    await session.delete(reply)
    await session.flush()


async def display_name(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    stmt = select(
        func.coalesce(func.nullif(UserAccount.display_name, ""), UserAccount.username)
    ).where(UserAccount.id == user_id)
    name: str | None = (await session.execute(stmt)).scalar_one_or_none()
    return name


async def customer_name_of(session: AsyncSession, phone: str) -> str | None:
    """The name the customer's latest named interaction gives (an SMS knows none itself)."""
    stmt = (
        select(Interaction.customer_name)
        .where(Interaction.customer_phone == phone, Interaction.customer_name.is_not(None))
        .order_by(Interaction.started_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
