"""The saq worker: job functions, periodic jobs (once per period across workers), log context."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from saq import CronJob, Queue, Worker

from contact_center.audit.tasks import (
    CHECKPOINT_CRON,
    CHECKPOINT_TIMEOUT,
    SEAL_CRON,
    SEAL_TIMEOUT,
    checkpoint_audit_log,
    seal_audit_log,
)
from contact_center.calls.tasks import sync_period_seconds, sync_recent_calls
from contact_center.complaints.tasks import CLOCK_CRON, CLOCK_TIMEOUT, keep_complaint_clocks
from contact_center.messaging.tasks import (
    STATUS_CHECK_JOB_TIMEOUT,
    MediaWatcher,
    close_idle_conversations,
    control_bot,
    fetch_whatsapp_media,
    reconcile_sms_statuses,
    send_message,
    sweep_whatsapp_media,
)
from contact_center.otp.tasks import expire_challenges, fall_back_failed
from contact_center.outcomes.tasks import detect_repeat_contacts, send_csat_surveys
from contact_center.reports.tasks import ROLLUP_CRON, ROLLUP_TIMEOUT, refresh_report_rollups
from contact_center.routing.tasks import Router
from contact_center.runtime import Runtime
from contact_center.service_levels.tasks import keep_service_levels
from contact_center.webhooks.ingest import WebhookDeps
from contact_center.whatsapp_templates.tasks import sync_cron, sync_whatsapp_templates
from contact_center.worker.deps import job_context, template_source
from contact_center.worker.reconciler import reconcile

SHUTDOWN_GRACE_SECONDS = 25
DEQUEUE_TIMEOUT = 1.0


async def _reconcile_at_start(ctx: dict[str, Any]) -> None:
    """Whatever was QUEUED when the last process stopped is picked up at once."""
    runtime: Runtime = ctx["runtime"]
    try:
        await runtime.queue.enqueue("reconcile", key="reconcile:startup", timeout=120)
    except Exception as exc:  # the periodic reconcile will do it
        structlog.get_logger(__name__).warning("startup_reconcile_failed", error=type(exc).__name__)


async def _start_routing(ctx: dict[str, Any]) -> None:
    """The router's sweep loop runs in every worker (docs/workflow.md, "Routing")."""
    runtime: Runtime = ctx["runtime"]
    router = Router(runtime.sessions, runtime.settings, runtime.events)
    ctx["router"] = router
    await router.start()


async def _start_media_watcher(ctx: dict[str, Any]) -> None:
    """Media named by a webhook is fetched once its message commits (docs/whatsapp-cloud.md)."""
    runtime: Runtime = ctx["runtime"]
    media = ctx["messaging"].media
    if media is None:
        return
    watcher = MediaWatcher(media, runtime.events)
    ctx["media_watcher"] = watcher
    await watcher.start()


async def _bind_job(ctx: dict[str, Any]) -> None:
    job = ctx.get("job")
    if job is not None:
        structlog.contextvars.bind_contextvars(job_id=job.id, job_function=job.function)


async def _unbind_job(ctx: dict[str, Any]) -> None:
    structlog.contextvars.unbind_contextvars("job_id", "job_function")


class GracefulWorker(Worker[Any]):
    """Stop: jobs in flight get the grace period, idle slots and housekeeping stop at once.

    (saq's own stop waits the whole grace period for housekeeping loops that sleep up to a
    minute; a deploy should not wait for those.)
    """

    async def stop(self) -> None:
        self.event.set()
        router = self.context.get("router")
        if isinstance(router, Router):
            await router.stop()
        watcher = self.context.get("media_watcher")
        if isinstance(watcher, MediaWatcher):
            await watcher.stop()
        grace = self._shutdown_grace_period_s or SHUTDOWN_GRACE_SECONDS
        jobs = [c["task"] for c in list(self.job_task_contexts.values()) if not c["task"].done()]
        if jobs:
            await asyncio.wait(jobs, timeout=grace)
        # Let slots that just finished a job record it; idle slots are only waiting to dequeue.
        slots = [t for t in self.tasks if t.get_name() == "process" and not t.done()]
        if slots:
            await asyncio.wait(slots, timeout=2.0 if jobs else 0.1)
        # A slot may have taken a job while we waited: it gets the grace period too.
        late = [c["task"] for c in list(self.job_task_contexts.values()) if not c["task"].done()]
        if late:
            await asyncio.wait(late, timeout=grace)
        for task in list(self.tasks):
            if not task.done():
                task.cancel()
        await super().stop()


