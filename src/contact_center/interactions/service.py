"""Rules of the interactions domain: reading, the customer profile, changes with their events."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.auth.reveal import RevealAsk, check_reveal, reveal_for
from contact_center.db.base import utcnow
from contact_center.db.fast import Transaction, reader
from contact_center.errors import Forbidden, NotFound, ValidationFailed
from contact_center.interactions import repository, whatsapp_window
from contact_center.interactions.queue import enter_queue, leave_queue
from contact_center.interactions.repository import AgentView, InteractionFilters
from contact_center.interactions.schemas import (
    CallDetailOut,
    CustomerProfile,
    CustomerStats,
    EventOut,
    InteractionDetailOut,
    InteractionOut,
    InteractionPage,
    InteractionPatch,
    MessageOut,
    OtpChallengeOut,
    OtpStats,
)
from contact_center.live.bus import also_heard_by, note
from contact_center.models.enums import Channel, EventType, InteractionStatus, OtpStatus
from contact_center.models.interaction import Interaction
from contact_center.pii import mask_json, mask_name, mask_phone, mask_text
from contact_center.principal import SYSTEM, AuditContext, Principal
from contact_center.settings import Settings

RECENT_CHILDREN = 10


# --- events ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Event:
    """One timeline event as a rule decides it: what `record` writes, and what the demo data set
    writes for the same step (so both follow the same rule)."""

    type: EventType
    key: str  # the idempotency key: one event per key, however often a step is repeated
    normalized: Any = None
    payload: Any = None
    provider_event_id: str | None = None
    # When it happened; None: when it is recorded.
    occurred_at: datetime | None = None


def event_values(
    interaction_id: uuid.UUID, event: Event, *, now: datetime, id: uuid.UUID | None = None
) -> dict[str, Any]:
    """The row of `event` recorded at `now`."""
    return {
        "id": id or uuid.uuid4(),
        "interaction_id": interaction_id,
        "type": event.type.value,
        "occurred_at": event.occurred_at or now,
        "payload": event.payload,
        "normalized": event.normalized,
        "provider_event_id": event.provider_event_id,
        "idempotency_key": event.key,
        # Not erased (docs/data-lifecycle.md, "Data classes").
        "purged_at": None,
    }


def touch(interaction: Interaction, now: datetime) -> None:
    """An interaction's updatedAt follows its latest change (an event recorded at `now`)."""
    interaction.updated_at = max(interaction.updated_at, now)


async def record(session: AsyncSession, interaction: Interaction, event: Event) -> bool:
    """Write one timeline event, once per idempotency key, and bump the interaction's updatedAt.

    Returns False (and writes nothing) when an event with that key exists already.
    """
    now = utcnow()
    inserted = await repository.insert_event(session, event_values(interaction.id, event, now=now))
    if inserted:
        _recorded(session.info, interaction, event, now)
    return inserted


async def record_all(
    session: AsyncSession, interaction: Interaction, events: Iterable[Event]
) -> None:
    for event in events:
        await record(session, interaction, event)


async def record_fast(tx: Transaction, interaction: Interaction, events: Iterable[Event]) -> int:
    """`record_all` on a transaction below the ORM (the hot paths): the same rows, the same
    notices (published after the commit); `interaction` is a detached copy whose updatedAt
    follows. How many events were new."""
    now = utcnow()
    inserted = 0
    for event in events:
        if await repository.insert_event_fast(tx, event_values(interaction.id, event, now=now)):
            inserted += 1
            _recorded(tx.info, interaction, event, now)
    return inserted


def new_event_rows(
    tx: Transaction | AsyncSession, interaction: Interaction, events: Iterable[Event]
) -> list[dict[str, Any]]:
    """The rows of events whose keys are new (those of a delivery being stored), noted as
    recorded (updatedAt, the live notice after the commit) for the caller to write in the same
    transaction: a hot path writes them together with what they record (below the ORM, or a
    batch of them in one statement on a session)."""
    now = utcnow()
    rows = []
    for event in events:
        rows.append(event_values(interaction.id, event, now=now))
        _recorded(tx.info, interaction, event, now)
    return rows


def _recorded(info: dict[str, Any], interaction: Interaction, event: Event, now: datetime) -> None:
    """After an event went in: the interaction's updatedAt follows, and a live notice waits for
    the commit."""
    touch(interaction, now)
    note(
        info,
        {
            "interactionId": str(interaction.id),
            "type": event.type.value,
            "channel": interaction.channel.value,
        },
        assigned_agent=interaction.assigned_agent,
        team_id=interaction.team_id,
    )


