from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.errors import unique_constraint
from contact_center.models.enums import (
    MessageKind,
    MessageStatus,
    OtpChannel,
    OtpPurpose,
    OtpStatus,
)
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge

OPEN = (OtpStatus.PENDING, OtpStatus.SENT)


async def created_since(
    session: AsyncSession, phone: str, purpose: OtpPurpose, since: datetime
) -> tuple[int, datetime | None]:
    """How many challenges (of any status) since `since`, and the oldest of them."""
    stmt = select(func.count(), func.min(OtpChallenge.created_at)).where(
        OtpChallenge.phone == phone,
        OtpChallenge.purpose == purpose,
        OtpChallenge.created_at >= since,
    )
    count, oldest = (await session.execute(stmt)).one()
    return int(count), oldest


async def open_for(session: AsyncSession, phone: str, purpose: OtpPurpose) -> list[OtpChallenge]:
    stmt = (
        select(OtpChallenge)
        .where(
            OtpChallenge.phone == phone,
            OtpChallenge.purpose == purpose,
            OtpChallenge.status.in_(OPEN),
        )
        .with_for_update()
    )
    return list((await session.scalars(stmt)).all())


CORRELATION_CONSTRAINT = "uq_otp_challenge_correlation_id"


async def add_unless_correlation_taken(session: AsyncSession, challenge: OtpChallenge) -> bool:
    """Insert the challenge; False when its correlation id is taken, by a transaction that
    committed first or is about to (the database decides: the check before it can race)."""
    try:
        async with session.begin_nested():
            session.add(challenge)
            await session.flush()
    except IntegrityError as exc:
        if unique_constraint(exc) != CORRELATION_CONSTRAINT:
            raise
        return False
    return True


async def correlation_taken(session: AsyncSession, correlation_id: str) -> bool:
    stmt = select(func.count()).where(OtpChallenge.correlation_id == correlation_id)
    return bool((await session.execute(stmt)).scalar_one())


async def get(
    session: AsyncSession, *, challenge_id: uuid.UUID | None, correlation_id: str | None
) -> OtpChallenge | None:
    stmt = select(OtpChallenge).with_for_update()
    if challenge_id is not None:
        stmt = stmt.where(OtpChallenge.id == challenge_id)
    else:
        stmt = stmt.where(OtpChallenge.correlation_id == correlation_id)
    return (await session.scalars(stmt)).one_or_none()


async def by_interaction(session: AsyncSession, interaction_id: uuid.UUID) -> OtpChallenge | None:
    """The challenge whose code goes on this interaction (its SMS, or its WhatsApp template
    until it falls back to SMS), locked."""
    stmt = (
        select(OtpChallenge).where(OtpChallenge.interaction_id == interaction_id).with_for_update()
    )
    return (await session.scalars(stmt)).one_or_none()


async def expired_open(session: AsyncSession, now: datetime, limit: int) -> list[OtpChallenge]:
    stmt = (
        select(OtpChallenge)
        .where(OtpChallenge.status.in_(OPEN), OtpChallenge.expires_at <= now)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def whatsapp_failed(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[uuid.UUID, str | None]]:
    """Open, unexpired WhatsApp challenges whose code's message FAILED after the provider took
    it: (the WhatsApp interaction, the error code). A refused send falls back in its own
    transaction, so only failures reported later (a status webhook) are found here."""
    stmt = (
        select(OtpChallenge.interaction_id, Message.error_code)
        .join(Message, Message.interaction_id == OtpChallenge.interaction_id)
        .where(
            OtpChallenge.status.in_(OPEN),
            OtpChallenge.expires_at > now,
            OtpChallenge.channel == OtpChannel.WHATSAPP,
            Message.kind == MessageKind.OTP,
            Message.status.in_((MessageStatus.FAILED, MessageStatus.UNDELIVERED)),
        )
        .order_by(OtpChallenge.created_at)
        .limit(limit)
    )
    found = (await session.execute(stmt)).all()
    return [(interaction_id, error_code) for interaction_id, error_code in found if interaction_id]
