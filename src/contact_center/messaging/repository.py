"""SQL of the messaging domain (WhatsApp and SMS)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.fast import Sql, Transaction, row_of
from contact_center.interactions.repository import insert_event_fast, update_state_fast
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    Provider,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message

T = TypeVar("T")


def _customer(phone: str | None, raw: str | None) -> ColumnElement[bool]:
    if phone is not None:
        return Interaction.customer_phone == phone
    return and_(Interaction.customer_phone.is_(None), Interaction.from_number == raw)


def _current_whatsapp(customer: ColumnElement[bool]) -> Select[Interaction]:
    return (
        select(Interaction)
        .where(
            Interaction.channel == Channel.WHATSAPP,
            customer,
            Interaction.last_message_at >= bindparam("since"),
        )
        .order_by(Interaction.last_message_at.desc())
        .limit(1)
        .with_for_update()
    )


# The statements of the inbound-message path are built once, their values bound at execution:
# building a select costs more CPU than running it (SQLAlchemy memoizes a built statement's
# cache key; a new one is built and keyed on every call).
_CURRENT_BY_PHONE = _current_whatsapp(Interaction.customer_phone == bindparam("phone"))
_CURRENT_BY_RAW = _current_whatsapp(
    and_(Interaction.customer_phone.is_(None), Interaction.from_number == bindparam("raw"))
)


async def current_whatsapp(
    session: AsyncSession, phone: str | None, raw: str | None, since: datetime
) -> Interaction | None:
    """The customer's WhatsApp interaction with a message since `since`, locked."""
    if phone is not None:
        found = await session.scalars(_CURRENT_BY_PHONE, {"phone": phone, "since": since})
    else:
        found = await session.scalars(_CURRENT_BY_RAW, {"raw": raw, "since": since})
    return found.one_or_none()


async def add(session: AsyncSession, *rows: Interaction | Message) -> None:
    for row in rows:
        session.add(row)
    await session.flush()


_HAS_DIRECTION = select(
    exists().where(
        Message.interaction_id == bindparam("interaction_id"),
        Message.direction == bindparam("direction"),
    )
)


async def has_direction(
    session: AsyncSession, interaction_id: uuid.UUID, direction: Direction
) -> bool:
    found = await session.execute(
        _HAS_DIRECTION, {"interaction_id": interaction_id, "direction": direction}
    )
    return bool(found.scalar())


async def unconfirmed_echo(
    session: AsyncSession, phone: str | None, raw: str | None, body: str, since: datetime
) -> Message | None:
    """A WhatsApp message we sent to this customer with this text, not yet echoed back."""
    stmt = (
        select(Message)
        .join(Interaction, Interaction.id == Message.interaction_id)
        .where(
            Interaction.channel == Channel.WHATSAPP,
            _customer(phone, raw),
            Message.direction == Direction.OUTBOUND,
            Message.body == body,
            Message.provider_confirmed_at.is_(None),
            Message.created_at >= since,
        )
        .order_by(Message.created_at)
        .limit(1)
        .with_for_update()
    )
    return (await session.scalars(stmt)).one_or_none()


async def by_provider_id(session: AsyncSession, provider_message_id: str) -> Message | None:
    stmt = (
        select(Message).where(Message.provider_message_id == provider_message_id).with_for_update()
    )
    return (await session.scalars(stmt)).one_or_none()


async def interaction(session: AsyncSession, interaction_id: uuid.UUID) -> Interaction:
    stmt = select(Interaction).where(Interaction.id == interaction_id).with_for_update()
    return (await session.scalars(stmt)).one()