# --- who may see and assign (decided here, once, for every path) ---------------------------


def not_found(interaction_id: uuid.UUID) -> NotFound:
    return NotFound(f"No interaction with id {interaction_id}.", code="interaction_not_found")


def sees(viewer: Principal, interaction: Interaction) -> bool:
    """Whether `viewer` sees `interaction` (docs/workflow.md, "Who sees what")."""
    return viewer.sees_assignment(interaction.assigned_agent, interaction.team_id)


def agent_view(viewer: Principal) -> AgentView | None:
    """The viewer's scope as the repository's filters take it (None: sees everything)."""
    scope = viewer.agent_scope
    return None if scope is None else AgentView(scope, viewer.team_ids)


def require_visible(
    interaction: Interaction | None, viewer: Principal, interaction_id: uuid.UUID
) -> Interaction:
    """The interaction if `viewer` may see it; otherwise the same 404 as an unknown id, so an
    agent learns nothing of another agent's work (not even that it exists)."""
    if interaction is None or not sees(viewer, interaction):
        raise not_found(interaction_id)
    return interaction


async def visible_interaction(
    session: AsyncSession, interaction_id: uuid.UUID, viewer: Principal, *, for_update: bool = False
) -> Interaction:
    """Read one interaction through the viewer's scope (404 when unknown or not theirs)."""
    found = await repository.get(session, interaction_id, for_update=for_update)
    return require_visible(found, viewer, interaction_id)


def require_assignable(viewer: Principal, agent: str | None) -> None:
    """An agent assigns work to themselves only; 403 for anyone else's name."""
    if not viewer.may_assign(agent):
        raise Forbidden(
            "An agent assigns interactions to themselves only.", code="forbidden_assignment"
        )


def require_writable(interaction: Interaction, viewer: Principal) -> None:
    """Writing into a conversation someone else works (a send joining a customer's current
    conversation) is refused with 403 and says why; the caller named the customer, not the
    conversation, so this tells them nothing they could not see coming."""
    if not sees(viewer, interaction):
        raise Forbidden(
            "This customer's conversation is assigned to another agent or waits in another "
            "team's queue; a supervisor can reassign it.",
            code="interaction_assigned_to_other_agent",
        )


# --- presentation (masking happens here, once) ----------------------------------------------


def _present(
    interaction: Interaction,
    messages: list[Any],
    events: list[Any],
    *,
    reveal: bool,
    detail: bool = False,
    call_detail: Any = None,
    otp_challenges: list[Any] | None = None,
    labels: list[str] | None = None,
) -> InteractionOut | InteractionDetailOut:
    data: dict[str, Any] = {
        "id": interaction.id,
        "channel": interaction.channel,
        "direction": interaction.direction,
        "status": interaction.status,
        "started_at": interaction.started_at,
        "ended_at": interaction.ended_at,
        "created_at": interaction.created_at,
        "updated_at": interaction.updated_at,
        "from": interaction.from_number,
        "to": interaction.to_number,
        "customer_phone": interaction.customer_phone,
        "customer_name": interaction.customer_name,
        "provider": interaction.provider,
        "provider_conversation_id": interaction.provider_conversation_id,
        "assigned_agent": interaction.assigned_agent,
        "customer_ref": interaction.customer_ref,
        "queue": interaction.queue,
        "intent": interaction.intent,
        "outcome": interaction.outcome,
        "ai_handled": interaction.ai_handled,
        "team_id": interaction.team_id,
        "queued_at": interaction.queued_at,
        "assigned_at": interaction.assigned_at,
        "snoozed_until": interaction.snoozed_until,
        "resolution_code": interaction.resolution_code,
        "priority": interaction.priority,
        "labels": labels or [],
        "messages": [MessageOut.model_validate(m) for m in messages],
        "events": [EventOut.model_validate(e) for e in events],
    }
    if not detail:
        out: InteractionOut | InteractionDetailOut = InteractionOut.model_validate(data)
    else:
        data["call_detail"] = CallDetailOut.model_validate(call_detail) if call_detail else None
        data["otp_challenges"] = [OtpChallengeOut.model_validate(o) for o in otp_challenges or []]
        out = InteractionDetailOut.model_validate(data)
    return out if reveal else mask_interaction(out)


OutT = TypeVar("OutT", InteractionOut, InteractionDetailOut)


