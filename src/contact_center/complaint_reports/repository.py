"""The regulator's report and the dashboard's complaint figures: counts in SQL, one query
each (docs/complaints.md, "Regulator's report")."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.complaint import Complaint
from contact_center.models.enums import ComplaintStatus

# Not answered and still the bank's to answer (the clock's UNANSWERED).
UNANSWERED = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, ComplaintStatus.ESCALATED)


@dataclass(frozen=True)
class ProductCounts:
    product: str
    opened: int
    answered_in_time: int
    answered_late: int
    overdue: int
    open: int


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def by_product(
    session: AsyncSession, start: datetime, end: datetime, as_of: datetime
) -> list[ProductCounts]:
    """Complaints opened in [start, end), by product: where their answer stands at `as_of`.
    Answered means `answered_at` is set (whatever happened after); a case without a due time
    answered counts as in time."""
    answered = Complaint.answered_at.is_not(None)
    late = and_(answered, Complaint.due_at.is_not(None), Complaint.answered_at > Complaint.due_at)
    past_due = and_(Complaint.due_at.is_not(None), Complaint.due_at <= as_of)
    stmt = (
        select(
            Complaint.product,
            func.count(),
            _count(
                and_(
                    answered,
                    or_(Complaint.due_at.is_(None), Complaint.answered_at <= Complaint.due_at),
                )
            ),
            _count(late),
            _count(and_(Complaint.answered_at.is_(None), past_due)),
            _count(and_(Complaint.answered_at.is_(None), ~past_due)),
        )
        .where(
            Complaint.opened_at.is_not(None),
            Complaint.opened_at >= start,
            Complaint.opened_at < end,
        )
        .group_by(Complaint.product)
        .order_by(Complaint.product)
    )
    rows = (await session.execute(stmt)).all()
    return [ProductCounts(p, int(a), int(b), int(c), int(d), int(e)) for p, a, b, c, d, e in rows]


async def open_and_overdue(
    session: AsyncSession,
    now: datetime,
    *,
    owner: str | None = None,
    team_ids: Collection[uuid.UUID] | None = None,
) -> tuple[int, int]:
    """Unanswered complaints, and those of them past their due time. With `owner` (an
    agent's view): only the agent's own and those of `team_ids`."""
    past_due = and_(Complaint.due_at.is_not(None), Complaint.due_at <= now)
    stmt = select(func.count(), _count(past_due)).where(Complaint.status.in_(UNANSWERED))
    if owner is not None:
        mine = Complaint.owner == owner
        if team_ids:
            mine = or_(mine, Complaint.team_id.in_(list(team_ids)))
        stmt = stmt.where(mine)
    row = (await session.execute(stmt)).one()
    return int(row[0]), int(row[1])
