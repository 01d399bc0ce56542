"""The SQL of complaints (docs/complaints.md)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.db.statements import insert_ignore, lock_key
from contact_center.models.complaint import Complaint, ComplaintEvent, ComplaintInteraction
from contact_center.models.enums import Channel, ComplaintStatus
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message

# Statuses whose clock runs (an answer is still owed).
UNANSWERED = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, ComplaintStatus.ESCALATED)


async def get(
    session: AsyncSession, complaint_id: uuid.UUID, *, for_update: bool = False
) -> Complaint | None:
    stmt = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def by_source_key(session: AsyncSession, source_key: str) -> Complaint | None:
    stmt = select(Complaint).where(Complaint.source_key == source_key)
    return (await session.scalars(stmt)).one_or_none()


async def add(session: AsyncSession, complaint: Complaint) -> None:
    session.add(complaint)
    await session.flush()


async def add_once(session: AsyncSession, values: dict[str, Any]) -> bool:
    """A complaint keyed by its `source_key`, unless one has it: True when this call wrote it
    (the unique source_key decides between racing webhooks)."""
    return await insert_ignore(session, Complaint, values, ["source_key"])


async def link(
    session: AsyncSession, complaint_id: uuid.UUID, interaction_id: uuid.UUID, by: str
) -> bool:
    """Link a conversation (once): True when this call linked it."""
    values = {
        "complaint_id": complaint_id,
        "interaction_id": interaction_id,
        "linked_by": by,
        "linked_at": utcnow(),
    }
    return await insert_ignore(
        session, ComplaintInteraction, values, ["complaint_id", "interaction_id"]
    )


async def interactions(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, for_update: bool = False
) -> list[Interaction]:
    stmt = select(Interaction).where(Interaction.id.in_(list(ids))).order_by(Interaction.id)
    if for_update:
        stmt = stmt.with_for_update()
    return list((await session.scalars(stmt)).all())


async def linked(session: AsyncSession, complaint_id: uuid.UUID) -> list[Interaction]:
    """The complaint's conversations, oldest first."""
    stmt = (
        select(Interaction)
        .join(ComplaintInteraction, ComplaintInteraction.interaction_id == Interaction.id)
        .where(ComplaintInteraction.complaint_id == complaint_id)
        .order_by(Interaction.started_at, Interaction.id)
    )
    return list((await session.scalars(stmt)).all())


async def linked_ids(session: AsyncSession, complaint_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(ComplaintInteraction.interaction_id).where(
        ComplaintInteraction.complaint_id == complaint_id
    )
    return list((await session.scalars(stmt)).all())


async def of_interaction(session: AsyncSession, interaction_id: uuid.UUID) -> list[Complaint]:
    stmt = (
        select(Complaint)
        .join(ComplaintInteraction, ComplaintInteraction.complaint_id == Complaint.id)
        .where(ComplaintInteraction.interaction_id == interaction_id)
        .order_by(Complaint.created_at, Complaint.id)
    )
    return list((await session.scalars(stmt)).all())


async def events(session: AsyncSession, complaint_id: uuid.UUID) -> list[ComplaintEvent]:
    stmt = (
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(ComplaintEvent.occurred_at, ComplaintEvent.id)
    )
    return list((await session.scalars(stmt)).all())


async def add_event(session: AsyncSession, values: dict[str, Any]) -> bool:
    """A timeline event; one with a `key` goes in once (True when this call wrote it)."""
    if values.get("key") is None:
        session.add(ComplaintEvent(**values))
        await session.flush()
        return True
    return await insert_ignore(session, ComplaintEvent, values, ["key"])


async def message(session: AsyncSession, message_id: uuid.UUID | None) -> Message | None:
    return None if message_id is None else await session.get(Message, message_id)


async def next_number(session: AsyncSession, prefix: str) -> int:
    """The next claim number's sequence under `prefix` ("R-2026-"): openings of the same year
    run one at a time from here to their commit (an advisory lock on PostgreSQL; SQLite's
    writers already do), so two openings never take the same number."""
    await lock_key(session, f"complaint-number:{prefix}")
    stmt = select(func.max(Complaint.number)).where(Complaint.number.like(f"{prefix}%"))
    last = (await session.execute(stmt)).scalar_one_or_none()
    return int(last[len(prefix) :]) + 1 if last else 1


def scope(agent: str | None, team_ids: Sequence[uuid.UUID]) -> ColumnElement[bool] | None:
    """An agent's complaints: owned by them or of one of their teams (None: all)."""
    if agent is None:
        return None
    conditions: list[ColumnElement[bool]] = [Complaint.owner == agent]
    if team_ids:
        conditions.append(Complaint.team_id.in_(list(team_ids)))
    return or_(*conditions)


async def search(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None,
    statuses: Sequence[ComplaintStatus],
    overdue_at: datetime | None,
    team_id: uuid.UUID | None,
    owner: str | None,
    limit: int,
    offset: int,
    product: str | None = None,
) -> list[Complaint]:
    """Complaints by due date (soonest first; drafts, with none, last)."""
    conditions: list[ColumnElement[bool]] = []
    if visible is not None:
        conditions.append(visible)
    if statuses:
        conditions.append(Complaint.status.in_(list(statuses)))
    if overdue_at is not None:
        conditions.append(
            and_(
                Complaint.status.in_(list(UNANSWERED)),
                Complaint.due_at.is_not(None),
                Complaint.due_at <= overdue_at,
            )
        )
    if team_id is not None:
        conditions.append(Complaint.team_id == team_id)
    if owner is not None:
        conditions.append(Complaint.owner == owner)
    if product is not None:
        conditions.append(Complaint.product == product)
    stmt = (
        select(Complaint)
        .where(*conditions)
        .order_by(Complaint.due_at.is_(None), Complaint.due_at, Complaint.created_at, Complaint.id)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.scalars(stmt)).all())


async def channel_of(session: AsyncSession, interaction_id: uuid.UUID) -> Channel | None:
    stmt = select(Interaction.channel).where(Interaction.id == interaction_id)
    return (await session.execute(stmt)).scalar_one_or_none()
