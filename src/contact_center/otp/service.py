"""One-time passwords: exact rate limit, one verification, lock and expiry (docs/architecture.md).

The code exists in plaintext only inside the send job, on its way to the provider: the request
stores a challenge without a code; the job generates the code, stores its hash and sends it.

A code goes by SMS or by WhatsApp (the Cloud API's authentication template, on an interaction of
its own); a WhatsApp code the provider refuses for good falls back to SMS on the same challenge
(docs/whatsapp-cloud.md).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.db.statements import lock_key
from contact_center.errors import Conflict, NotFound, RateLimited, ValidationFailed
from contact_center.interactions import repository as interactions_repository
from contact_center.interactions.service import Event, record, record_all, visible_interaction
from contact_center.message_templates import Templates
from contact_center.messaging import outbound
from contact_center.messaging import repository as messaging_repository
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    MessageKind,
    OtpChannel,
    OtpPurpose,
    OtpStatus,
    Provider,
)
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.otp import codes, repository
from contact_center.otp.schemas import OtpCreate, OtpVerify, TxContext
from contact_center.principal import SYSTEM_CONTEXT, AuditContext
from contact_center.settings import Settings

MASK = "******"
# A WhatsApp code's stored text: the fixed text of Meta's authentication templates in Spanish
# (the customer reads it with the code in place of the mask).
WHATSAPP_TEXT = "{code} es tu código de verificación."
# The mark of a code's own WhatsApp interaction (`provider_conversation_id`, followed by the
# challenge's id): it is never the customer's conversation, so the WhatsApp grouping
# (messaging/repository.py, `_current_whatsapp`) skips it.
OTP_INTERACTION_MARK = "otp:"
CLOSED = {
    OtpStatus.VERIFIED,
    OtpStatus.LOCKED,
    OtpStatus.EXPIRED,
    OtpStatus.CANCELED,
    OtpStatus.FAILED,
}


@dataclass(frozen=True)
class Created:
    challenge: OtpChallenge
    message_id: uuid.UUID


def _context(
    purpose: OtpPurpose, raw: dict[str, Any] | None, *, required: bool
) -> TxContext | None:
    if purpose is not OtpPurpose.TX_CONFIRMATION:
        return None
    if raw is None:
        if required:
            raise ValidationFailed(
                "TX_CONFIRMATION needs context {amount, currency, payee}.",
                details=[{"field": "body.context", "message": "required for TX_CONFIRMATION"}],
            )
        return None
    try:
        return TxContext.model_validate(raw)
    except ValidationError as exc:
        details = [
            {"field": "body.context." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()
        ]
        raise ValidationFailed("Invalid transaction context.", details=details) from None


def _sms_text(
    templates: Templates, settings: Settings, code: str, context: dict[str, Any] | None
) -> str:
    minutes = str(max(1, math.ceil(settings.otp_ttl_seconds / 60)))
    if context:
        return templates.render(
            "OTP_TX",
            code=code,
            minutes=minutes,
            currency=context["currency"],
            amount=context["amount"],
            payee=context["payee"],
        )
    return templates.render("OTP", code=code, minutes=minutes)


def masked_sms_text(
    templates: Templates, settings: Settings, context: dict[str, Any] | None
) -> str:
    """The SMS text as stored: the code exists only in the send job, so it is masked here."""
    return _sms_text(templates, settings, MASK, context)


def masked_whatsapp_text() -> str:
    """A WhatsApp code's text as stored (the code exists only in the send job)."""
    return WHATSAPP_TEXT.format(code=MASK)


def whatsapp_available(settings: Settings) -> bool:
    """Codes go by WhatsApp only when the Cloud API sends (BuilderBot has no templates)."""
    return settings.whatsapp_provider == "cloud"


def otp_template(settings: Settings) -> dict[str, Any]:
    """What a WhatsApp code's message keeps as its template: the send job sends it as the
    authentication template, the code in the body and in the copy-code button."""
    return {
        "name": settings.whatsapp_otp_template,
        "language": settings.whatsapp_otp_template_language,
        "category": "AUTHENTICATION",
        "otp": True,
    }


