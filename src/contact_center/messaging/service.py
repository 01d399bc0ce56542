"""Messaging rules: WhatsApp grouping and echoes, SMS delivery statuses and their
reconciliation with the provider (docs/api.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.db.statements import lock_key
from contact_center.interactions.service import record_event
from contact_center.messaging import repository
from contact_center.messaging.status import FROM_TWILIO, TERMINAL, moves_forward
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    MessageStatus,
    Provider,
)
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message
from contact_center.phones import normalize_possible
from contact_center.principal import AuditContext
from contact_center.providers.base import SmsStatusEvent, WhatsAppMessageEvent

WHATSAPP_WINDOW = timedelta(hours=24)
ECHO_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class WhatsAppResult:
    interaction: Interaction
    message: Message
    created_interaction: bool
    echo: bool


def _media(event: WhatsAppMessageEvent) -> list[dict[str, Any]]:
    return [
        {"url": a.url, "contentType": a.content_type, "filename": a.filename}
        for a in event.attachments
    ]


async def whatsapp_interaction(
    session: AsyncSession,
    phone: str | None,
    raw: str | None,
    *,
    direction: Direction,
    now: datetime,
    customer_name: str | None = None,
) -> tuple[Interaction, bool]:
    """The customer's current WhatsApp interaction, or a new one: exactly one per customer.

    A per-customer lock makes concurrent first messages (on any number of processes) queue, so
    the second one finds the interaction the first one opened.
    """
    await lock_key(session, f"whatsapp:{phone or raw}")
    current = await repository.current_whatsapp(session, phone, raw, now - WHATSAPP_WINDOW)
    if current is not None:
        return current, False
    inbound = direction is Direction.INBOUND
    interaction = Interaction(
        id=uuid.uuid4(),
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
        provider=Provider.BUILDERBOT,
        ai_handled=True,
        last_message_at=now,
    )
    await repository.add(session, interaction)
    await record_event(
        session,
        interaction,
        EventType.INTERACTION_CREATED,
        idempotency_key=f"whatsapp:{interaction.id}:created",
        normalized={"customerPhone": phone, "direction": direction.value},
        occurred_at=now,
    )
    return interaction, True


async def after_message(
    session: AsyncSession, interaction: Interaction, direction: Direction, at: datetime, key: str
) -> None:
    """Status after a message: both sides written → IN_PROGRESS; a closed one reopens."""
    other = Direction.OUTBOUND if direction is Direction.INBOUND else Direction.INBOUND
    previous = interaction.status
    if previous in {InteractionStatus.COMPLETED, InteractionStatus.ABANDONED}:
        interaction.status = InteractionStatus.IN_PROGRESS
        interaction.ended_at = None
    elif previous is InteractionStatus.NEW and await repository.has_direction(
        session, interaction.id, other
    ):
        interaction.status = InteractionStatus.IN_PROGRESS
    if interaction.status is not previous:
        await record_event(
            session,
            interaction,
            EventType.STATUS_CHANGED,
            idempotency_key=f"{key}:status",
            normalized={"from": previous.value, "to": interaction.status.value},
            occurred_at=at,
        )
    interaction.last_message_at = at
    interaction.updated_at = max(interaction.updated_at, at)


async def apply_whatsapp(
    session: AsyncSession, region: str, event: WhatsAppMessageEvent, *, payload: Any, key: str
) -> WhatsAppResult:
    """Store one BuilderBot message in the customer's current interaction (or a new one)."""
    raw = event.customer_number
    phone = normalize_possible("+" + raw, region) if raw else None
    now = utcnow()
    direction = Direction(event.direction)
    normalized = {
        "direction": direction.value,
        "customerPhone": phone,
        "body": event.body,
        "media": _media(event),
    }
    if direction is Direction.OUTBOUND and event.body:
        echoed = await repository.unconfirmed_echo(
            session, phone, raw, event.body, now - ECHO_WINDOW
        )
        if echoed is not None:
            # Our own send coming back: confirm it instead of storing it twice.
            echoed.provider_confirmed_at = now
            if moves_forward(echoed.status, MessageStatus.SENT):
                echoed.status = MessageStatus.SENT
                echoed.sent_at = echoed.sent_at or now
            echoed.updated_at = now
            interaction = await repository.interaction(session, echoed.interaction_id)
            await record_event(
                session,
                interaction,
                EventType.MESSAGE_STATUS,
                idempotency_key=f"{key}:echo",
                payload=payload,
                normalized={**normalized, "messageId": str(echoed.id), "echo": True},
            )
            return WhatsAppResult(interaction, echoed, created_interaction=False, echo=True)
    interaction, created = await whatsapp_interaction(
        session, phone, raw, direction=direction, now=now, customer_name=event.customer_name
    )
    if event.customer_name and direction is Direction.INBOUND:
        interaction.customer_name = event.customer_name
    # Messages of one interaction get strictly increasing times: arrival order is kept.
    at = now
    if (
        interaction.last_message_at is not None
        and at <= interaction.last_message_at
        and not created
    ):
        at = interaction.last_message_at + timedelta(microseconds=1)
    message = Message(
        id=uuid.uuid4(),
        interaction_id=interaction.id,
        direction=direction,
        body=event.body,
        media=_media(event),
        status=MessageStatus.RECEIVED if direction is Direction.INBOUND else MessageStatus.SENT,
        kind="TEXT",
        created_at=at,
        updated_at=at,
        sent_at=at if direction is Direction.OUTBOUND else None,
        provider_confirmed_at=at if direction is Direction.OUTBOUND else None,
        attempts=0,
    )
    await repository.add(session, message)
    await record_event(
        session,
        interaction,
        EventType.MESSAGE_RECEIVED if direction is Direction.INBOUND else EventType.MESSAGE_SENT,
        idempotency_key=f"{key}:message",
        payload=payload,
        normalized={**normalized, "messageId": str(message.id)},
        occurred_at=at,
    )
    await after_message(session, interaction, direction, at, key)
    await session.flush()
    return WhatsAppResult(interaction, message, created_interaction=created, echo=False)


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


