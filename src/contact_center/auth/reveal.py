"""The decision to show personal data unmasked, and its audit row (SPEC §9.3)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.audit.service import AuditContext
from contact_center.settings import Settings

REASON_HEADER = "x-reveal-reason"


def wants_unmasked(settings: Settings, context: AuditContext, include_pii: bool) -> bool:
    """True when this response may carry personal data unmasked."""
    if not settings.pii_masking_enabled:
        return True
    principal = context.principal
    asked = include_pii or principal.asked_admin_view
    return asked and principal.may_reveal_pii


async def resolve_reveal(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    *,
    include_pii: bool,
    reason: str | None,
    resource: str,
    entity_type: str | None = None,
    entity_id: object | None = None,
    count: int | None = None,
) -> bool:
    """Decide, and record one `pii.reveal` row for every unmasked response."""
    if not wants_unmasked(settings, context, include_pii):
        return False
    metadata: dict[str, object] = {
        "resource": resource,
        "reason": (reason or "").strip()[:500] or None,
        "maskingEnabled": settings.pii_masking_enabled,
    }
    if count is not None:
        metadata["count"] = count
    await audit.record(
        session,
        context,
        "pii.reveal",
        entity_type=entity_type,
        entity_id=entity_id,
        metadata=metadata,
    )
    return True
