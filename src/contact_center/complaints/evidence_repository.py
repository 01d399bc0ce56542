"""The SQL of a complaint's evidence bundle (docs/complaints.md, "Evidence bundle"): the case,
its conversations, its timeline, its calls' recording metadata and the audit rows about them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.audit_log import AuditLog
from contact_center.models.call_detail import CallDetail
from contact_center.models.complaint import ComplaintInteraction
from contact_center.models.enums import EventType
from contact_center.models.interaction_event import InteractionEvent


async def links(session: AsyncSession, complaint_id: uuid.UUID) -> Sequence[ComplaintInteraction]:
    """The conversations the complaint concerns, in the order they were linked."""
    found = await session.scalars(
        select(ComplaintInteraction)
        .where(ComplaintInteraction.complaint_id == complaint_id)
        .order_by(ComplaintInteraction.linked_at, ComplaintInteraction.interaction_id)
    )
    return found.all()


async def call_details(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> Sequence[CallDetail]:
    if not interaction_ids:
        return []
    found = await session.scalars(
        select(CallDetail).where(CallDetail.interaction_id.in_(interaction_ids))
    )
    return found.all()


async def kept_audio(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, object]]:
    """Size and SHA-256 of each call's kept recording (its `call.audio` timeline event)."""
    if not interaction_ids:
        return {}
    rows = await session.execute(
        select(InteractionEvent.interaction_id, InteractionEvent.normalized).where(
            InteractionEvent.interaction_id.in_(interaction_ids),
            InteractionEvent.type == EventType.CALL_AUDIO.value,
        )
    )
    return {
        interaction_id: normalized
        for interaction_id, normalized in rows.all()
        if isinstance(normalized, dict)
    }


async def audit_rows(
    session: AsyncSession, complaint_id: uuid.UUID, interaction_ids: Sequence[uuid.UUID]
) -> Sequence[AuditLog]:
    """The audit rows about the complaint and about each of its conversations, oldest first."""
    about = [and_(AuditLog.entity_type == "complaint", AuditLog.entity_id == str(complaint_id))]
    if interaction_ids:
        about.append(
            and_(
                AuditLog.entity_type == "interaction",
                AuditLog.entity_id.in_([str(i) for i in interaction_ids]),
            )
        )
    found = await session.scalars(
        select(AuditLog).where(or_(*about)).order_by(AuditLog.occurred_at, AuditLog.id)
    )
    return found.all()
