"""Complaints (reclamos): opening, the claim number and its notice, the lifecycle and who sees
what (docs/complaints.md). Scope and permission are decided here, once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.complaints import repository
from contact_center.complaints.clock import deadlines
from contact_center.complaints.schemas import (
    ComplaintCreate,
    ComplaintDetail,
    ComplaintEventOut,
    ComplaintFields,
    ComplaintOut,
    LinkedInteractionOut,
    NoticeOut,
)
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, Forbidden, NotFound, ValidationFailed
from contact_center.interactions.service import visible_interaction
from contact_center.live.bus import note
from contact_center.message_templates import Templates
from contact_center.messaging import outbound
from contact_center.models.complaint import Complaint
from contact_center.models.enums import (
    Channel,
    ComplaintSource,
    ComplaintStatus,
    MessageKind,
    Priority,
    Role,
)
from contact_center.models.interaction import Interaction
from contact_center.outcomes.service import survey_channel
from contact_center.pii import mask_json, mask_phone, mask_text
from contact_center.principal import SYSTEM_CONTEXT, AuditContext, Principal
from contact_center.service_levels.calendar import calendar_for
from contact_center.settings import Settings

S = ComplaintStatus
# Where each step may start from (docs/complaints.md, "Lifecycle").
FROM: dict[str, tuple[ComplaintStatus, ...]] = {
    "confirm": (S.DRAFT,),
    "discard": (S.DRAFT,),
    "start": (S.OPEN,),
    "answer": (S.OPEN, S.IN_PROGRESS, S.ESCALATED),
    "escalate": (S.OPEN, S.IN_PROGRESS, S.ANSWERED),
    "report": (S.ESCALATED,),
    "close": (S.ANSWERED, S.REPORTED),
    "link": (S.DRAFT, S.OPEN, S.IN_PROGRESS, S.ANSWERED, S.ESCALATED, S.REPORTED),
}
UNANSWERED = frozenset(repository.UNANSWERED)
LIST_LIMIT = 200


def call_source_key(interaction_id: uuid.UUID) -> str:
    return f"call-outcome:{interaction_id}"


@dataclass(frozen=True)
class Sending:
    """What sending the claim number or the answer needs: the wording and the SMS sender."""

    templates: Templates
    from_number: str


@dataclass(frozen=True)
class Outcome:
    """A step's result: the complaint, and the message to enqueue after the commit (if any)."""

    complaint: Complaint
    message_id: uuid.UUID | None = None


# --- scope ------------------------------------------------------------------------------------


def sees(viewer: Principal, complaint: Complaint) -> bool:
    """Supervisors, admins and compliance see every complaint; an agent those of their teams
    and those they own."""
    scope = viewer.agent_scope
    if scope is None:
        return True
    return complaint.owner == scope or (
        complaint.team_id is not None and complaint.team_id in viewer.team_ids
    )


def _not_found(complaint_id: uuid.UUID) -> NotFound:
    return NotFound(f"No complaint with id {complaint_id}.", code="complaint_not_found")


def require_actor(viewer: Principal) -> None:
    """Compliance reads complaints; working them takes an agent, a supervisor or an admin."""
    if not viewer.allows(Role.AGENT):
        raise Forbidden("Compliance may read complaints, not work them.", code="forbidden")


async def visible(
    session: AsyncSession, viewer: Principal, complaint_id: uuid.UUID, *, for_update: bool = False
) -> Complaint:
    """The complaint if `viewer` sees it; else the same 404 as an unknown id."""
    found = await repository.get(session, complaint_id, for_update=for_update)
    if found is None or not sees(viewer, found):
        raise _not_found(complaint_id)
    return found


def _require_step(complaint: Complaint, step: str) -> None:
    allowed = FROM[step]
    if complaint.status not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise Conflict(
            f"A complaint in status {complaint.status.value} cannot {step}: only from {names}.",
            code="complaint_invalid_transition",
        )


# --- checks -----------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": f"body.{field}", "message": message}])


def _check_fields(settings: Settings, viewer: Principal, fields: ComplaintFields) -> None:
    if fields.type is not None and fields.type not in settings.complaint_type_list:
        raise _invalid("type", f"unknown type; one of: {', '.join(settings.complaint_type_list)}")
    if fields.product is not None and fields.product not in settings.complaint_product_list:
        products = ", ".join(settings.complaint_product_list)
        raise _invalid("product", f"unknown product; one of: {products}")
    if (fields.amount_disputed is None) != (fields.currency is None) and fields.currency is None:
        raise _invalid("currency", "an amount in dispute needs its currency")
    scope = viewer.agent_scope
    if scope is not None:
        if fields.owner is not None and fields.owner != scope:
            raise Forbidden("An agent owns complaints themselves only.", code="forbidden_owner")
        if fields.team_id is not None and fields.team_id not in viewer.team_ids:
            raise Forbidden("An agent files complaints in their own teams only.", code="forbidden")


