"""The service-level job (docs/service-levels.md): every 10 s it brings the clocks of the
WhatsApp and SMS conversations changed since its watermark (less an overlap, so a transaction
that committed late is still seen) and of the rows whose `next_check_at` has come up to date,
one conversation per transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from redis.exceptions import RedisError
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.jobs.queue import QUEUE_NAME
from contact_center.service_levels import repository
from contact_center.service_levels.calendar import Calendars
from contact_center.service_levels.keeper import Fired, keep
from contact_center.settings import Settings

log = structlog.get_logger(__name__)

# A change is looked at again this long after the watermark passed it: a transaction that
# stamped updated_at before the watermark but committed after it is not missed.
OVERLAP = timedelta(seconds=30)
# With no watermark yet (a new installation, Redis emptied): changes of the last day.
FIRST_LOOKBACK = timedelta(days=1)
BATCH = 500
WATERMARK_KEY = f"{QUEUE_NAME}:sla:watermark"


@dataclass(frozen=True)
class SlaJobDeps:
    """What the service-level job is given (`ctx["service_levels"]`)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    queue: Queue


@dataclass
class Run:
    watermark: datetime
    looked: int = 0
    fired: list[Fired] = field(default_factory=list)


async def run(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    since: datetime,
    *,
    default_zone: str,
    batch: int = BATCH,
) -> Run:
    """One pass at `now`: conversations changed at or after `since - OVERLAP`, then the rows
    whose next check has come. Returns the new watermark (the latest change seen)."""
    result = Run(watermark=since)
    done: set[uuid.UUID] = set()
    cursor = since - OVERLAP
    while True:
        async with sessions() as session:
            changed = await repository.changed_since(session, cursor, batch)
        fresh = [(id, at) for id, at in changed if id not in done]
        for interaction_id, _ in fresh:
            await _keep_one(sessions, interaction_id, now, default_zone, result)
            done.add(interaction_id)
        if changed:
            result.watermark = max(result.watermark, changed[-1][1])
            cursor = changed[-1][1]
        if len(changed) < batch or not fresh:
            break
    while True:
        async with sessions() as session:
            due = [i for i in await repository.due_for_check(session, now, batch) if i not in done]
        if not due:
            break
        for interaction_id in due:
            await _keep_one(sessions, interaction_id, now, default_zone, result)
            done.add(interaction_id)
    return result


async def _keep_one(
    sessions: async_sessionmaker[AsyncSession],
    interaction_id: uuid.UUID,
    now: datetime,
    default_zone: str,
    result: Run,
) -> None:
    async with sessions() as session:
        calendars = Calendars(session, default_zone)
        policies = await repository.policies(session, enabled_only=True)
        fired = await keep(session, interaction_id, now, calendars, policies)
        await session.commit()
    result.looked += 1
    result.fired.extend(fired)


async def _read_watermark(queue: Queue) -> datetime | None:
    redis = getattr(queue, "redis", None)
    if redis is None:
        return None
    try:
        raw = await redis.get(WATERMARK_KEY)
    except (RedisError, OSError) as exc:
        log.warning("sla_watermark_unavailable", error=type(exc).__name__)
        return None
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
    except ValueError:
        return None


async def _write_watermark(queue: Queue, value: datetime) -> None:
    redis = getattr(queue, "redis", None)
    if redis is None:
        return
    try:
        await redis.set(WATERMARK_KEY, value.isoformat())
    except (RedisError, OSError) as exc:
        log.warning("sla_watermark_unavailable", error=type(exc).__name__)


async def keep_service_levels(ctx: dict[str, Any]) -> dict[str, int]:
    """The cron entry (every 10 s)."""
    deps: SlaJobDeps = ctx["service_levels"]
    now = utcnow()
    since = await _read_watermark(deps.queue) or now - FIRST_LOOKBACK
    result = await run(deps.sessions, now, since, default_zone=deps.settings.app_timezone)
    await _write_watermark(deps.queue, result.watermark)
    if result.fired:
        log.info("sla_fired", fired=len(result.fired), looked=result.looked)
    return {"looked": result.looked, "fired": len(result.fired)}
