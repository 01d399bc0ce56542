"""Outbound messages: written QUEUED in the request, sent by a job (docs/architecture.md)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.auth.reveal import RevealAsk, reveal_for
from contact_center.canned import service as canned
from contact_center.db.base import utcnow
from contact_center.db.fast import Transaction, reader
from contact_center.errors import RateLimited, ValidationFailed
from contact_center.interactions import repository as interactions_repository
from contact_center.interactions import whatsapp_window
from contact_center.interactions.schemas import MessageOut
from contact_center.interactions.service import (
    Event,
    mask_message,
    record,
    record_all,
    record_fast,
    require_assignable,
    require_visible,
    require_writable,
)
from contact_center.interactions.workflow import BotAction, is_person, taken_by_reply
from contact_center.live.bus import also_heard_by
from contact_center.messaging import repository
from contact_center.messaging.schemas import Diagnostic, ProviderErrorOut
from contact_center.messaging.service import after_message, whatsapp_interaction
from contact_center.messaging.status import moves_forward
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
from contact_center.models.whatsapp_template import WhatsAppTemplate
from contact_center.principal import AuditContext, Principal
from contact_center.providers.base import ProviderError, SendReceipt
from contact_center.ratelimits import RateLimits
from contact_center.settings import Settings
from contact_center.whatsapp_templates.service import Filled

MAX_RETRY_DELAY = 300.0


@dataclass(frozen=True)
class Queued:
    interaction_id: uuid.UUID
    message_id: uuid.UUID
    attempt: int
    # What the WhatsApp bot must be told after the commit (a person's reply pauses it).
    bot: BotAction | None = None


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": f"body.{field}", "message": message}])


async def check_recipient_limit(limits: RateLimits, phone: str) -> None:
    decision = await limits.recipient(phone)
    if not decision.allowed:
        raise RateLimited(
            "Too many messages to this recipient; try again later.",
            retry_after=decision.retry_after,
        )


def new_sms(
    *,
    to: str,
    body: str,
    kind: MessageKind,
    from_number: str,
    customer_ref: str | None,
    assigned_agent: str | None,
    now: datetime,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    person: bool | None = None,
) -> tuple[Interaction, Message, list[Event]]:
    """A new OUTBOUND SMS interaction with its QUEUED message, and their events."""
    interaction = Interaction(
        id=new_id(),
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        status=InteractionStatus.IN_PROGRESS,
        started_at=now,
        created_at=now,
        updated_at=now,
        from_number=from_number,
        to_number=to,
        customer_phone=to,
        provider=Provider.TWILIO,
        customer_ref=customer_ref,
        assigned_agent=(assigned_agent or "").strip() or None,
        ai_handled=False,
        last_message_at=now,
    )
    # The message (and its event) come a microsecond after the creation: timelines keep that order.
    at = now + timedelta(microseconds=1)
    message = queued_message(interaction.id, body, kind, at, new_id())
    created = Event(
        EventType.INTERACTION_CREATED,
        f"sms:{interaction.id}:created",
        normalized={"kind": kind, "customerPhone": to},
        occurred_at=now,
    )
    return interaction, message, [created, queued_event(message, person)]


async def queue_sms(
    session: AsyncSession,
    context: AuditContext,
    *,
    to: str,
    body: str,
    kind: MessageKind,
    from_number: str,
    customer_ref: str | None = None,
    assigned_agent: str | None = None,
    audit_metadata: dict[str, Any] | None = None,
) -> Queued:
    """A new OUTBOUND SMS interaction with its QUEUED message, event and audit row."""
    require_assignable(context.principal, assigned_agent)
    if kind is MessageKind.TEXT:
        body = await canned.filled(session, context.principal, body, phone=to)
    interaction, message, events = new_sms(
        to=to,
        body=body,
        kind=kind,
        from_number=from_number,
        customer_ref=customer_ref,
        assigned_agent=assigned_agent,
        now=utcnow(),
        person=is_person(context.principal) and kind is MessageKind.TEXT,
    )
    await repository.add(session, interaction, message)
    await record_all(session, interaction, events)
    await audit.record(
        session,
        context,
        "sms.send",
        entity_type="message",
        entity_id=message.id,
        metadata={
            "kind": kind,
            "to": to,
            "interactionId": str(interaction.id),
            **(audit_metadata or {}),
        },
    )
    return Queued(interaction.id, message.id, 0)


def whatsapp_send(
    interaction: Interaction,
    *,
    body: str,
    media_url: str | None,
    assigned_agent: str | None,
    customer_ref: str | None,
    actor: str,
    now: datetime,
    id: uuid.UUID | None = None,
) -> tuple[Message, list[Event]]:
    """A person's message into a WhatsApp conversation, QUEUED after its last message: the
    person takes the conversation from the bot (and, when named, is assigned it)."""
    at = now
    if interaction.last_message_at is not None and at <= interaction.last_message_at:
        at = interaction.last_message_at + timedelta(microseconds=1)
    message = queued_message(interaction.id, body, MessageKind.TEXT, at, id or uuid.uuid4())
    if media_url:
        message.media = [{"url": media_url, "contentType": None, "filename": None}]
    if customer_ref:
        interaction.customer_ref = customer_ref
    interaction.ai_handled = False
    assigned_agent = (assigned_agent or "").strip() or None
    events = []
    if assigned_agent and assigned_agent != interaction.assigned_agent:
        events.append(
            Event(
                EventType.AGENT_ASSIGNED,
                f"whatsapp:{message.id}:agent",
                normalized={
                    "field": "assignedAgent",
                    "from": interaction.assigned_agent,
                    "to": assigned_agent,
                    "actor": actor,
                },
            )
        )
        interaction.assigned_agent = assigned_agent
    return message, events


async def queue_whatsapp(
    session: AsyncSession,
    context: AuditContext,
    *,
    to: str,
    body: str,
    media_url: str | None,
    assigned_agent: str | None,
    customer_ref: str | None,
    provider: Provider = Provider.BUILDERBOT,
) -> Queued:
    """Into the customer's current WhatsApp interaction (or a new one, carried by `provider`:
    the one that sends), as a QUEUED message.

    The caller's scope applies to the conversation the message joins: an agent neither writes
    into (and so reads) a conversation assigned to someone else, nor assigns it to anyone but
    themselves."""
    principal = context.principal
    require_assignable(principal, assigned_agent)
    now = utcnow()
    # Free text only within 24 h of the customer's last message: refused before anything is
    # written (every send here is a person's free text; templates go by other paths).
    last_inbound = await interactions_repository.last_inbound_whatsapp(
        await reader(session), interaction_id=None, phone=to
    )
    whatsapp_window.require_open(last_inbound, now)
    interaction, created = await whatsapp_interaction(
        session, to, None, direction=Direction.OUTBOUND, now=now, provider=provider
    )
    require_writable(interaction, principal)
    body = await canned.filled(
        session, principal, body, customer_name=interaction.customer_name, phone=to
    )
    return await _queue_whatsapp_message(
        session,
        context,
        interaction,
        created,
        body=body,
        media_url=media_url,
        template=None,
        assigned_agent=assigned_agent,
        customer_ref=customer_ref,
        now=now,
        action="whatsapp.send",
        metadata={"to": to, "media": bool(media_url)},
    )


async def _queue_whatsapp_message(
    session: AsyncSession,
    context: AuditContext,
    interaction: Interaction,
    created: bool,
    *,
    body: str,
    media_url: str | None,
    template: dict[str, Any] | None,
    assigned_agent: str | None,
    customer_ref: str | None,
    now: datetime,
    action: str,
    metadata: dict[str, Any],
) -> Queued:
    """A person's message (free text or a template) QUEUED in a conversation the caller may
    write into, with its events, the status rules and its audit row."""
    previous_agent = interaction.assigned_agent
    message, events = whatsapp_send(
        interaction,
        body=body,
        media_url=media_url,
        assigned_agent=assigned_agent,
        customer_ref=customer_ref,
        actor=context.principal.actor_id,
        now=now,
    )
    message.template = template
    await repository.add(session, message)
    if interaction.assigned_agent != previous_agent:
        also_heard_by(session.info, interaction.id, previous_agent, interaction.team_id)
    await record_all(session, interaction, events)
    # The same status rules as a message that arrives by webhook.
    key = f"message:{message.id}"
    await after_message(session, interaction, Direction.OUTBOUND, message.created_at, key)
    await record(session, interaction, queued_event(message, is_person(context.principal)))
    await audit.record(
        session,
        context,
        action,
        entity_type="message",
        entity_id=message.id,
        metadata={**metadata, "interactionId": str(interaction.id)},
    )
    # A person's reply into a conversation takes it (docs/workflow.md).
    bot = None if created else await taken_by_reply(session, context, interaction)
    return Queued(interaction.id, message.id, 0, bot)


async def queue_automated_whatsapp(
    session: AsyncSession, interaction: Interaction, *, body: str, kind: MessageKind
) -> Queued:
    """An automated message (a survey) QUEUED into an existing WhatsApp conversation, after its
    last message, with its event: free text, so the caller checks the 24-hour window. Not a
    person's reply: the conversation keeps its status, its person and its wait (a resolved one
    stays resolved)."""
    now = utcnow()
    at = now
    if interaction.last_message_at is not None and at <= interaction.last_message_at:
        at = interaction.last_message_at + timedelta(microseconds=1)
    message = queued_message(interaction.id, body, kind, at, uuid.uuid4())
    await repository.add(session, message)
    await record(session, interaction, queued_event(message))
    return Queued(interaction.id, message.id, 0)


def queued_message(
    interaction_id: uuid.UUID, body: str, kind: MessageKind, at: datetime, id: uuid.UUID
) -> Message:
    """An outbound message as it waits for the send job."""
    return Message(
        id=id,
        interaction_id=interaction_id,
        direction=Direction.OUTBOUND,
        body=body,
        media=[],
        status=MessageStatus.QUEUED,
        kind=kind,
        created_at=at,
        updated_at=at,
        attempts=0,
    )


def queued_event(message: Message, person: bool | None = None) -> Event:
    """`person`: whether a person queued it (a reply, for the service levels: docs/
    service-levels.md); a one-time code, a link or a survey the system sends is not."""
    normalized: dict[str, Any] = {"messageId": str(message.id), "kind": message.kind}
    if person is not None:
        normalized["person"] = person
    return Event(
        EventType.MESSAGE_QUEUED,
        f"message:{message.id}:queued",
        normalized=normalized,
        occurred_at=message.created_at,
    )


async def set_body(session: AsyncSession, message_id: uuid.UUID, body: str) -> None:
    message = await repository.message(session, message_id)
    assert message is not None
    message.body = body


# --- the send job's steps (each in its own transaction, owned by the job) -------------------
# Each step is a plain rule on a message (and its interaction) and two ways of applying it: on
# the session (`claim`, `record_sent`, …: messages whose kind has a send hook, which works on
# the session) and below the ORM (`claim_fast`, `record_sent_fast`, …: every other message),
# which write the same rows.

# A send job scheduled for a retry may start up to a second before the retry time (its
# schedule is in whole seconds): it still claims the message.
CLAIM_EARLY = timedelta(seconds=1)


@dataclass(frozen=True)
class Claim:
    message_id: uuid.UUID
    interaction_id: uuid.UUID
    channel: Channel
    to: str
    body: str
    media_url: str | None
    kind: MessageKind
    attempt: int
    # A WhatsApp template message (message.template): sent as the template, not as text.
    template: dict[str, Any] | None = None


def due(message: Message, now: datetime) -> bool:
    """Whether a send job may claim the message: QUEUED, and its retry time (if any) reached.
    (A job that finds a retry time still ahead is an earlier one of the message's: the retry
    has a job of its own.)"""
    return message.status is MessageStatus.QUEUED and (
        message.next_attempt_at is None or message.next_attempt_at <= now + CLAIM_EARLY
    )


def claimed(message: Message, now: datetime) -> None:
    """The send job holds the message: SENDING, one attempt more."""
    message.status = MessageStatus.SENDING
    message.attempts += 1
    message.updated_at = now
    message.next_attempt_at = None


def _claim(message: Message, interaction: Interaction) -> Claim:
    to = interaction.customer_phone or interaction.to_number or interaction.from_number or ""
    media = message.media[0]["url"] if message.media else None
    return Claim(
        message.id,
        interaction.id,
        interaction.channel,
        to,
        message.body or "",
        media,
        message.kind,
        message.attempts,
        message.template if isinstance(message.template, dict) else None,
    )


async def claim(session: AsyncSession, message_id: uuid.UUID) -> Claim | None:
    """QUEUED → SENDING, counting the attempt; None when the row is not due (idempotent)."""
    message = await repository.message(session, message_id)
    now = utcnow()
    if message is None or not due(message, now):
        return None
    interaction = await repository.interaction(session, message.interaction_id)
    claimed(message, now)
    return _claim(message, interaction)


def sent(message: Message, provider_message_id: str | None, now: datetime) -> Event:
    """The provider took the message: SENT (unless a status got further first), with its id."""
    if provider_message_id and message.provider_message_id is None:
        message.provider_message_id = provider_message_id
    if moves_forward(message.status, MessageStatus.SENT):
        message.status = MessageStatus.SENT
    message.sent_at = message.sent_at or now
    message.error_code = None
    message.error_message = None
    message.updated_at = now
    return Event(
        EventType.MESSAGE_SENT,
        f"message:{message.id}:sent",
        normalized={
            "messageId": str(message.id),
            "providerMessageId": message.provider_message_id,
            "attempts": message.attempts,
        },
        provider_event_id=message.provider_message_id,
    )


async def record_sent(session: AsyncSession, message_id: uuid.UUID, receipt: SendReceipt) -> None:
    message = await repository.message(session, message_id)
    assert message is not None
    interaction = await repository.interaction(session, message.interaction_id)
    await record(session, interaction, sent(message, receipt.provider_message_id, utcnow()))


def retry_delay(settings: Settings, attempt: int, retry_after: float | None) -> float:
    """2, 4, 8, 16, 32 s (the base doubling) ±10 %, capped at 5 min; or the Retry-After."""
    if retry_after is not None:
        return min(MAX_RETRY_DELAY, max(0.0, retry_after))
    base = settings.send_retry_base_seconds * 2 ** max(0, attempt - 1)
    return float(min(MAX_RETRY_DELAY, base * random.uniform(0.9, 1.1)))  # noqa: S311 - jitter


def released(message: Message, now: datetime, *, attempted: bool = True) -> bool:
    """SENDING → QUEUED, due now: the send was interrupted (the worker is stopping), or never
    began (`attempted` False: the claim's attempt is taken back)."""
    if message.status is not MessageStatus.SENDING:
        return False
    if not attempted:
        message.attempts -= 1
    message.status = MessageStatus.QUEUED
    message.next_attempt_at = now
    message.updated_at = now
    return True


async def release(session: AsyncSession, message_id: uuid.UUID) -> bool:
    """SENDING → QUEUED, due now: the send was interrupted (the worker is stopping)."""
    message = await repository.message(session, message_id)
    return message is not None and released(message, utcnow())


def send_failed(
    interaction: Interaction,
    message: Message,
    *,
    error_code: str,
    error_message: str,
    permanent: bool,
    now: datetime,
) -> list[Event]:
    """The send is given up: the message FAILED, and an SMS interaction with it."""
    message.error_code = error_code
    message.error_message = error_message[:500]
    message.updated_at = now
    message.status = MessageStatus.FAILED
    normalized = {
        "messageId": str(message.id),
        "errorCode": message.error_code,
        "errorMessage": message.error_message,
        "attempts": message.attempts,
        "permanent": permanent,
    }
    events = [Event(EventType.MESSAGE_FAILED, f"message:{message.id}:failed", normalized)]
    if interaction.channel is Channel.SMS and interaction.status is not InteractionStatus.FAILED:
        previous = interaction.status
        interaction.status = InteractionStatus.FAILED
        interaction.ended_at = now
        events.append(
            Event(
                EventType.STATUS_CHANGED,
                f"message:{message.id}:interaction-failed",
                normalized={"from": previous.value, "to": "FAILED"},
            )
        )
    return events


def failure(
    settings: Settings,
    interaction: Interaction,
    message: Message,
    error: ProviderError,
    now: datetime,
) -> tuple[datetime | None, list[Event]]:
    """A send the provider refused: back to QUEUED with a retry time (a transient error before
    the last attempt), or FAILED with its events. (The retry time, or None and the events.)"""
    error_code = error.code or (str(error.status) if error.status else "network")
    if error.retryable and message.attempts < settings.send_max_attempts:
        message.error_code = error_code
        message.error_message = error.message[:500]
        message.updated_at = now
        delay = retry_delay(settings, message.attempts, error.retry_after)
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = now + timedelta(seconds=delay)
        return message.next_attempt_at, []
    events = send_failed(
        interaction,
        message,
        error_code=error_code,
        error_message=error.message,
        permanent=not error.retryable,
        now=now,
    )
    return None, events


async def record_failure(
    session: AsyncSession, settings: Settings, message_id: uuid.UUID, error: ProviderError
) -> datetime | None:
    """Back to QUEUED with a retry time, or FAILED (permanent error or last attempt)."""
    message = await repository.message(session, message_id)
    assert message is not None
    interaction = await repository.interaction(session, message.interaction_id)
    retry_at, events = failure(settings, interaction, message, error, utcnow())
    await record_all(session, interaction, events)
    return retry_at


# Below the ORM: the same steps on a transaction of db/fast.py. The rows come back as detached
# objects; the rules above change them and the changed columns are written back.


@dataclass(frozen=True)
class ClaimedBatch:
    """What a send job claimed: its own message and the due ones beside it (oldest first), or
    nothing. `hooked`: its message is of a kind with a send hook, which takes the session
    path (nothing was claimed)."""

    claims: list[Claim]
    hooked: bool = False


async def _write_state(
    tx: Transaction, message: Message, interaction: Interaction, events: list[Event]
) -> None:
    """The message's changed columns, the events, and the interaction's state when it moved."""
    await repository.update_send_state_fast(tx, message)
    if not events:
        return
    state = (interaction.status, interaction.ended_at, interaction.updated_at)
    await record_fast(tx, interaction, events)
    if (interaction.status, interaction.ended_at, interaction.updated_at) != state:
        await interactions_repository.update_state_fast(
            tx, interaction.id, interaction.status, interaction.ended_at, interaction.updated_at
        )


async def claim_fast(
    tx: Transaction,
    message_id: uuid.UUID,
    *,
    hooked: Collection[MessageKind],
    extra: int,
) -> ClaimedBatch:
    """`claim` below the ORM, and up to `extra` more: QUEUED messages due now that no other
    transaction holds (oldest first; none of a `hooked` kind), claimed by the same rule. Nothing
    when the job's own message is not due (another job has it, or had it)."""
    found = await repository.message_to_send_fast(tx, message_id)
    if found is None:
        return ClaimedBatch([])
    message, interaction = found
    if message.kind in hooked:
        return ClaimedBatch([], hooked=True)
    now = utcnow()
    if not due(message, now):
        return ClaimedBatch([])
    rows = [(message, interaction)]
    rows += await repository.due_to_send_fast(
        tx, now=now, other_than=message_id, skip_kinds=sorted(hooked), limit=extra
    )
    rows.sort(key=lambda row: (row[0].created_at, str(row[0].id)))
    claims = []
    for message, interaction in rows:
        claimed(message, now)
        await repository.update_send_state_fast(tx, message)
        claims.append(_claim(message, interaction))
    return ClaimedBatch(claims)


async def record_sent_fast(tx: Transaction, message_id: uuid.UUID, receipt: SendReceipt) -> None:
    """`record_sent` below the ORM."""
    found = await repository.message_to_send_fast(tx, message_id)
    assert found is not None
    message, interaction = found
    event = sent(message, receipt.provider_message_id, utcnow())
    await _write_state(tx, message, interaction, [event])


async def record_failure_fast(
    tx: Transaction, settings: Settings, message_id: uuid.UUID, error: ProviderError
) -> datetime | None:
    """`record_failure` below the ORM."""
    found = await repository.message_to_send_fast(tx, message_id)
    assert found is not None
    message, interaction = found
    retry_at, events = failure(settings, interaction, message, error, utcnow())
    await _write_state(tx, message, interaction, events)
    return retry_at


async def release_fast(tx: Transaction, message_id: uuid.UUID, *, attempted: bool = True) -> bool:
    """`release` below the ORM."""
    found = await repository.message_to_send_fast(tx, message_id)
    if found is None or not released(found[0], utcnow(), attempted=attempted):
        return False
    await repository.update_send_state_fast(tx, found[0])
    return True


async def diagnostic(
    session: AsyncSession, interaction_id: uuid.UUID, viewer: Principal
) -> dict[str, Any]:
    interaction = require_visible(
        await repository.interaction_or_none(session, interaction_id), viewer, interaction_id
    )
    if interaction.channel is not Channel.WHATSAPP:
        raise _field_error("interactionId", "the interaction is not a WhatsApp conversation")
    messages = await repository.messages(session, interaction_id)
    counts: dict[str, dict[str, int]] = {"INBOUND": {}, "OUTBOUND": {}}
    for message in messages:
        bucket = counts[message.direction.value]
        bucket[message.status.value] = bucket.get(message.status.value, 0) + 1
    errors = [
        {"at": m.updated_at, "code": m.error_code, "message": m.error_message}
        for m in messages
        if m.error_code
    ]
    return {
        "interaction": interaction,
        "counts": counts,
        "last": messages[-10:],
        "errors": errors[-10:],
    }


async def diagnostic_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    interaction_id: uuid.UUID,
    ask: RevealAsk,
) -> Diagnostic:
    """Message counts by direction and status, the last 10 messages (masked unless revealed,
    audited) and the provider's errors, for a conversation the caller may see."""
    result = await diagnostic(session, interaction_id, context.principal)
    reveal = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="whatsapp.diagnostic",
        entity_type="interaction",
        entity_id=interaction_id,
    )
    messages = [MessageOut.model_validate(m) for m in result["last"]]
    return Diagnostic(
        interaction_id=interaction_id,
        message_counts=result["counts"],
        last_messages=messages if reveal else [mask_message(m) for m in messages],
        last_errors=[ProviderErrorOut(**e) for e in result["errors"]],
    )


