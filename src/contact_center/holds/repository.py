"""The one definition of "held": which interactions an active legal hold keeps. The retention
purge and the data-subject requests both ask here (docs/data-lifecycle.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.enums import HoldScope
from contact_center.models.interaction import Interaction
from contact_center.models.lifecycle import LegalHold


def active(now: datetime) -> ColumnElement[bool]:
    """A hold in force at `now`: not released and its optional end not reached."""
    return and_(
        LegalHold.released_at.is_(None),
        or_(LegalHold.ends_at.is_(None), LegalHold.ends_at > now),
    )


def covers(now: datetime) -> ColumnElement[bool]:
    """An active hold covers the interaction `Interaction` of the enclosing query: it names
    the interaction, its customer (phone or reference), or a date range it started in."""
    return exists(
        select(LegalHold.id).where(
            active(now),
            or_(
                and_(
                    LegalHold.scope == HoldScope.INTERACTION,
                    LegalHold.interaction_id == Interaction.id,
                ),
                and_(
                    LegalHold.scope == HoldScope.CUSTOMER,
                    or_(
                        and_(
                            LegalHold.customer_phone.is_not(None),
                            LegalHold.customer_phone == Interaction.customer_phone,
                        ),
                        and_(
                            LegalHold.customer_ref.is_not(None),
                            LegalHold.customer_ref == Interaction.customer_ref,
                        ),
                    ),
                ),
                and_(
                    LegalHold.scope == HoldScope.DATE_RANGE,
                    Interaction.started_at >= LegalHold.range_start,
                    or_(
                        LegalHold.range_end.is_(None), Interaction.started_at < LegalHold.range_end
                    ),
                ),
            ),
        )
    )


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
