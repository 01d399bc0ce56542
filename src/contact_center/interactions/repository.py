"""All SQL of the interactions domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.fast import Reader, Sql, Transaction, reader
from contact_center.db.statements import insert_ignore
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    OtpStatus,
    Outcome,
    Provider,
)
from contact_center.models.interaction import Interaction, InteractionLabel
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.team import Team
from contact_center.models.user_account import UserAccount

EVENT = cast(Table, InteractionEvent.__table__)
INTERACTION = cast(Table, Interaction.__table__)


@dataclass(frozen=True)
class AgentView:
    """What an agent sees (docs/workflow.md, "Who sees what"): their own conversations, the
    unassigned ones in `team_ids`' queues and the unassigned ones in no team."""

    agent: str
    team_ids: frozenset[uuid.UUID] = frozenset()


def visible_condition(view: AgentView) -> ColumnElement[bool]:
    """`view` as a condition on the interaction table: the one place it is written in SQL."""
    waiting = (
        or_(Interaction.team_id.is_(None), Interaction.team_id.in_(sorted(view.team_ids)))
        if view.team_ids
        else Interaction.team_id.is_(None)
    )
    return or_(
        Interaction.assigned_agent == view.agent,
        and_(Interaction.assigned_agent.is_(None), waiting),
    )


@dataclass(frozen=True)
class InteractionFilters:
    channel: Channel | None = None
    direction: Direction | None = None
    status: InteractionStatus | None = None
    from_digits: str | None = None
    to_digits: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    assigned_agent: str | None = None
    provider: Provider | None = None
    customer_ref: str | None = None
    queue: str | None = None
    outcome: Outcome | None = None
    # An agent's view (None: everything).
    visible_to: AgentView | None = None


