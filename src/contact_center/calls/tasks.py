"""Jobs of the calls domain: the periodic ElevenLabs sync."""

from __future__ import annotations

from typing import Any

import structlog

from contact_center.calls.sync import SyncDeps, SyncFailed, SyncRequest, sync
from contact_center.jobs.queue import claim_period
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.runtime import Runtime

log = structlog.get_logger(__name__)
CRON_LIMIT = 5000


def sync_period_seconds(runtime: Runtime) -> int:
    return runtime.settings.elevenlabs_sync_interval_minutes * 60


async def sync_recent_calls(ctx: dict[str, Any]) -> dict[str, int] | None:
    """Sync the conversations of the last ELEVENLABS_SYNC_WINDOW_HOURS, once per period."""
    runtime: Runtime = ctx["runtime"]
    period = sync_period_seconds(runtime) or 300
    if not await claim_period(
        runtime.queue, "elevenlabs_sync", period_seconds=period, job=ctx.get("job")
    ):
        log.info("elevenlabs_sync_skipped", reason="already run in this period")
        return None
    deps = SyncDeps(
        settings=runtime.settings,
        sessions=runtime.sessions,
        conversations=runtime.providers.conversations,
    )
    request = SyncRequest(
        hours=runtime.settings.elevenlabs_sync_window_hours,
        limit=CRON_LIMIT,
        include_details=True,
        trigger="cron",
    )
    try:
        result = await sync(deps, request, SYSTEM_CONTEXT)
    except SyncFailed:
        return None  # logged and audited by the sync; the next period tries again
    return result.counts()
