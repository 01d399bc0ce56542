"""SQL of the calls domain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_ignore
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import Provider
from contact_center.models.interaction import Interaction


async def insert_interaction(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert unless (provider, providerConversationId) exists; True when inserted."""
    return await insert_ignore(
        session, Interaction, values, ["provider", "provider_conversation_id"]
    )


async def by_conversation(session: AsyncSession, conversation_id: str) -> Interaction | None:
    stmt = (
        select(Interaction)
        .where(
            Interaction.provider == Provider.ELEVENLABS,
            Interaction.provider_conversation_id == conversation_id,
        )
        .with_for_update()
    )
    return (await session.scalars(stmt)).one_or_none()


async def by_conversations(
    session: AsyncSession, conversation_ids: list[str]
) -> dict[str, uuid.UUID]:
    if not conversation_ids:
        return {}
    stmt = select(Interaction.provider_conversation_id, Interaction.id).where(
        Interaction.provider == Provider.ELEVENLABS,
        Interaction.provider_conversation_id.in_(conversation_ids),
    )
    return {str(cid): iid for cid, iid in (await session.execute(stmt)).all()}


async def call_detail(session: AsyncSession, interaction_id: uuid.UUID) -> CallDetail:
    """The interaction's CallDetail, created empty if missing (safe under concurrency)."""
    await insert_ignore(
        session,
        CallDetail,
        {
            "id": uuid.uuid4(),
            "interaction_id": interaction_id,
            "transcript": [],
            "has_audio": False,
        },
        ["interaction_id"],
    )
    stmt = select(CallDetail).where(CallDetail.interaction_id == interaction_id).with_for_update()
    return (await session.scalars(stmt)).one()
