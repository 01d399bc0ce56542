"""Jobs of the messaging domain: send one message; close idle WhatsApp conversations."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import structlog

from contact_center.db.base import utcnow
from contact_center.messaging import outbound
from contact_center.messaging.bot import customer_number
from contact_center.messaging.service import close_idle_whatsapp
from contact_center.models.enums import Channel
from contact_center.otp import service as otp_service
from contact_center.providers.base import ProviderError, ProviderName
from contact_center.runtime import Runtime
from contact_center.webhooks.ingest import apply_waiting

log = structlog.get_logger(__name__)


async def _release(runtime: Runtime, message_id: uuid.UUID) -> None:
    async with runtime.sessions() as session:
        if await outbound.release(session, message_id):
            await session.commit()
            log.info("send_interrupted", message_id=str(message_id))


async def send_message(ctx: dict[str, Any], *, message_id: str) -> str:
    """Send one QUEUED message. Acts only on a QUEUED row, so a repeated job never re-sends."""
    runtime: Runtime = ctx["runtime"]
    identifier = uuid.UUID(message_id)
    async with runtime.sessions() as session:
        claim = await outbound.claim(session, identifier)
        if claim is not None and claim.kind == "OTP":
            # The code is made here, hashed into the challenge, and lives only in this job.
            body = await otp_service.issue_code(
                session,
                runtime.settings,
                runtime.templates,
                runtime.keys.otp_pepper,
                claim.interaction_id,
            )
            if body is None:
                await outbound.record_failure(
                    session,
                    runtime.settings,
                    identifier,
                    ProviderError(
                        ProviderName.TWILIO, "the OTP challenge is closed", code="otp_closed"
                    ),
                )
                await session.commit()
                return "skipped"
            claim = replace(claim, body=body)
        await session.commit()
    if claim is None:
        return "skipped"
    try:
        if claim.channel is Channel.SMS:
            await runtime.ratelimits.provider_slot("twilio")
            receipt = await runtime.providers.sms.send_sms(
                claim.to, claim.body, status_callback=runtime.status_callback_url
            )
        else:
            receipt = await runtime.providers.whatsapp.send_whatsapp(
                claim.to, claim.body, media_url=claim.media_url
            )
    except asyncio.CancelledError:
        # Interrupted (a stopping worker, a job timeout): QUEUED again at once, so the next
        # worker sends it without waiting for the stuck-SENDING threshold.
        await asyncio.shield(_release(runtime, identifier))
        raise
    except ProviderError as error:
        async with runtime.sessions() as session:
            retry_at = await outbound.record_failure(session, runtime.settings, identifier, error)
            if retry_at is None and claim.kind == "OTP":
                await otp_service.mark_failed(
                    session, claim.interaction_id, error.code or "send_failed"
                )
            await session.commit()
        log.warning(
            "send_failed",
            message_id=message_id,
            attempt=claim.attempt,
            code=error.code,
            retryable=error.retryable,
            retry_at=retry_at.isoformat() if retry_at else None,
        )
        if retry_at is not None:
            await runtime.jobs.enqueue_send(message_id, claim.attempt, at=retry_at)
            return "retry"
        return "failed"
    async with runtime.sessions() as session:
        await outbound.record_sent(session, identifier, receipt)
        if claim.kind == "OTP":
            await otp_service.mark_sent(session, claim.interaction_id)
        await session.commit()
    log.info("sent", message_id=message_id, channel=claim.channel.value, attempt=claim.attempt)
    if receipt.provider_message_id:
        # Status callbacks that arrived before we knew the provider's id.
        await apply_waiting(runtime.webhooks, receipt.provider_message_id)
    return "sent"


async def close_idle_conversations(ctx: dict[str, Any]) -> int:
    runtime: Runtime = ctx["runtime"]
    async with runtime.sessions() as session:
        closed = await close_idle_whatsapp(session, utcnow())
        await session.commit()
    if closed:
        log.info("whatsapp_idle_closed", count=closed)
    return closed


async def control_bot(ctx: dict[str, Any], *, interaction_id: str, action: str) -> None:
    """Pause or resume BuilderBot's bot for the conversation's number (a person took over or
    handed back). The number is read here, so it never sits in the queue."""
    runtime: Runtime = ctx["runtime"]
    async with runtime.sessions() as session:
        number = await customer_number(session, uuid.UUID(interaction_id))
    if number is None:
        return
    bot = runtime.providers.whatsapp_bot
    if action == "pause":
        await bot.pause_bot(number)
    else:
        await bot.resume_bot(number)
    log.info("whatsapp_bot_control", action=action)
