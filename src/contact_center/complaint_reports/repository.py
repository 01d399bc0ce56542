"""The regulator's report and the dashboard's complaint figures: counts in SQL, one query
each (docs/complaints.md, "Regulator's report")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.complaints.repository import UNANSWERED
from contact_center.models.complaint import Complaint
from contact_center.models.enums import ComplaintStatus


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
    session: AsyncSession, *, visible: ColumnElement[bool] | None, now: datetime
) -> tuple[int, int, int]:
    """(open, overdue, drafts) among the complaints `visible` selects (None: all): open ones
    owe an answer (their clock runs), overdue ones are open past their due time."""
    is_running = Complaint.status.in_(list(UNANSWERED))
    stmt = select(
        func.count().filter(is_running),
        func.count().filter(is_running, Complaint.due_at.is_not(None), Complaint.due_at <= now),
        func.count().filter(Complaint.status == ComplaintStatus.DRAFT),
    ).select_from(Complaint)
    if visible is not None:
        stmt = stmt.where(visible)
    opened, overdue, drafts = (await session.execute(stmt)).one()
    return int(opened or 0), int(overdue or 0), int(drafts or 0)
