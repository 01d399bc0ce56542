"""The SQL of the console's complaint counts (docs/complaints.md, "Console")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.complaint import Complaint
from contact_center.models.enums import ComplaintStatus


async def open_and_overdue(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None,
    running: tuple[ComplaintStatus, ...],
    now: datetime,
) -> tuple[int, int, int]:
    """(open, overdue, drafts) among the complaints `visible` selects (None: all): open ones
    owe an answer (their clock runs), overdue ones are open past their due time."""
    is_running = Complaint.status.in_(list(running))
    stmt = select(
        func.count().filter(is_running),
        func.count().filter(is_running, Complaint.due_at.is_not(None), Complaint.due_at <= now),
        func.count().filter(Complaint.status == ComplaintStatus.DRAFT),
    ).select_from(Complaint)
    if visible is not None:
        stmt = stmt.where(visible)
    opened, overdue, drafts = (await session.execute(stmt)).one()
    return int(opened or 0), int(overdue or 0), int(drafts or 0)