async def message(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    stmt = select(Message).where(Message.id == message_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def interaction_or_none(
    session: AsyncSession, interaction_id: uuid.UUID
) -> Interaction | None:
    return (
        await session.scalars(select(Interaction).where(Interaction.id == interaction_id))
    ).one_or_none()


async def messages(session: AsyncSession, interaction_id: uuid.UUID) -> list[Message]:
    stmt = (
        select(Message)
        .where(Message.interaction_id == interaction_id)
        .order_by(Message.created_at, Message.id)
    )
    return list((await session.scalars(stmt)).all())


async def due_for_send(
    session: AsyncSession, *, queued_before: datetime, sending_before: datetime, limit: int
) -> list[Message]:
    """QUEUED rows whose retry time (or creation) is past the threshold, and stuck SENDING rows."""
    stmt = (
        select(Message)
        .where(
            (
                (Message.status == MessageStatus.QUEUED)
                & (func.coalesce(Message.next_attempt_at, Message.updated_at) < queued_before)
            )
            | ((Message.status == MessageStatus.SENDING) & (Message.updated_at < sending_before))
        )
        .order_by(Message.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def sms_status_checks_due(
    session: AsyncSession,
    *,
    sent_before: datetime,
    created_after: datetime,
    now: datetime,
    limit: int,
) -> list[Message]:
    """Outbound Twilio SMS still SENT since before `sent_before`, created after `created_after`,
    whose next status check is due; oldest first, locked (rows another run holds are skipped).

    `created_at < sent_before` repeats what `sent_at` implies (a message is sent after it is
    created) so that the (status, created_at) index bounds the scan on both sides.
    """
    stmt = (
        select(Message)
        .join(Interaction, Interaction.id == Message.interaction_id)
        .where(
            Message.status == MessageStatus.SENT,
            Message.created_at >= created_after,
            Message.created_at < sent_before,
            Message.sent_at < sent_before,
            Message.direction == Direction.OUTBOUND,
            Message.provider_message_id.is_not(None),
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
            Interaction.channel == Channel.SMS,
            Interaction.provider == Provider.TWILIO,
        )
        .order_by(Message.created_at)
        .limit(limit)
        .with_for_update(of=Message, skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def message_in(
    session: AsyncSession, interaction_id: uuid.UUID, message_id: uuid.UUID
) -> Message | None:
    """One message of an interaction (not locked)."""
    stmt = select(Message).where(Message.id == message_id, Message.interaction_id == interaction_id)
    return (await session.scalars(stmt)).one_or_none()


async def media_due(
    session: AsyncSession, *, now: datetime, limit: int
) -> list[tuple[uuid.UUID, datetime]]:
    """Received messages whose media fetch is due (`next_attempt_at` reached; a RECEIVED
    message has one only while it has media to fetch), oldest first: (id, due time)."""
    stmt = (
        select(Message.id, Message.next_attempt_at)
        .where(
            Message.status == MessageStatus.RECEIVED,
            Message.next_attempt_at.is_not(None),
            Message.next_attempt_at <= now,
        )
        .order_by(Message.next_attempt_at)
        .limit(limit)
    )
    return [(row[0], row[1] or now) for row in (await session.execute(stmt)).all()]


async def idle_whatsapp(session: AsyncSession, before: datetime, limit: int) -> list[Interaction]:
    stmt = (
        select(Interaction)
        .where(
            Interaction.channel == Channel.WHATSAPP,
            Interaction.status.in_([InteractionStatus.NEW, InteractionStatus.IN_PROGRESS]),
            Interaction.last_message_at < before,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def last_message(session: AsyncSession, interaction_id: uuid.UUID) -> Message | None:
    stmt = (
        select(Message)
        .where(Message.interaction_id == interaction_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).one_or_none()


# --- below the ORM (db/fast.py), for the hot paths --------------------------------------------

MESSAGE = cast(Table, Message.__table__)
INTERACTION = cast(Table, Interaction.__table__)
STATUS_MESSAGE_COLUMNS = (
    "id",
    "interaction_id",
    "direction",
    "status",
    "updated_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "error_code",
    "error_message",
)
STATUS_INTERACTION_COLUMNS = (
    "channel",
    "status",
    "ended_at",
    "updated_at",
    "assigned_agent",
    "team_id",
)

MESSAGE_FOR_STATUS = Sql(
    select(
        *(MESSAGE.c[name] for name in STATUS_MESSAGE_COLUMNS),
        *(INTERACTION.c[name].label(f"interaction_{name}") for name in STATUS_INTERACTION_COLUMNS),
    )
    .join_from(MESSAGE, INTERACTION, MESSAGE.c.interaction_id == INTERACTION.c.id)
    .where(MESSAGE.c.provider_message_id == bindparam("provider_message_id"))
    .with_for_update()
)
STATUS_KEYS = [
    "status",
    "updated_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "error_code",
    "error_message",
]
UPDATE_MESSAGE_STATUS = Sql(
    update(MESSAGE).where(MESSAGE.c.id == bindparam("message_id")), keys=STATUS_KEYS
)


def _loaded(cls: type[T], values: dict[str, Any]) -> T:
    """A detached object holding `values` as if loaded (as the ORM makes one from a row: no
    constructor and no change events: a tenth of the constructor's cost)."""
    row: T = inspect(cls).class_manager.new_instance()
    row.__dict__.update(values)
    return row


def _message_and_interaction(
    found: dict[str, Any], message_columns: Sequence[str], interaction_columns: Sequence[str]
) -> tuple[Message, Interaction]:
    """A message and its interaction, detached, from a row of both (the interaction's columns
    prefixed `interaction_`)."""
    message = _loaded(Message, {name: found[name] for name in message_columns})
    interaction = _loaded(
        Interaction,
        {
            "id": found["interaction_id"],
            **{name: found[f"interaction_{name}"] for name in interaction_columns},
        },
    )
    return message, interaction


async def message_for_status_fast(
    tx: Transaction, provider_message_id: str
) -> tuple[Message, Interaction] | None:
    """The message a provider id names and its interaction, both locked (as `by_provider_id`
    and `interaction` lock them), as detached objects the status rules work on."""
    found = await tx.one(MESSAGE_FOR_STATUS, provider_message_id=provider_message_id)
    if found is None:
        return None
    return _message_and_interaction(found, STATUS_MESSAGE_COLUMNS, STATUS_INTERACTION_COLUMNS)


def _fields(row: Any, keys: list[str]) -> dict[str, Any]:
    return {key: getattr(row, key) for key in keys}


def _bound(table: Table, keys: Sequence[str], prefix: str) -> dict[str, Any]:
    """Column → a parameter named `prefix` + column, of the column's type (a statement that
    writes several rows or tables names each one's parameters apart)."""
    return {key: bindparam(f"{prefix}{key}", type_=table.c[key].type) for key in keys}


async def update_message_status_fast(tx: Transaction, message: Message) -> None:
    await tx.run(UPDATE_MESSAGE_STATUS, message_id=message.id, **_fields(message, STATUS_KEYS))


# The inbound WhatsApp message, below the ORM (messaging.service.apply_whatsapp_fast).

EVENT = cast(Table, InteractionEvent.__table__)
MESSAGE_KEYS = [c.key for c in MESSAGE.columns]
EVENT_KEYS = [c.key for c in EVENT.columns]
INTERACTION_KEYS = [c.key for c in INTERACTION.columns]
# What the WhatsApp rules read of a conversation, and what a message changes in it.
WHATSAPP_STATE_COLUMNS = (
    "id",
    "channel",
    "status",
    "ended_at",
    "last_message_at",
    "updated_at",
    "customer_name",
    "assigned_agent",
    "queued_at",
    "snoozed_until",
    "resolution_code",
    "team_id",
    "waiting_since",
)
WHATSAPP_STATE_KEYS = [
    "status",
    "ended_at",
    "last_message_at",
    "updated_at",
    "customer_name",
    "queued_at",
    "snoozed_until",
    "resolution_code",
    "waiting_since",
]


def _current_whatsapp_fast(customer: ColumnElement[bool]) -> Sql:
    """The customer's conversation with a message since `since`, locked, and whether it has a
    message in `other` direction (a reply makes a NEW conversation IN_PROGRESS)."""
    answered = (
        exists()
        .where(
            MESSAGE.c.interaction_id == INTERACTION.c.id,
            MESSAGE.c.direction == bindparam("other"),
        )
        .label("answered")
    )
    return Sql(
        select(*(INTERACTION.c[name] for name in WHATSAPP_STATE_COLUMNS), answered)
        .where(
            INTERACTION.c.channel == Channel.WHATSAPP,
            customer,
            INTERACTION.c.last_message_at >= bindparam("since"),
        )
        .order_by(INTERACTION.c.last_message_at.desc())
        .limit(1)
        .with_for_update(of=INTERACTION)
    )


CURRENT_BY_PHONE = _current_whatsapp_fast(INTERACTION.c.customer_phone == bindparam("phone"))
CURRENT_BY_RAW = _current_whatsapp_fast(
    and_(INTERACTION.c.customer_phone.is_(None), INTERACTION.c.from_number == bindparam("raw"))
)
ECHO_MESSAGE_COLUMNS = ("id", "interaction_id", "status", "sent_at", "updated_at")


def _echo_fast(customer: ColumnElement[bool]) -> Sql:
    return Sql(
        select(
            *(MESSAGE.c[name] for name in ECHO_MESSAGE_COLUMNS),
            *(INTERACTION.c[name].label(f"i_{name}") for name in WHATSAPP_STATE_COLUMNS),
        )
        .join_from(MESSAGE, INTERACTION, INTERACTION.c.id == MESSAGE.c.interaction_id)
        .where(
            INTERACTION.c.channel == Channel.WHATSAPP,
            customer,
            MESSAGE.c.direction == Direction.OUTBOUND,
            MESSAGE.c.body == bindparam("body"),
            MESSAGE.c.provider_confirmed_at.is_(None),
            MESSAGE.c.created_at >= bindparam("since"),
        )
        .order_by(MESSAGE.c.created_at)
        .limit(1)
        .with_for_update()
    )


ECHO_BY_PHONE = _echo_fast(INTERACTION.c.customer_phone == bindparam("phone"))
ECHO_BY_RAW = _echo_fast(
    and_(INTERACTION.c.customer_phone.is_(None), INTERACTION.c.from_number == bindparam("raw"))
)
CONFIRMED_KEYS = ["status", "sent_at", "provider_confirmed_at", "updated_at"]
CONFIRM_ECHO = Sql(
    update(MESSAGE).where(MESSAGE.c.id == bindparam("message_id")), keys=CONFIRMED_KEYS
)
INSERT_INTERACTION = Sql(core_insert(INTERACTION), keys=INTERACTION_KEYS)
INSERT_MESSAGE = Sql(core_insert(MESSAGE), keys=MESSAGE_KEYS)
UPDATE_WHATSAPP_STATE = Sql(
    update(INTERACTION).where(INTERACTION.c.id == bindparam("interaction_id")),
    keys=WHATSAPP_STATE_KEYS,
)


def _message_recorded() -> ClauseElement:
    """PostgreSQL: a message, its event and the conversation's new state in one statement."""
    message = core_insert(MESSAGE).values(_bound(MESSAGE, MESSAGE_KEYS, "m_")).cte("m")
    event = (
        pg_insert(EVENT)
        .values(_bound(EVENT, EVENT_KEYS, "e_"))
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(EVENT.c.id)
        .cte("e")
    )
    state = (
        update(INTERACTION)
        .where(INTERACTION.c.id == bindparam("interaction_id"))
        .values(_bound(INTERACTION, WHATSAPP_STATE_KEYS, "i_"))
        .cte("i")
    )
    return select(func.count()).select_from(event).add_cte(message, state)


MESSAGE_RECORDED = Sql(_message_recorded())


def _state(row: dict[str, Any], prefix: str = "") -> Interaction:
    """A detached conversation with what the rules read of it."""
    return _loaded(Interaction, {name: row[f"{prefix}{name}"] for name in WHATSAPP_STATE_COLUMNS})


async def current_whatsapp_fast(
    tx: Transaction, phone: str | None, raw: str | None, since: datetime, other: Direction
) -> tuple[Interaction, bool] | None:
    """`current_whatsapp` below the ORM: the conversation (detached, locked) and whether it has
    a message in the `other` direction."""
    if phone is not None:
        row = await tx.one(CURRENT_BY_PHONE, phone=phone, since=since, other=other)
    else:
        row = await tx.one(CURRENT_BY_RAW, raw=raw, since=since, other=other)
    return None if row is None else (_state(row), bool(row["answered"]))


async def unconfirmed_echo_fast(
    tx: Transaction, phone: str | None, raw: str | None, body: str, since: datetime
) -> tuple[Message, Interaction] | None:
    """`unconfirmed_echo` below the ORM: the message and its conversation, both locked."""
    if phone is not None:
        row = await tx.one(ECHO_BY_PHONE, phone=phone, body=body, since=since)
    else:
        row = await tx.one(ECHO_BY_RAW, raw=raw, body=body, since=since)
    if row is None:
        return None
    message = _loaded(Message, {name: row[name] for name in ECHO_MESSAGE_COLUMNS})
    return message, _state(row, "i_")


async def confirm_echo_fast(tx: Transaction, message: Message) -> None:
    await tx.run(CONFIRM_ECHO, message_id=message.id, **_fields(message, CONFIRMED_KEYS))


async def insert_interaction_fast(tx: Transaction, interaction: Interaction) -> None:
    await tx.run(INSERT_INTERACTION, **row_of(interaction, INTERACTION))


async def store_message_fast(
    tx: Transaction, message: Message, event: dict[str, Any], interaction: Interaction
) -> None:
    """A new message, its event (a row of a new key) and its conversation's new state: one
    statement on PostgreSQL."""
    state = _fields(interaction, WHATSAPP_STATE_KEYS)
    if tx.postgresql:
        await tx.one(
            MESSAGE_RECORDED,
            interaction_id=interaction.id,
            **{f"m_{key}": value for key, value in row_of(message, MESSAGE).items()},
            **{f"e_{key}": value for key, value in event.items()},
            **{f"i_{key}": value for key, value in state.items()},
        )
        return
    await tx.run(INSERT_MESSAGE, **row_of(message, MESSAGE))
    await insert_event_fast(tx, event)
    await tx.run(UPDATE_WHATSAPP_STATE, interaction_id=interaction.id, **state)


# A status callback's writes, below the ORM: on PostgreSQL the message, its events and its
# interaction's state in one statement (built once for each shape of writes).
STATE_KEYS = ["status", "ended_at", "updated_at"]
_STATUS_WRITES: dict[tuple[bool, int, bool], Sql] = {}


def _status_writes(message: bool, events: int, state: bool) -> Sql:
    key = (message, events, state)
    found = _STATUS_WRITES.get(key)
    if found is not None:
        return found
    ctes = []
    if message:
        ctes.append(
            update(MESSAGE)
            .where(MESSAGE.c.id == bindparam("m_id"))
            .values(_bound(MESSAGE, STATUS_KEYS, "m_"))
            .cte("m")
        )
    if state:
        ctes.append(
            update(INTERACTION)
            .where(INTERACTION.c.id == bindparam("i_id"))
            .values(_bound(INTERACTION, STATE_KEYS, "i_"))
            .cte("i")
        )
    statement: Any
    if events:
        inserted = (
            pg_insert(EVENT)
            .values([_bound(EVENT, EVENT_KEYS, f"e{n}_") for n in range(events)])
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(EVENT.c.id)
            .cte("e")
        )
        statement = select(func.count()).select_from(inserted)
    else:
        statement = select(literal(1))
    found = _STATUS_WRITES[key] = Sql(statement.add_cte(*ctes))
    return found


async def status_applied_fast(
    tx: Transaction,
    message: Message | None,
    events: list[dict[str, Any]],
    interaction: Interaction | None,
) -> None:
    """What a status report changed: the message (None: unchanged), its events (rows of new
    keys) and the interaction's state (None: unchanged). One statement on PostgreSQL."""
    if message is None and not events and interaction is None:
        return
    if tx.postgresql:
        values: dict[str, Any] = {}
        if message is not None:
            values["m_id"] = message.id
            values.update({f"m_{k}": v for k, v in _fields(message, STATUS_KEYS).items()})
        if interaction is not None:
            values["i_id"] = interaction.id
            values.update({f"i_{k}": v for k, v in _fields(interaction, STATE_KEYS).items()})
        for n, row in enumerate(events):
            values.update({f"e{n}_{k}": value for k, value in row.items()})
        await tx.one(
            _status_writes(message is not None, len(events), interaction is not None), **values
        )
        return
    if message is not None:
        await update_message_status_fast(tx, message)
    for row in events:
        await insert_event_fast(tx, row)
    if interaction is not None:
        await update_state_fast(
            tx, interaction.id, interaction.status, interaction.ended_at, interaction.updated_at
        )


# --- the send job below the ORM (db/fast.py) ---------------------------------------------------
# The send job's claim and its results: the rows `claim`, `record_sent`, `record_failure` and
# `release` write through the session, written here by the same rules (messaging.outbound).

SEND_MESSAGE_COLUMNS = (
    "id",
    "interaction_id",
    "status",
    "kind",
    "body",
    "media",
    "template",
    "attempts",
    "next_attempt_at",
    "provider_message_id",
    "sent_at",
    "error_code",
    "error_message",
    "created_at",
    "updated_at",
)
SEND_INTERACTION_COLUMNS = (
    "channel",
    "status",
    "ended_at",
    "updated_at",
    "assigned_agent",
    "team_id",
    "customer_phone",
    "to_number",
    "from_number",
)


def _to_send() -> Select[Any]:
    return select(
        *(MESSAGE.c[name] for name in SEND_MESSAGE_COLUMNS),
        *(INTERACTION.c[name].label(f"interaction_{name}") for name in SEND_INTERACTION_COLUMNS),
    ).join_from(MESSAGE, INTERACTION, MESSAGE.c.interaction_id == INTERACTION.c.id)


# One message and its interaction, both locked (as `message` and `interaction` lock them).
MESSAGE_TO_SEND = Sql(_to_send().where(MESSAGE.c.id == bindparam("message_id")).with_for_update())


@functools.cache
def _due_to_send(skipped_kinds: int) -> Sql:
    """QUEUED messages due now (no retry time, or a past one), oldest first, other than one,
    without `skipped_kinds` kinds (`skip_0`, `skip_1`, …); locked, skipping rows another
    transaction holds (PostgreSQL; SQLite's IMMEDIATE transactions run one at a time)."""
    return Sql(
        _to_send()
        .where(
            MESSAGE.c.status == bindparam("queued"),
            or_(MESSAGE.c.next_attempt_at.is_(None), MESSAGE.c.next_attempt_at <= bindparam("now")),
            MESSAGE.c.id != bindparam("other_than"),
            *(MESSAGE.c.kind != bindparam(f"skip_{index}") for index in range(skipped_kinds)),
        )
        .order_by(MESSAGE.c.created_at)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .with_for_update(of=MESSAGE, skip_locked=True)
    )


SEND_STATE_KEYS = [
    "status",
    "attempts",
    "updated_at",
    "next_attempt_at",
    "provider_message_id",
    "sent_at",
    "error_code",
    "error_message",
]
UPDATE_SEND_STATE = Sql(
    update(MESSAGE).where(MESSAGE.c.id == bindparam("message_id")), keys=SEND_STATE_KEYS
)


def _sending(found: dict[str, Any]) -> tuple[Message, Interaction]:
    return _message_and_interaction(found, SEND_MESSAGE_COLUMNS, SEND_INTERACTION_COLUMNS)


async def message_to_send_fast(
    tx: Transaction, message_id: uuid.UUID
) -> tuple[Message, Interaction] | None:
    """The message and its interaction, locked, as detached objects the send rules work on."""
    found = await tx.one(MESSAGE_TO_SEND, message_id=message_id)
    return None if found is None else _sending(found)


async def due_to_send_fast(
    tx: Transaction,
    *,
    now: datetime,
    other_than: uuid.UUID,
    skip_kinds: Sequence[MessageKind],
    limit: int,
) -> list[tuple[Message, Interaction]]:
    """Up to `limit` QUEUED messages due at `now` that no other transaction holds, oldest first,
    locked; none of `skip_kinds`."""
    if limit <= 0:
        return []
    rows = await tx.all(
        _due_to_send(len(skip_kinds)),
        queued=MessageStatus.QUEUED,
        now=now,
        other_than=other_than,
        limit=limit,
        offset=0,
        **{f"skip_{index}": kind for index, kind in enumerate(skip_kinds)},
    )
    return [_sending(found) for found in rows]


async def update_send_state_fast(tx: Transaction, message: Message) -> None:
    """Write the columns the send job changes (the row is locked by this transaction)."""
    await tx.run(UPDATE_SEND_STATE, message_id=message.id, **_fields(message, SEND_STATE_KEYS))
