"""What each job is given: narrow dependency objects per domain, built once from the runtime.

A domain's jobs read their own entry of the job context (`ctx["messaging"]`, `ctx["calls"]`,
`ctx["sessions"]`); only the worker's own jobs (the reconciler) see the whole runtime.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import structlog

from contact_center.calls.sync import SyncDeps
from contact_center.calls.tasks import CallJobDeps
from contact_center.complaints.tasks import ComplaintJobDeps
from contact_center.media import MediaStore
from contact_center.messaging.tasks import (
    MediaDeps,
    MessagingJobDeps,
    SendDeps,
    SendHook,
    StatusCheckDeps,
)
from contact_center.models.enums import MessageKind
from contact_center.otp import tasks as otp
from contact_center.outcomes.service import SurveyDeps, survey_key
from contact_center.outcomes.tasks import WATERMARK_KEY, OutcomeJobDeps
from contact_center.providers.base import WhatsAppTemplateSource
from contact_center.providers.registry import twilio_credentials
from contact_center.reports.tasks import ReportJobDeps
from contact_center.runtime import Runtime
from contact_center.service_levels.tasks import SlaJobDeps
from contact_center.webhooks.ingest import WebhookDeps, apply_waiting
from contact_center.webhooks.repository import waiting_among_fast
from contact_center.whatsapp_templates.tasks import TemplateJobDeps

log = structlog.get_logger(__name__)


def send_hooks(runtime: Runtime) -> dict[MessageKind, SendHook]:
    """The kinds of message whose domain adds to sending them; a new kind registers here."""
    hooks: dict[MessageKind, SendHook] = {}
    otp.register(hooks, runtime.settings, runtime.templates, runtime.keys.otp_pepper)
    return hooks


def status_check_deps(runtime: Runtime) -> StatusCheckDeps:
    return StatusCheckDeps(
        settings=runtime.settings,
        sessions=runtime.sessions,
        source=runtime.providers.sms_status,
        provider_slot=partial(runtime.ratelimits.provider_slot, "twilio"),
    )


def sync_deps(runtime: Runtime) -> SyncDeps:
    return SyncDeps(
        settings=runtime.settings,
        sessions=runtime.sessions,
        conversations=runtime.providers.conversations,
        redaction=runtime.keys.redaction,
    )


def send_deps(runtime: Runtime, webhooks: WebhookDeps) -> SendDeps:
    async def enqueue_send(message_id: str, attempt: int, at: datetime, salt: str) -> bool:
        return await runtime.jobs.enqueue_send(message_id, attempt, at=at, salt=salt)

    return SendDeps(
        settings=runtime.settings,
        sessions=runtime.sessions,
        sms=runtime.providers.sms,
        whatsapp=runtime.providers.whatsapp,
        sms_slot=partial(runtime.ratelimits.provider_slot, "twilio"),
        sms_headroom=partial(runtime.ratelimits.provider_headroom, "twilio"),
        status_callback_url=runtime.status_callback_url,
        enqueue_send=enqueue_send,
        after_sent=partial(apply_waiting, webhooks),
        waiting=waiting_among_fast,
        hooks=send_hooks(runtime),
        whatsapp_provider=runtime.providers.whatsapp_provider,
        whatsapp_templates=runtime.providers.whatsapp_templates,
    )


# A media fetch: its provider calls (two per item, 20 s each at most) for a few items.
MEDIA_JOB = {"timeout": 240, "retries": 2, "retry_delay": 5.0, "retry_backoff": 60.0, "ttl": 3600}


def media_deps(runtime: Runtime) -> MediaDeps:
    async def enqueue(message_id: str, at: datetime | None) -> bool:
        """One job per message and due time: the sweep and a retry of the same time agree
        on it; a later retry is a job of its own."""
        scheduled = int(at.timestamp()) if at else 0
        try:
            job = await runtime.queue.enqueue(
                "fetch_whatsapp_media",
                key=f"media:{message_id}:{scheduled}",
                scheduled=scheduled,
                message_id=message_id,
                **MEDIA_JOB,
            )
        except Exception as exc:  # the sweep enqueues it again
            log.warning("enqueue_failed", job="fetch_whatsapp_media", error=type(exc).__name__)
            return False
        return job is not None

    return MediaDeps(
        sessions=runtime.sessions,
        source=runtime.providers.whatsapp_media,
        store=MediaStore(runtime.settings.media_dir),
        enqueue=enqueue,
    )


def otp_deps(runtime: Runtime) -> otp.OtpJobDeps:
    async def enqueue_send(message_id: str) -> bool:
        return await runtime.jobs.enqueue_send(message_id, 0)

    return otp.job_deps(runtime.settings, runtime.sessions, runtime.templates, enqueue_send)


def outcome_deps(runtime: Runtime) -> OutcomeJobDeps:
    async def enqueue_send(message_id: str) -> bool:
        return await runtime.jobs.enqueue_send(message_id, 0)

    redis: Any = getattr(runtime.queue, "redis", None)

    async def read_watermark() -> datetime | None:
        if redis is None:
            return None
        raw = await redis.get(WATERMARK_KEY)
        if not raw:
            return None
        try:
            return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
        except ValueError:
            return None

    async def write_watermark(at: datetime) -> None:
        if redis is not None:
            await redis.set(WATERMARK_KEY, at.isoformat())

    return OutcomeJobDeps(
        sessions=runtime.sessions,
        survey=SurveyDeps(
            settings=runtime.settings,
            templates=runtime.templates,
            key=survey_key(runtime.keys.link_signing_key),
            from_number=twilio_credentials(runtime.settings).from_number,
        ),
        enqueue_send=enqueue_send,
        read_watermark=read_watermark,
        write_watermark=write_watermark,
    )


def template_source(runtime: Runtime) -> WhatsAppTemplateSource | None:
    """Where the template registry is synced from (None: no Cloud API account)."""
    return runtime.providers.whatsapp_template_source


def job_context(runtime: Runtime, webhooks: WebhookDeps) -> dict[str, Any]:
    """The worker's context: every job finds its dependencies here."""
    return {
        "runtime": runtime,
        "webhooks": webhooks,
        "sessions": runtime.sessions,
        "messaging": MessagingJobDeps(
            send=send_deps(runtime, webhooks),
            status_checks=status_check_deps(runtime),
            queue=runtime.queue,
            bot=runtime.providers.whatsapp_bot,
            media=media_deps(runtime),
        ),
        "calls": CallJobDeps(sync=sync_deps(runtime), queue=runtime.queue),
        "otp": otp_deps(runtime),
        "service_levels": SlaJobDeps(
            settings=runtime.settings, sessions=runtime.sessions, queue=runtime.queue
        ),
        "outcomes": outcome_deps(runtime),
        "complaints": ComplaintJobDeps(settings=runtime.settings, sessions=runtime.sessions),
        "whatsapp_templates": TemplateJobDeps(
            settings=runtime.settings,
            sessions=runtime.sessions,
            source=template_source(runtime),
            queue=runtime.queue,
        ),
        "reports": ReportJobDeps(settings=runtime.settings, sessions=runtime.sessions),
    }