def mask_message(message: MessageOut) -> MessageOut:
    masked = message.model_copy(
        update={
            "body": mask_text(message.body) if message.body else message.body,
            "media": [item.model_copy() for item in message.media],
        }
    )
    _mask_media(masked)
    return masked


def _mask_media(message: MessageOut) -> None:
    """A file's name is the customer's words too (`5491155551234.jpg`, `DNI 30123456.pdf`)."""
    for item in message.media:
        if item.filename:
            item.filename = mask_text(item.filename)


def mask_interaction(out: OutT) -> OutT:
    """Mask phones and names everywhere in one interaction, in place: `out` is one
    built for this response (each caller builds it, then masks it unless revealed), so no copy
    of each message and event is made."""
    out.from_ = mask_phone(out.from_)
    out.to = mask_phone(out.to)
    out.customer_phone = mask_phone(out.customer_phone)
    out.customer_name = mask_name(out.customer_name)
    for message in out.messages:
        if message.body:
            message.body = mask_text(message.body)
        _mask_media(message)
    for event in out.events:
        event.payload = mask_json(event.payload)
        event.normalized = mask_json(event.normalized)
    if isinstance(out, InteractionDetailOut):
        detail = out.call_detail
        if detail is not None:
            for turn in detail.transcript:
                if turn.message:
                    turn.message = mask_text(turn.message)
            detail.summary = mask_text(detail.summary) if detail.summary else None
            detail.analysis = mask_json(detail.analysis)
        for challenge in out.otp_challenges:
            challenge.phone = mask_phone(challenge.phone) or ""
            challenge.context = mask_json(challenge.context)
    return out


async def _present_many(
    session: AsyncSession,
    interactions: list[Interaction],
    *,
    all_messages: bool,
    all_events: bool,
    reveal: bool,
) -> list[InteractionOut]:
    ids = [i.id for i in interactions]
    messages = await repository.messages_for(
        session, ids, None if all_messages else RECENT_CHILDREN
    )
    events = await repository.events_for(session, ids, None if all_events else RECENT_CHILDREN)
    labels = await repository.labels_for(session, ids)
    windows = await repository.last_inbound_whatsapp_many(session, interactions)
    out = [
        _present(i, messages[i.id], events[i.id], reveal=reveal, labels=labels[i.id])
        for i in interactions
    ]
    for item in out:
        item.whatsapp_window_closes_at = whatsapp_window.closes_at(windows.get(item.id))
    return out


# --- reads ----------------------------------------------------------------------------------


def scoped(filters: InteractionFilters, viewer: Principal) -> InteractionFilters:
    """The viewer's view: an agent's lists and counts hold what `sees` lets them see."""
    view = agent_view(viewer)
    return filters if view is None else dataclasses.replace(filters, visible_to=view)


async def list_interactions(
    session: AsyncSession,
    filters: InteractionFilters,
    *,
    viewer: Principal,
    limit: int,
    skip: int,
    all_messages: bool,
    all_events: bool,
    reveal: bool,
) -> InteractionPage:
    rows = await repository.list_page(session, scoped(filters, viewer), limit=limit, skip=skip)
    has_more = len(rows) > limit
    items = await _present_many(
        session, rows[:limit], all_messages=all_messages, all_events=all_events, reveal=reveal
    )
    return InteractionPage(items=items, limit=limit, skip=skip, has_more=has_more)


async def count_interactions(
    session: AsyncSession, filters: InteractionFilters, *, viewer: Principal
) -> int:
    return await repository.count(session, scoped(filters, viewer))


async def get_interaction(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    *,
    all_messages: bool,
    all_events: bool,
    reveal: bool,
    viewer: Principal,
) -> InteractionDetailOut:
    """One interaction. A `viewer` who may not see it gets the same 404 as an unknown id.

    Read below the ORM as plain rows (the interaction with its call detail in one statement,
    then its messages, events and OTP challenges) and validated once as a whole: the ORM's
    statements and objects cost more CPU than the four queries."""
    db = await reader(session)
    found = await repository.interaction_row(db, interaction_id)
    if found is None or not viewer.sees_assignment(found[0]["assigned_agent"], found[0]["team_id"]):
        raise not_found(interaction_id)
    row, call_detail = found
    messages, events = await repository.children_of(
        db,
        interaction_id,
        messages=None if all_messages else RECENT_CHILDREN,
        events=None if all_events else RECENT_CHILDREN,
    )
    row["from"] = row.pop("from_number")
    row["to"] = row.pop("to_number")
    row["messages"] = messages
    row["events"] = events
    row["call_detail"] = call_detail if row["channel"] is Channel.CALL else None
    row["otp_challenges"] = await repository.otp_challenges_for(db, interaction_id)
    row["labels"] = await repository.labels_of(db, interaction_id)
    if row["channel"] is Channel.WHATSAPP:
        row["whatsapp_window_closes_at"] = whatsapp_window.closes_at(
            await repository.last_inbound_whatsapp(
                db, interaction_id=interaction_id, phone=row["customer_phone"]
            )
        )
    out = InteractionDetailOut.model_validate(row)
    return out if reveal else mask_interaction(out)