def same_customer(items: Sequence[Interaction]) -> tuple[str | None, str | None]:
    """The one customer (phone, reference) of these conversations; 422 when they are not one
    customer's, or name none."""
    phones = {i.customer_phone for i in items if i.customer_phone}
    refs = {i.customer_ref for i in items if i.customer_ref}
    if len(phones) > 1 or len(refs) > 1:
        raise _invalid("interactionIds", "the conversations are not all of the same customer")
    if not phones and not refs:
        raise _invalid("interactionIds", "the conversations name no customer")
    for item in items:
        if not item.customer_phone and not item.customer_ref:
            raise _invalid("interactionIds", "a conversation names no customer")
        if phones and not item.customer_phone and (not refs or item.customer_ref not in refs):
            raise _invalid("interactionIds", "the conversations are not all of the same customer")
    return next(iter(phones), None), next(iter(refs), None)


def _same_as(complaint: Complaint, item: Interaction) -> bool:
    if complaint.customer_phone and item.customer_phone:
        return complaint.customer_phone == item.customer_phone
    if complaint.customer_ref and item.customer_ref:
        return complaint.customer_ref == item.customer_ref
    return False


# --- steps' trail -----------------------------------------------------------------------------


async def step(
    session: AsyncSession,
    context: AuditContext,
    complaint: Complaint,
    kind: str,
    data: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    interaction: Interaction | None = None,
) -> bool:
    """One step's trail: a timeline event (`kind`, once when `key` is given), an audit row
    `complaint.<kind>` and a live notice on the complaint's first conversation. False when the
    keyed event already happened (nothing else written)."""
    now = utcnow()
    written = await repository.add_event(
        session,
        {
            "id": uuid.uuid4(),
            "complaint_id": complaint.id,
            "type": kind,
            "key": key,
            "actor": context.principal.actor_id[:128],
            "occurred_at": now,
            "data": data,
        },
    )
    if not written:
        return False
    complaint.updated_at = now
    await audit.record(
        session,
        context,
        f"complaint.{kind}",
        entity_type="complaint",
        entity_id=complaint.id,
        metadata={"number": complaint.number, "status": complaint.status.value, **(data or {})},
    )
    if interaction is None:
        ids = await repository.linked_ids(session, complaint.id)
        first = min(ids) if ids else None
    else:
        first = interaction.id
    if first is not None:
        note(
            session.info,
            {
                "interactionId": str(first),
                "type": f"complaint.{kind}",
                "complaintId": str(complaint.id),
            },
            assigned_agent=complaint.owner,
            team_id=complaint.team_id,
        )
    return True


# --- the customer's messages ------------------------------------------------------------------


async def _channel_for(session: AsyncSession, complaint: Complaint) -> tuple[Interaction, Channel]:
    """Where the customer hears from us: a linked WhatsApp conversation when they wrote within
    24 hours (as the satisfaction survey decides), else SMS."""
    items = await repository.linked(session, complaint.id)
    chats = [i for i in items if i.channel is Channel.WHATSAPP]
    chosen = chats[-1] if chats else items[0]
    return chosen, await survey_channel(session, chosen, utcnow())


async def send_to_customer(
    session: AsyncSession,
    context: AuditContext,
    sending: Sending,
    complaint: Complaint,
    body: str,
    purpose: str,
) -> uuid.UUID | None:
    """Queue `body` to the customer (WhatsApp in the window, else SMS) through messaging's
    outbound path; the message id (for the send job after the commit), or None without a phone."""
    phone = complaint.customer_phone
    if not phone:
        await step(session, context, complaint, "notice_skipped", {"purpose": purpose})
        return None
    interaction, channel = await _channel_for(session, complaint)
    queued = await outbound.queue_automated(
        session,
        context,
        interaction,
        channel,
        to=phone,
        body=body,
        kind=MessageKind.COMPLAINT,
        from_number=sending.from_number,
        customer_ref=complaint.customer_ref,
        audit_metadata={"complaintId": str(complaint.id), "purpose": purpose},
    )
    await step(
        session,
        context,
        complaint,
        f"{purpose}_queued",
        {"messageId": str(queued.message_id), "channel": channel.value},
    )
    return queued.message_id


