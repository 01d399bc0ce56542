"""Messaging rules: WhatsApp grouping and echoes, SMS delivery statuses and their
reconciliation with the provider (docs/api.md)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.db.fast import Transaction
from contact_center.db.statements import lock_key, lock_key_fast
from contact_center.interactions import repository as interactions_repository
from contact_center.interactions.queue import enter_queue
from contact_center.interactions.service import (
    Event,
    new_event_rows,
    record,
    record_all,
    record_fast,
    touch,
)
from contact_center.messaging import repository
from contact_center.messaging.status import (
    FROM_TWILIO,
    FROM_WHATSAPP,
    TERMINAL,
    moves_forward,
    whatsapp_moves_forward,
)
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    Provider,
)
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message
from contact_center.phones import normalize_possible
from contact_center.principal import AuditContext
from contact_center.providers.base import (
    MediaRef,
    ProviderName,
    SmsStatusEvent,
    WhatsAppMessageEvent,
    WhatsAppStatusEvent,
)

WHATSAPP_WINDOW = timedelta(hours=24)
ECHO_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class WhatsAppResult:
    interaction: Interaction
    message: Message
    created_interaction: bool
    echo: bool


def window_start(now: datetime) -> datetime:
    """A WhatsApp message at `now` joins the customer's conversation whose last message is at
    or after this; otherwise it opens a new one."""
    return now - WHATSAPP_WINDOW


def in_window(last_message_at: datetime | None, now: datetime) -> bool:
    """Whether a message at `now` joins a conversation whose last message was at
    `last_message_at` (the 24-hour rule, as `whatsapp_interaction` reads it)."""
    return last_message_at is not None and last_message_at >= window_start(now)


def media_item(ref: MediaRef) -> dict[str, Any]:
    """A media item a Cloud API message names by id, as the message keeps it until the media
    job fetches it (`stored`, `size` and our `sha256` then, or `error`)."""
    return {
        "mediaId": ref.media_id,
        "contentType": ref.content_type,
        "filename": ref.filename,
        "sha256": ref.sha256,
        "voice": ref.voice,
        "stored": False,
    }


def _media(event: WhatsAppMessageEvent) -> list[dict[str, Any]]:
    return [
        {"url": a.url, "contentType": a.content_type, "filename": a.filename}
        for a in event.attachments
    ] + [media_item(ref) for ref in event.media]


def to_fetch(media: list[dict[str, Any]]) -> list[int]:
    """The indexes of the media items still to fetch (named by id, neither stored nor failed)."""
    return [
        index
        for index, item in enumerate(media)
        if isinstance(item, dict)
        and item.get("mediaId")
        and not item.get("stored")
        and not item.get("error")
    ]


# The longest provider id a message keeps (the column's size; real wamids are about 60).
PROVIDER_ID_LENGTH = 128


def _wamid(event: WhatsAppMessageEvent) -> str | None:
    """The Cloud API message's id as the message keeps it; one too long to be Meta's is left
    out (the delivery keeps it) rather than cut, which could make two ids one."""
    wamid = event.provider_message_id if is_cloud(event) else None
    return wamid if wamid and len(wamid) <= PROVIDER_ID_LENGTH else None


# What a conversation keeps as the customer's number (`from_number`) at most.
CUSTOMER_KEY_LENGTH = 32


def customer_key(event: WhatsAppMessageEvent) -> str | None:
    """Who the customer is when there is no phone number to say it: a Cloud API message from
    a customer known only by their business-scoped user id (BSUID, `US.1349…`) is kept under
    that id, so their messages make one conversation (a long one by its digest)."""
    if event.customer_number or not is_cloud(event) or not event.user_id:
        return event.customer_number
    user_id = event.user_id
    if len(user_id) <= CUSTOMER_KEY_LENGTH:
        return user_id
    return "u:" + hashlib.sha256(user_id.encode()).hexdigest()[: CUSTOMER_KEY_LENGTH - 2]


def is_cloud(event: WhatsAppMessageEvent) -> bool:
    return event.provider is ProviderName.WHATSAPP_CLOUD


def event_direction(event: WhatsAppMessageEvent) -> Direction:
    """A Cloud API message is always the customer's (our own sends never come back as
    messages); BuilderBot's come both ways."""
    return Direction.INBOUND if is_cloud(event) else Direction(event.direction)


