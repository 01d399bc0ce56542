"""The SQL of surveys and repeat contacts (docs/service-levels.md, "CSAT" and "Outcomes")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_ignore
from contact_center.models.csat import CsatSurvey, RepeatContact
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    Outcome,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message
from contact_center.subject_requests.repository import blocks_customer

# A one-time code's conversation (`otp:<challenge>`) is not a contact.
OTP_PREFIX = "otp:"


def not_otp() -> ColumnElement[bool]:
    return or_(
        Interaction.provider_conversation_id.is_(None),
        Interaction.provider_conversation_id.not_like(f"{OTP_PREFIX}%"),
    )


def resolved() -> ColumnElement[bool]:
    """Resolved: COMPLETED with outcome RESOLVED, or a call the AI agent completed (neither
    escalated nor transferred to a person)."""
    ai_call = and_(
        Interaction.channel == Channel.CALL,
        Interaction.ai_handled.is_(True),
        or_(
            Interaction.outcome.is_(None),
            Interaction.outcome.not_in([Outcome.ESCALATED, Outcome.TRANSFERRED]),
        ),
    )
    return and_(
        Interaction.status == InteractionStatus.COMPLETED,
        or_(Interaction.outcome == Outcome.RESOLVED, ai_call),
    )


def _customer_wrote() -> ColumnElement[bool]:
    """A call, or a conversation with a message of the customer's (an outbound notification
    nobody answered is not a conversation to survey)."""
    wrote = exists().where(
        Message.interaction_id == Interaction.id, Message.direction == Direction.INBOUND
    )
    return or_(Interaction.channel == Channel.CALL, wrote)


async def survey_candidates(
    session: AsyncSession, *, since: datetime, limit: int
) -> list[Interaction]:
    """Resolved conversations that ended since `since` with neither a survey nor a recorded
    skip (a `csat.sent` event), oldest resolution first."""
    has_survey = exists().where(CsatSurvey.interaction_id == Interaction.id)
    skipped = exists().where(
        InteractionEvent.interaction_id == Interaction.id,
        InteractionEvent.type == EventType.CSAT_SENT.value,
    )
    stmt = (
        select(Interaction)
        .where(
            resolved(),
            Interaction.ended_at >= since,
            not_otp(),
            ~has_survey,
            ~skipped,
            _customer_wrote(),
            # A customer whose data a data-subject request blocks gets no survey meanwhile.
            ~blocks_customer(),
        )
        .order_by(Interaction.ended_at, Interaction.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def locked_interaction(session: AsyncSession, interaction_id: uuid.UUID) -> Interaction:
    stmt = select(Interaction).where(Interaction.id == interaction_id).with_for_update()
    return (await session.scalars(stmt)).one()


async def interaction_or_none(
    session: AsyncSession, interaction_id: uuid.UUID
) -> Interaction | None:
    return await session.get(Interaction, interaction_id)


async def resolver(session: AsyncSession, interaction_id: uuid.UUID) -> str | None:
    """Who resolved the conversation last (the `actor` of its latest `conversation.resolved`
    event), or None when no one did through the workflow."""
    stmt = (
        select(InteractionEvent.normalized)
        .where(
            InteractionEvent.interaction_id == interaction_id,
            InteractionEvent.type == EventType.CONVERSATION_RESOLVED.value,
        )
        .order_by(InteractionEvent.occurred_at.desc(), InteractionEvent.id.desc())
        .limit(1)
    )
    normalized = (await session.execute(stmt)).scalar_one_or_none()
    actor = normalized.get("actor") if isinstance(normalized, dict) else None
    return actor if isinstance(actor, str) and actor else None


async def add_survey(session: AsyncSession, values: dict[str, Any]) -> bool:
    """The conversation's survey, unless it has one: True when this call wrote it (the unique
    interaction_id decides between racing jobs)."""
    return await insert_ignore(session, CsatSurvey, values, ["interaction_id"])


async def survey(
    session: AsyncSession, survey_id: uuid.UUID, *, for_update: bool = False
) -> CsatSurvey | None:
    stmt = select(CsatSurvey).where(CsatSurvey.id == survey_id)
    if for_update:
        # Read again under the lock: a copy loaded earlier in the session may be stale.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def survey_of(session: AsyncSession, interaction_id: uuid.UUID) -> CsatSurvey | None:
    stmt = select(CsatSurvey).where(CsatSurvey.interaction_id == interaction_id)
    return (await session.scalars(stmt)).one_or_none()


async def repeat_of(session: AsyncSession, interaction_id: uuid.UUID) -> RepeatContact | None:
    return await session.get(RepeatContact, interaction_id)


# --- repeat contacts --------------------------------------------------------------------------


async def new_inbound(
    session: AsyncSession,
    *,
    since: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Interaction]:
    """Inbound conversations created since `since` (and after the key `after`: the last of the
    previous page), oldest first, that name a customer."""
    page = (
        or_(
            Interaction.created_at > after[0],
            and_(Interaction.created_at == after[0], Interaction.id > after[1]),
        )
        if after is not None
        else Interaction.created_at >= since
    )
    stmt = (
        select(Interaction)
        .where(
            Interaction.direction == Direction.INBOUND,
            Interaction.created_at >= since,
            page,
            not_otp(),
            or_(Interaction.customer_phone.is_not(None), Interaction.customer_ref.is_not(None)),
        )
        .order_by(Interaction.created_at, Interaction.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def resolved_before(
    session: AsyncSession, contact: Interaction, *, earliest: datetime
) -> list[Interaction]:
    """The same customer's resolved conversations (by phone or by reference) that ended
    between `earliest` and the start of `contact`, and have no repeat contact yet."""
    same_customer = []
    if contact.customer_phone:
        same_customer.append(Interaction.customer_phone == contact.customer_phone)
    if contact.customer_ref:
        same_customer.append(Interaction.customer_ref == contact.customer_ref)
    has_repeat = exists().where(RepeatContact.interaction_id == Interaction.id)
    stmt = (
        select(Interaction)
        .where(
            or_(*same_customer),
            Interaction.id != contact.id,
            resolved(),
            not_otp(),
            Interaction.ended_at.is_not(None),
            Interaction.ended_at >= earliest,
            Interaction.ended_at <= contact.started_at,
            ~has_repeat,
        )
        .order_by(Interaction.ended_at, Interaction.id)
    )
    return list((await session.scalars(stmt)).all())


async def customer_reopens(
    session: AsyncSession,
    *,
    since: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[InteractionEvent, Interaction]]:
    """`conversation.reopened` events since `since` (after the key `after`), oldest first, on
    conversations that name a customer, are no one-time code's and have no repeat contact yet;
    who reopened (`normalized.by`) is the caller's to read (JSON differs by backend)."""
    page = (
        or_(
            InteractionEvent.occurred_at > after[0],
            and_(InteractionEvent.occurred_at == after[0], InteractionEvent.id > after[1]),
        )
        if after is not None
        else InteractionEvent.occurred_at >= since
    )
    has_repeat = exists().where(RepeatContact.interaction_id == Interaction.id)
    stmt = (
        select(InteractionEvent, Interaction)
        .join(Interaction, Interaction.id == InteractionEvent.interaction_id)
        .where(
            InteractionEvent.type == EventType.CONVERSATION_REOPENED.value,
            InteractionEvent.occurred_at >= since,
            page,
            not_otp(),
            or_(Interaction.customer_phone.is_not(None), Interaction.customer_ref.is_not(None)),
            ~has_repeat,
        )
        .order_by(InteractionEvent.occurred_at, InteractionEvent.id)
        .limit(limit)
    )
    return [(event, item) for event, item in (await session.execute(stmt)).all()]


