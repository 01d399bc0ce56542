"""The service-level job (docs/service-levels.md): every 10 s it brings the clocks of the
WhatsApp and SMS conversations changed since its watermark (less an overlap, so a transaction
that committed late is still seen) and of the rows whose `next_check_at` has come up to date,
one conversation per transaction. A conversation whose keeping fails is logged (its id and the
error's class) and skipped: the others are kept and the watermark moves on; the failed ones are
remembered in Redis and tried again on the next run."""

from __future__ import annotations

import uuid
from collections.abc import Collection
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
RETRY_KEY = f"{QUEUE_NAME}:sla:retry"
# At most this many failed conversations are remembered for the next run.
MAX_RETRY = 1000


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
    # Conversations whose keeping failed this run (tried again on the next).
    failed: list[uuid.UUID] = field(default_factory=list)


async def run(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    since: datetime,
    *,
    default_zone: str,
    batch: int = BATCH,
    retry: Collection[uuid.UUID] = (),
) -> Run:
    """One pass at `now`: conversations changed at or after `since - OVERLAP`, then those that
    failed on the last run (`retry`), then the rows whose next check has come. Returns the new
    watermark (the latest change seen, failed or not) and the conversations that failed."""
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
    for interaction_id in retry:
        if interaction_id not in done:
            await _keep_one(sessions, interaction_id, now, default_zone, result)
            done.add(interaction_id)
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
    try:
        async with sessions() as session:
            calendars = Calendars(session, default_zone)
            policies = await repository.policies(session, enabled_only=True)
            fired = await keep(session, interaction_id, now, calendars, policies)
            await session.commit()
    except Exception as exc:  # one conversation never holds the others back
        log.warning("sla_keep_failed", interaction_id=str(interaction_id), error=type(exc).__name__)
        result.failed.append(interaction_id)
        return
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


async def _read_retry(queue: Queue) -> list[uuid.UUID]:
    redis = getattr(queue, "redis", None)
    if redis is None:
        return []
    try:
        raw = await redis.get(RETRY_KEY)
    except (RedisError, OSError) as exc:
        log.warning("sla_retry_unavailable", error=type(exc).__name__)
        return []
    if not raw:
        return []
    found: list[uuid.UUID] = []
    for part in (raw.decode() if isinstance(raw, bytes) else str(raw)).split(","):
        try:
            found.append(uuid.UUID(part))
        except ValueError:
            continue
    return found


async def _write_retry(queue: Queue, failed: list[uuid.UUID]) -> None:
    redis = getattr(queue, "redis", None)
    if redis is None:
        return
    try:
        if failed:
            await redis.set(RETRY_KEY, ",".join(str(i) for i in failed[:MAX_RETRY]))
        else:
            await redis.delete(RETRY_KEY)
    except (RedisError, OSError) as exc:
        log.warning("sla_retry_unavailable", error=type(exc).__name__)


async def keep_service_levels(ctx: dict[str, Any]) -> dict[str, int]:
    """The cron entry (every 10 s)."""
    deps: SlaJobDeps = ctx["service_levels"]
    now = utcnow()
    since = await _read_watermark(deps.queue) or now - FIRST_LOOKBACK
    retry = await _read_retry(deps.queue)
    result = await run(
        deps.sessions, now, since, default_zone=deps.settings.app_timezone, retry=retry
    )
    await _write_watermark(deps.queue, result.watermark)
    await _write_retry(deps.queue, result.failed)
    if result.fired:
        log.info("sla_fired", fired=len(result.fired), looked=result.looked)
    return {"looked": result.looked, "fired": len(result.fired), "failed": len(result.failed)}
