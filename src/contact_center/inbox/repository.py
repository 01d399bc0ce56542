"""All SQL of the inbox: its views, the page's last messages and unread counts, read marks.

A page costs a fixed number of statements whatever its size: the page of interactions, then
the last message, the unread count and the labels of all its conversations at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.enums import Channel, Direction, InteractionStatus
from contact_center.models.interaction import Interaction, InteractionLabel
from contact_center.models.message import Message
from contact_center.models.read_mark import ReadMark
from contact_center.models.team import Team
from contact_center.models.user_account import UserAccount

OPEN = (InteractionStatus.NEW, InteractionStatus.IN_PROGRESS)
CLOSED = (InteractionStatus.COMPLETED, InteractionStatus.ABANDONED)


@dataclass(frozen=True)
class ViewFilter:
    """Which conversations a view holds, as the service decided it (scope included)."""

    conditions: tuple[ColumnElement[bool], ...]
    # waiting | recent | updated (the Resolved view: most recently updated first)
    order: str


def open_condition() -> ColumnElement[bool]:
    return Interaction.status.in_(OPEN)


def closed_condition() -> ColumnElement[bool]:
    return Interaction.status.in_(CLOSED)


def awake(now: datetime) -> ColumnElement[bool]:
    return or_(Interaction.snoozed_until.is_(None), Interaction.snoozed_until <= now)


def asleep(now: datetime) -> ColumnElement[bool]:
    return and_(Interaction.snoozed_until.is_not(None), Interaction.snoozed_until > now)


def channel_is(channel: Channel) -> ColumnElement[bool]:
    return Interaction.channel == channel


def assigned_to(agent: str) -> ColumnElement[bool]:
    return Interaction.assigned_agent == agent


def unassigned() -> ColumnElement[bool]:
    return Interaction.assigned_agent.is_(None)


def in_team(team_id: uuid.UUID) -> ColumnElement[bool]:
    return Interaction.team_id == team_id


def labelled(label: str) -> ColumnElement[bool]:
    return Interaction.id.in_(
        select(InteractionLabel.interaction_id).where(InteractionLabel.label == label)
    )


def _last_activity() -> ColumnElement[Any]:
    return func.coalesce(Interaction.last_message_at, Interaction.updated_at)


def _order(order: str) -> list[Any]:
    if order == "updated":
        return [Interaction.updated_at.desc(), Interaction.id.desc()]
    if order == "recent":
        return [_last_activity().desc(), Interaction.id.desc()]
    # Waiting customers first, longest waiting first; then the others, oldest activity first.
    return [
        case((Interaction.waiting_since.is_(None), 1), else_=0),
        Interaction.waiting_since.asc(),
        _last_activity().asc(),
        Interaction.id.asc(),
    ]


async def page(
    session: AsyncSession, view: ViewFilter, *, limit: int, skip: int
) -> list[Interaction]:
    """One page of a view; one row more than asked tells hasMore."""
    stmt = (
        select(Interaction)
        .where(and_(True, *view.conditions))
        .order_by(*_order(view.order))
        .offset(skip)
        .limit(limit + 1)
    )
    return list((await session.scalars(stmt)).all())


async def last_messages(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The newest message of each conversation, in one statement: a correlated subquery picks
    each one's newest id along ix_message_interaction_created."""
    if not interaction_ids:
        return {}
    newest = (
        select(Message.id)
        .where(Message.interaction_id == Interaction.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(Interaction)
        .scalar_subquery()
    )
    ids = select(newest).select_from(Interaction).where(Interaction.id.in_(list(interaction_ids)))
    stmt = select(
        Message.id,
        Message.interaction_id,
        Message.direction,
        Message.body,
        Message.kind,
        Message.media,
        Message.created_at,
    ).where(Message.id.in_(ids))
    return {row.interaction_id: dict(row._mapping) for row in await session.execute(stmt)}


def _unread_rows(user_id: uuid.UUID | None) -> Any:
    """Inbound messages after the reader's mark (no mark: every inbound message)."""
    if user_id is None:
        return (
            select(Message.interaction_id, func.count().label("unread"))
            .where(Message.direction == Direction.INBOUND)
            .group_by(Message.interaction_id)
        )
    return (
        select(Message.interaction_id, func.count().label("unread"))
        .select_from(Message)
        .outerjoin(
            ReadMark,
            and_(ReadMark.interaction_id == Message.interaction_id, ReadMark.user_id == user_id),
        )
        .where(
            Message.direction == Direction.INBOUND,
            or_(ReadMark.last_read_at.is_(None), Message.created_at > ReadMark.last_read_at),
        )
        .group_by(Message.interaction_id)
    )


async def unread_counts(
    session: AsyncSession, user_id: uuid.UUID | None, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Each conversation's unread count for the reader, in one statement."""
    if not interaction_ids:
        return {}
    stmt = _unread_rows(user_id).where(Message.interaction_id.in_(list(interaction_ids)))
    return {row.interaction_id: int(row.unread) for row in await session.execute(stmt)}


async def unread_total(
    session: AsyncSession, user_id: uuid.UUID | None, conditions: Sequence[ColumnElement[bool]]
) -> int:
    """The reader's unread messages over the conversations `conditions` select, each
    conversation counted up to `cap` (as its badge shows)."""
    ids = select(Interaction.id).where(and_(True, *conditions))
    stmt = _unread_rows(user_id).where(Message.interaction_id.in_(ids))
    return sum(min(int(row.unread), UNREAD_CAP) for row in await session.execute(stmt))


UNREAD_CAP = 99


async def label_counts(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], limit: int
) -> list[tuple[str, int]]:
    """The labels of the conversations `conditions` select, most used first (then by name),
    each with how many of those conversations carry it."""
    conversations = func.count(InteractionLabel.interaction_id)
    stmt = (
        select(InteractionLabel.label, conversations)
        .join(Interaction, Interaction.id == InteractionLabel.interaction_id)
        .where(and_(True, *conditions))
        .group_by(InteractionLabel.label)
        .order_by(conversations.desc(), InteractionLabel.label)
        .limit(limit)
    )
    return [(row[0], int(row[1])) for row in await session.execute(stmt)]


async def count(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Interaction).where(and_(True, *conditions))
    return int((await session.execute(stmt)).scalar_one())


async def count_by_team(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]]
) -> dict[uuid.UUID, int]:
    stmt = (
        select(Interaction.team_id, func.count())
        .where(Interaction.team_id.is_not(None), *conditions)
        .group_by(Interaction.team_id)
    )
    return {row[0]: int(row[1]) for row in await session.execute(stmt) if row[0] is not None}


