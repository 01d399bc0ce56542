"""The rollup job: every 20 s it recomputes the local days whose source rows changed since its
watermark, one transaction per day (docs/service-levels.md, "Rollups"). `contact-center reports
rebuild` recomputes a range through the same routine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.reports import service
from contact_center.settings import Settings

log = structlog.get_logger(__name__)

ROLLUP_CRON = "* * * * * */20"
# The first run recomputes the whole history (a million conversations: a few minutes).
ROLLUP_TIMEOUT = 900
# A rebuild recomputes this many days side by side (PostgreSQL).
REBUILD_CONCURRENCY = 4


@dataclass(frozen=True)
class ReportJobDeps:
    """What the rollup job is given (`ctx["reports"]`)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]


async def recompute_days(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    days: Sequence[date],
    progress: Callable[[date, int], None] | None = None,
    *,
    concurrency: int = 1,
) -> int:
    """Recompute each day in its own transaction, `concurrency` days at a time (each on its own
    connection; the database's work overlaps the aggregation's); returns the conversations."""
    pending = list(reversed(days))
    counted = 0

    async def work() -> None:
        nonlocal counted
        while pending:
            day = pending.pop()
            async with sessions() as session:
                n = await service.recompute_day(session, settings, day)
                await session.commit()
            counted += n
            if progress is not None:
                progress(day, n)

    await asyncio.gather(*(work() for _ in range(max(1, concurrency))))
    return counted


def rebuild_concurrency(settings: Settings) -> int:
    """Days recomputed side by side by a rebuild: SQLite writes one at a time anyway."""
    return 1 if settings.database_url.startswith("sqlite") else REBUILD_CONCURRENCY


async def rebuild(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    first: date | None,
    last: date | None,
    *,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[date, int], None] | None = None,
) -> tuple[int, int]:
    """Recompute [first, last] (default: the first to the last conversation's day); returns
    the days and conversations. A rebuild of the whole history moves the job's watermark to
    when it began: the job then only looks at what changed since."""
    began = utcnow()
    async with sessions() as session:
        history = await service.history_range(session, settings)
    start = first or (history[0] if history else None)
    end = last or (history[1] if history else None)
    days = service.days_between(start, end) if start and end and start <= end else []
    if on_start is not None:
        on_start(len(days))
    counted = await recompute_days(
        sessions, settings, days, progress, concurrency=rebuild_concurrency(settings)
    )
    async with sessions() as session:
        if first is None and last is None:
            await service.move_watermark(session, began)
        await service.analyze(session)
        await session.commit()
    return len(days), counted


async def refresh(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """One run: find the dirty days, recompute them, then move the watermark (a run that fails
    half-way leaves it, and the next run finds the same days again)."""
    async with sessions() as session:
        dirty = await service.dirty_days(session, settings, utcnow())
    await recompute_days(sessions, settings, dirty.days)
    async with sessions() as session:
        await service.move_watermark(session, dirty.watermark)
        await session.commit()
    if dirty.days:
        log.info("report_rollups_refreshed", days=len(dirty.days))
    return len(dirty.days)


async def refresh_report_rollups(ctx: dict[str, Any]) -> int:
    deps: ReportJobDeps = ctx["reports"]
    return await refresh(deps.sessions, deps.settings)
