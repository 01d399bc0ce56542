"""The messaging domain's handlers of inbound (webhook) events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.fast import Transaction
from contact_center.messaging import service
from contact_center.providers.base import (
    SmsStatusEvent,
    WhatsAppMessageEvent,
    WhatsAppStatusEvent,
)
from contact_center.webhooks.handlers import (
    APPLIED,
    AppliedDelivery,
    Outcome,
    WebhookHandlers,
    deferred,
)


async def whatsapp_message(
    session: AsyncSession, event: WhatsAppMessageEvent, delivery: AppliedDelivery
) -> Outcome:
    await service.apply_whatsapp(
        session,
        delivery.settings.default_phone_region,
        event,
        payload=delivery.payload,
        key=delivery.key,
    )
    return APPLIED


async def whatsapp_message_fast(
    tx: Transaction, event: WhatsAppMessageEvent, delivery: AppliedDelivery
) -> Outcome:
    """`whatsapp_message` below the ORM: what a webhook ingest runs (a replay runs
    `whatsapp_message`)."""
    await service.apply_whatsapp_fast(
        tx,
        delivery.settings.default_phone_region,
        event,
        payload=delivery.payload,
        key=delivery.key,
    )
    return APPLIED


async def sms_status(
    session: AsyncSession, event: SmsStatusEvent, delivery: AppliedDelivery
) -> Outcome:
    """A status of a message we do not know yet waits for it (applied once it is sent)."""
    applied = await service.apply_sms_status(
        session, event, payload=delivery.payload, key=delivery.key
    )
    return APPLIED if applied is not None else deferred(event.message_sid)


async def sms_status_fast(
    tx: Transaction, event: SmsStatusEvent, delivery: AppliedDelivery
) -> Outcome:
    """`sms_status` below the ORM: what a webhook ingest runs (a replay runs `sms_status`)."""
    known = await service.apply_sms_status_fast(
        tx, event, payload=delivery.payload, key=delivery.key
    )
    return APPLIED if known else deferred(event.message_sid)


async def whatsapp_status(
    session: AsyncSession, event: WhatsAppStatusEvent, delivery: AppliedDelivery
) -> Outcome:
    """A status of a message whose send is still being recorded waits for it (applied once the
    send records the wamid)."""
    applied = await service.apply_whatsapp_status(
        session, event, payload=delivery.payload, key=delivery.key
    )
    return APPLIED if applied is not None else deferred(event.provider_message_id)


async def whatsapp_status_fast(
    tx: Transaction, event: WhatsAppStatusEvent, delivery: AppliedDelivery
) -> Outcome:
    """`whatsapp_status` below the ORM: what a webhook ingest runs (a replay runs
    `whatsapp_status`)."""
    known = await service.apply_whatsapp_status_fast(
        tx, event, payload=delivery.payload, key=delivery.key
    )
    return APPLIED if known else deferred(event.provider_message_id)


def register(handlers: WebhookHandlers) -> None:
    handlers.register(WhatsAppMessageEvent, whatsapp_message, fast=whatsapp_message_fast)
    handlers.register(SmsStatusEvent, sms_status, fast=sms_status_fast)
    handlers.register(WhatsAppStatusEvent, whatsapp_status, fast=whatsapp_status_fast)
