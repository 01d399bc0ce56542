"""Jobs of the OTP domain, and what an OTP adds to sending its SMS (a send hook)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.message_templates import Templates
from contact_center.messaging.outbound import Claim
from contact_center.messaging.tasks import MessageWithdrawn, SendHook
from contact_center.models.enums import MessageKind
from contact_center.otp.service import expire_due, issue_code, mark_failed, mark_sent
from contact_center.settings import Settings


@dataclass(frozen=True)
class OtpSendHook:
    """An OTP's code is made in the send job, hashed into its challenge, and lives only there;
    the challenge follows the SMS (SENT, FAILED)."""

    settings: Settings
    templates: Templates
    pepper: bytes

    async def compose(self, session: AsyncSession, claim: Claim) -> str:
        body = await issue_code(
            session, self.settings, self.templates, self.pepper, claim.interaction_id
        )
        if body is None:
            raise MessageWithdrawn("otp_closed", "the OTP challenge is closed")
        return body

    async def failed(self, session: AsyncSession, claim: Claim, code: str) -> None:
        await mark_failed(session, claim.interaction_id, code)

    async def sent(self, session: AsyncSession, claim: Claim) -> None:
        await mark_sent(session, claim.interaction_id)


async def expire_challenges(ctx: dict[str, Any]) -> int:
    sessions: async_sessionmaker[AsyncSession] = ctx["sessions"]
    async with sessions() as session:
        expired = await expire_due(session, utcnow())
        await session.commit()
    return expired


def register(
    hooks: dict[MessageKind, SendHook], settings: Settings, templates: Templates, pepper: bytes
) -> None:
    """An OTP's SMS is sent with the OTP's hook."""
    hooks[MessageKind.OTP] = OtpSendHook(settings, templates, pepper)
