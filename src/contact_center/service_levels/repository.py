"""All SQL of business calendars, service-level policies and conversations' clocks."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import insert_ignore, lock_key
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    MessageKind,
    Role,
    SlaState,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message
from contact_center.models.note import Notification
from contact_center.models.service_levels import (
    BusinessHours,
    ClosedDay,
    ConversationSla,
    SlaPolicy,
)
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount

TIMED_CHANNELS = (Channel.WHATSAPP, Channel.SMS)


async def lock_calendar(session: AsyncSession) -> None:
    await lock_key(session, "business-calendar")


async def lock_policies(session: AsyncSession) -> None:
    await lock_key(session, "sla-policies")


# --- the calendar ---------------------------------------------------------------------------


async def business_hours_for(
    session: AsyncSession, team_id: uuid.UUID | None
) -> dict[uuid.UUID | None, BusinessHours]:
    """The team's row and the default row (whichever exist)."""
    stmt = select(BusinessHours).where(
        or_(BusinessHours.team_id.is_(None), BusinessHours.team_id == team_id)
        if team_id is not None
        else BusinessHours.team_id.is_(None)
    )
    return {row.team_id: row for row in (await session.scalars(stmt)).all()}


async def all_business_hours(session: AsyncSession) -> list[tuple[BusinessHours, str | None]]:
    """Every row with its team's name (None for the default), the default first."""
    stmt = (
        select(BusinessHours, Team.name)
        .outerjoin(Team, Team.id == BusinessHours.team_id)
        .order_by(BusinessHours.team_id.is_not(None), Team.name)
    )
    return [(row, name) for row, name in (await session.execute(stmt)).all()]


async def add(session: AsyncSession, *rows: Any) -> None:
    session.add_all(rows)
    await session.flush()


async def remove(session: AsyncSession, row: Any) -> None:
    await session.delete(row)
    await session.flush()


async def closed_days(session: AsyncSession) -> list[ClosedDay]:
    return list((await session.scalars(select(ClosedDay).order_by(ClosedDay.day))).all())


async def closed_day(session: AsyncSession, day: date) -> ClosedDay | None:
    return await session.get(ClosedDay, day)


async def team(session: AsyncSession, team_id: uuid.UUID) -> Team | None:
    return await session.get(Team, team_id)


async def team_names(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    return [
        (id, name)
        for id, name in (
            await session.execute(select(Team.id, Team.name).order_by(Team.name))
        ).all()
    ]


# --- policies -------------------------------------------------------------------------------


async def policies(session: AsyncSession, *, enabled_only: bool = False) -> list[SlaPolicy]:
    stmt = select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.name)
    if enabled_only:
        stmt = stmt.where(SlaPolicy.enabled.is_(True))
    return list((await session.scalars(stmt)).all())


async def policy(session: AsyncSession, policy_id: uuid.UUID) -> SlaPolicy | None:
    return await session.get(SlaPolicy, policy_id)


async def policy_named(session: AsyncSession, name: str) -> SlaPolicy | None:
    return (await session.scalars(select(SlaPolicy).where(SlaPolicy.name == name))).one_or_none()


# --- the clocks -----------------------------------------------------------------------------


async def changed_since(
    session: AsyncSession, since: datetime, limit: int
) -> list[tuple[uuid.UUID, datetime]]:
    """WhatsApp and SMS conversations the customer wrote in (an inbound message) changed at
    or after `since`, oldest change first: what the bank sends on its own is never timed."""
    customer_wrote = (
        select(Message.id)
        .where(Message.interaction_id == Interaction.id, Message.direction == Direction.INBOUND)
        .exists()
    )
    stmt = (
        select(Interaction.id, Interaction.updated_at)
        .where(
            Interaction.updated_at >= since,
            Interaction.channel.in_(TIMED_CHANNELS),
            customer_wrote,
        )
        .order_by(Interaction.updated_at, Interaction.id)
        .limit(limit)
    )
    return [(id, at) for id, at in (await session.execute(stmt)).all()]