def event_provider(event: WhatsAppMessageEvent) -> Provider:
    return Provider.WHATSAPP_CLOUD if is_cloud(event) else Provider.BUILDERBOT


def new_whatsapp(
    phone: str | None,
    raw: str | None,
    *,
    direction: Direction,
    now: datetime,
    customer_name: str | None = None,
    id: uuid.UUID | None = None,
    provider: Provider = Provider.BUILDERBOT,
) -> tuple[Interaction, Event]:
    """A customer's new WhatsApp conversation, opened by a message at `now` (carried by
    `provider`), and its event."""
    inbound = direction is Direction.INBOUND
    interaction = Interaction(
        id=id or uuid.uuid4(),
        channel=Channel.WHATSAPP,
        direction=direction,
        status=InteractionStatus.NEW,
        started_at=now,
        created_at=now,
        updated_at=now,
        from_number=phone or raw if inbound else None,
        to_number=None if inbound else phone or raw,
        customer_phone=phone,
        customer_name=customer_name,
        provider=provider,
        # BuilderBot's bot answers its conversations first; the Cloud API has no bot.
        ai_handled=provider is not Provider.WHATSAPP_CLOUD,
        last_message_at=now,
        waiting_since=now if inbound else None,
        # A customer's new conversation waits for a person from its first message.
        queued_at=now if inbound else None,
    )
    created = Event(
        EventType.INTERACTION_CREATED,
        f"whatsapp:{interaction.id}:created",
        normalized={"customerPhone": phone, "direction": direction.value},
        occurred_at=now,
    )
    return interaction, created


async def whatsapp_interaction(
    session: AsyncSession,
    phone: str | None,
    raw: str | None,
    *,
    direction: Direction,
    now: datetime,
    customer_name: str | None = None,
    provider: Provider = Provider.BUILDERBOT,
) -> tuple[Interaction, bool]:
    """The customer's current WhatsApp interaction, or a new one: exactly one per customer
    (whichever provider carries its messages).

    A per-customer lock makes concurrent first messages (on any number of processes) queue, so
    the second one finds the interaction the first one opened.
    """
    await lock_key(session, f"whatsapp:{phone or raw}")
    current = await repository.current_whatsapp(session, phone, raw, window_start(now))
    if current is not None:
        return current, False
    interaction, created = new_whatsapp(
        phone, raw, direction=direction, now=now, customer_name=customer_name, provider=provider
    )
    await repository.add(session, interaction)
    await record(session, interaction, created)
    return interaction, True


def keep_waiting(interaction: Interaction, at: datetime, *, inbound: bool) -> None:
    """How long the customer has waited (docs/inbox.md): their message at `at` starts the wait
    unless one is already running; any message of ours (a person's, the bot's) ends it."""
    if not inbound:
        interaction.waiting_since = None
    elif interaction.waiting_since is None:
        interaction.waiting_since = at


