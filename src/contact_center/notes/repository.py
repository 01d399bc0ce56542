"""All SQL of notes and notifications."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.note import InteractionNote, Notification
from contact_center.models.user_account import UserAccount


async def active_users(session: AsyncSession, usernames: Collection[str]) -> dict[str, uuid.UUID]:
    """The ids of those of `usernames` that are active users."""
    if not usernames:
        return {}
    stmt = select(UserAccount.username, UserAccount.id).where(
        UserAccount.username.in_(list(usernames)), UserAccount.active.is_(True)
    )
    return {name: id for name, id in (await session.execute(stmt)).all()}


async def add(session: AsyncSession, *rows: InteractionNote | Notification) -> None:
    session.add_all(rows)
    await session.flush()


async def notes_of(session: AsyncSession, interaction_id: uuid.UUID) -> list[InteractionNote]:
    stmt = (
        select(InteractionNote)
        .where(InteractionNote.interaction_id == interaction_id)
        .order_by(InteractionNote.created_at, InteractionNote.id)
    )
    return list((await session.scalars(stmt)).all())


async def notifications_of(
    session: AsyncSession, user_id: uuid.UUID, *, unread_only: bool, limit: int
) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int((await session.execute(stmt)).scalar_one())


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID | None, now: datetime
) -> int:
    """Mark one (or, with None, every) unread notification of the user read; how many."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    result = await session.execute(stmt.values(read_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


async def notification_of(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    stmt = select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return (await session.scalars(stmt)).one_or_none()
