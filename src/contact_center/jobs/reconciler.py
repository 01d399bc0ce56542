"""The reconciler: the database is the source of truth, so whatever Redis lost is found again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from contact_center.db.base import utcnow
from contact_center.messaging import repository
from contact_center.models.enums import MessageStatus
from contact_center.runtime import Runtime
from contact_center.webhooks.ingest import replay_pending

log = structlog.get_logger(__name__)
BATCH = 1000


async def reconcile(ctx: dict[str, Any]) -> dict[str, int]:
    """Enqueue overdue QUEUED messages, requeue stuck SENDING ones, retry failed webhooks."""
    runtime: Runtime = ctx["runtime"]
    threshold = timedelta(seconds=runtime.settings.reconcile_after_seconds)
    now = utcnow()
    async with runtime.sessions() as session:
        due = await repository.due_for_send(
            session, queued_before=now - threshold, sending_before=now - 4 * threshold, limit=BATCH
        )
        work = []
        for message in due:
            if message.status is MessageStatus.SENDING:
                # The worker died mid-send: try again. (If the provider had accepted it, the
                # customer may get it twice; losing it would be worse.)
                message.status = MessageStatus.QUEUED
                message.updated_at = now
            work.append((str(message.id), message.attempts))
        await session.commit()
    enqueued = 0
    for message_id, attempt in work:
        # Same key as the lost job: a no-op if that job is still queued. The send job ignores
        # rows that are no longer QUEUED, so a second run is harmless anyway.
        if await runtime.jobs.enqueue_send(message_id, attempt, at=None):
            enqueued += 1
    webhooks = await replay_pending(runtime.webhooks, limit=100)
    if work or webhooks:
        log.info("reconciled", messages=len(work), enqueued=enqueued, webhooks=len(webhooks))
    return {"messages": len(work), "enqueued": enqueued, "webhooks": len(webhooks)}