def status_after_message(
    interaction: Interaction,
    at: datetime,
    key: str,
    *,
    answered: bool,
    inbound: bool = False,
) -> list[Event]:
    """Status after a message at `at`: both sides written (`answered`: the conversation has a
    message the other way) → IN_PROGRESS; a closed one reopens. The customer's message
    (`inbound`) puts a reopened conversation nobody holds back in its queue, and wakes a snoozed
    one (docs/workflow.md). (The customer's wait is the caller's: `keep_waiting`.)"""
    previous = interaction.status
    reopened = previous in {InteractionStatus.COMPLETED, InteractionStatus.ABANDONED}
    if reopened:
        interaction.status = InteractionStatus.IN_PROGRESS
        interaction.ended_at = None
        interaction.resolution_code = None
        if inbound and interaction.assigned_agent is None:
            enter_queue(interaction, at)
    elif previous is InteractionStatus.NEW and answered:
        interaction.status = InteractionStatus.IN_PROGRESS
    events = []
    if interaction.status is not previous:
        events.append(
            Event(
                EventType.STATUS_CHANGED,
                f"{key}:status",
                normalized={"from": previous.value, "to": interaction.status.value},
                occurred_at=at,
            )
        )
    by = "customer" if inbound else "message"
    if reopened:
        events.append(
            Event(
                EventType.CONVERSATION_REOPENED,
                f"{key}:reopened",
                normalized={"from": previous.value, "by": by},
                occurred_at=at,
            )
        )
    if inbound and interaction.snoozed_until is not None:
        interaction.snoozed_until = None
        if interaction.assigned_agent is None and interaction.queued_at is None:
            enter_queue(interaction, at)
        events.append(
            Event(
                EventType.CONVERSATION_WOKE,
                f"{key}:woke",
                normalized={"by": by},
                occurred_at=at,
            )
        )
    interaction.last_message_at = at
    touch(interaction, at)
    return events


def other_direction(direction: Direction) -> Direction:
    return Direction.OUTBOUND if direction is Direction.INBOUND else Direction.INBOUND


async def after_message(
    session: AsyncSession, interaction: Interaction, direction: Direction, at: datetime, key: str
) -> None:
    """Status after a message: both sides written → IN_PROGRESS; a closed one reopens."""
    answered = interaction.status is InteractionStatus.NEW and await repository.has_direction(
        session, interaction.id, other_direction(direction)
    )
    inbound = direction is Direction.INBOUND
    keep_waiting(interaction, at, inbound=inbound)
    events = status_after_message(interaction, at, key, answered=answered, inbound=inbound)
    await record_all(session, interaction, events)


def _normalized(event: WhatsAppMessageEvent, phone: str | None) -> dict[str, Any]:
    normalized = {
        "direction": event_direction(event).value,
        "customerPhone": phone,
        "body": event.body,
        "media": _media(event),
    }
    if is_cloud(event):
        normalized |= {
            "provider": Provider.WHATSAPP_CLOUD.value,
            "providerMessageId": event.provider_message_id,
            "replyTo": event.reply_to,
            "messageType": event.message_type,
        }
    return normalized


def echo_confirmed(
    echoed: Message,
    event: WhatsAppMessageEvent,
    phone: str | None,
    *,
    now: datetime,
    payload: Any,
    key: str,
) -> Event:
    """Our own send coming back from the provider: it confirms the message (SENT at least)."""
    echoed.provider_confirmed_at = now
    if moves_forward(echoed.status, MessageStatus.SENT):
        echoed.status = MessageStatus.SENT
        echoed.sent_at = echoed.sent_at or now
    echoed.updated_at = now
    return Event(
        EventType.MESSAGE_STATUS,
        f"{key}:echo",
        payload=payload,
        normalized={**_normalized(event, phone), "messageId": str(echoed.id), "echo": True},
    )


