"""The calls domain's handlers of inbound (webhook) events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.calls import service
from contact_center.providers.base import CallAudioEvent, CallEvent, CallInitiationFailureEvent
from contact_center.recordings import RecordingStore
from contact_center.webhooks.handlers import APPLIED, AppliedDelivery, Outcome, WebhookHandlers


def register(handlers: WebhookHandlers, recordings: RecordingStore) -> None:
    """A finished call, its recording (kept in `recordings`) and a call that never connected."""

    async def call(session: AsyncSession, event: CallEvent, delivery: AppliedDelivery) -> Outcome:
        await service.apply_call(
            session, delivery.settings, event, payload=delivery.payload, source="webhook"
        )
        return APPLIED

    async def audio(
        session: AsyncSession, event: CallAudioEvent, delivery: AppliedDelivery
    ) -> Outcome:
        await service.apply_audio(session, recordings, event)
        return APPLIED

    async def initiation_failure(
        session: AsyncSession, event: CallInitiationFailureEvent, delivery: AppliedDelivery
    ) -> Outcome:
        await service.apply_initiation_failure(
            session, delivery.settings, event, payload=delivery.payload
        )
        return APPLIED

    handlers.register(CallEvent, call)
    handlers.register(CallAudioEvent, audio)
    handlers.register(CallInitiationFailureEvent, initiation_failure)