async def due_for_check(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(ConversationSla.interaction_id)
        .where(ConversationSla.next_check_at.is_not(None), ConversationSla.next_check_at <= now)
        .order_by(ConversationSla.next_check_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def interactions(session: AsyncSession, ids: Collection[uuid.UUID]) -> list[Interaction]:
    if not ids:
        return []
    stmt = select(Interaction).where(Interaction.id.in_(list(ids)))
    return list((await session.scalars(stmt)).all())


async def interaction(
    session: AsyncSession, interaction_id: uuid.UUID, *, for_update: bool = False
) -> Interaction | None:
    stmt = select(Interaction).where(Interaction.id == interaction_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def messages_of(
    session: AsyncSession, interaction_id: uuid.UUID
) -> list[tuple[uuid.UUID, Direction, MessageKind, datetime]]:
    """The conversation's messages (id, direction, kind, time), oldest first."""
    stmt = (
        select(Message.id, Message.direction, Message.kind, Message.created_at)
        .where(Message.interaction_id == interaction_id)
        .order_by(Message.created_at, Message.id)
    )
    return [(id, d, k, at) for id, d, k, at in (await session.execute(stmt)).all()]


CLOCK_EVENTS = (
    EventType.MESSAGE_QUEUED.value,
    EventType.CONVERSATION_SNOOZED.value,
    EventType.CONVERSATION_WOKE.value,
    EventType.CONVERSATION_RESOLVED.value,
    EventType.CONVERSATION_REOPENED.value,
)


async def clock_events(
    session: AsyncSession, interaction_id: uuid.UUID
) -> list[tuple[str, datetime, Any]]:
    """The events the clocks read (type, time, normalized), oldest first."""
    stmt = (
        select(InteractionEvent.type, InteractionEvent.occurred_at, InteractionEvent.normalized)
        .where(
            InteractionEvent.interaction_id == interaction_id,
            InteractionEvent.type.in_(CLOCK_EVENTS),
        )
        .order_by(InteractionEvent.occurred_at, InteractionEvent.id)
    )
    return [(t, at, n) for t, at, n in (await session.execute(stmt)).all()]


async def clocks(session: AsyncSession, interaction_id: uuid.UUID) -> ConversationSla | None:
    stmt = select(ConversationSla).where(ConversationSla.interaction_id == interaction_id)
    return (await session.scalars(stmt)).one_or_none()


async def create_clocks(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await insert_ignore(session, ConversationSla, values, ["interaction_id"])


async def delete_clocks(session: AsyncSession, interaction_id: uuid.UUID) -> None:
    await session.execute(
        delete(ConversationSla)
        .where(ConversationSla.interaction_id == interaction_id)
        .execution_options(synchronize_session=False)
    )


async def event_exists(session: AsyncSession, idempotency_key: str) -> bool:
    stmt = select(InteractionEvent.id).where(InteractionEvent.idempotency_key == idempotency_key)
    return (await session.scalars(stmt.limit(1))).first() is not None


async def update_clocks(
    session: AsyncSession, interaction_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(ConversationSla)
        .where(ConversationSla.interaction_id == interaction_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _state_column(target: str) -> Any:
    return getattr(ConversationSla, f"{target}_state")


def _due_column(target: str) -> Any:
    return getattr(ConversationSla, f"{target}_due_at")


async def move_state(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    target: str,
    to: SlaState | None,
    due_at: datetime | None,
    *,
    new_clock: bool = False,
) -> bool:
    """Move one target's state by a conditional update; True when this transaction moved it.

    WARNING only from RUNNING; BREACHED only from RUNNING or WARNING; MET from RUNNING or
    WARNING; RUNNING from anything but a WARNING of the same due time; None (not timed) from
    anything. Never from BREACHED unless `new_clock` (a later customer message started another
    clock of the target): a breach is not undone by a changed due time."""
    state, due = _state_column(target), _due_column(target)
    sources: list[Any] = [state.is_(None)]
    if new_clock:
        sources.append(state == SlaState.BREACHED.value)
    if to is SlaState.WARNING:
        sources.append(state == SlaState.RUNNING.value)
    elif to in (SlaState.BREACHED, SlaState.MET):
        sources.append(state.in_([SlaState.RUNNING.value, SlaState.WARNING.value]))
    elif to is SlaState.RUNNING:
        sources += [
            state.in_([SlaState.RUNNING.value, SlaState.MET.value]),
            and_(state == SlaState.WARNING.value, or_(due.is_(None), due != due_at)),
        ]
    else:
        sources = [state.in_([SlaState.RUNNING.value, SlaState.WARNING.value, SlaState.MET.value])]
        if new_clock:
            sources.append(state == SlaState.BREACHED.value)
    allowed = or_(*sources)
    result = await session.execute(
        update(ConversationSla)
        .where(ConversationSla.interaction_id == interaction_id, allowed)
        .values({state.key: to.value if to is not None else None})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def supervisors(session: AsyncSession, team_id: uuid.UUID | None) -> list[uuid.UUID]:
    """Active supervisors of the team (every active supervisor when no team or none in it)."""
    base = select(UserAccount.id).where(
        UserAccount.active.is_(True), UserAccount.role == Role.SUPERVISOR.value
    )
    if team_id is not None:
        stmt = base.join(TeamMember, TeamMember.user_id == UserAccount.id).where(
            TeamMember.team_id == team_id
        )
        found = list((await session.scalars(stmt.order_by(UserAccount.username))).all())
        if found:
            return found
    return list((await session.scalars(base.order_by(UserAccount.username))).all())


async def add_notifications(session: AsyncSession, rows: Sequence[Notification]) -> None:
    session.add_all(rows)
    await session.flush()


async def delete_team_hours(session: AsyncSession, team_id: uuid.UUID) -> int:
    result = await session.execute(delete(BusinessHours).where(BusinessHours.team_id == team_id))
    return int(getattr(result, "rowcount", 0) or 0)