def whatsapp_message(
    interaction: Interaction,
    event: WhatsAppMessageEvent,
    phone: str | None,
    *,
    at: datetime,
    payload: Any,
    key: str,
    id: uuid.UUID | None = None,
) -> tuple[Message, Event]:
    """A provider's message in the conversation at `at`: the customer's (RECEIVED; their name
    kept) or the bot's (SENT, confirmed as it arrives), and its event. A Cloud API message keeps
    its id (the wamid), the message it replies to and its media named by id, which the media
    job fetches from `next_attempt_at` on."""
    direction = event_direction(event)
    if event.customer_name and direction is Direction.INBOUND:
        interaction.customer_name = event.customer_name
    outbound = direction is Direction.OUTBOUND
    media = _media(event)
    message = Message(
        id=id or uuid.uuid4(),
        interaction_id=interaction.id,
        direction=direction,
        body=event.body,
        media=media,
        status=MessageStatus.SENT if outbound else MessageStatus.RECEIVED,
        kind=MessageKind.TEXT,
        created_at=at,
        updated_at=at,
        sent_at=at if outbound else None,
        provider_confirmed_at=at if outbound else None,
        attempts=0,
        provider_message_id=_wamid(event),
        reply_to=event.reply_to[:128] if event.reply_to else None,
        next_attempt_at=at if to_fetch(media) else None,
    )
    stored = Event(
        EventType.MESSAGE_SENT if outbound else EventType.MESSAGE_RECEIVED,
        f"{key}:message",
        payload=payload,
        normalized={**_normalized(event, phone), "messageId": str(message.id)},
        occurred_at=at,
    )
    return message, stored


async def apply_whatsapp(
    session: AsyncSession, region: str, event: WhatsAppMessageEvent, *, payload: Any, key: str
) -> WhatsAppResult:
    """Store one WhatsApp message (BuilderBot's or the Cloud API's) in the customer's current
    interaction (or a new one). Only BuilderBot echoes our own sends back."""
    raw = customer_key(event)
    number = event.customer_number
    phone = normalize_possible("+" + number, region) if number else None
    now = utcnow()
    direction = event_direction(event)
    if direction is Direction.OUTBOUND and event.body:
        echoed = await repository.unconfirmed_echo(
            session, phone, raw, event.body, now - ECHO_WINDOW
        )
        if echoed is not None:
            # Our own send coming back: confirm it instead of storing it twice.
            confirmed = echo_confirmed(echoed, event, phone, now=now, payload=payload, key=key)
            interaction = await repository.interaction(session, echoed.interaction_id)
            await record(session, interaction, confirmed)
            return WhatsAppResult(interaction, echoed, created_interaction=False, echo=True)
    interaction, created = await whatsapp_interaction(
        session,
        phone,
        raw,
        direction=direction,
        now=now,
        customer_name=event.customer_name,
        provider=event_provider(event),
    )
    # Messages of one interaction get strictly increasing times: arrival order is kept.
    at = now
    if (
        interaction.last_message_at is not None
        and at <= interaction.last_message_at
        and not created
    ):
        at = interaction.last_message_at + timedelta(microseconds=1)
    message, stored = whatsapp_message(interaction, event, phone, at=at, payload=payload, key=key)
    await repository.add(session, message)
    await record(session, interaction, stored)
    await after_message(session, interaction, direction, at, key)
    await session.flush()
    return WhatsAppResult(interaction, message, created_interaction=created, echo=False)


