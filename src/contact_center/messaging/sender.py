"""What every send endpoint shares: the transaction, who asks, the recipient's checks and the
queue for afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.messaging import outbound
from contact_center.messaging.outbound import Queued
from contact_center.messaging.schemas import Accepted
from contact_center.models.enums import Provider
from contact_center.principal import AuditContext
from contact_center.providers.registry import twilio_credentials
from contact_center.runtime import Runtime
from contact_center.schemas import ERROR_RESPONSES
from contact_center.settings import Settings
from contact_center.web import RuntimeDep, valid_phone

# The responses every send route may give.
SEND_RESPONSES: dict[int | str, dict[str, Any]] = ERROR_RESPONSES | {
    413: {"description": "Body over 64 KiB"},
    429: {"description": "Too many messages to this recipient (Retry-After)"},
}


def whatsapp_provider(settings: Settings) -> Provider:
    """Who sends WhatsApp messages (WHATSAPP_PROVIDER): a conversation our message opens is
    that provider's."""
    return Provider.WHATSAPP_CLOUD if settings.whatsapp_provider == "cloud" else Provider.BUILDERBOT


@dataclass
class Sender:
    """What every send endpoint needs: the transaction, who asks, and the queue for afterwards."""

    runtime: Runtime
    session: AsyncSession
    settings: Settings
    context: AuditContext
    background: BackgroundTasks

    @property
    def from_number(self) -> str:
        return twilio_credentials(self.settings).from_number

    @property
    def whatsapp_provider(self) -> Provider:
        return whatsapp_provider(self.settings)

    async def recipient(self, raw: str) -> str:
        """The validated E.164 number, within the per-recipient limit."""
        phone = valid_phone(self.settings, raw)
        await outbound.check_recipient_limit(self.runtime.ratelimits, phone)
        return phone

    def accepted(self, queued: Queued) -> Accepted:
        # Enqueued after the response, so after the commit; if lost, the reconciler finds the row.
        self.background.add_task(
            self.runtime.jobs.enqueue_send, str(queued.message_id), queued.attempt
        )
        if queued.bot is not None:
            self.background.add_task(
                self.runtime.jobs.enqueue_bot_control, str(queued.interaction_id), queued.bot
            )
        return Accepted(interaction_id=queued.interaction_id, message_id=queued.message_id)


async def get_sender(
    runtime: RuntimeDep,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> Sender:
    return Sender(runtime, session, settings, context, background)


SenderDep = Annotated[Sender, Depends(get_sender)]