def due_day_text(complaint: Complaint, settings: Settings, zone: Any) -> str:
    assert complaint.due_at is not None
    last = (complaint.due_at - timedelta(microseconds=1)).astimezone(zone)
    return last.strftime("%d/%m/%Y")


# --- opening ----------------------------------------------------------------------------------


async def _open(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    sending: Sending,
    complaint: Complaint,
    kind: str,
) -> uuid.UUID | None:
    """OPEN: the claim number, the clock, and the notice queued to the customer."""
    now = utcnow()
    calendar = await calendar_for(session, complaint.team_id, default_zone=settings.app_timezone)
    local_year = now.astimezone(calendar.zone).year
    prefix = f"R-{local_year}-"
    sequence = await repository.next_number(session, prefix)
    complaint.number = f"{prefix}{sequence:06d}"
    complaint.status = S.OPEN
    complaint.opened_at = now
    found = deadlines(
        now,
        calendar,
        answer_days=settings.complaint_answer_business_days,
        warn_days=settings.complaint_warn_business_days,
        escalate_after_days=settings.complaint_escalate_after_business_days,
    )
    complaint.due_at, complaint.warn_at = found.due_at, found.warn_at
    complaint.escalate_at = found.escalate_at
    await session.flush()
    await step(
        session,
        context,
        complaint,
        kind,
        {"dueAt": found.due_at.isoformat(), "number": complaint.number},
    )
    body = sending.templates.complaint_notice(
        number=complaint.number, due=due_day_text(complaint, settings, calendar.zone)
    )
    message_id = await send_to_customer(session, context, sending, complaint, body, "notice")
    complaint.notice_message_id = message_id
    await session.flush()
    return message_id


def _apply_fields(complaint: Complaint, fields: ComplaintFields) -> None:
    for name in ("type", "product", "description", "owner", "team_id", "priority"):
        value = getattr(fields, name)
        if value is not None:
            setattr(complaint, name, value)
    if fields.amount_disputed is not None:
        complaint.amount_disputed = fields.amount_disputed
        complaint.currency = fields.currency


async def create(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    sending: Sending,
    payload: ComplaintCreate,
    source: ComplaintSource = ComplaintSource.API,
) -> Outcome:
    """A complaint a person opens from conversations of one customer: OPEN at once."""
    viewer = context.principal
    require_actor(viewer)
    _check_fields(settings, viewer, payload)
    ids = list(dict.fromkeys(payload.interaction_ids))
    items = [await visible_interaction(session, i, viewer) for i in ids]
    phone, ref = same_customer(items)
    now = utcnow()
    complaint = Complaint(
        id=uuid.uuid4(),
        status=S.DRAFT,
        source=source,
        customer_phone=phone,
        customer_ref=ref,
        type=payload.type,
        product=payload.product,
        description=payload.description,
        amount_disputed=payload.amount_disputed,
        currency=payload.currency if payload.amount_disputed is not None else None,
        priority=payload.priority or Priority.NORMAL,
        owner=payload.owner or viewer.agent_scope,
        team_id=payload.team_id if payload.team_id is not None else items[0].team_id,
        created_by=viewer.actor_id[:128],
        created_at=now,
        updated_at=now,
    )
    if viewer.agent_scope is not None and not sees(viewer, complaint):
        complaint.owner = viewer.agent_scope
    await repository.add(session, complaint)
    for item in items:
        await repository.link(session, complaint.id, item.id, viewer.actor_id[:128])
    message_id = await _open(session, settings, context, sending, complaint, "opened")
    return Outcome(complaint, message_id)


async def draft_from_call(
    session: AsyncSession,
    settings: Settings,
    interaction: Interaction,
    *,
    summary: str | None,
    ticket: str | None,
) -> Complaint | None:
    """The draft a TICKETED call opens, once per call (the unique source_key decides between a
    repeated webhook, a refresh and racing deliveries). None when the call has one already."""
    key = call_source_key(interaction.id)
    if await repository.by_source_key(session, key) is not None:
        return None
    now = utcnow()
    text = (summary or "").strip() or "Caso registrado por el agente de IA en la llamada."
    types = settings.complaint_type_list
    products = settings.complaint_product_list
    complaint_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": complaint_id,
        "number": None,
        "status": S.DRAFT,
        "source": ComplaintSource.CALL_OUTCOME,
        "source_key": key,
        "customer_phone": interaction.customer_phone,
        "customer_ref": interaction.customer_ref,
        "type": interaction.intent if interaction.intent in types else (types[-1] if types else ""),
        "product": products[-1] if products else "",
        "description": text[:4000],
        "priority": Priority.NORMAL,
        "owner": None,
        "team_id": interaction.team_id,
        "created_by": SYSTEM_CONTEXT.principal.actor_id,
        "created_at": now,
        "updated_at": now,
    }
    if not await repository.add_once(session, values):
        return None
    complaint = await repository.get(session, complaint_id)
    assert complaint is not None
    await repository.link(session, complaint.id, interaction.id, SYSTEM_CONTEXT.principal.actor_id)
    await step(
        session,
        SYSTEM_CONTEXT,
        complaint,
        "drafted",
        {"source": "CALL_OUTCOME", "interactionId": str(interaction.id), "ticket": ticket},
        interaction=interaction,
    )
    return complaint