async def apply_whatsapp_fast(
    tx: Transaction, region: str, event: WhatsAppMessageEvent, *, payload: Any, key: str
) -> None:
    """`apply_whatsapp` below the ORM (the hot path), with the same rules and rows. A message
    to an open conversation is two statements: the conversation read and locked (with whether
    it has an answer), then the message, its event and the conversation's new state together.
    The per-customer lock is taken only when no conversation is open, where two first messages
    could otherwise open two."""
    raw = customer_key(event)
    number = event.customer_number
    phone = normalize_possible("+" + number, region) if number else None
    now = utcnow()
    direction = event_direction(event)
    if direction is Direction.OUTBOUND and event.body:
        echo = await repository.unconfirmed_echo_fast(tx, phone, raw, event.body, now - ECHO_WINDOW)
        if echo is not None:
            echoed, interaction = echo
            confirmed = echo_confirmed(echoed, event, phone, now=now, payload=payload, key=key)
            await repository.confirm_echo_fast(tx, echoed)
            await record_fast(tx, interaction, [confirmed])
            await interactions_repository.update_state_fast(
                tx, interaction.id, interaction.status, interaction.ended_at, interaction.updated_at
            )
            return
    since = window_start(now)
    other = other_direction(direction)
    found = await repository.current_whatsapp_fast(tx, phone, raw, since, other)
    if found is None and tx.postgresql:
        # None open: queue behind a first message of the same customer on another connection,
        # then look again (SQLite's writers already run one at a time).
        await lock_key_fast(tx, f"whatsapp:{phone or raw}")
        found = await repository.current_whatsapp_fast(tx, phone, raw, since, other)
    created = found is None
    if found is None:
        interaction, opened = new_whatsapp(
            phone,
            raw,
            direction=direction,
            now=now,
            customer_name=event.customer_name,
            provider=event_provider(event),
        )
        await repository.insert_interaction_fast(tx, interaction)
        first = new_event_rows(tx, interaction, [opened])
        answered = False
    else:
        interaction, answered = found
        first = []
    # Messages of one interaction get strictly increasing times: arrival order is kept.
    at = now
    last = interaction.last_message_at
    if last is not None and at <= last and not created:
        at = last + timedelta(microseconds=1)
    message, stored = whatsapp_message(interaction, event, phone, at=at, payload=payload, key=key)
    rows = new_event_rows(tx, interaction, [stored])
    keep_waiting(interaction, at, inbound=direction is Direction.INBOUND)
    later = status_after_message(
        interaction,
        at,
        key,
        answered=interaction.status is InteractionStatus.NEW and answered,
        inbound=direction is Direction.INBOUND,
    )
    rows += new_event_rows(tx, interaction, later)
    for row in first:
        await interactions_repository.insert_event_fast(tx, row)
    await repository.store_message_fast(tx, message, rows[0], interaction)
    for row in rows[1:]:
        await interactions_repository.insert_event_fast(tx, row)


async def apply_sms_status(
    session: AsyncSession, event: SmsStatusEvent, *, payload: Any, key: str
) -> Message | None:
    """Move an SMS forward by a status callback; None when the message is not known yet."""
    applied = await _apply_sms_status(session, event, payload=payload, key=key, source="callback")
    return applied.message if applied is not None else None


@dataclass(frozen=True)
class StatusApplied:
    message: Message
    previous: MessageStatus
    moved: bool


def applicable_status(
    message: Message, event: SmsStatusEvent, *, source: str
) -> MessageStatus | None:
    """The status a report gives the message, or None when there is nothing to apply: a status
    we do not track, or a reconciliation that moves nothing (a callback is the provider's word
    and is recorded even when it moves nothing)."""
    new = FROM_TWILIO.get(event.status)
    if new is None or (not moves_forward(message.status, new) and source != "callback"):
        return None
    return new


def status_reported(
    interaction: Interaction,
    message: Message,
    event: SmsStatusEvent,
    new: MessageStatus,
    *,
    payload: Any,
    key: str,
    source: str,
    now: datetime,
) -> list[Event]:
    """The forward-only rules of SMS statuses (`new` from `applicable_status`), whoever reports
    them (`source`): the message moves if it may, the report is on the timeline, and an SMS
    interaction follows its message."""
    if moves_forward(message.status, new):
        message.status = new
        message.updated_at = now
        if new in {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ}:
            message.sent_at = message.sent_at or now
        if new in {MessageStatus.DELIVERED, MessageStatus.READ}:
            message.delivered_at = message.delivered_at or now
        if new in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}:
            message.error_code = event.error_code or message.error_code
            message.error_message = event.error_message or message.error_message
    normalized = {
        "messageId": str(message.id),
        "providerMessageId": event.message_sid,
        "status": event.status,
        "applied": message.status is new,
        "errorCode": event.error_code,
        "source": source,
    }
    events = [
        Event(
            EventType.MESSAGE_STATUS,
            f"{key}:status",
            normalized=normalized,
            payload=payload,
            provider_event_id=event.message_sid,
        )
    ]
    if message.status is new and new in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}:
        events.append(Event(EventType.MESSAGE_FAILED, f"{key}:failed", normalized=normalized))
    if interaction.channel is Channel.SMS:
        events += sms_interaction_status(interaction, message.status, key, now)
    return events


