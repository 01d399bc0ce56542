"""The complaints' clock job (docs/complaints.md, "The clock job"): every 30 s, each unanswered
complaint whose warning, escalation or due time has come and not fired gets it fired, one
complaint per transaction. No watermark: what is due and not fired is found again by the same
query, so a complaint whose firing failed (logged: its id and the error's class) is tried again
on the next run, and two workers racing fire each step once (complaints.clock_job)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.complaints import clock_job, clock_repository
from contact_center.db.base import utcnow
from contact_center.settings import Settings

log = structlog.get_logger(__name__)

CLOCK_CRON = "* * * * * */30"
CLOCK_TIMEOUT = 120
BATCH = 200


@dataclass(frozen=True)
class ComplaintJobDeps:
    """What the clock job is given (`ctx["complaints"]`)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]


@dataclass
class Run:
    looked: int = 0
    fired: list[clock_job.Fired] = field(default_factory=list)
    # Complaints whose firing failed this run (found again on the next).
    failed: list[uuid.UUID] = field(default_factory=list)


async def run(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    responsable: str,
    batch: int = BATCH,
) -> Run:
    """One pass at `now` over the complaints with a clock event due, in id order."""
    result = Run()
    after: uuid.UUID | None = None
    while True:
        async with sessions() as session:
            due = await clock_repository.due(session, now, after, batch)
        for complaint_id in due:
            await _fire_one(sessions, complaint_id, now, responsable, result)
        if len(due) < batch:
            return result
        after = due[-1]


async def _fire_one(
    sessions: async_sessionmaker[AsyncSession],
    complaint_id: uuid.UUID,
    now: datetime,
    responsable: str,
    result: Run,
) -> None:
    try:
        async with sessions() as session:
            fired = await clock_job.fire(session, complaint_id, now, responsable)
            await session.commit()
    except Exception as exc:  # one complaint never holds the others back
        log.warning(
            "complaint_clock_failed", complaint_id=str(complaint_id), error=type(exc).__name__
        )
        result.failed.append(complaint_id)
        return
    result.looked += 1
    result.fired.extend(fired)


async def keep_complaint_clocks(ctx: dict[str, Any]) -> dict[str, int]:
    """The cron entry (every 30 s)."""
    deps: ComplaintJobDeps = ctx["complaints"]
    result = await run(deps.sessions, utcnow(), responsable=deps.settings.complaint_responsable)
    if result.fired:
        log.info("complaint_clock_fired", fired=len(result.fired), looked=result.looked)
    return {"looked": result.looked, "fired": len(result.fired), "failed": len(result.failed)}