async def closing_before(session: AsyncSession, event: InteractionEvent) -> InteractionEvent | None:
    """The conversation's last resolve or reopen before `event` (its own reopen)."""
    stmt = (
        select(InteractionEvent)
        .where(
            InteractionEvent.interaction_id == event.interaction_id,
            InteractionEvent.type.in_(
                [EventType.CONVERSATION_RESOLVED.value, EventType.CONVERSATION_REOPENED.value]
            ),
            InteractionEvent.id != event.id,
            or_(
                InteractionEvent.occurred_at < event.occurred_at,
                and_(
                    InteractionEvent.occurred_at == event.occurred_at,
                    InteractionEvent.type == EventType.CONVERSATION_RESOLVED.value,
                ),
            ),
        )
        .order_by(InteractionEvent.occurred_at.desc(), InteractionEvent.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def add_repeat(session: AsyncSession, values: dict[str, Any]) -> bool:
    """The resolved conversation's repeat contact, unless it has one (the first found wins)."""
    return await insert_ignore(session, RepeatContact, values, ["interaction_id"])


async def still_resolved(session: AsyncSession, interaction_id: uuid.UUID) -> bool:
    """Whether the conversation is resolved now (it may have reopened since it was found)."""
    stmt = select(Interaction.id).where(Interaction.id == interaction_id, resolved())
    return (await session.execute(stmt)).first() is not None


async def set_message(session: AsyncSession, survey_id: uuid.UUID, message_id: uuid.UUID) -> None:
    await session.execute(
        update(CsatSurvey).where(CsatSurvey.id == survey_id).values(message_id=message_id)
    )
