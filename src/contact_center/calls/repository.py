"""SQL of the calls domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_ignore, json_array_length
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import InteractionStatus, Provider
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


async def recording_of(
    session: AsyncSession, conversation_id: str
) -> tuple[str | None, uuid.UUID | None, bool, bool] | None:
    """Who may hear a call's recording: its assigned agent, its team, whether its
    transcript held a card number or a security code, and whether retention or a deletion
    request erased it (no row lock: a read)."""
    stmt = (
        select(
            Interaction.assigned_agent,
            Interaction.team_id,
            CallDetail.sensitive_audio,
            CallDetail.recording_purged_at,
        )
        .outerjoin(CallDetail, CallDetail.interaction_id == Interaction.id)
        .where(
            Interaction.provider == Provider.ELEVENLABS,
            Interaction.provider_conversation_id == conversation_id,
        )
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1], bool(row[2]), row[3] is not None)


async def by_conversations(
    session: AsyncSession, conversation_ids: list[str]
) -> dict[str, uuid.UUID]:
    """Our interaction id per conversation (ids only: the proxied list calls this per page)."""
    if not conversation_ids:
        return {}
    stmt = select(Interaction.provider_conversation_id, Interaction.id).where(
        Interaction.provider == Provider.ELEVENLABS,
        Interaction.provider_conversation_id.in_(conversation_ids),
    )
    return {str(cid): iid for cid, iid in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class StoredCall:
    """What we hold of a conversation: enough to tell whether the provider has news."""

    interaction_id: uuid.UUID
    status: InteractionStatus
    duration_secs: int | None
    turns: int
    has_audio: bool


async def stored(session: AsyncSession, conversation_ids: list[str]) -> dict[str, StoredCall]:
    found: dict[str, StoredCall] = {}
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start : start + 500]
        stmt = (
            select(
                Interaction.provider_conversation_id,
                Interaction.id,
                Interaction.status,
                CallDetail.duration_secs,
                json_array_length(CallDetail.transcript),
                CallDetail.has_audio,
            )
            .outerjoin(CallDetail, CallDetail.interaction_id == Interaction.id)
            .where(
                Interaction.provider == Provider.ELEVENLABS,
                Interaction.provider_conversation_id.in_(chunk),
            )
        )
        for cid, iid, status, duration, turns, has_audio in (await session.execute(stmt)).all():
            found[str(cid)] = StoredCall(
                interaction_id=iid,
                status=status,
                duration_secs=duration,
                turns=int(turns or 0),
                has_audio=bool(has_audio),
            )
    return found


async def call_detail(session: AsyncSession, empty: dict[str, Any]) -> CallDetail:
    """The interaction's CallDetail, inserted as `empty` if missing (safe under concurrency)."""
    await insert_ignore(session, CallDetail, empty, ["interaction_id"])
    stmt = (
        select(CallDetail)
        .where(CallDetail.interaction_id == empty["interaction_id"])
        .with_for_update()
    )
    return (await session.scalars(stmt)).one()