# --- the lifecycle ----------------------------------------------------------------------------


async def _for_step(
    session: AsyncSession, context: AuditContext, complaint_id: uuid.UUID, name: str
) -> Complaint:
    require_actor(context.principal)
    complaint = await visible(session, context.principal, complaint_id, for_update=True)
    _require_step(complaint, name)
    return complaint


async def confirm(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    sending: Sending,
    complaint_id: uuid.UUID,
    fields: ComplaintFields,
) -> Outcome:
    """A draft a person confirms (fields may be corrected): OPEN, number issued, notice sent."""
    complaint = await _for_step(session, context, complaint_id, "confirm")
    _check_fields(settings, context.principal, fields)
    _apply_fields(complaint, fields)
    if complaint.type not in settings.complaint_type_list:
        raise _invalid("type", "the draft's type needs choosing")
    if complaint.owner is None:
        complaint.owner = context.principal.actor_id[:128]
    message_id = await _open(session, settings, context, sending, complaint, "confirmed")
    return Outcome(complaint, message_id)


async def discard(
    session: AsyncSession, context: AuditContext, complaint_id: uuid.UUID, reason: str
) -> Outcome:
    complaint = await _for_step(session, context, complaint_id, "discard")
    complaint.status = S.DISCARDED
    complaint.closed_at = utcnow()
    await step(session, context, complaint, "discarded", {"reason": reason})
    return Outcome(complaint)


async def start(session: AsyncSession, context: AuditContext, complaint_id: uuid.UUID) -> Outcome:
    complaint = await _for_step(session, context, complaint_id, "start")
    complaint.status = S.IN_PROGRESS
    if complaint.owner is None:
        complaint.owner = context.principal.actor_id[:128]
    await step(session, context, complaint, "started")
    return Outcome(complaint)


async def answer(
    session: AsyncSession,
    context: AuditContext,
    sending: Sending,
    complaint_id: uuid.UUID,
    text: str,
) -> Outcome:
    """The answer: stored, sent to the customer, ANSWERED."""
    complaint = await _for_step(session, context, complaint_id, "answer")
    assert complaint.number is not None
    complaint.status = S.ANSWERED
    complaint.answered_at = utcnow()
    complaint.answer_text = text
    await step(session, context, complaint, "answered", {"length": len(text)})
    body = sending.templates.complaint_answer(number=complaint.number, text=text)
    message_id = await send_to_customer(session, context, sending, complaint, body, "answer")
    complaint.answer_message_id = message_id
    await session.flush()
    return Outcome(complaint, message_id)


async def escalate(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    complaint_id: uuid.UUID,
    reason: str,
) -> Outcome:
    """To the bank's responsable de atención al usuario (COMPLAINT_RESPONSABLE)."""
    complaint = await _for_step(session, context, complaint_id, "escalate")
    complaint.status = S.ESCALATED
    complaint.escalated_at = utcnow()
    complaint.escalated_to = settings.complaint_responsable[:128]
    await step(
        session, context, complaint, "escalated", {"reason": reason, "to": complaint.escalated_to}
    )
    return Outcome(complaint)


async def report(
    session: AsyncSession,
    context: AuditContext,
    complaint_id: uuid.UUID,
    reference: str,
    reason: str | None,
) -> Outcome:
    """Reported to the BCRA with its reference (a supervisor's or an admin's step)."""
    if not context.principal.allows(Role.SUPERVISOR):
        raise Forbidden("Reporting to the regulator takes a supervisor.", code="forbidden")
    complaint = await _for_step(session, context, complaint_id, "report")
    complaint.status = S.REPORTED
    complaint.reported_at = utcnow()
    complaint.regulator_reference = reference
    await step(
        session, context, complaint, "reported", {"regulatorReference": reference, "reason": reason}
    )
    return Outcome(complaint)


