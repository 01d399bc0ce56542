"""Calls: turn the voice agent's conversations into CALL interactions (docs/api.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.calls import repository
from contact_center.complaints.service import draft_from_call
from contact_center.db.base import utcnow
from contact_center.interactions.queue import enter_queue
from contact_center.interactions.service import Event, record, record_all
from contact_center.live.bus import also_heard_by
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    Outcome,
    Provider,
)
from contact_center.models.interaction import Interaction
from contact_center.phones import normalize_possible
from contact_center.providers.base import CallAudioEvent, CallEvent, CallInitiationFailureEvent
from contact_center.recordings import RecordingStore
from contact_center.redaction.redact import PLACEHOLDER
from contact_center.redaction.service import Redactor
from contact_center.settings import Settings

FINAL = {InteractionStatus.COMPLETED, InteractionStatus.ABANDONED, InteractionStatus.FAILED}
_STATUS = {
    "done": InteractionStatus.COMPLETED,
    "failed": InteractionStatus.FAILED,
    "initiated": InteractionStatus.IN_PROGRESS,
    "in-progress": InteractionStatus.IN_PROGRESS,
    "processing": InteractionStatus.IN_PROGRESS,
}


@dataclass(frozen=True)
class CallResult:
    interaction: Interaction
    created: bool
    changed: bool


LABEL_LENGTH = 128
# A call that ended with one of these is a follow-up for a person (docs/workflow.md).
FOR_A_PERSON = {Outcome.ESCALATED, Outcome.TRANSFERRED}


def audio_url(conversation_id: str) -> str:
    return f"/api/elevenlabs/audio/{conversation_id}"


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "si", "sí", "1"}
    return bool(value)


def call_outcome(event: CallEvent) -> Outcome:
    """The first rule that matches (docs/api.md)."""
    data = event.data_collection
    if any(turn.transferred for turn in event.transcript) or _truthy(data.get("transferred")):
        return Outcome.TRANSFERRED
    if _truthy(data.get("escalated")) or _truthy(data.get("needs_human")):
        return Outcome.ESCALATED
    if data.get("ticket_id") not in (None, "", False):
        return Outcome.TICKETED
    if event.call_successful == "success":
        return Outcome.RESOLVED
    return Outcome.UNKNOWN


def call_status(
    event: CallEvent, settings: Settings, *, transcript_known: bool = True
) -> InteractionStatus:
    """COMPLETED or ABANDONED for a finished call; without the transcript (a list item of the
    metadata-only sync) only the duration can tell."""
    status = _STATUS.get((event.status or "").lower(), InteractionStatus.IN_PROGRESS)
    if status is not InteractionStatus.COMPLETED:
        return status
    too_short = (
        event.duration_secs is not None and event.duration_secs < settings.call_abandon_seconds
    )
    if not transcript_known:
        return InteractionStatus.ABANDONED if too_short else InteractionStatus.COMPLETED
    first_agent = next((i for i, t in enumerate(event.transcript) if t.role == "agent"), None)
    spoke_after = any(
        t.role == "user" and (t.message or "").strip()
        for t in event.transcript[(first_agent + 1 if first_agent is not None else 0) :]
    )
    return (
        InteractionStatus.ABANDONED if too_short or not spoke_after else InteractionStatus.COMPLETED
    )


def _numbers(event: CallEvent, region: str) -> tuple[str | None, str | None, str | None]:
    customer_raw, agent_raw = event.customer_number, event.agent_number
    customer = normalize_possible(customer_raw, region) if customer_raw else None
    agent = normalize_possible(agent_raw, region) if agent_raw else None
    customer_value = customer or customer_raw
    agent_value = agent or agent_raw
    if event.direction == "outbound":
        return agent_value, customer_value, customer
    return customer_value, agent_value, customer


def _label(value: Any) -> str:
    """A value of the agent's free-form data for a 128-character column (any JSON type)."""
    return str(value)[:LABEL_LENGTH]


