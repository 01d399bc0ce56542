"""The one definition of "held": which interactions an active legal hold keeps. The retention
purge and the data-subject requests both ask here (docs/data-lifecycle.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from contact_center.models.enums import HoldScope
from contact_center.models.interaction import Interaction
from contact_center.models.lifecycle import LegalHold


def active(now: datetime) -> ColumnElement[bool]:
    """A hold in force at `now`: not released and its optional end not reached."""
    return and_(
        LegalHold.released_at.is_(None),
        or_(LegalHold.ends_at.is_(None), LegalHold.ends_at > now),
    )


def customer_of_interaction(
    phone: InstrumentedAttribute[str | None], ref: InstrumentedAttribute[str | None]
) -> ColumnElement[bool]:
    """These phone and reference columns name the customer of the enclosing query's
    `Interaction` (a missing one names nobody)."""
    return or_(
        and_(phone.is_not(None), phone == Interaction.customer_phone),
        and_(ref.is_not(None), ref == Interaction.customer_ref),
    )


def _named_by() -> ColumnElement[bool]:
    """The interactions a hold names (the enclosing query's `Interaction`), active or not."""
    return or_(
        and_(LegalHold.scope == HoldScope.INTERACTION, LegalHold.interaction_id == Interaction.id),
        and_(
            LegalHold.scope == HoldScope.CUSTOMER,
            customer_of_interaction(LegalHold.customer_phone, LegalHold.customer_ref),
        ),
        and_(
            LegalHold.scope == HoldScope.DATE_RANGE,
            Interaction.started_at >= LegalHold.range_start,
            or_(LegalHold.range_end.is_(None), Interaction.started_at < LegalHold.range_end),
        ),
    )


def covers(now: datetime) -> ColumnElement[bool]:
    """An active hold covers the interaction `Interaction` of the enclosing query: it names
    the interaction, its customer (phone or reference), or a date range it started in."""
    return exists(select(LegalHold.id).where(active(now), _named_by()))


def not_held(now: datetime) -> ColumnElement[bool]:
    """The negation of `covers`, for a purge's or a deletion's WHERE clause."""
    return ~covers(now)


async def held_ids(
    session: AsyncSession, interaction_ids: Iterable[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """Which of these interactions an active hold covers."""
    ids = list(interaction_ids)
    if not ids:
        return set()
    rows = await session.scalars(select(Interaction.id).where(Interaction.id.in_(ids), covers(now)))
    return set(rows)


async def holds_for_subject(
    session: AsyncSession, phone: str | None, customer_ref: str | None, now: datetime
) -> list[LegalHold]:
    """The active holds that name this customer, or cover any of their interactions (by
    interaction or date range): why a deletion request is refused."""
    who = []
    if phone:
        who.append(Interaction.customer_phone == phone)
    if customer_ref:
        who.append(Interaction.customer_ref == customer_ref)
    if not who:
        return []
    theirs = select(Interaction.id).where(or_(*who))
    named = []
    if phone:
        named.append(LegalHold.customer_phone == phone)
    if customer_ref:
        named.append(LegalHold.customer_ref == customer_ref)
    rows = await session.scalars(
        select(LegalHold)
        .where(
            active(now),
            or_(
                and_(LegalHold.scope == HoldScope.CUSTOMER, or_(*named)),
                and_(
                    LegalHold.scope == HoldScope.INTERACTION,
                    LegalHold.interaction_id.in_(theirs),
                ),
                and_(
                    LegalHold.scope == HoldScope.DATE_RANGE,
                    exists(
                        select(Interaction.id).where(
                            or_(*who),
                            Interaction.started_at >= LegalHold.range_start,
                            or_(
                                LegalHold.range_end.is_(None),
                                Interaction.started_at < LegalHold.range_end,
                            ),
                        )
                    ),
                ),
            ),
        )
        .order_by(LegalHold.created_at)
    )
    return list(rows)


# --- the holds themselves (the API and the console: holds.service) ---------------------------


async def add(session: AsyncSession, hold: LegalHold) -> LegalHold:
    session.add(hold)
    await session.flush()
    return hold


async def get(session: AsyncSession, hold_id: uuid.UUID) -> LegalHold | None:
    return await session.get(LegalHold, hold_id)


async def interaction_exists(session: AsyncSession, interaction_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Interaction.id).where(Interaction.id == interaction_id))
    return found is not None


def _state(stmt: Select[LegalHold], state: str | None, now: datetime) -> Select[LegalHold]:
    if state == "ACTIVE":
        return stmt.where(active(now))
    if state == "RELEASED":
        return stmt.where(LegalHold.released_at.is_not(None))
    if state == "LAPSED":
        return stmt.where(
            LegalHold.released_at.is_(None),
            LegalHold.ends_at.is_not(None),
            LegalHold.ends_at <= now,
        )
    return stmt


async def listing(
    session: AsyncSession,
    now: datetime,
    *,
    state: str | None,
    scope: HoldScope | None,
    limit: int,
    skip: int,
) -> Sequence[LegalHold]:
    """Active holds first, then newest first; one row more than `limit` tells whether more
    exist. `state`: ACTIVE, RELEASED, LAPSED (ended by itself) or None (all)."""
    stmt = _state(select(LegalHold), state, now)
    if scope is not None:
        stmt = stmt.where(LegalHold.scope == scope)
    stmt = (
        stmt.order_by(
            case((active(now), 0), else_=1), LegalHold.created_at.desc(), LegalHold.id.desc()
        )
        .limit(limit + 1)
        .offset(skip)
    )
    return (await session.scalars(stmt)).all()


async def covered_counts(
    session: AsyncSession, hold_ids: Iterable[uuid.UUID], now: datetime
) -> dict[uuid.UUID, int]:
    """How many interactions each of these holds covers now (0 for a hold not active)."""
    ids = list(hold_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(LegalHold.id, func.count(Interaction.id))
        .join(Interaction, _named_by())
        .where(LegalHold.id.in_(ids), active(now))
        .group_by(LegalHold.id)
    )
    counts = {hold_id: 0 for hold_id in ids}
    counts.update({hold_id: count for hold_id, count in rows.all()})
    return counts


async def release(
    session: AsyncSession,
    hold_id: uuid.UUID,
    *,
    at: datetime,
    by: str,
    reason: str,
) -> LegalHold | None:
    """Release a hold not released yet: one statement, so of two racing releases one wins
    (the other's UPDATE finds it released and changes nothing). The hold as released, or None
    when it already was."""
    result = await session.execute(
        update(LegalHold)
        .where(LegalHold.id == hold_id, LegalHold.released_at.is_(None))
        .values(released_at=at, released_by=by, release_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if not cast(CursorResult[Any], result).rowcount:
        return None
    return await session.get(LegalHold, hold_id, populate_existing=True)


async def holds_on(
    session: AsyncSession, interaction_id: uuid.UUID, now: datetime
) -> Sequence[LegalHold]:
    """The active holds that cover this interaction (by itself, its customer or its start)."""
    named = exists(select(Interaction.id).where(Interaction.id == interaction_id, _named_by()))
    rows = await session.scalars(
        select(LegalHold).where(active(now), named).order_by(LegalHold.created_at)
    )
    return rows.all()


async def earliest_held(session: AsyncSession, now: datetime, before: datetime) -> datetime | None:
    """The earliest moment before `before` that an active hold keeps: the start of the oldest
    interaction it covers, or of a held date range (None: nothing held before then). Audit rows
    from then on are kept (the chain is pruned only as a prefix, so the prefix stops there)."""
    started = await session.scalar(
        select(func.min(Interaction.started_at)).where(Interaction.started_at < before, covers(now))
    )
    ranged = await session.scalar(
        select(func.min(LegalHold.range_start)).where(
            active(now), LegalHold.scope == HoldScope.DATE_RANGE, LegalHold.range_start < before
        )
    )
    found = [moment for moment in (started, ranged) if moment is not None]
    return min(found) if found else None
