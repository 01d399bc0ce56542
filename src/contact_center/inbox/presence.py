"""Presence in a conversation (docs/inbox.md, "Presence"): who is viewing it, who is typing.

The store (`live.presence.PresenceStore`) keeps it for 30 seconds after each heartbeat; a
change publishes a live notice `{interactionId, type: "presence", channel}` when the request's
transaction commits, heard by the readers who may see the conversation (`live.bus.visible_to`).
Every call reads the conversation through the viewer's scope first (404 when not theirs).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.inbox import repository
from contact_center.interactions.service import visible_interaction
from contact_center.live.bus import note
from contact_center.live.presence import PresenceStore, Viewer
from contact_center.models.interaction import Interaction
from contact_center.principal import Principal

PRESENCE = "presence"

__all__ = ["PRESENCE", "Viewer", "heartbeat", "leave", "viewers"]


def _announce(session: AsyncSession, interaction: Interaction) -> None:
    note(
        session.info,
        {
            "interactionId": str(interaction.id),
            "type": PRESENCE,
            "channel": interaction.channel.value,
        },
        assigned_agent=interaction.assigned_agent,
        team_id=interaction.team_id,
    )


async def heartbeat(
    session: AsyncSession,
    store: PresenceStore,
    viewer: Principal,
    interaction_id: uuid.UUID,
    *,
    typing: bool = False,
    now: datetime | None = None,
) -> None:
    """ "I am viewing this (and typing, or not)": recorded for the store's TTL."""
    interaction = await visible_interaction(session, interaction_id, viewer)
    name = (
        None if viewer.user_id is None else await repository.display_name(session, viewer.user_id)
    )
    seen = Viewer(
        username=viewer.actor_id, display_name=name, typing=typing, seen_at=now or utcnow()
    )
    if await store.touch(interaction.id, seen):
        _announce(session, interaction)


async def leave(
    session: AsyncSession, store: PresenceStore, viewer: Principal, interaction_id: uuid.UUID
) -> None:
    """ "I left"."""
    interaction = await visible_interaction(session, interaction_id, viewer)
    if await store.remove(interaction.id, viewer.actor_id):
        _announce(session, interaction)


async def viewers(
    session: AsyncSession,
    store: PresenceStore,
    viewer: Principal,
    interaction_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> list[Viewer]:
    """Who is viewing or typing in the conversation now (the reader included)."""
    interaction = await visible_interaction(session, interaction_id, viewer)
    return await store.viewers(interaction.id, now or utcnow())
