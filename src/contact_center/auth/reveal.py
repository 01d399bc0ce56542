"""The decision to show personal data unmasked, and its audit row (docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Header, Query
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.errors import ValidationFailed
from contact_center.principal import AuditContext
from contact_center.settings import Settings

REASON_HEADER = "x-reveal-reason"
REASON_MAX_LENGTH = 500

IncludePII = Annotated[
    bool,
    Query(
        alias="includePII",
        description="Unmasked data, for an admin (else ignored). Needs `X-Reveal-Reason` "
        "(422 `reveal_reason_required` without it); each unmasked response is audited.",
    ),
]
RevealReason = Annotated[
    str | None,
    Header(
        alias="X-Reveal-Reason",
        max_length=REASON_MAX_LENGTH,
        description="Why personal data is revealed (`includePII=true` or `X-Role: admin`), "
        "kept in the `pii.reveal` audit row. Required to reveal, except in trusted mode "
        "(AUTH_DISABLED) or with masking turned off.",
    ),
]


@dataclass(frozen=True)
class RevealAsk:
    """What a caller asked for: unmasked data (`includePII`), and why (`X-Reveal-Reason`).
    Services decide with `resolve_reveal` whether they show it, and audit it."""

    include_pii: bool = False
    reason: str | None = None


def wants_unmasked(settings: Settings, context: AuditContext, include_pii: bool) -> bool:
    """True when this response may carry personal data unmasked."""
    if not settings.pii_masking_enabled:
        return True
    principal = context.principal
    asked = include_pii or principal.asked_admin_view
    return asked and principal.may_reveal_pii


def checked_reason(
    settings: Settings, context: AuditContext, *, include_pii: bool, reason: str | None
) -> str | None:
    """The reason this response is revealed for; 422 when a reveal would happen without one.

    A signed-in admin who asks for unmasked data says why (`X-Reveal-Reason`), as the console's
    Reveal form does: the audit row must answer "why" as well as "who". Not asked of trusted
    mode (AUTH_DISABLED: the original's contract, whose clients send `X-Role: admin` alone, and
    where every caller is anonymous and may claim any role) nor with masking turned off (every
    response is unmasked: nothing is being revealed on purpose).
    """
    text = (reason or "").strip()[:REASON_MAX_LENGTH] or None
    if text is not None or not wants_unmasked(settings, context, include_pii):
        return text
    if not settings.pii_masking_enabled or context.principal.trusted_network:
        return None
    raise ValidationFailed(
        "Showing personal data unmasked needs a reason: send it in the X-Reveal-Reason header.",
        code="reveal_reason_required",
        details=[{"field": "header.X-Reveal-Reason", "message": "required to reveal"}],
    )


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
    """Decide, and record one `pii.reveal` row for every unmasked response. A reveal without a
    reason answers 422 before anything is written (see `checked_reason`)."""
    why = checked_reason(settings, context, include_pii=include_pii, reason=reason)
    if not wants_unmasked(settings, context, include_pii):
        return False
    metadata: dict[str, object] = {
        "resource": resource,
        "reason": why,
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


async def reveal_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    ask: RevealAsk,
    *,
    resource: str,
    entity_type: str | None = None,
    entity_id: object | None = None,
) -> bool:
    """`resolve_reveal` for what the caller asked."""
    return await resolve_reveal(
        session,
        settings,
        context,
        include_pii=ask.include_pii,
        reason=ask.reason,
        resource=resource,
        entity_type=entity_type,
        entity_id=entity_id,
    )


def check_reveal(settings: Settings, context: AuditContext, ask: RevealAsk) -> None:
    """Refuse (422) a reveal without its reason before a change is made."""
    checked_reason(settings, context, include_pii=ask.include_pii, reason=ask.reason)