def _conditions(filters: InteractionFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    equal: dict[str, Any] = {
        "channel": filters.channel,
        "direction": filters.direction,
        "status": filters.status,
        "assigned_agent": filters.assigned_agent,
        "provider": filters.provider,
        "customer_ref": filters.customer_ref,
        "queue": filters.queue,
        "outcome": filters.outcome,
    }
    for column, value in equal.items():
        if value is not None:
            conditions.append(getattr(Interaction, column) == value)
    # Digits only (validated by the caller), so no LIKE wildcard can be injected.
    if filters.from_digits:
        conditions.append(Interaction.from_number.contains(filters.from_digits, autoescape=True))
    if filters.to_digits:
        conditions.append(Interaction.to_number.contains(filters.to_digits, autoescape=True))
    if filters.visible_to is not None:
        conditions.append(visible_condition(filters.visible_to))
    if filters.started_from is not None:
        conditions.append(Interaction.started_at >= filters.started_from)
    if filters.started_before is not None:
        conditions.append(Interaction.started_at < filters.started_before)
    return conditions


def _filtered(filters: InteractionFilters) -> Select[Interaction]:
    return select(Interaction).where(and_(True, *_conditions(filters)))


# Trigram indexes serve a digits filter of this length or more.
TRIGRAM = 3


def _sort_matches_first(filters: InteractionFilters) -> bool:
    """Whether the page is better sorted from the matching rows than found along the order.

    The order (updatedAt desc) has its index; walking it backwards and discarding rows is quick
    when matches are common among recent activity, and slow when they are rare or old: a range
    that ends in the past (`dateTo`: every newer row is read and discarded), or digits that only
    a few numbers contain. Those are better taken from their own index (the started_at range, the
    trigram index) and sorted: the matches of a day or a week, or of a digits search, are few.
    """
    digits = [d for d in (filters.from_digits, filters.to_digits) if d]
    return filters.started_before is not None or any(len(d) >= TRIGRAM for d in digits)


async def list_page(
    session: AsyncSession, filters: InteractionFilters, *, limit: int, skip: int
) -> list[Interaction]:
    """One page ordered by updatedAt desc, id desc; one row more than asked tells hasMore."""
    if not _sort_matches_first(filters):
        stmt = (
            _filtered(filters)
            .order_by(Interaction.updated_at.desc(), Interaction.id.desc())
            .offset(skip)
            .limit(limit + 1)
        )
        return list((await session.scalars(stmt)).all())
    # OFFSET 0 keeps the planner from merging the subquery into the outer query, which would
    # bring back the walk along updatedAt (its estimate assumes matches spread evenly on it).
    matches = (
        select(Interaction.id, Interaction.updated_at)
        .where(and_(True, *_conditions(filters)))
        .offset(0)
        .subquery("matches")
    )
    page = (
        select(matches.c.id)
        .order_by(matches.c.updated_at.desc(), matches.c.id.desc())
        .offset(skip)
        .limit(limit + 1)
    )
    ids = list((await session.scalars(page)).all())
    if not ids:
        return []
    rows = {
        row.id: row
        for row in (await session.scalars(select(Interaction).where(Interaction.id.in_(ids))))
    }
    return [rows[i] for i in ids if i in rows]


async def count(session: AsyncSession, filters: InteractionFilters) -> int:
    stmt = select(func.count()).select_from(Interaction).where(and_(True, *_conditions(filters)))
    return int((await session.execute(stmt)).scalar_one())


async def get(
    session: AsyncSession, interaction_id: uuid.UUID, *, for_update: bool = False
) -> Interaction | None:
    stmt = select(Interaction).where(Interaction.id == interaction_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def _children(
    session: AsyncSession,
    model: type[Message] | type[InteractionEvent],
    interaction_ids: Sequence[uuid.UUID],
    time_column: str,
    per_interaction: int | None,
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Messages or events of many interactions, oldest first, the last N of each if N is set.

    Plain dicts keyed like the model's attributes, read with Core rather than as ORM objects: a
    list page holds hundreds of children, and the identity map and instance state cost more than
    the query; the response schemas validate dicts fastest.
    """
    result: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in interaction_ids}
    if not interaction_ids:
        return result
    table = cast(Table, model.__table__)
    time_col = table.c[time_column]
    if per_interaction is None:
        stmt = (
            select(table)
            .where(table.c.interaction_id.in_(interaction_ids))
            .order_by(table.c.interaction_id, time_col, table.c.id)
        )
    elif len(interaction_ids) == 1:
        # One interaction (a detail, a profile of one): its last N, built once.
        result[interaction_ids[0]] = await (await reader(session)).all(
            _LAST_CHILDREN[table.name],
            interaction_id=interaction_ids[0],
            per_interaction=per_interaction,
        )
        return result
    else:
        rank = (
            func.row_number()
            .over(
                partition_by=table.c.interaction_id, order_by=(time_col.desc(), table.c.id.desc())
            )
            .label("rank")
        )
        inner = (
            select(table.c.id.label("id"), rank)
            .where(table.c.interaction_id.in_(interaction_ids))
            .subquery()
        )
        stmt = (
            select(table)
            .join(inner, inner.c.id == table.c.id)
            .where(inner.c.rank <= per_interaction)
            .order_by(table.c.interaction_id, time_col, table.c.id)
        )
    for row in (await session.execute(stmt)).all():
        result[row.interaction_id].append(row._asdict())
    return result


async def messages_for(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID], per_interaction: int | None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    return await _children(session, Message, interaction_ids, "created_at", per_interaction)


async def events_for(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID], per_interaction: int | None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    return await _children(
        session, InteractionEvent, interaction_ids, "occurred_at", per_interaction
    )


# --- one interaction's detail: below the ORM (db/fast.py) -------------------------------------
#
# The detail is read on every open of an interaction (and every few seconds by a console that
# follows it): building statements, running them through the ORM layer and loading ORM objects
# cost more CPU than the queries. These are compiled once and read plain rows.


def _last_children(model: type[Message] | type[InteractionEvent], time_column: str) -> Sql:
    """The last N children of one interaction, oldest first (newest N, then turned around)."""
    table = cast(Table, model.__table__)
    time_col = table.c[time_column]
    newest = (
        select(table)
        .where(table.c.interaction_id == bindparam("interaction_id"))
        .order_by(time_col.desc(), table.c.id.desc())
        .limit(bindparam("per_interaction", type_=Integer))
        .subquery()
    )
    return Sql(select(newest).order_by(newest.c[time_column], newest.c.id))


def _all_children(model: type[Message] | type[InteractionEvent], time_column: str) -> Sql:
    table = cast(Table, model.__table__)
    return Sql(
        select(table)
        .where(table.c.interaction_id == bindparam("interaction_id"))
        .order_by(table.c[time_column], table.c.id)
    )


MESSAGE = cast(Table, Message.__table__)
CALL_DETAIL = cast(Table, CallDetail.__table__)
OTP_CHALLENGE = cast(Table, OtpChallenge.__table__)
_LAST_CHILDREN = {
    MESSAGE.name: _last_children(Message, "created_at"),
    EVENT.name: _last_children(InteractionEvent, "occurred_at"),
}
_ALL_CHILDREN = {
    MESSAGE.name: _all_children(Message, "created_at"),
    EVENT.name: _all_children(InteractionEvent, "occurred_at"),
}
# What the detail shows of a call (the row's own id and interaction id are not shown).
CALL_COLUMNS = (
    "transcript",
    "summary",
    "recording_url",
    "duration_secs",
    "hangup_reason",
    "call_successful",
    "analysis",
    "has_audio",
    "sensitive_audio",
    "fetched_at",
)
# The interaction and its call detail in one round trip (a call has one detail at most).
_INTERACTION_WITH_CALL = Sql(
    select(
        INTERACTION,
        CALL_DETAIL.c.id.label("call_detail_id"),
        *(CALL_DETAIL.c[name].label(f"call_detail_{name}") for name in CALL_COLUMNS),
    )
    .outerjoin(CALL_DETAIL, CALL_DETAIL.c.interaction_id == INTERACTION.c.id)
    .where(INTERACTION.c.id == bindparam("interaction_id"))
)
# What the detail shows of an OTP challenge: never its code's hash.
OTP_COLUMNS = (
    "id",
    "correlation_id",
    "phone",
    "purpose",
    "status",
    "attempts",
    "max_attempts",
    "expires_at",
    "verified_at",
    "interaction_id",
    "requested_from_interaction_id",
    "context",
    "channel",
    "fallback_at",
    "created_at",
)
_OTP_CHALLENGES_OF = Sql(
    select(*(OTP_CHALLENGE.c[name] for name in OTP_COLUMNS))
    .where(
        (OTP_CHALLENGE.c.interaction_id == bindparam("interaction_id"))
        | (OTP_CHALLENGE.c.requested_from_interaction_id == bindparam("interaction_id"))
    )
    .order_by(OTP_CHALLENGE.c.created_at, OTP_CHALLENGE.c.id)
)


async def interaction_row(
    db: Reader, interaction_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The interaction (keyed like the model's columns) and its call detail (None when it has
    none), as plain dicts."""
    row = await db.one(_INTERACTION_WITH_CALL, interaction_id=interaction_id)
    if row is None:
        return None
    has_call = row.pop("call_detail_id") is not None
    call = {name: row.pop(f"call_detail_{name}") for name in CALL_COLUMNS}
    return row, call if has_call else None


async def children_of(
    db: Reader, interaction_id: uuid.UUID, *, messages: int | None, events: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One interaction's messages and events, oldest first: the last N of each, or all (None)."""
    found = []
    for table, per in ((MESSAGE, messages), (EVENT, events)):
        if per is None:
            found.append(await db.all(_ALL_CHILDREN[table.name], interaction_id=interaction_id))
        else:
            found.append(
                await db.all(
                    _LAST_CHILDREN[table.name], interaction_id=interaction_id, per_interaction=per
                )
            )
    return found[0], found[1]


async def otp_challenges_for(db: Reader, interaction_id: uuid.UUID) -> list[dict[str, Any]]:
    """The challenges sent in this interaction or requested from it, oldest first."""
    return await db.all(_OTP_CHALLENGES_OF, interaction_id=interaction_id)


LABEL = cast(Table, InteractionLabel.__table__)
_LABELS_OF = Sql(
    select(LABEL.c.label)
    .where(LABEL.c.interaction_id == bindparam("interaction_id"))
    .order_by(LABEL.c.label)
)


async def labels_of(db: Reader, interaction_id: uuid.UUID) -> list[str]:
    """One interaction's labels, alphabetically (the detail's fast path)."""
    return [row["label"] for row in await db.all(_LABELS_OF, interaction_id=interaction_id)]


async def labels_for(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The labels of many interactions (a page), alphabetically, in one query."""
    result: dict[uuid.UUID, list[str]] = {i: [] for i in interaction_ids}
    if not interaction_ids:
        return result
    stmt = (
        select(LABEL.c.interaction_id, LABEL.c.label)
        .where(LABEL.c.interaction_id.in_(interaction_ids))
        .order_by(LABEL.c.interaction_id, LABEL.c.label)
    )
    for interaction_id, label in (await session.execute(stmt)).all():
        result[interaction_id].append(label)
    return result


async def replace_labels(
    session: AsyncSession, interaction_id: uuid.UUID, labels: Sequence[str], now: datetime
) -> None:
    await session.execute(delete(LABEL).where(LABEL.c.interaction_id == interaction_id))
    if labels:
        await session.execute(
            LABEL.insert(),
            [
                {"interaction_id": interaction_id, "label": label, "created_at": now}
                for label in labels
            ],
        )


async def active_user_exists(session: AsyncSession, username: str) -> bool:
    stmt = select(UserAccount.id).where(
        UserAccount.username == username, UserAccount.active.is_(True)
    )
    return (await session.scalars(stmt)).first() is not None


async def active_people(session: AsyncSession) -> list[tuple[str, str | None]]:
    """Every active user's username and display name, by username (the console's pickers)."""
    stmt = (
        select(UserAccount.username, UserAccount.display_name)
        .where(UserAccount.active.is_(True))
        .order_by(UserAccount.username)
    )
    return [(name, display) for name, display in (await session.execute(stmt)).all()]


async def teams(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    stmt = select(Team.id, Team.name).order_by(Team.name)
    return [(id, name) for id, name in (await session.execute(stmt)).all()]


async def team_exists(session: AsyncSession, team_id: uuid.UUID) -> bool:
    return (await session.scalars(select(Team.id).where(Team.id == team_id))).first() is not None


async def latest_bot_event(session: AsyncSession, interaction_id: uuid.UUID) -> str | None:
    """The type of the interaction's latest bot pause or resume, if any."""
    stmt = (
        select(InteractionEvent.type)
        .where(
            InteractionEvent.interaction_id == interaction_id,
            InteractionEvent.type.in_(["bot.paused", "bot.resumed"]),
        )
        .order_by(InteractionEvent.occurred_at.desc(), InteractionEvent.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def by_customer(session: AsyncSession, phone: str) -> list[Interaction]:
    stmt = (
        select(Interaction)
        .where(Interaction.customer_phone == phone)
        .order_by(Interaction.started_at.desc(), Interaction.id.desc())
    )
    return list((await session.scalars(stmt)).all())


async def otp_counts_by_status(session: AsyncSession, phone: str) -> dict[OtpStatus, int]:
    stmt = (
        select(OtpChallenge.status, func.count())
        .where(OtpChallenge.phone == phone)
        .group_by(OtpChallenge.status)
    )
    return {OtpStatus(status): int(n) for status, n in (await session.execute(stmt)).all()}


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert one event unless its idempotency key exists. True when inserted."""
    return await insert_ignore(session, InteractionEvent, values, ["idempotency_key"])


# --- below the ORM (db/fast.py), for the hot paths --------------------------------------------


def _insert_event_ignoring(dialect: str) -> ClauseElement:
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        build(EVENT)
        .values({c.key: bindparam(c.key, type_=c.type) for c in EVENT.columns})
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(EVENT.c.id)
    )


INSERT_EVENT = Sql(_insert_event_ignoring)
UPDATE_INTERACTION_STATE = Sql(
    update(INTERACTION).where(INTERACTION.c.id == bindparam("interaction_id")),
    keys=["status", "ended_at", "updated_at"],
)


async def insert_event_fast(tx: Transaction, values: dict[str, Any]) -> bool:
    """`insert_event` below the ORM. True when inserted."""
    return await tx.one(INSERT_EVENT, **values) is not None


async def update_state_fast(
    tx: Transaction,
    interaction_id: uuid.UUID,
    status: InteractionStatus,
    ended_at: datetime | None,
    updated_at: datetime,
) -> None:
    await tx.run(
        UPDATE_INTERACTION_STATE,
        interaction_id=interaction_id,
        status=status,
        ended_at=ended_at,
        updated_at=updated_at,
    )


# --- the WhatsApp 24-hour window (docs/workflow.md) -------------------------------------------
# When the customer last wrote on WhatsApp: in this conversation, or in any WhatsApp
# conversation of the same number (a new conversation may have begun with our message).

_INBOUND_WHATSAPP = (
    select(func.max(MESSAGE.c.created_at).label("last_inbound"))
    .select_from(MESSAGE.join(INTERACTION, INTERACTION.c.id == MESSAGE.c.interaction_id))
    .where(
        MESSAGE.c.direction == Direction.INBOUND,
        INTERACTION.c.channel == Channel.WHATSAPP,
    )
)
_LAST_INBOUND_WHATSAPP = Sql(
    _INBOUND_WHATSAPP.where(
        or_(
            INTERACTION.c.id == bindparam("interaction_id"),
            INTERACTION.c.customer_phone == bindparam("phone"),
        )
    )
)


async def last_inbound_whatsapp(
    db: Reader, *, interaction_id: uuid.UUID | None, phone: str | None
) -> datetime | None:
    """The time of the customer's last inbound WhatsApp message (None: they never wrote)."""
    row = await db.one(_LAST_INBOUND_WHATSAPP, interaction_id=interaction_id, phone=phone)
    return None if row is None else row["last_inbound"]


async def last_inbound_whatsapp_many(
    session: AsyncSession, interactions: Sequence[Interaction]
) -> dict[uuid.UUID, datetime]:
    """`last_inbound_whatsapp` of each WhatsApp interaction of a page, in at most two queries:
    by number, and by interaction for the few without a parsed number."""
    chats = [i for i in interactions if i.channel is Channel.WHATSAPP]
    phones = {i.customer_phone for i in chats if i.customer_phone}
    by_phone: dict[str, datetime] = {}
    if phones:
        stmt = _INBOUND_WHATSAPP.add_columns(INTERACTION.c.customer_phone).where(
            INTERACTION.c.customer_phone.in_(phones)
        )
        stmt = stmt.group_by(INTERACTION.c.customer_phone)
        for last, phone in (await session.execute(stmt)).all():
            by_phone[phone] = last
    found = {i.id: by_phone[i.customer_phone] for i in chats if i.customer_phone in by_phone}
    alone = [i.id for i in chats if not i.customer_phone]
    if alone:
        stmt = _INBOUND_WHATSAPP.add_columns(MESSAGE.c.interaction_id).where(
            MESSAGE.c.interaction_id.in_(alone)
        )
        for last, interaction_id in (
            await session.execute(stmt.group_by(MESSAGE.c.interaction_id))
        ).all():
            found[interaction_id] = last
    return found


async def recent_inbound_whatsapp(
    session: AsyncSession, since: datetime
) -> list[tuple[str, datetime]]:
    """Each customer number that wrote on WhatsApp since `since`, with its last message time."""
    stmt = (
        _INBOUND_WHATSAPP.add_columns(INTERACTION.c.customer_phone)
        .where(MESSAGE.c.created_at >= since, INTERACTION.c.customer_phone.is_not(None))
        .group_by(INTERACTION.c.customer_phone)
    )
    return [(phone, last) for last, phone in (await session.execute(stmt)).all()]
