"""Jobs of the WhatsApp template registry: its sync, periodic and on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.jobs.queue import claim_period
from contact_center.models.enums import ActorType
from contact_center.principal import SYSTEM_CONTEXT, AuditContext, Principal, Role
from contact_center.providers.base import WhatsAppTemplateSource
from contact_center.settings import Settings
from contact_center.whatsapp_templates.service import SyncFailed, sync

log = structlog.get_logger(__name__)
JOB = "sync_whatsapp_templates"


@dataclass(frozen=True)
class TemplateJobDeps:
    """Everything the registry's jobs are given (`ctx["whatsapp_templates"]`)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    source: WhatsAppTemplateSource | None
    queue: Queue


def sync_cron(minutes: int) -> str:
    """WHATSAPP_TEMPLATE_SYNC_MINUTES as a cron schedule (an hour or more: every N hours)."""
    if minutes < 60:
        return f"*/{minutes} * * * *"
    return f"0 */{max(1, minutes // 60)} * * *"


def _context(actor: str | None) -> AuditContext:
    if not actor:
        return SYSTEM_CONTEXT
    # Asked by a person (POST /api/whatsapp/templates/sync): the audit row names them.
    return AuditContext(
        principal=Principal(actor_type=ActorType.USER, actor_id=actor, role=Role.ADMIN)
    )


async def sync_whatsapp_templates(
    ctx: dict[str, Any], *, trigger: str = "cron", actor: str | None = None
) -> dict[str, int] | None:
    """Bring the template registry to the account's list (docs/whatsapp-cloud.md): every
    WHATSAPP_TEMPLATE_SYNC_MINUTES (once per period across workers), or when an admin asks."""
    deps: TemplateJobDeps = ctx["whatsapp_templates"]
    if deps.source is None:
        log.info("whatsapp_template_sync_skipped", reason="no template source")
        return None
    if trigger == "cron":
        period = max(1, deps.settings.whatsapp_template_sync_minutes) * 60
        if not await claim_period(
            deps.queue, "whatsapp_template_sync", period_seconds=period, job=ctx.get("job")
        ):
            log.info("whatsapp_template_sync_skipped", reason="already run in this period")
            return None
    try:
        result = await sync(deps.sessions, deps.source, _context(actor), trigger=trigger)
    except SyncFailed:
        return None  # logged and audited by the sync; the next period (or request) tries again
    return result.counts()