async def _apply_sms_status(
    session: AsyncSession, event: SmsStatusEvent, *, payload: Any, key: str, source: str
) -> StatusApplied | None:
    """`status_reported` on the message the report names; None when it is not known yet."""
    message = await repository.by_provider_id(session, event.message_sid)
    if message is None:
        return None
    previous = message.status
    new = applicable_status(message, event, source=source)
    if new is None:
        return StatusApplied(message, previous, moved=False)
    interaction = await repository.interaction(session, message.interaction_id)
    events = status_reported(
        interaction, message, event, new, payload=payload, key=key, source=source, now=utcnow()
    )
    await record_all(session, interaction, events)
    await session.flush()
    return StatusApplied(message, previous, moved=message.status is not previous)


async def apply_sms_status_fast(
    tx: Transaction, event: SmsStatusEvent, *, payload: Any, key: str
) -> bool:
    """A status callback below the ORM (the hot path): the rules of `_apply_sms_status`, in
    three statements when it moves the message (read and lock, write the message, write the
    events; the interaction's state with them). False when the message is not known yet."""
    found = await repository.message_for_status_fast(tx, event.message_sid)
    if found is None:
        return False
    message, interaction = found
    new = applicable_status(message, event, source="callback")
    if new is None:
        return True

    def fields() -> tuple[object, ...]:
        return (
            message.status,
            message.sent_at,
            message.delivered_at,
            message.error_code,
            message.error_message,
        )

    before = fields()
    state = (interaction.status, interaction.ended_at, interaction.updated_at)
    events = status_reported(
        interaction, message, event, new, payload=payload, key=key, source="callback", now=utcnow()
    )
    # The events' keys are new: the delivery's own, or a completion that happens once (the
    # interaction is locked and was not COMPLETED).
    rows = new_event_rows(tx, interaction, events)
    moved = (interaction.status, interaction.ended_at, interaction.updated_at) != state
    await repository.status_applied_fast(
        tx,
        message if fields() != before else None,
        rows,
        interaction if moved else None,
    )
    return True


# --- WhatsApp statuses (the Cloud API's webhooks) ----------------------------------------------


def whatsapp_error(event: WhatsAppStatusEvent) -> str | None:
    """What a `failed` status says: the error's title and its details."""
    parts = [p for p in (event.error_title, event.error_details) if p]
    return ": ".join(parts)[:500] if parts else None


def whatsapp_status_reported(
    message: Message,
    event: WhatsAppStatusEvent,
    *,
    payload: Any,
    key: str,
    now: datetime,
) -> list[Event]:
    """A WhatsApp status, forward-only (docs/whatsapp-cloud.md): sent < delivered < read (a
    `played` voice note is read); `failed` is final and nothing moves a FAILED message; a status
    we do not know is on the timeline and moves nothing. The times are the provider's."""
    new = FROM_WHATSAPP.get(event.status)
    at = event.occurred_at or now
    moved = (
        new is not None
        and message.direction is Direction.OUTBOUND
        and whatsapp_moves_forward(message.status, new)
    )
    if moved and new is not None:
        message.status = new
        message.updated_at = now
        if new in {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ}:
            message.sent_at = message.sent_at or at
        if new in {MessageStatus.DELIVERED, MessageStatus.READ}:
            message.delivered_at = message.delivered_at or at
        if new is MessageStatus.READ:
            message.read_at = message.read_at or at
        if new is MessageStatus.FAILED:
            message.error_code = (event.error_code or "")[:64] or message.error_code
            message.error_message = whatsapp_error(event) or message.error_message
    normalized = {
        "messageId": str(message.id),
        "providerMessageId": event.provider_message_id,
        "status": event.status,
        "applied": new is not None and message.status is new,
        "moved": moved,
        "errorCode": event.error_code,
        "errorMessage": whatsapp_error(event),
        "source": "webhook",
    }
    events = [
        Event(
            EventType.MESSAGE_STATUS,
            f"{key}:status",
            normalized=normalized,
            payload=payload,
            provider_event_id=event.provider_message_id,
        )
    ]
    if moved and new is MessageStatus.FAILED:
        events.append(Event(EventType.MESSAGE_FAILED, f"{key}:failed", normalized=normalized))
    return events