async def teams(session: AsyncSession, team_ids: Sequence[uuid.UUID] | None) -> list[Team]:
    """Teams by name (None: every team)."""
    stmt = select(Team).order_by(Team.name)
    if team_ids is not None:
        if not team_ids:
            return []
        stmt = stmt.where(Team.id.in_(list(team_ids)))
    return list((await session.scalars(stmt)).all())


async def team_exists(session: AsyncSession, team_id: uuid.UUID) -> bool:
    return (await session.scalar(select(Team.id).where(Team.id == team_id))) is not None


# --- read marks -------------------------------------------------------------------------------


async def message_of(
    session: AsyncSession, interaction_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[uuid.UUID, datetime] | None:
    stmt = select(Message.id, Message.created_at).where(
        Message.id == message_id, Message.interaction_id == interaction_id
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1])


async def newest_message(
    session: AsyncSession, interaction_id: uuid.UUID
) -> tuple[uuid.UUID, datetime] | None:
    stmt = (
        select(Message.id, Message.created_at)
        .where(Message.interaction_id == interaction_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1])


async def move_mark(
    session: AsyncSession,
    user_id: uuid.UUID,
    interaction_id: uuid.UUID,
    message_id: uuid.UUID | None,
    read_at: datetime,
    now: datetime,
) -> None:
    """Insert the mark, or move it forward (never back): one statement, so two marks at once
    never collide (INSERT … ON CONFLICT DO UPDATE … WHERE older)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ReadMark).values(
        user_id=user_id,
        interaction_id=interaction_id,
        last_read_message_id=message_id,
        last_read_at=read_at,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ReadMark.user_id, ReadMark.interaction_id],
        set_={
            "last_read_message_id": stmt.excluded.last_read_message_id,
            "last_read_at": stmt.excluded.last_read_at,
            "updated_at": stmt.excluded.updated_at,
        },
        where=ReadMark.last_read_at < stmt.excluded.last_read_at,
    )
    await session.execute(stmt)


async def mark_of(
    session: AsyncSession, user_id: uuid.UUID, interaction_id: uuid.UUID
) -> datetime | None:
    stmt = select(ReadMark.last_read_at).where(
        ReadMark.user_id == user_id, ReadMark.interaction_id == interaction_id
    )
    value: datetime | None = await session.scalar(stmt)
    return value


async def display_name(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    stmt = select(UserAccount.display_name).where(UserAccount.id == user_id)
    value: str | None = await session.scalar(stmt)
    return value