async def close(
    session: AsyncSession, context: AuditContext, complaint_id: uuid.UUID, reason: str | None
) -> Outcome:
    complaint = await _for_step(session, context, complaint_id, "close")
    complaint.status = S.CLOSED
    complaint.closed_at = utcnow()
    await step(session, context, complaint, "closed", {"reason": reason})
    return Outcome(complaint)


async def link(
    session: AsyncSession, context: AuditContext, complaint_id: uuid.UUID, interaction_id: uuid.UUID
) -> Outcome:
    """Another conversation of the same customer (422 otherwise)."""
    complaint = await _for_step(session, context, complaint_id, "link")
    item = await visible_interaction(session, interaction_id, context.principal)
    if not _same_as(complaint, item):
        raise _invalid("interactionId", "the conversation is not the same customer's")
    if await repository.link(session, complaint.id, item.id, context.principal.actor_id[:128]):
        await step(
            session, context, complaint, "linked", {"interactionId": str(item.id)}, interaction=item
        )
    return Outcome(complaint)


# --- reading ----------------------------------------------------------------------------------


def present(complaint: Complaint, *, unmasked: bool, now: datetime | None = None) -> ComplaintOut:
    out = ComplaintOut.model_validate(
        {
            **{c.key: getattr(complaint, c.key) for c in Complaint.__table__.columns},
            "overdue": is_overdue(complaint, now or utcnow()),
        }
    )
    if not unmasked:
        # Phone numbers (and card-like digits) a person typed into the texts are masked too.
        out.customer_phone = mask_phone(out.customer_phone)
        out.description = mask_text(out.description)
        out.answer_text = mask_text(out.answer_text) if out.answer_text else None
    return out


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    return (
        complaint.status in UNANSWERED and complaint.due_at is not None and complaint.due_at <= now
    )


async def list_complaints(
    session: AsyncSession,
    viewer: Principal,
    *,
    statuses: Sequence[ComplaintStatus],
    overdue: bool,
    team_id: uuid.UUID | None,
    owner: str | None,
    limit: int,
    offset: int,
    unmasked: bool,
    product: str | None = None,
) -> list[ComplaintOut]:
    scope = viewer.agent_scope
    visible_rows = repository.scope(scope, sorted(viewer.team_ids))
    now = utcnow()
    found = await repository.search(
        session,
        visible=visible_rows,
        statuses=statuses,
        overdue_at=now if overdue else None,
        team_id=team_id,
        owner=owner,
        limit=min(limit, LIST_LIMIT),
        offset=offset,
        product=product,
    )
    return [present(c, unmasked=unmasked, now=now) for c in found]


async def _notice(session: AsyncSession, message_id: uuid.UUID | None) -> NoticeOut | None:
    message = await repository.message(session, message_id)
    if message is None:
        return None
    channel = await repository.channel_of(session, message.interaction_id)
    return NoticeOut(
        message_id=message.id,
        channel=channel,
        status=message.status,
        error_code=message.error_code,
    )


async def detail(
    session: AsyncSession, viewer: Principal, complaint_id: uuid.UUID, *, unmasked: bool
) -> ComplaintDetail:
    complaint = await visible(session, viewer, complaint_id)
    base = present(complaint, unmasked=unmasked)
    items = await repository.linked(session, complaint.id)
    events = await repository.events(session, complaint.id)
    return ComplaintDetail(
        **base.model_dump(),
        interactions=[
            LinkedInteractionOut(
                id=i.id,
                channel=i.channel,
                status=i.status.value,
                started_at=i.started_at,
                customer_phone=i.customer_phone if unmasked else mask_phone(i.customer_phone),
            )
            for i in items
        ],
        events=[
            ComplaintEventOut(
                id=e.id,
                type=e.type,
                actor=e.actor,
                occurred_at=e.occurred_at,
                data=e.data if unmasked else mask_json(e.data),
            )
            for e in events
        ],
        notice=await _notice(session, complaint.notice_message_id),
        answer=await _notice(session, complaint.answer_message_id),
    )


async def of_interaction(
    session: AsyncSession, viewer: Principal, interaction_id: uuid.UUID, *, unmasked: bool
) -> list[ComplaintOut]:
    """A conversation's complaints (those the viewer sees; 404 for a conversation they don't)."""
    await visible_interaction(session, interaction_id, viewer)
    found = await repository.of_interaction(session, interaction_id)
    return [present(c, unmasked=unmasked) for c in found if sees(viewer, c)]
