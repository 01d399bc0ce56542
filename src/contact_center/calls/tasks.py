"""Jobs of the calls domain: the periodic ElevenLabs sync."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from saq import Queue

from contact_center.calls.sync import SyncDeps, SyncFailed, SyncRequest, sync
from contact_center.jobs.queue import claim_period
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.settings import Settings

log = structlog.get_logger(__name__)
CRON_LIMIT = 5000


@dataclass(frozen=True)
class CallJobDeps:
    """Everything the calls domain's jobs are given (`ctx["calls"]`)."""

    sync: SyncDeps
    queue: Queue


def sync_period_seconds(settings: Settings) -> int:
    return settings.elevenlabs_sync_interval_minutes * 60


async def sync_recent_calls(ctx: dict[str, Any]) -> dict[str, int] | None:
    """Sync the conversations of the last ELEVENLABS_SYNC_WINDOW_HOURS, once per period."""
    jobs: CallJobDeps = ctx["calls"]
    deps = jobs.sync
    period = sync_period_seconds(deps.settings) or 300
    if not await claim_period(
        jobs.queue, "elevenlabs_sync", period_seconds=period, job=ctx.get("job")
    ):
        log.info("elevenlabs_sync_skipped", reason="already run in this period")
        return None
    request = SyncRequest(
        hours=deps.settings.elevenlabs_sync_window_hours,
        limit=CRON_LIMIT,
        include_details=True,
        trigger="cron",
    )
    try:
        result = await sync(deps, request, SYSTEM_CONTEXT)
    except SyncFailed:
        return None  # logged and audited by the sync; the next period tries again
    return result.counts()