def call_fields(
    event: CallEvent, settings: Settings, *, transcript_known: bool, now: datetime
) -> dict[str, Any]:
    """What a conversation says of its CALL interaction: status and outcome by the rules above,
    numbers, times (a conversation that gives no start started `now`), the agent who kept it."""
    outcome = call_outcome(event)
    data, dynamic = event.data_collection, event.dynamic_variables
    human = data.get("human_agent") or data.get("transferred_to") or dynamic.get("human_agent")
    agent_name = event.agent_name or event.agent_id
    from_number, to_number, customer = _numbers(event, settings.default_phone_region)
    started = event.started_at or event.event_timestamp or now
    status = call_status(event, settings, transcript_known=transcript_known)
    ended = None
    if status in FINAL:
        ended = started + timedelta(seconds=event.duration_secs or 0)
    customer_ref = dynamic.get("customer_ref") or dynamic.get("user_id")
    intent = data.get("intent")
    return {
        "direction": Direction.OUTBOUND if event.direction == "outbound" else Direction.INBOUND,
        "status": status,
        "started_at": started,
        "ended_at": ended,
        "from_number": from_number,
        "to_number": to_number,
        "customer_phone": customer,
        "assigned_agent": _label(human) if outcome is Outcome.TRANSFERRED and human else agent_name,
        "queue": _label(dynamic.get("queue")) if dynamic.get("queue") else None,
        "customer_ref": _label(customer_ref) if customer_ref else None,
        "intent": _label(intent) if intent not in (None, "") else None,
        "outcome": outcome,
        "ai_handled": outcome is not Outcome.TRANSFERRED,
    }