async def queue_whatsapp_template(
    session: AsyncSession,
    context: AuditContext,
    *,
    to: str,
    template_row: WhatsAppTemplate,
    filled: Filled,
    assigned_agent: str | None,
    customer_ref: str | None,
) -> Queued:
    """An approved template into the customer's current WhatsApp interaction (or a new one), as
    a QUEUED message: allowed outside the 24-hour window. The message keeps the template
    (`message.template`) and, as its body, the text the customer reads. The caller's scope
    applies as in `queue_whatsapp`."""
    principal = context.principal
    require_assignable(principal, assigned_agent)
    now = utcnow()
    # A new conversation is the Cloud API's: only it sends templates.
    interaction, created = await whatsapp_interaction(
        session, to, None, direction=Direction.OUTBOUND, now=now, provider=Provider.WHATSAPP_CLOUD
    )
    require_writable(interaction, principal)
    return await _queue_whatsapp_message(
        session,
        context,
        interaction,
        created,
        body=filled.body,
        media_url=None,
        template=filled.template,
        assigned_agent=assigned_agent,
        customer_ref=customer_ref,
        now=now,
        action="whatsapp.send_template",
        metadata={
            "to": to,
            "template": template_row.name,
            "language": template_row.language,
            "category": template_row.category,
        },
    )


async def queue_automated(
    session: AsyncSession,
    context: AuditContext,
    interaction: Interaction,
    channel: Channel,
    *,
    to: str,
    body: str,
    kind: MessageKind,
    from_number: str,
    customer_ref: str | None,
    audit_metadata: dict[str, Any],
) -> Queued:
    """An automated message to a customer: into `interaction` when `channel` is WhatsApp (the
    caller checked the 24-hour window), else a new SMS to `to`."""
    if channel is Channel.WHATSAPP:
        return await queue_automated_whatsapp(session, interaction, body=body, kind=kind)
    return await queue_sms(
        session,
        context,
        to=to,
        body=body,
        kind=kind,
        from_number=from_number,
        customer_ref=customer_ref,
        audit_metadata=audit_metadata,
    )
