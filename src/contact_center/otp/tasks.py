"""Jobs of the OTP domain, and what an OTP adds to sending its message (a send hook)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.message_templates import Templates
from contact_center.messaging.outbound import Claim
from contact_center.messaging.tasks import MessageWithdrawn, SendHook
from contact_center.models.enums import Channel, MessageKind
from contact_center.otp.service import (
    expire_due,
    fall_back_refused,
    fall_back_to_sms,
    issue_code,
    mark_failed,
    mark_sent,
)
from contact_center.providers.registry import twilio_credentials
from contact_center.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class OtpSendHook:
    """An OTP's code is made in the send job, hashed into its challenge, and lives only there;
    the challenge follows its message (SENT, FAILED). A WhatsApp code gets the bare code (the
    authentication template carries it); when WhatsApp refuses it for good, the challenge falls
    back to SMS."""

    settings: Settings
    templates: Templates
    pepper: bytes
    # The SMS sender's number, for a code that falls back to SMS.
    from_number: str

    async def compose(self, session: AsyncSession, claim: Claim) -> str:
        body = await issue_code(
            session,
            self.settings,
            self.templates,
            self.pepper,
            claim.interaction_id,
            claim.channel,
        )
        if body is None:
            raise MessageWithdrawn("otp_closed", "the OTP challenge is closed")
        return body

    async def failed(self, session: AsyncSession, claim: Claim, code: str) -> list[uuid.UUID]:
        if claim.channel is Channel.WHATSAPP:
            queued = await fall_back_to_sms(
                session,
                self.settings,
                self.templates,
                claim.interaction_id,
                code,
                self.from_number,
            )
            return [] if queued is None else [queued]
        await mark_failed(session, claim.interaction_id, code)
        return []

    async def sent(self, session: AsyncSession, claim: Claim) -> None:
        await mark_sent(session, claim.interaction_id)


async def expire_challenges(ctx: dict[str, Any]) -> int:
    sessions: async_sessionmaker[AsyncSession] = ctx["sessions"]
    async with sessions() as session:
        expired = await expire_due(session, utcnow())
        await session.commit()
    return expired


@dataclass(frozen=True)
class OtpJobDeps:
    """What the OTP domain's jobs are given (`ctx["otp"]`)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    templates: Templates
    # The SMS sender's number, for a code that falls back to SMS.
    from_number: str
    # Enqueue a message's send (after the commit that queued it).
    enqueue_send: Callable[[str], Awaitable[bool]]


async def fall_back_failed(ctx: dict[str, Any]) -> int:
    """WhatsApp codes reported failed after the provider took them (a status webhook) go by
    SMS; their sends are enqueued after the commit (if lost, the reconciler finds them)."""
    deps: OtpJobDeps = ctx["otp"]
    async with deps.sessions() as session:
        queued = await fall_back_refused(
            session, deps.settings, deps.templates, deps.from_number, utcnow()
        )
        await session.commit()
    for message_id in queued:
        await deps.enqueue_send(str(message_id))
    if queued:
        log.info("otp_fell_back_to_sms", count=len(queued))
    return len(queued)


def job_deps(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    templates: Templates,
    enqueue_send: Callable[[str], Awaitable[bool]],
) -> OtpJobDeps:
    return OtpJobDeps(
        settings, sessions, templates, twilio_credentials(settings).from_number, enqueue_send
    )


def register(
    hooks: dict[MessageKind, SendHook], settings: Settings, templates: Templates, pepper: bytes
) -> None:
    """An OTP's message (SMS or WhatsApp) is sent with the OTP's hook."""
    from_number = twilio_credentials(settings).from_number
    hooks[MessageKind.OTP] = OtpSendHook(settings, templates, pepper, from_number)
