"""The daily retention purge (docs/data-lifecycle.md, "Retention")."""

from __future__ import annotations

from typing import Any

import structlog

from contact_center.retention import service

log = structlog.get_logger(__name__)

# Daily at 03:30 UTC (00:30 in Buenos Aires), after the audit checkpoint, before the day's work.
PURGE_CRON = "30 3 * * *"
# A long first run goes on the next day where it stopped.
PURGE_TIMEOUT = 6 * 3600


async def purge_expired_data(ctx: dict[str, Any]) -> dict[str, int] | None:
    runtime = ctx["runtime"]
    report = await service.run(runtime.sessions, runtime.engine, runtime.settings, trigger="cron")
    if report is None:
        log.info("retention_purge_skipped", reason="another purge is running")
        return None
    log.info("retention_purged", run=str(report.id), counts=report.counts)
    return report.counts
