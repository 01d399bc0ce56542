"""The reconciler: the database is the source of truth, so whatever Redis lost is found again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from contact_center.db.base import utcnow
from contact_center.messaging import repository
from contact_center.models.enums import MessageStatus
from contact_center.runtime import Runtime
from contact_center.webhooks.ingest import WebhookDeps, replay_pending

log = structlog.get_logger(__name__)
BATCH = 1000


async def reconcile(ctx: dict[str, Any]) -> dict[str, int]:
    """Enqueue overdue QUEUED messages, requeue stuck SENDING ones, retry failed webhooks."""
    runtime: Runtime = ctx["runtime"]
    ledger: WebhookDeps = ctx["webhooks"]
    threshold = timedelta(seconds=runtime.settings.reconcile_after_seconds)
    now = utcnow()
    async with runtime.sessions() as session:
        due = await repository.due_for_send(
            session, queued_before=now - threshold, sending_before=now - 4 * threshold, limit=BATCH
        )
        work = []
        for message in due:
            # Long overdue (or stuck mid-send): its job may sit "active" on a worker that died.
            stale = message.status is MessageStatus.SENDING or (
                (message.next_attempt_at or message.updated_at) < now - 4 * threshold
            )
            if message.status is MessageStatus.SENDING:
                # The worker died mid-send: try again. (If the provider had accepted it, the
                # customer may get it twice; losing it would be worse.)
                message.status = MessageStatus.QUEUED
                message.updated_at = now
            work.append((str(message.id), message.attempts, stale))
        await session.commit()
    enqueued = 0
    # Same key as the lost job: a no-op while that job is pending, which is what a backlog needs.
    # A stale row gets a key of its own per minute instead: its job may sit "active" on a worker
    # that died (until saq sweeps it, minutes later). The send job claims only a QUEUED row
    # (under a row lock), so whichever job runs second does nothing.
    salt = f"r{int(now.timestamp()) // 60}"
    for message_id, attempt, stale in work:
        if await runtime.jobs.enqueue_send(
            message_id, attempt, at=None, salt=salt if stale else ""
        ):
            enqueued += 1
    webhooks = await replay_pending(ledger, limit=100)
    if work or webhooks:
        log.info("reconciled", messages=len(work), enqueued=enqueued, webhooks=len(webhooks))
    return {"messages": len(work), "enqueued": enqueued, "webhooks": len(webhooks)}
