"""Take over a WhatsApp conversation from the bot, and hand it back (docs/console.md).

The request records the decision (event + audit) in its transaction; a job tells BuilderBot to
pause or resume the bot for that number, so no provider call happens inside the request.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.errors import ValidationFailed
from contact_center.interactions import repository as interactions
from contact_center.interactions.service import record, visible_interaction
from contact_center.interactions.workflow import BotAction, bot_controlled, bot_paused
from contact_center.models.enums import Channel, Provider
from contact_center.principal import AuditContext

Action = BotAction
__all__ = ["Action", "bot_controlled", "bot_paused", "customer_number", "request_bot_control"]


async def customer_number(session: AsyncSession, interaction_id: uuid.UUID) -> str | None:
    """The number whose bot BuilderBot pauses or resumes; None when there is none to tell: a
    conversation the Cloud API carries has no BuilderBot bot (the take-over is still recorded)."""
    interaction = await interactions.get(session, interaction_id)
    if interaction is None or interaction.provider is Provider.WHATSAPP_CLOUD:
        return None
    return interaction.customer_phone


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