async def customer_profile(
    session: AsyncSession,
    phone: str,
    *,
    all_messages: bool,
    all_events: bool,
    reveal: bool,
    viewer: Principal,
) -> CustomerProfile:
    """Every interaction of one customer across channels, newest first, with statistics (of
    the interactions the `viewer` may see)."""
    interactions = [i for i in await repository.by_customer(session, phone) if sees(viewer, i)]
    otp_counts = await repository.otp_counts_by_status(session, phone)
    started = [i.started_at for i in interactions]
    stats = CustomerStats(
        total=len(interactions),
        by_channel=dict(Counter(i.channel.value for i in interactions)),
        by_status=dict(Counter(i.status.value for i in interactions)),
        by_outcome=dict(Counter(i.outcome.value for i in interactions if i.outcome)),
        first_contact_at=min(started) if started else None,
        last_contact_at=max(started) if started else None,
        otp=OtpStats(
            issued=sum(otp_counts.values()),
            verified=otp_counts.get(OtpStatus.VERIFIED, 0),
            failed=otp_counts.get(OtpStatus.FAILED, 0),
            locked=otp_counts.get(OtpStatus.LOCKED, 0),
            expired=otp_counts.get(OtpStatus.EXPIRED, 0),
        ),
    )
    items = await _present_many(
        session, interactions, all_messages=all_messages, all_events=all_events, reveal=reveal
    )
    return CustomerProfile(
        phone=phone if reveal else mask_phone(phone) or "", interactions=items, stats=stats
    )


# --- changes --------------------------------------------------------------------------------

_FIELD_EVENTS = {
    "assigned_agent": EventType.AGENT_ASSIGNED,
    "status": EventType.STATUS_CHANGED,
    "queue": EventType.INTERACTION_UPDATED,
    "outcome": EventType.INTERACTION_UPDATED,
    "intent": EventType.INTERACTION_UPDATED,
}
_OPEN_STATUSES = {InteractionStatus.NEW, InteractionStatus.IN_PROGRESS}
_FINAL_STATUSES = {
    InteractionStatus.COMPLETED,
    InteractionStatus.ABANDONED,
    InteractionStatus.FAILED,
}