def context_json(purpose: OtpPurpose, raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """The transaction a TX_CONFIRMATION code confirms, as the challenge keeps it (422 when
    missing or invalid); None for the other purposes."""
    tx = _context(purpose, raw, required=True)
    return tx.model_dump(mode="json") if tx else None


# Where each event of a challenge goes: (interaction id, event).
Timeline = list[tuple[uuid.UUID, Event]]


def challenge_events(challenge: OtpChallenge, kind: EventType, extra: dict[str, Any]) -> Timeline:
    """The event on the challenge's SMS interaction and on the one it was requested from."""
    normalized = {
        "challengeId": str(challenge.id),
        "correlationId": challenge.correlation_id,
        "status": challenge.status.value,
        "attempts": challenge.attempts,
        **extra,
    }
    targets = dict.fromkeys((challenge.interaction_id, challenge.requested_from_interaction_id))
    return [
        (
            interaction_id,
            Event(
                kind,
                f"otp:{challenge.id}:{kind.value}:{challenge.attempts}:{interaction_id}",
                normalized=normalized,
            ),
        )
        for interaction_id in targets
        if interaction_id is not None
    ]


def new_challenge(
    settings: Settings,
    *,
    phone: str,
    purpose: OtpPurpose,
    context: dict[str, Any] | None,
    correlation_id: str | None,
    interaction_id: uuid.UUID,
    requested_from: uuid.UUID | None,
    customer_ref: str | None,
    now: datetime,
    id: uuid.UUID | None = None,
    channel: OtpChannel = OtpChannel.SMS,
) -> tuple[OtpChallenge, Timeline]:
    """A PENDING challenge for the message of `interaction_id` (an SMS, or a WhatsApp
    template), without a code (the send job makes it), expiring OTP_TTL_SECONDS after `now`;
    and its creation events."""
    challenge = OtpChallenge(
        id=id or uuid.uuid4(),
        correlation_id=correlation_id or uuid.uuid4().hex,
        phone=phone,
        purpose=purpose,
        code_hash=None,
        status=OtpStatus.PENDING,
        attempts=0,
        max_attempts=settings.otp_max_attempts,
        expires_at=now + timedelta(seconds=settings.otp_ttl_seconds),
        interaction_id=interaction_id,
        requested_from_interaction_id=requested_from,
        customer_ref=customer_ref,
        context=context,
        channel=channel,
        created_at=now,
        updated_at=now,
    )
    created = {"purpose": purpose.value, "channel": channel.value}
    return challenge, challenge_events(challenge, EventType.OTP_CREATED, created)


def new_whatsapp(
    *,
    to: str,
    challenge_id: uuid.UUID,
    template: dict[str, Any],
    customer_ref: str | None,
    now: datetime,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> tuple[Interaction, Message, list[Event]]:
    """A code's own OUTBOUND WhatsApp interaction (marked: never the customer's conversation,
    never waiting in the inbox) with its QUEUED template message, and their events."""
    interaction = Interaction(
        id=new_id(),
        channel=Channel.WHATSAPP,
        direction=Direction.OUTBOUND,
        status=InteractionStatus.IN_PROGRESS,
        started_at=now,
        created_at=now,
        updated_at=now,
        to_number=to,
        customer_phone=to,
        provider=Provider.WHATSAPP_CLOUD,
        provider_conversation_id=f"{OTP_INTERACTION_MARK}{challenge_id}",
        customer_ref=customer_ref,
        ai_handled=False,
        last_message_at=now,
        waiting_since=None,
        queued_at=None,
    )
    # The message (and its event) come a microsecond after the creation, as an SMS's.
    at = now + timedelta(microseconds=1)
    message = outbound.queued_message(
        interaction.id, masked_whatsapp_text(), MessageKind.OTP, at, new_id()
    )
    message.template = template
    created = Event(
        EventType.INTERACTION_CREATED,
        f"whatsapp:{interaction.id}:created",
        normalized={
            "kind": MessageKind.OTP,
            "customerPhone": to,
            "direction": Direction.OUTBOUND.value,
        },
        occurred_at=now,
    )
    return interaction, message, [created, outbound.queued_event(message, False)]


async def _queue_whatsapp(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    *,
    to: str,
    challenge_id: uuid.UUID,
    customer_ref: str | None,
    purpose: OtpPurpose,
) -> outbound.Queued:
    template = otp_template(settings)
    interaction, message, events = new_whatsapp(
        to=to,
        challenge_id=challenge_id,
        template=template,
        customer_ref=customer_ref,
        now=utcnow(),
    )
    await messaging_repository.add(session, interaction, message)
    await record_all(session, interaction, events)
    await audit.record(
        session,
        context,
        "whatsapp.send",
        entity_type="message",
        entity_id=message.id,
        metadata={
            "kind": MessageKind.OTP,
            "to": to,
            "interactionId": str(interaction.id),
            "template": template["name"],
            "purpose": purpose.value,
        },
    )
    return outbound.Queued(interaction.id, message.id, 0)


async def create(
    session: AsyncSession,
    settings: Settings,
    templates: Templates,
    context: AuditContext,
    request: OtpCreate,
    phone: str,
    from_number: str,
) -> Created:
    """Rate-limit exactly (per phone and purpose), cancel the open challenge, queue the SMS or
    the WhatsApp template (409 `whatsapp_otp_unavailable` when the Cloud API does not send)."""
    tx = context_json(request.purpose, request.context)
    if request.interaction_id is not None:
        # The challenge writes onto that interaction's timeline: the caller's scope applies
        # (another agent's interaction answers the same 404 as an unknown one).
        await visible_interaction(session, request.interaction_id, context.principal)
    if request.channel is OtpChannel.WHATSAPP and not whatsapp_available(settings):
        raise Conflict(
            "Codes go by WhatsApp only when the Cloud API sends (WHATSAPP_PROVIDER=cloud).",
            code="whatsapp_otp_unavailable",
        )
    # One lock per phone and purpose: concurrent creations count one after another.
    await lock_key(session, f"otp:{phone}:{request.purpose.value}")
    now = utcnow()
    window = timedelta(seconds=settings.otp_rate_limit_window_seconds)
    count, oldest = await repository.created_since(session, phone, request.purpose, now - window)
    if count >= settings.otp_rate_limit_max:
        retry_after = ((oldest or now) + window - now).total_seconds()
        # Clamped: a row a parallel request stamped a moment after `now` must not ask for more
        # than the window.
        wait = max(1, min(settings.otp_rate_limit_window_seconds, math.ceil(retry_after)))
        raise RateLimited("Too many codes requested; try again later.", retry_after=wait)
    if request.correlation_id and await repository.correlation_taken(
        session, request.correlation_id
    ):
        raise Conflict("correlationId is already used.", code="correlation_id_taken")
    for previous in await repository.open_for(session, phone, request.purpose):
        previous.status = OtpStatus.CANCELED
        previous.updated_at = now
        await _timeline(session, previous, EventType.OTP_CANCELED, {"replacedAt": now.isoformat()})
        await audit.record(
            session, context, "otp.cancel", entity_type="otp_challenge", entity_id=previous.id
        )
    challenge_id = uuid.uuid4()
    if request.channel is OtpChannel.WHATSAPP:
        queued = await _queue_whatsapp(
            session,
            settings,
            context,
            to=phone,
            challenge_id=challenge_id,
            customer_ref=request.customer_ref,
            purpose=request.purpose,
        )
    else:
        queued = await outbound.queue_sms(
            session,
            context,
            to=phone,
            body=masked_sms_text(templates, settings, tx),
            kind=MessageKind.OTP,
            from_number=from_number,
            customer_ref=request.customer_ref,
            audit_metadata={"purpose": request.purpose.value},
        )
    challenge, events = new_challenge(
        settings,
        phone=phone,
        purpose=request.purpose,
        context=tx,
        correlation_id=request.correlation_id,
        interaction_id=queued.interaction_id,
        requested_from=request.interaction_id,
        customer_ref=request.customer_ref,
        now=now,
        id=challenge_id,
        channel=request.channel,
    )
    if not await repository.add_unless_correlation_taken(session, challenge):
        # Another request took this correlation id since the check above: nothing of this one
        # is kept (the request's transaction rolls back).
        raise Conflict("correlationId is already used.", code="correlation_id_taken")
    await _record(session, events)
    await audit.record(
        session,
        context,
        "otp.create",
        entity_type="otp_challenge",
        entity_id=challenge.id,
        metadata={
            "purpose": request.purpose.value,
            "phone": phone,
            "correlationId": challenge.correlation_id,
            "channel": request.channel.value,
        },
    )
    return Created(challenge, queued.message_id)


async def _visible(session: AsyncSession, challenge: OtpChallenge, context: AuditContext) -> bool:
    """Whether the caller may act on a challenge: its timelines (its message's and the
    interaction it was requested from) must be theirs to see."""
    principal = context.principal
    if principal.agent_scope is None:
        return True
    for interaction_id in {challenge.interaction_id, challenge.requested_from_interaction_id}:
        if interaction_id is None:
            continue
        interaction = await interactions_repository.get(session, interaction_id)
        if interaction is not None and not principal.sees_assignment(
            interaction.assigned_agent, interaction.team_id
        ):
            return False
    return True


async def _record(session: AsyncSession, events: Timeline) -> None:
    for interaction_id, event in events:
        interaction: Interaction = await messaging_repository.interaction(session, interaction_id)
        await record(session, interaction, event)


async def _timeline(
    session: AsyncSession, challenge: OtpChallenge, kind: EventType, extra: dict[str, Any]
) -> None:
    await _record(session, challenge_events(challenge, kind, extra))


# --- the send job ----------------------------------------------------------------------------


async def issue_code(
    session: AsyncSession,
    settings: Settings,
    templates: Templates,
    pepper: bytes,
    interaction_id: uuid.UUID,
    channel: Channel = Channel.SMS,
) -> str | None:
    """In the send job: a fresh code, its hash stored (any code issued before no longer
    verifies); the SMS text, or the bare code for WhatsApp (the template carries it). None when
    the challenge is closed, or its code no longer goes on this interaction (it fell back)."""
    challenge = await repository.by_interaction(session, interaction_id)
    if challenge is None or challenge.status in CLOSED or utcnow() >= challenge.expires_at:
        return None
    code = codes.new_code(settings.otp_length)
    challenge.code_hash = await codes.hash_code(pepper, challenge.id, code)
    challenge.updated_at = utcnow()
    if channel is Channel.WHATSAPP:
        return code
    return _sms_text(templates, settings, code, challenge.context)


def challenge_sent(challenge: OtpChallenge, now: datetime) -> Timeline | None:
    """The code is on its way: a PENDING challenge is SENT (None: nothing to change)."""
    if challenge.status is not OtpStatus.PENDING:
        return None
    challenge.status = OtpStatus.SENT
    challenge.updated_at = now
    return challenge_events(challenge, EventType.OTP_SENT, {})


async def mark_sent(session: AsyncSession, interaction_id: uuid.UUID) -> None:
    challenge = await repository.by_interaction(session, interaction_id)
    events = challenge_sent(challenge, utcnow()) if challenge is not None else None
    if challenge is None or events is None:
        return
    await _record(session, events)
    await audit.record(
        session, SYSTEM_CONTEXT, "otp.send", entity_type="otp_challenge", entity_id=challenge.id
    )


def challenge_failed(challenge: OtpChallenge, reason: str, now: datetime) -> Timeline | None:
    """The code could not be sent: an open challenge FAILED (None: it was closed already)."""
    if challenge.status in CLOSED:
        return None
    challenge.status = OtpStatus.FAILED
    challenge.updated_at = now
    return challenge_events(challenge, EventType.OTP_FAILED, {"reason": reason})


async def mark_failed(session: AsyncSession, interaction_id: uuid.UUID, reason: str) -> None:
    challenge = await repository.by_interaction(session, interaction_id)
    if challenge is not None:
        await _failed(session, challenge, reason)


async def _failed(session: AsyncSession, challenge: OtpChallenge, reason: str) -> None:
    events = challenge_failed(challenge, reason, utcnow())
    if events is None:
        return
    await _record(session, events)
    await audit.record(
        session,
        SYSTEM_CONTEXT,
        "otp.fail",
        entity_type="otp_challenge",
        entity_id=challenge.id,
        metadata={"reason": reason},
    )


def challenge_fell_back(
    challenge: OtpChallenge, sms_interaction_id: uuid.UUID, reason: str, now: datetime
) -> Timeline:
    """WhatsApp refused the code for good: the challenge goes on by SMS (the SMS interaction
    `sms_interaction_id`, whose send issues a new code). The code issued for WhatsApp no longer
    verifies. The event is on the WhatsApp interaction, the SMS one and the one the code was
    requested from."""
    whatsapp_interaction_id = challenge.interaction_id
    challenge.interaction_id = sms_interaction_id
    # Its code is not sent yet (a WhatsApp one may have been taken, then failed).
    challenge.status = OtpStatus.PENDING
    challenge.channel = OtpChannel.SMS
    challenge.fallback_at = now
    challenge.code_hash = None
    challenge.updated_at = now
    extra = {
        "reason": reason,
        "from": OtpChannel.WHATSAPP.value,
        "to": OtpChannel.SMS.value,
        "fallbackAt": now.isoformat(),
    }
    events = challenge_events(challenge, EventType.OTP_FALLBACK, extra)
    if whatsapp_interaction_id is not None:
        kind = EventType.OTP_FALLBACK
        events.append(
            (
                whatsapp_interaction_id,
                Event(
                    kind,
                    f"otp:{challenge.id}:{kind.value}:{whatsapp_interaction_id}",
                    normalized=events[0][1].normalized,
                ),
            )
        )
    return events


async def fall_back_to_sms(
    session: AsyncSession,
    settings: Settings,
    templates: Templates,
    interaction_id: uuid.UUID,
    reason: str,
    from_number: str,
) -> uuid.UUID | None:
    """In the send job, when WhatsApp refused a code for good (`reason`: its error code): the
    open challenge queues the code by SMS (a new SMS interaction, as `create` does) and returns
    that message's id, for the job to enqueue its send after the commit. A closed or expired
    challenge has nothing to send (an expired one fails, as an SMS's would): None."""
    challenge = await repository.by_interaction(session, interaction_id)
    if challenge is None or challenge.status in CLOSED:
        return None
    if challenge.channel is not OtpChannel.WHATSAPP or utcnow() >= challenge.expires_at:
        await _failed(session, challenge, reason)
        return None
    queued = await outbound.queue_sms(
        session,
        SYSTEM_CONTEXT,
        to=challenge.phone,
        body=masked_sms_text(templates, settings, challenge.context),
        kind=MessageKind.OTP,
        from_number=from_number,
        customer_ref=challenge.customer_ref,
        audit_metadata={"purpose": challenge.purpose.value, "fallback": True},
    )
    await _record(session, challenge_fell_back(challenge, queued.interaction_id, reason, utcnow()))
    await audit.record(
        session,
        SYSTEM_CONTEXT,
        "otp.fallback",
        entity_type="otp_challenge",
        entity_id=challenge.id,
        metadata={
            "reason": reason,
            "from": OtpChannel.WHATSAPP.value,
            "to": OtpChannel.SMS.value,
            "interactionId": str(queued.interaction_id),
        },
    )
    return queued.message_id


async def fall_back_refused(
    session: AsyncSession,
    settings: Settings,
    templates: Templates,
    from_number: str,
    now: datetime,
    *,
    limit: int = 100,
) -> list[uuid.UUID]:
    """The periodic job: WhatsApp codes the provider took and then reported failed (a `failed`
    status webhook: 131026, 131047…) fall back to SMS as a refused send does. Returns the SMS
    messages queued, whose sends the job enqueues after the commit."""
    queued = []
    for interaction_id, reason in await repository.whatsapp_failed(session, now, limit):
        message_id = await fall_back_to_sms(
            session, settings, templates, interaction_id, reason or "failed", from_number
        )
        if message_id is not None:
            queued.append(message_id)
    return queued


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    verified: bool
    status: OtpStatus
    attempts_remaining: int


def _same_context(stored: dict[str, Any] | None, given: TxContext | None) -> bool:
    if given is None or stored is None:
        return True  # omitting the context at verification is allowed
    return (
        Decimal(stored["amount"]) == Decimal(given.amount)
        and stored["currency"] == given.currency
        and stored["payee"] == given.payee
    )


def challenge_expired(challenge: OtpChallenge, now: datetime) -> Timeline:
    challenge.status = OtpStatus.EXPIRED
    challenge.updated_at = now
    return challenge_events(challenge, EventType.OTP_EXPIRED, {})


async def expire(session: AsyncSession, challenge: OtpChallenge, context: AuditContext) -> None:
    await _record(session, challenge_expired(challenge, utcnow()))
    await audit.record(
        session, context, "otp.expire", entity_type="otp_challenge", entity_id=challenge.id
    )


@dataclass(frozen=True)
class Checked:
    """What one verification attempt did to an open challenge, and how the audit names it."""

    verified: bool
    action: str
    metadata: dict[str, Any]
    events: Timeline


def code_checked(
    challenge: OtpChallenge, *, code_matched: bool, context_matched: bool, now: datetime
) -> Checked:
    """One attempt on an open, unexpired challenge: the right code (for the right transaction)
    verifies it; anything else counts an attempt, and the last allowed one locks it."""
    challenge.updated_at = now
    if code_matched and context_matched:
        challenge.status = OtpStatus.VERIFIED
        challenge.verified_at = now
        events = challenge_events(challenge, EventType.OTP_VERIFIED, {})
        return Checked(True, "otp.verify", {"result": "verified"}, events)
    challenge.attempts += 1
    reason = "wrong_code" if not code_matched else "context_mismatch"
    if challenge.attempts >= challenge.max_attempts:
        challenge.status = OtpStatus.LOCKED
        events = challenge_events(challenge, EventType.OTP_LOCKED, {"reason": reason})
        action = "otp.lock"
    else:
        events = challenge_events(challenge, EventType.OTP_FAILED, {"reason": reason})
        action = "otp.verify"
    return Checked(False, action, {"result": reason, "attempts": challenge.attempts}, events)


async def verify(
    session: AsyncSession,
    settings: Settings,
    pepper: bytes,
    context: AuditContext,
    request: OtpVerify,
) -> Verification:
    """Exactly one request verifies a challenge: the row stays locked while the code is checked."""
    if request.challenge_id is None and not request.correlation_id:
        raise ValidationFailed(
            "Give challengeId or correlationId.",
            details=[
                {"field": "body.challengeId", "message": "challengeId or correlationId is required"}
            ],
        )
    if len(request.code) != settings.otp_length or not request.code.isdigit():
        raise ValidationFailed(
            f"The code must be {settings.otp_length} digits.",
            details=[{"field": "body.code", "message": f"{settings.otp_length} digits"}],
        )
    challenge = await repository.get(
        session, challenge_id=request.challenge_id, correlation_id=request.correlation_id
    )
    if challenge is None or not await _visible(session, challenge, context):
        raise NotFound("No such OTP challenge.", code="otp_not_found")
    given = _context(challenge.purpose, request.context, required=False)

    def result(verified: bool) -> Verification:
        return Verification(
            verified, challenge.status, max(0, challenge.max_attempts - challenge.attempts)
        )

    if challenge.status in CLOSED:
        return result(False)
    if utcnow() >= challenge.expires_at:
        await expire(session, challenge, context)
        return result(False)
    matches = await codes.code_matches(pepper, challenge.id, request.code, challenge.code_hash)
    checked = code_checked(
        challenge,
        code_matched=matches,
        context_matched=_same_context(challenge.context, given),
        now=utcnow(),
    )
    await _record(session, checked.events)
    await audit.record(
        session,
        context,
        checked.action,
        entity_type="otp_challenge",
        entity_id=challenge.id,
        metadata=checked.metadata,
    )
    return result(checked.verified)


async def expire_due(session: AsyncSession, now: datetime, *, limit: int = 500) -> int:
    """The periodic job: open challenges past their expiry become EXPIRED."""
    due = await repository.expired_open(session, now, limit)
    for challenge in due:
        await expire(session, challenge, SYSTEM_CONTEXT)
    return len(due)
