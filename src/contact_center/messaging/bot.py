"""Take over a WhatsApp conversation from the bot, and hand it back (docs/console.md).

The request records the decision (event + audit) in its transaction; a job tells BuilderBot to
pause or resume the bot for that number, so no provider call happens inside the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.errors import ValidationFailed
from contact_center.interactions import repository as interactions
from contact_center.interactions.service import Event, record, visible_interaction
from contact_center.models.enums import Channel, EventType
from contact_center.models.interaction import Interaction
from contact_center.principal import AuditContext

Action = Literal["pause", "resume"]


def bot_paused(event_types: Iterable[str]) -> bool:
    """Whether a person holds the conversation: its latest bot event (oldest first) is a pause."""
    latest = None
    for kind in event_types:
        if kind in (EventType.BOT_PAUSED.value, EventType.BOT_RESUMED.value):
            latest = kind
    return latest == EventType.BOT_PAUSED.value


async def customer_number(session: AsyncSession, interaction_id: uuid.UUID) -> str | None:
    interaction = await interactions.get(session, interaction_id)
    return interaction.customer_phone if interaction is not None else None


def bot_controlled(interaction: Interaction, action: Action, actor: str, now: datetime) -> Event:
    """A person takes the conversation from the bot (pause) or hands it back (resume)."""
    kind = EventType.BOT_PAUSED if action == "pause" else EventType.BOT_RESUMED
    interaction.ai_handled = action == "resume"
    return Event(kind, f"bot:{interaction.id}:{action}:{now.isoformat()}", normalized={"by": actor})


async def request_bot_control(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID, action: Action
) -> None:
    """Record the take-over or hand-back (the job then tells the provider)."""
    interaction = await visible_interaction(session, interaction_id, context.principal)
    if interaction.channel is not Channel.WHATSAPP or not interaction.customer_phone:
        raise ValidationFailed(
            "Only a WhatsApp conversation with a customer number has a bot to pause.",
            code="not_a_whatsapp_conversation",
        )
    await record(
        session,
        interaction,
        bot_controlled(interaction, action, context.principal.actor_id, utcnow()),
    )
    await audit.record(
        session,
        context,
        "whatsapp.bot.paused" if action == "pause" else "whatsapp.bot.resumed",
        entity_type="interaction",
        entity_id=interaction.id,
    )