async def apply_whatsapp_status(
    session: AsyncSession, event: WhatsAppStatusEvent, *, payload: Any, key: str
) -> Message | None:
    """Move a WhatsApp message by a status; None when the message is not known yet (its send is
    still being recorded: the status waits for it)."""
    message = await repository.by_provider_id(session, event.provider_message_id)
    if message is None:
        return None
    interaction = await repository.interaction(session, message.interaction_id)
    events = whatsapp_status_reported(message, event, payload=payload, key=key, now=utcnow())
    await record_all(session, interaction, events)
    await session.flush()
    return message


async def apply_whatsapp_status_fast(
    tx: Transaction, event: WhatsAppStatusEvent, *, payload: Any, key: str
) -> bool:
    """`apply_whatsapp_status` below the ORM: read and lock the message with its interaction,
    then the message and its events in one statement on PostgreSQL. False when the message is
    not known yet."""
    found = await repository.message_for_status_fast(tx, event.provider_message_id)
    if found is None:
        return False
    message, interaction = found
    before = message.status
    state = (interaction.status, interaction.ended_at, interaction.updated_at)
    events = whatsapp_status_reported(message, event, payload=payload, key=key, now=utcnow())
    # The events' keys are new: the delivery's own.
    rows = new_event_rows(tx, interaction, events)
    moved = (interaction.status, interaction.ended_at, interaction.updated_at) != state
    await repository.status_applied_fast(
        tx,
        message if message.status is not before else None,
        rows,
        interaction if moved else None,
    )
    return True


# --- reconciling SMS statuses whose callbacks were lost ---------------------------------------

# After a check that finds a message still SENT, the next one waits as long as the message has
# been SENT (15 min, 30 min, 1 h, …), never longer than this.
STATUS_CHECK_MAX_INTERVAL = timedelta(hours=6)


@dataclass(frozen=True)
class StatusCheck:
    """One SENT SMS whose status a reconciliation run will read from the provider."""

    message_id: uuid.UUID
    provider_message_id: str


@dataclass(frozen=True)
class StatusCheckWindow:
    """Which messages are asked: SENT at least `after` ago, created at most `max_age` ago."""

    after: timedelta
    max_age: timedelta


