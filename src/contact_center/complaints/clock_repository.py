"""The clock job's SQL (docs/complaints.md, "The clock job"): the complaints whose warning,
escalation or overdue time has come and not fired, and the conditional updates that fire each
once — only the transaction whose update moved the row goes on to write the event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.complaints.repository import UNANSWERED
from contact_center.db.statements import insert_ignore
from contact_center.models.complaint import Complaint, ComplaintEvent, ComplaintInteraction
from contact_center.models.enums import ComplaintStatus
from contact_center.models.user_account import UserAccount

# The statuses whose clock runs: a warning and the escalation only before the case was
# escalated (by a person or by the clock); overdue also after, until it is answered.
RUNNING = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS)


def _due_warning(now: datetime) -> object:
    return and_(
        Complaint.status.in_(RUNNING), Complaint.warn_at <= now, Complaint.warned_at.is_(None)
    )


def _due_escalation(now: datetime) -> object:
    return and_(
        Complaint.status.in_(RUNNING),
        Complaint.escalate_at <= now,
        Complaint.auto_escalated_at.is_(None),
    )


def _due_overdue(now: datetime) -> object:
    return and_(
        Complaint.status.in_(UNANSWERED), Complaint.due_at <= now, Complaint.overdue_at.is_(None)
    )


async def due(
    session: AsyncSession, now: datetime, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Ids of complaints with a clock event to fire at `now`, in id order after `after`. The
    status filter reads `ix_complaint_status_due`: only unanswered cases are looked at."""
    stmt = select(Complaint.id).where(
        Complaint.status.in_(UNANSWERED),
        or_(_due_warning(now), _due_escalation(now), _due_overdue(now)),  # type: ignore[arg-type]
    )
    if after is not None:
        stmt = stmt.where(Complaint.id > after)
    return list((await session.scalars(stmt.order_by(Complaint.id).limit(limit))).all())


async def complaint(session: AsyncSession, complaint_id: uuid.UUID) -> Complaint | None:
    return await session.get(Complaint, complaint_id, populate_existing=True)


async def _mark(session: AsyncSession, complaint_id: uuid.UUID, due: Any, **values: object) -> bool:
    """Set `values` on the complaint if `due` still holds for it. True when this moved it."""
    result = await session.execute(
        update(Complaint)
        .where(Complaint.id == complaint_id, due)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def mark_warned(session: AsyncSession, complaint_id: uuid.UUID, now: datetime) -> bool:
    """warned_at = now, if its warning is due and has not fired. True when this moved it."""
    return await _mark(session, complaint_id, _due_warning(now), warned_at=now, updated_at=now)


async def mark_escalated(
    session: AsyncSession, complaint_id: uuid.UUID, now: datetime, to: str
) -> bool:
    """The automatic escalation to `to`, if due and not fired. True when this moved it."""
    return await _mark(
        session,
        complaint_id,
        _due_escalation(now),
        status=ComplaintStatus.ESCALATED,
        auto_escalated_at=now,
        escalated_at=now,
        escalated_to=to,
        updated_at=now,
    )


async def mark_overdue(session: AsyncSession, complaint_id: uuid.UUID, now: datetime) -> bool:
    """overdue_at = now (the status stays), if past due unanswered and not flagged yet."""
    return await _mark(session, complaint_id, _due_overdue(now), overdue_at=now, updated_at=now)


async def add_event(session: AsyncSession, values: dict[str, object]) -> bool:
    """The timeline's event, once per `key`: False when it exists already."""
    return await insert_ignore(session, ComplaintEvent, dict(values), ["key"])


async def interactions_of(session: AsyncSession, complaint_id: uuid.UUID) -> list[uuid.UUID]:
    """The conversations the complaint concerns, the first linked first."""
    stmt = (
        select(ComplaintInteraction.interaction_id)
        .where(ComplaintInteraction.complaint_id == complaint_id)
        .order_by(ComplaintInteraction.linked_at, ComplaintInteraction.interaction_id)
    )
    return list((await session.scalars(stmt)).all())


async def active_users(session: AsyncSession, usernames: Sequence[str]) -> list[uuid.UUID]:
    """Ids of the active users among `usernames` (an owner, the responsable)."""
    names = [name for name in usernames if name]
    if not names:
        return []
    stmt = select(UserAccount.id).where(
        UserAccount.username.in_(names), UserAccount.active.is_(True)
    )
    return list((await session.scalars(stmt.order_by(UserAccount.username))).all())
