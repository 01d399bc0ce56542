"""SQL of the metrics: aggregates over one day of interactions, messages and OTP challenges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import Channel, Direction, InteractionStatus
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge


@dataclass(frozen=True)
class Group:
    channel: str
    status: str
    direction: str
    agent: str | None
    ai_handled: bool
    count: int


async def groups(session: AsyncSession, start: datetime, end: datetime) -> list[Group]:
    stmt = (
        select(
            Interaction.channel,
            Interaction.status,
            Interaction.direction,
            Interaction.assigned_agent,
            Interaction.ai_handled,
            func.count(),
        )
        .where(Interaction.started_at >= start, Interaction.started_at < end)
        .group_by(
            Interaction.channel,
            Interaction.status,
            Interaction.direction,
            Interaction.assigned_agent,
            Interaction.ai_handled,
        )
    )
    return [
        Group(
            channel=str(channel.value),
            status=str(status.value),
            direction=str(direction.value),
            agent=agent,
            ai_handled=bool(ai),
            count=int(n),
        )
        for channel, status, direction, agent, ai, n in (await session.execute(stmt)).all()
    ]


async def average_handle_time(
    session: AsyncSession, start: datetime, end: datetime
) -> float | None:
    stmt = (
        select(func.avg(CallDetail.duration_secs))
        .join(Interaction, Interaction.id == CallDetail.interaction_id)
        .where(
            Interaction.channel == Channel.CALL,
            Interaction.status == InteractionStatus.COMPLETED,
            Interaction.started_at >= start,
            Interaction.started_at < end,
            CallDetail.duration_secs.is_not(None),
        )
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    return float(value) if value is not None else None


async def first_response_pairs(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Per WhatsApp interaction of the day: its first INBOUND and first OUTBOUND message times.

    Two correlated MIN()s per interaction of the day, each the first entry of a range of
    ix_message_interaction_direction_created: the cost follows the day's conversations, not the
    size of the message table (an aggregate over every message since `start` took seconds at 5M
    rows).
    """

    def first(direction: Direction) -> ScalarSelect[datetime]:
        return (
            select(func.min(Message.created_at))
            .where(Message.interaction_id == Interaction.id, Message.direction == direction)
            .scalar_subquery()
        )

    pairs = (
        select(first(Direction.INBOUND).label("first_in"), first(Direction.OUTBOUND).label("out"))
        .where(
            Interaction.channel == Channel.WHATSAPP,
            Interaction.started_at >= start,
            Interaction.started_at < end,
        )
        .subquery()
    )
    stmt = select(pairs.c.first_in, pairs.c.out).where(pairs.c.out > pairs.c.first_in)
    return [(a, b) for a, b in (await session.execute(stmt)).all()]


async def otp_statuses(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    stmt = (
        select(OtpChallenge.status, func.count())
        .where(OtpChallenge.created_at >= start, OtpChallenge.created_at < end)
        .group_by(OtpChallenge.status)
    )
    return {
        str(s.value if hasattr(s, "value") else s): int(n)
        for s, n in (await session.execute(stmt)).all()
    }


async def recent(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    stmt = select(Interaction.id).order_by(Interaction.updated_at.desc(), Interaction.id.desc())
    return list((await session.scalars(stmt.limit(limit))).all())