def cron_jobs(runtime: Runtime) -> list[CronJob[Any]]:
    """Periodic jobs. saq enqueues each under one key, so every worker's scheduler agrees on a
    single job per tick; the ElevenLabs sync and the SMS status reconciliation also claim their
    period in Redis (`claim_once`)."""
    jobs: list[CronJob[Any]] = [
        CronJob(reconcile, cron="* * * * * */15", timeout=120, retries=1),
        CronJob(close_idle_conversations, cron="*/5 * * * *", timeout=300, retries=1),
        CronJob(expire_challenges, cron="* * * * * */20", timeout=120, retries=1),
        # WhatsApp codes reported failed by a status webhook go by SMS (a refused send falls
        # back at once, in the send job).
        CronJob(fall_back_failed, cron="* * * * * */5", timeout=60, retries=1),
        # WhatsApp media to fetch: new messages' (stored by webhooks), retries, a dead job's.
        CronJob(sweep_whatsapp_media, cron="* * * * * */10", timeout=60, retries=1),
        # Service-level clocks: warnings and breaches (docs/service-levels.md).
        CronJob(keep_service_levels, cron="* * * * * */10", timeout=120, retries=1),
        # Complaints' clocks: warnings, escalations, overdue (docs/complaints.md).
        CronJob(keep_complaint_clocks, cron=CLOCK_CRON, timeout=CLOCK_TIMEOUT, retries=1),
        # Report rollups: the days changed since the last run (docs/service-levels.md).
        CronJob(refresh_report_rollups, cron=ROLLUP_CRON, timeout=ROLLUP_TIMEOUT, retries=1),
        # Satisfaction surveys of resolved conversations; repeat contacts (docs/service-levels.md).
        CronJob(send_csat_surveys, cron="* * * * * */15", timeout=120, retries=1),
        CronJob(detect_repeat_contacts, cron="* * * * * */30", timeout=240, retries=1),
        # The audit log's hash chain and its daily checkpoint (docs/audit-chain.md).
        CronJob(seal_audit_log, cron=SEAL_CRON, timeout=SEAL_TIMEOUT, retries=1),
        CronJob(checkpoint_audit_log, cron=CHECKPOINT_CRON, timeout=CHECKPOINT_TIMEOUT, retries=1),
    ]
    period = sync_period_seconds(runtime.settings)
    if period:
        minutes = period // 60
        jobs.append(
            CronJob(
                sync_recent_calls,
                cron=f"*/{minutes} * * * *",
                timeout=max(60, period - 15),
                retries=1,
            )
        )
    status_minutes = runtime.settings.sms_status_reconcile_interval_minutes
    if status_minutes:
        jobs.append(
            CronJob(
                reconcile_sms_statuses,
                cron=f"*/{status_minutes} * * * *",
                timeout=STATUS_CHECK_JOB_TIMEOUT,
                retries=1,
            )
        )
    template_minutes = runtime.settings.whatsapp_template_sync_minutes
    if template_minutes and template_source(runtime) is not None:
        jobs.append(
            CronJob(
                sync_whatsapp_templates,
                cron=sync_cron(template_minutes),
                timeout=120,
                retries=1,
            )
        )
    return jobs


def build_worker(
    queue: Queue, runtime: Runtime, webhooks: WebhookDeps, *, handle_signals: bool
) -> Worker[Any]:
    worker: Worker[Any] = GracefulWorker(
        queue,
        functions=[
            send_message,
            reconcile,
            close_idle_conversations,
            expire_challenges,
            fall_back_failed,
            sync_recent_calls,
            control_bot,
            reconcile_sms_statuses,
            sync_whatsapp_templates,
            fetch_whatsapp_media,
            sweep_whatsapp_media,
            keep_service_levels,
            keep_complaint_clocks,
            refresh_report_rollups,
            send_csat_surveys,
            detect_repeat_contacts,
            seal_audit_log,
            checkpoint_audit_log,
        ],
        concurrency=runtime.settings.worker_concurrency,
        cron_jobs=cron_jobs(runtime),
        startup=[_reconcile_at_start, _start_routing, _start_media_watcher],
        before_process=[_bind_job],
        after_process=[_unbind_job],
        shutdown_grace_period_s=SHUTDOWN_GRACE_SECONDS,
        dequeue_timeout=DEQUEUE_TIMEOUT,
    )
    worker.context.update(job_context(runtime, webhooks))
    if not handle_signals:
        # In-process (embedded) workers leave SIGINT/SIGTERM to the web server.
        worker.SIGNALS = []
    return worker