def call_row(
    conversation_id: str,
    fields: dict[str, Any],
    *,
    now: datetime,
    id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The row of a conversation's new CALL interaction, first heard of at `now`: `fields` over
    what a call we know nothing else of is (inbound, in progress, kept by the AI)."""
    return {
        "id": id or uuid.uuid4(),
        "channel": Channel.CALL,
        "provider": Provider.ELEVENLABS,
        "provider_conversation_id": conversation_id,
        "created_at": now,
        "updated_at": now,
        "direction": Direction.INBOUND,
        "status": InteractionStatus.IN_PROGRESS,
        "started_at": now,
        "ai_handled": True,
        **fields,
    }


def call_detail_row(interaction_id: uuid.UUID, *, id: uuid.UUID | None = None) -> dict[str, Any]:
    """A call's detail before anything is known of it."""
    return {
        "id": id or uuid.uuid4(),
        "interaction_id": interaction_id,
        "transcript": [],
        "has_audio": False,
    }


async def _interaction(
    session: AsyncSession, conversation_id: str, defaults: dict[str, Any]
) -> tuple[Interaction, bool]:
    """The CALL interaction of a conversation, created if missing (one even under concurrency)."""
    created = await repository.insert_interaction(
        session, call_row(conversation_id, defaults, now=utcnow())
    )
    interaction = await repository.by_conversation(session, conversation_id)
    assert interaction is not None
    return interaction, created


async def _detail(session: AsyncSession, interaction: Interaction) -> CallDetail:
    return await repository.call_detail(session, call_detail_row(interaction.id))


# What a list item (metadata-only sync) may change on a call we already hold.
_METADATA_FIELDS = ("status", "started_at", "ended_at")


def update_call(interaction: Interaction, fields: dict[str, Any], *, metadata_only: bool) -> None:
    """A call we hold takes what a later conversation says, but a late "processing" never
    reopens a finished call, and a list item moves only status and times."""
    for name, value in fields.items():
        if metadata_only and name not in _METADATA_FIELDS:
            continue
        if name == "status" and interaction.status in FINAL and value not in FINAL:
            continue
        if name == "ended_at" and value is None:
            continue
        if name == "assigned_agent" and (
            interaction.queued_at is not None or interaction.assigned_at is not None
        ):
            continue  # in a queue or with a person: the voice agent's name no longer applies
        setattr(interaction, name, value)


def call_events(
    event: CallEvent,
    interaction: Interaction,
    *,
    created: bool,
    before: dict[str, Any],
    payload: Any,
    source: str,
) -> list[Event]:
    """The timeline of applying a conversation to its call (`before`: the call's fields before,
    when it was not `created`)."""
    key = f"elevenlabs:{event.conversation_id}"
    normalized = {
        "conversationId": event.conversation_id,
        "status": interaction.status.value,
        "outcome": interaction.outcome.value if interaction.outcome else None,
        "durationSecs": event.duration_secs,
        "source": source,
    }
    events = []
    if created:
        events.append(
            Event(
                EventType.INTERACTION_CREATED,
                f"{key}:created",
                normalized=normalized,
                payload=payload,
                provider_event_id=event.conversation_id,
                occurred_at=interaction.started_at,
            )
        )
    elif before["status"] != interaction.status:
        events.append(
            Event(
                EventType.STATUS_CHANGED,
                f"{key}:status:{interaction.status.value}",
                normalized={
                    "from": before["status"].value,
                    "to": interaction.status.value,
                    "source": source,
                },
            )
        )
    if interaction.assigned_agent and (
        created or before["assigned_agent"] != interaction.assigned_agent
    ):
        events.append(
            Event(
                EventType.AGENT_ASSIGNED,
                f"{key}:agent:{interaction.assigned_agent}",
                normalized={"assignedAgent": interaction.assigned_agent, "source": source},
            )
        )
    if event.transcript:
        events.append(
            Event(
                EventType.CALL_TRANSCRIPT,
                f"{key}:transcript",
                normalized={"turns": len(event.transcript), "summary": event.summary},
                payload=payload if not created else None,
            )
        )
    if interaction.status is InteractionStatus.COMPLETED:
        events.append(
            Event(
                EventType.INTERACTION_COMPLETED,
                f"{key}:completed",
                normalized={"outcome": normalized["outcome"]},
                occurred_at=interaction.ended_at,
            )
        )
    return events


# The placeholders of what a recording must not be heard for: a card number, a security code.
_CARD_OR_CODE = ("[TARJETA ", "[CÓDIGO]")


def holds_card_or_code(texts: Iterable[str | None]) -> bool:
    """Whether a redacted text holds the placeholder of a card number or a security code."""
    return any(
        found.group(0).startswith(_CARD_OR_CODE)
        for text in texts
        if text
        for found in PLACEHOLDER.finditer(text)
    )


def redact_call(redactor: Redactor, event: CallEvent, where: str = "conversation") -> CallEvent:
    """A conversation fetched from the provider (not through a webhook) with its sensitive data
    replaced: its JSON (`raw`) is redacted, and every text the event read from it is the
    redacted one (the same strings, so each redaction is counted once)."""
    raw = redactor.json(event.raw, where)
    if raw is event.raw:
        return event
    strings: dict[str, str] = {}
    objects: dict[int, Any] = {}
    _pair(event.raw, raw, strings, objects)

    def same(value: Any) -> Any:
        if isinstance(value, str):
            return strings.get(value, value)
        if isinstance(value, dict | list):
            found = objects.get(id(value))
            if found is not None:
                return found
            if isinstance(value, dict):
                return {key: same(item) for key, item in value.items()}
            return [same(item) for item in value]
        return value

    return replace(
        event,
        raw=raw,
        transcript=[replace(turn, message=same(turn.message)) for turn in event.transcript],
        summary=same(event.summary),
        analysis=same(event.analysis),
        data_collection=same(event.data_collection),
        evaluation=same(event.evaluation),
        dynamic_variables=same(event.dynamic_variables),
    )


def _pair(before: Any, after: Any, strings: dict[str, str], objects: dict[int, Any]) -> None:
    """What redaction turned each changed string and object of a JSON value into."""
    if before is after:
        return
    if isinstance(before, str) and isinstance(after, str):
        strings[before] = after
    elif isinstance(before, dict) and isinstance(after, dict):
        objects[id(before)] = after
        for key, item in before.items():
            _pair(item, after.get(key), strings, objects)
    elif isinstance(before, list) and isinstance(after, list):
        objects[id(before)] = after
        for item, redacted in zip(before, after, strict=False):
            _pair(item, redacted, strings, objects)


def fill_detail(
    detail: CallDetail, event: CallEvent, *, metadata_only: bool, now: datetime
) -> bool:
    """The call's detail from a conversation read at `now`: all of it, or from a list item
    (`metadata_only`) what a list item says. True when the transcript, summary, duration or
    audio changed."""
    before = (detail.transcript, detail.summary, detail.duration_secs, detail.has_audio)
    if metadata_only:
        detail.duration_secs = event.duration_secs or detail.duration_secs
        detail.summary = detail.summary or event.summary
        detail.call_successful = detail.call_successful or event.call_successful
    else:
        detail.transcript = [
            {"role": t.role, "message": t.message, "time_in_call_secs": t.time_in_call_secs}
            for t in event.transcript
        ]
        detail.summary = event.summary
        detail.duration_secs = event.duration_secs
        detail.hangup_reason = event.termination_reason
        detail.call_successful = event.call_successful
        detail.analysis = event.analysis
    detail.has_audio = detail.has_audio or event.has_audio
    # Whoever said a card number or a security code said it in the recording too.
    detail.sensitive_audio = bool(detail.sensitive_audio) or holds_card_or_code(
        [detail.summary, *(turn.get("message") for turn in detail.transcript or [])]
    )
    detail.recording_url = (
        audio_url(event.conversation_id) if detail.has_audio else detail.recording_url
    )
    detail.fetched_at = now
    return before != (detail.transcript, detail.summary, detail.duration_secs, detail.has_audio)


async def apply_call(
    session: AsyncSession,
    settings: Settings,
    event: CallEvent,
    *,
    payload: Any,
    source: str,
    metadata_only: bool = False,
) -> CallResult:
    """Create or update the call and its detail from a conversation; idempotent.

    `metadata_only`: the event comes from a list item (no transcript, no numbers); it creates a
    missing call but only moves status and times of one we hold.
    """
    fields = call_fields(event, settings, transcript_known=not metadata_only, now=utcnow())
    interaction, created = await _interaction(session, event.conversation_id, fields)
    before = {name: getattr(interaction, name) for name in fields}
    if not created:
        update_call(interaction, fields, metadata_only=metadata_only)
        if interaction.assigned_agent and before["assigned_agent"] != interaction.assigned_agent:
            also_heard_by(
                session.info, interaction.id, before["assigned_agent"], interaction.team_id
            )
    changed = created or before != {name: getattr(interaction, name) for name in fields}
    detail = await _detail(session, interaction)
    changed = fill_detail(detail, event, metadata_only=metadata_only, now=utcnow()) or changed
    events = call_events(
        event, interaction, created=created, before=before, payload=payload, source=source
    )
    events += queued_for_a_person(
        interaction,
        before_outcome=None if created else before["outcome"],
        voice_agent=event.agent_name or event.agent_id,
    )
    await record_all(session, interaction, events)
    await session.flush()
    if interaction.outcome is Outcome.TICKETED:
        # The AI agent opened a ticket: a complaint draft a person confirms (once per call).
        ticket = event.data_collection.get("ticket_id")
        await draft_from_call(
            session,
            settings,
            interaction,
            summary=detail.summary,
            ticket=None if ticket in (None, "", False) else _label(ticket),
        )
    return CallResult(interaction=interaction, created=created, changed=changed)


def queued_for_a_person(
    interaction: Interaction, *, before_outcome: Outcome | None, voice_agent: str | None
) -> list[Event]:
    """A call whose outcome just became ESCALATED or TRANSFERRED and that no person holds (no
    agent, or only the voice agent that took it; a transfer to a named person is held) enters
    the queue (once: a later report of the same outcome does not put it back)."""
    if (
        interaction.outcome not in FOR_A_PERSON
        or before_outcome in FOR_A_PERSON
        or interaction.assigned_agent not in (None, voice_agent)
        or interaction.queued_at is not None
        or interaction.assigned_at is not None
    ):
        return []
    now = utcnow()
    enter_queue(interaction, now)
    # The caller waits for a person from now on (docs/inbox.md).
    interaction.waiting_since = interaction.queued_at
    assert interaction.outcome is not None
    return [
        Event(
            EventType.CONVERSATION_QUEUED,
            f"call:{interaction.id}:queued",
            normalized={"reason": interaction.outcome.value.lower()},
            occurred_at=now,
        )
    ]


def audio_kept(detail: CallDetail, conversation_id: str, *, size: int, digest: str) -> Event:
    """A recording kept in the store: the call has audio, played from our own URL."""
    detail.has_audio = True
    detail.recording_url = audio_url(conversation_id)
    return Event(
        EventType.CALL_AUDIO,
        f"elevenlabs:{conversation_id}:audio",
        normalized={"bytes": size, "sha256": digest},
    )


async def apply_audio(
    session: AsyncSession, store: RecordingStore, event: CallAudioEvent
) -> CallResult:
    """Keep the recording in the file store and mark the call as having audio."""
    digest = await store.save(event.conversation_id, event.audio)
    interaction, created = await _interaction(session, event.conversation_id, {})
    if created:
        await record(
            session,
            interaction,
            Event(
                EventType.INTERACTION_CREATED,
                f"elevenlabs:{event.conversation_id}:created",
                normalized={"conversationId": event.conversation_id, "source": "audio"},
            ),
        )
    detail = await _detail(session, interaction)
    await record(
        session,
        interaction,
        audio_kept(detail, event.conversation_id, size=len(event.audio), digest=digest),
    )
    await session.flush()
    return CallResult(interaction=interaction, created=created, changed=True)


def initiation_failure_fields(
    event: CallInitiationFailureEvent, settings: Settings, *, now: datetime
) -> dict[str, Any]:
    """An outbound call that never connected: FAILED, ended when it started."""
    region = settings.default_phone_region
    customer = normalize_possible(event.customer_number, region) if event.customer_number else None
    agent = normalize_possible(event.agent_number, region) if event.agent_number else None
    started = event.event_timestamp or now
    return {
        "direction": Direction.OUTBOUND,
        "status": InteractionStatus.FAILED,
        "started_at": started,
        "ended_at": started,
        "from_number": agent or event.agent_number,
        "to_number": customer or event.customer_number,
        "customer_phone": customer,
        "outcome": Outcome.UNKNOWN,
    }


def initiation_failed(
    interaction: Interaction,
    event: CallInitiationFailureEvent,
    fields: dict[str, Any],
    *,
    created: bool,
    payload: Any,
) -> list[Event]:
    """The call FAILED (a call we held ends when the failure says it started) and its events."""
    key = f"elevenlabs:{event.conversation_id}"
    previous = interaction.status
    if not created:
        interaction.status = InteractionStatus.FAILED
        interaction.ended_at = interaction.ended_at or fields["started_at"]
    normalized = {"conversationId": event.conversation_id, "failureReason": event.failure_reason}
    events = []
    if created:
        events.append(
            Event(
                EventType.INTERACTION_CREATED,
                f"{key}:created",
                normalized=normalized,
                payload=payload,
            )
        )
    events.append(
        Event(
            EventType.STATUS_CHANGED,
            f"{key}:status:FAILED",
            normalized={**normalized, "from": previous.value, "to": "FAILED"},
            payload=payload if not created else None,
        )
    )
    return events


async def apply_initiation_failure(
    session: AsyncSession, settings: Settings, event: CallInitiationFailureEvent, *, payload: Any
) -> CallResult:
    """An outbound call that never connected: a FAILED OUTBOUND call."""
    fields = initiation_failure_fields(event, settings, now=utcnow())
    interaction, created = await _interaction(session, event.conversation_id, fields)
    events = initiation_failed(interaction, event, fields, created=created, payload=payload)
    await record_all(session, interaction, events)
    await session.flush()
    return CallResult(interaction=interaction, created=created, changed=True)