async def claim_status_checks(
    session: AsyncSession,
    window: StatusCheckWindow,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[StatusCheck]:
    """The SENT SMS due for a status check, held for this run until `now + lease`: a run at the
    same time (another worker, the CLI) does not ask for them too. A run that dies lets the lease
    expire; the messages are asked again then."""
    due = await repository.sms_status_checks_due(
        session,
        sent_before=now - window.after,
        created_after=now - window.max_age,
        now=now,
        limit=limit,
    )
    checks = []
    for message in due:
        message.next_attempt_at = now + lease
        assert message.provider_message_id is not None  # selected on it
        checks.append(StatusCheck(message.id, message.provider_message_id))
    return checks


async def reconcile_sms_status(
    session: AsyncSession,
    event: SmsStatusEvent,
    window: StatusCheckWindow,
    context: AuditContext,
    *,
    now: datetime,
) -> StatusApplied | None:
    """Apply a status read from the provider by the same forward-only rules as a callback.

    A move is on the timeline (`message.status` with `source: "reconciliation"`) and in the
    audit trail (`sms.status_reconciled`), once per message and status however many runs apply
    it. A message the provider still reports as SENT is asked again later, less and less often.
    """
    applied = await _apply_sms_status(
        session,
        event,
        payload={
            "sid": event.message_sid,
            "status": event.status,
            "errorCode": event.error_code,
            "errorMessage": event.error_message,
        },
        key=f"reconcile:{event.message_sid}:{event.status}",
        source="reconciliation",
    )
    if applied is None:
        return None
    message = applied.message
    if applied.moved:
        await audit.record(
            session,
            context,
            "sms.status_reconciled",
            entity_type="message",
            entity_id=message.id,
            metadata={
                "providerMessageId": event.message_sid,
                "from": applied.previous.value,
                "to": message.status.value,
                "providerStatus": event.status,
                "errorCode": event.error_code,
                "source": "reconciliation",
            },
        )
    elif message.status is MessageStatus.SENT:
        waited = now - (message.sent_at or message.created_at)
        message.next_attempt_at = now + min(STATUS_CHECK_MAX_INTERVAL, max(window.after, waited))
    return applied


async def release_status_check(
    session: AsyncSession, message_id: uuid.UUID, *, retry_at: datetime | None
) -> None:
    """A check that could not read the status: ask again at `retry_at` (None: the next run)."""
    message = await repository.message(session, message_id)
    if message is not None and message.status is MessageStatus.SENT:
        message.next_attempt_at = retry_at


def sms_interaction_status(
    interaction: Interaction, status: MessageStatus, key: str, now: datetime
) -> list[Event]:
    """SMS: IN_PROGRESS while queued or sent, COMPLETED on delivered, FAILED on failure."""
    if status in TERMINAL or status is MessageStatus.READ:
        target = (
            InteractionStatus.COMPLETED
            if status in {MessageStatus.DELIVERED, MessageStatus.READ}
            else InteractionStatus.FAILED
        )
    else:
        target = InteractionStatus.IN_PROGRESS
    previous = interaction.status
    if previous is target or previous in {InteractionStatus.COMPLETED, InteractionStatus.FAILED}:
        return []
    interaction.status = target
    if target is not InteractionStatus.IN_PROGRESS:
        interaction.ended_at = now
    events = [
        Event(
            EventType.STATUS_CHANGED,
            f"{key}:interaction-status",
            normalized={"from": previous.value, "to": target.value},
        )
    ]
    if target is InteractionStatus.COMPLETED:
        events.append(
            Event(
                EventType.INTERACTION_COMPLETED,
                f"sms:{interaction.id}:completed",
                normalized={"by": "delivery"},
            )
        )
    return events


def closed_idle(
    interaction: Interaction, *, last_direction: Direction | None, now: datetime
) -> list[Event]:
    """24 h without a message: COMPLETED, or ABANDONED when the customer got no reply; the
    conversation ended with its last message."""
    abandoned = last_direction is Direction.INBOUND
    previous = interaction.status
    interaction.status = InteractionStatus.ABANDONED if abandoned else InteractionStatus.COMPLETED
    interaction.ended_at = interaction.last_message_at or now
    interaction.updated_at = now
    # Closed: no longer waiting for a person.
    interaction.queued_at = None
    last_at = int((interaction.last_message_at or now).timestamp())
    key = f"whatsapp:{interaction.id}:idle:{last_at}"
    events = [
        Event(
            EventType.STATUS_CHANGED,
            f"{key}:status",
            normalized={"from": previous.value, "to": interaction.status.value, "by": "idle-24h"},
        )
    ]
    if interaction.status is InteractionStatus.COMPLETED:
        events.append(
            Event(
                EventType.INTERACTION_COMPLETED,
                f"{key}:completed",
                normalized={"by": "idle-24h"},
            )
        )
    return events


async def close_idle_whatsapp(session: AsyncSession, now: datetime, *, limit: int = 500) -> int:
    """24 h without a message: COMPLETED, or ABANDONED when the customer got no reply."""
    closed = 0
    for interaction in await repository.idle_whatsapp(session, window_start(now), limit):
        last = await repository.last_message(session, interaction.id)
        events = closed_idle(interaction, last_direction=last.direction if last else None, now=now)
        await record_all(session, interaction, events)
        closed += 1
    return closed