def _wire(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


CHANGEABLE = ("assigned_agent", "queue", "status", "outcome", "intent")


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """One field a change really moved, as the API names it, with its events."""

    field: str
    previous: Any
    change: dict[str, Any]
    events: list[Event]


def apply_changes(
    interaction: Interaction,
    values: Mapping[str, Any],
    *,
    actor: str,
    change_id: str,
    now: datetime,
) -> list[FieldChange]:
    """Set the given fields (of CHANGEABLE, in that order); each that really changes gets its
    event. A final status ends the interaction (at `now` unless it had ended; COMPLETED also
    gets `interaction.completed`), another status reopens it."""
    changes = []
    for field in CHANGEABLE:
        if field not in values:
            continue
        new = values[field]
        if isinstance(new, str) and not isinstance(new, Enum):
            new = new.strip() or None
        old = getattr(interaction, field)
        if new == old:
            continue
        setattr(interaction, field, new)
        if field == "assigned_agent":
            # As the lifecycle operations: assigned leaves the queue; unassigned while open
            # waits in it again (docs/workflow.md).
            if new is not None:
                leave_queue(interaction, new, now)
            elif interaction.status in _OPEN_STATUSES:
                enter_queue(interaction, now)
        camel = {"assigned_agent": "assignedAgent"}.get(field, field)
        change = {"field": camel, "from": _wire(old), "to": _wire(new)}
        events = [
            Event(
                _FIELD_EVENTS[field],
                f"patch:{change_id}:{field}",
                normalized={**change, "actor": actor},
            )
        ]
        if field == "status":
            if new in _FINAL_STATUSES:
                interaction.ended_at = interaction.ended_at or now
                if new is InteractionStatus.COMPLETED:
                    events.append(
                        Event(
                            EventType.INTERACTION_COMPLETED,
                            f"patch:{change_id}:completed",
                            normalized={"by": actor},
                        )
                    )
            else:
                interaction.ended_at = None
        changes.append(FieldChange(camel, old, change, events))
    if changes:
        touch(interaction, now)
    return changes


async def update_interaction(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    patch: InteractionPatch,
    context: AuditContext,
) -> Interaction:
    """Apply a PATCH: one event and one audit row per field that really changes."""
    if "status" in patch.model_fields_set and patch.status in (None, InteractionStatus.NEW):
        raise ValidationFailed(
            "status cannot be set to NEW or cleared.",
            details=[
                {
                    "field": "body.status",
                    "message": "allowed: IN_PROGRESS, COMPLETED, ABANDONED, FAILED",
                }
            ],
        )
    interaction = await visible_interaction(
        session, interaction_id, context.principal, for_update=True
    )
    if "assigned_agent" in patch.model_fields_set:
        require_assignable(context.principal, patch.assigned_agent)
        agent = (patch.assigned_agent or "").strip()
        if (
            agent
            and agent != interaction.assigned_agent
            and not await repository.active_user_exists(session, agent)
        ):
            raise ValidationFailed(
                f"No active user named {agent!r}.",
                code="unknown_user",
                details=[{"field": "body.assignedAgent", "message": "not an active user"}],
            )
    changes = apply_changes(
        interaction,
        {field: getattr(patch, field) for field in CHANGEABLE if field in patch.model_fields_set},
        actor=context.principal.actor_id,
        change_id=uuid.uuid4().hex,
        now=utcnow(),
    )
    for change in changes:
        if change.field == "assignedAgent":
            also_heard_by(session.info, interaction.id, change.previous, interaction.team_id)
        await record_all(session, interaction, change.events)
        await audit.record(
            session,
            context,
            f"interaction.update.{change.field}",
            entity_type="interaction",
            entity_id=interaction.id,
            metadata=change.change,
        )
    if changes:
        await session.flush()
    return interaction


# --- what a caller is shown: scoped to them, masked unless a reveal is allowed and audited ----


async def list_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    filters: InteractionFilters,
    ask: RevealAsk,
    *,
    limit: int,
    skip: int,
    all_messages: bool = False,
    all_events: bool = False,
) -> InteractionPage:
    reveal = await reveal_for(session, settings, context, ask, resource="interactions.list")
    return await list_interactions(
        session,
        filters,
        viewer=context.principal,
        limit=limit,
        skip=skip,
        all_messages=all_messages,
        all_events=all_events,
        reveal=reveal,
    )


async def profile_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    phone: str,
    ask: RevealAsk,
    *,
    all_messages: bool = False,
    all_events: bool = False,
) -> CustomerProfile:
    """`phone` is E.164 already."""
    reveal = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="interactions.client",
        entity_type="customer",
        entity_id=phone,
    )
    return await customer_profile(
        session,
        phone,
        all_messages=all_messages,
        all_events=all_events,
        reveal=reveal,
        viewer=context.principal,
    )


async def detail_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    interaction_id: uuid.UUID,
    ask: RevealAsk,
    *,
    all_events: bool = False,
    all_messages: bool = False,
    scoped: bool = True,
) -> InteractionDetailOut:
    """`GET /api/interactions/{id}`'s answer: the caller's scope, masked unless revealed (a
    reveal is audited). Other routes that answer an interaction (PATCH, a call's refresh) too.
    `scoped=False` only for the answer to an operation that read it through the caller's scope
    in this transaction and may have taken it out of that scope."""
    detail = await get_interaction(
        session,
        interaction_id,
        all_messages=all_messages,
        all_events=all_events,
        reveal=True,
        viewer=context.principal if scoped else SYSTEM,
    )
    reveal = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="interactions.detail",
        entity_type="interaction",
        entity_id=interaction_id,
    )
    return detail if reveal else mask_interaction(detail)


async def update_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    interaction_id: uuid.UUID,
    patch: InteractionPatch,
    ask: RevealAsk,
) -> InteractionDetailOut:
    """Apply a change and answer the interaction as the detail route does. A reveal without
    its reason is refused before the change is made."""
    check_reveal(settings, context, ask)
    await update_interaction(session, interaction_id, patch, context)
    return await detail_for(session, settings, context, interaction_id, ask)