async def _apply_sms_status(
    session: AsyncSession, event: SmsStatusEvent, *, payload: Any, key: str, source: str
) -> StatusApplied | None:
    """The forward-only rules of SMS statuses, whoever reports them (`source`): a callback is
    recorded on the timeline even when it moves nothing (it is the provider's word); a
    reconciliation only when it moves the message."""
    message = await repository.by_provider_id(session, event.message_sid)
    if message is None:
        return None
    previous = message.status
    new = FROM_TWILIO.get(event.status)
    if new is None:
        return StatusApplied(message, previous, moved=False)
    moved = moves_forward(previous, new)
    if not moved and source != "callback":
        return StatusApplied(message, previous, moved=False)
    interaction = await repository.interaction(session, message.interaction_id)
    now = utcnow()
    if moved:
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
    await record_event(
        session,
        interaction,
        EventType.MESSAGE_STATUS,
        idempotency_key=f"{key}:status",
        payload=payload,
        normalized=normalized,
        provider_event_id=event.message_sid,
    )
    if message.status is new and new in {MessageStatus.FAILED, MessageStatus.UNDELIVERED}:
        await record_event(
            session,
            interaction,
            EventType.MESSAGE_FAILED,
            idempotency_key=f"{key}:failed",
            normalized=normalized,
        )
    if interaction.channel is Channel.SMS:
        await _sms_interaction_status(session, interaction, message.status, key)
    await session.flush()
    return StatusApplied(message, previous, moved=moved)


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


async def _sms_interaction_status(
    session: AsyncSession, interaction: Interaction, status: MessageStatus, key: str
) -> None:
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
        return
    interaction.status = target
    now = utcnow()
    if target is not InteractionStatus.IN_PROGRESS:
        interaction.ended_at = now
    await record_event(
        session,
        interaction,
        EventType.STATUS_CHANGED,
        idempotency_key=f"{key}:interaction-status",
        normalized={"from": previous.value, "to": target.value},
    )
    if target is InteractionStatus.COMPLETED:
        await record_event(
            session,
            interaction,
            EventType.INTERACTION_COMPLETED,
            idempotency_key=f"sms:{interaction.id}:completed",
            normalized={"by": "delivery"},
        )


async def close_idle_whatsapp(session: AsyncSession, now: datetime, *, limit: int = 500) -> int:
    """24 h without a message: COMPLETED, or ABANDONED when the customer got no reply."""
    closed = 0
    for interaction in await repository.idle_whatsapp(session, now - WHATSAPP_WINDOW, limit):
        last = await repository.last_message(session, interaction.id)
        abandoned = last is not None and last.direction is Direction.INBOUND
        previous = interaction.status
        interaction.status = (
            InteractionStatus.ABANDONED if abandoned else InteractionStatus.COMPLETED
        )
        interaction.ended_at = interaction.last_message_at or now
        interaction.updated_at = now
        last_at = int((interaction.last_message_at or now).timestamp())
        key = f"whatsapp:{interaction.id}:idle:{last_at}"
        await record_event(
            session,
            interaction,
            EventType.STATUS_CHANGED,
            idempotency_key=f"{key}:status",
            normalized={"from": previous.value, "to": interaction.status.value, "by": "idle-24h"},
        )
        if interaction.status is InteractionStatus.COMPLETED:
            await record_event(
                session,
                interaction,
                EventType.INTERACTION_COMPLETED,
                idempotency_key=f"{key}:completed",
                normalized={"by": "idle-24h"},
            )
        closed += 1
    return closed
