"""Calls: turn the voice agent's conversations into CALL interactions (docs/api.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.calls import repository
from contact_center.db.base import utcnow
from contact_center.interactions.service import record_event
from contact_center.live.bus import also_heard_by
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


def _fields(event: CallEvent, settings: Settings, *, transcript_known: bool) -> dict[str, Any]:
    outcome = call_outcome(event)
    data, dynamic = event.data_collection, event.dynamic_variables
    human = data.get("human_agent") or data.get("transferred_to") or dynamic.get("human_agent")
    agent_name = event.agent_name or event.agent_id
    from_number, to_number, customer = _numbers(event, settings.default_phone_region)
    started = event.started_at or event.event_timestamp or utcnow()
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


async def _interaction(
    session: AsyncSession, conversation_id: str, defaults: dict[str, Any]
) -> tuple[Interaction, bool]:
    """The CALL interaction of a conversation, created if missing (one even under concurrency)."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "channel": Channel.CALL,
        "provider": Provider.ELEVENLABS,
        "provider_conversation_id": conversation_id,
        "created_at": now,
        "updated_at": now,
        "direction": Direction.INBOUND,
        "status": InteractionStatus.IN_PROGRESS,
        "started_at": now,
        "ai_handled": True,
        **defaults,
    }
    created = await repository.insert_interaction(session, values)
    interaction = await repository.by_conversation(session, conversation_id)
    assert interaction is not None
    return interaction, created


# What a list item (metadata-only sync) may change on a call we already hold.
_METADATA_FIELDS = ("status", "started_at", "ended_at")


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
    fields = _fields(event, settings, transcript_known=not metadata_only)
    interaction, created = await _interaction(session, event.conversation_id, fields)
    key = f"elevenlabs:{event.conversation_id}"
    before = {name: getattr(interaction, name) for name in fields}
    if not created:
        for name, value in fields.items():
            if metadata_only and name not in _METADATA_FIELDS:
                continue
            if name == "status" and interaction.status in FINAL and value not in FINAL:
                continue  # a late "processing" never reopens a finished call
            if name == "ended_at" and value is None:
                continue
            setattr(interaction, name, value)
    changed = created or before != {name: getattr(interaction, name) for name in fields}
    normalized = {
        "conversationId": event.conversation_id,
        "status": interaction.status.value,
        "outcome": interaction.outcome.value if interaction.outcome else None,
        "durationSecs": event.duration_secs,
        "source": source,
    }
    if created:
        await record_event(
            session,
            interaction,
            EventType.INTERACTION_CREATED,
            idempotency_key=f"{key}:created",
            payload=payload,
            normalized=normalized,
            provider_event_id=event.conversation_id,
            occurred_at=interaction.started_at,
        )
    elif before["status"] != interaction.status:
        await record_event(
            session,
            interaction,
            EventType.STATUS_CHANGED,
            idempotency_key=f"{key}:status:{interaction.status.value}",
            normalized={
                "from": before["status"].value,
                "to": interaction.status.value,
                "source": source,
            },
        )
    if interaction.assigned_agent and (
        created or before["assigned_agent"] != interaction.assigned_agent
    ):
        if not created:
            also_heard_by(session.info, interaction.id, before["assigned_agent"])
        await record_event(
            session,
            interaction,
            EventType.AGENT_ASSIGNED,
            idempotency_key=f"{key}:agent:{interaction.assigned_agent}",
            normalized={"assignedAgent": interaction.assigned_agent, "source": source},
        )
    detail = await repository.call_detail(session, interaction.id)
    detail_before = (detail.transcript, detail.summary, detail.duration_secs, detail.has_audio)
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
    detail.recording_url = (
        audio_url(event.conversation_id) if detail.has_audio else detail.recording_url
    )
    detail.fetched_at = utcnow()
    changed = changed or detail_before != (
        detail.transcript,
        detail.summary,
        detail.duration_secs,
        detail.has_audio,
    )
    if event.transcript:
        await record_event(
            session,
            interaction,
            EventType.CALL_TRANSCRIPT,
            idempotency_key=f"{key}:transcript",
            payload=payload if not created else None,
            normalized={"turns": len(event.transcript), "summary": event.summary},
        )
    if interaction.status is InteractionStatus.COMPLETED:
        await record_event(
            session,
            interaction,
            EventType.INTERACTION_COMPLETED,
            idempotency_key=f"{key}:completed",
            normalized={"outcome": normalized["outcome"]},
            occurred_at=interaction.ended_at,
        )
    await session.flush()
    return CallResult(interaction=interaction, created=created, changed=changed)


async def apply_audio(
    session: AsyncSession, store: RecordingStore, event: CallAudioEvent
) -> CallResult:
    """Keep the recording in the file store and mark the call as having audio."""
    digest = await store.save(event.conversation_id, event.audio)
    interaction, created = await _interaction(session, event.conversation_id, {})
    key = f"elevenlabs:{event.conversation_id}"
    if created:
        await record_event(
            session,
            interaction,
            EventType.INTERACTION_CREATED,
            idempotency_key=f"{key}:created",
            normalized={"conversationId": event.conversation_id, "source": "audio"},
        )
    detail = await repository.call_detail(session, interaction.id)
    detail.has_audio = True
    detail.recording_url = audio_url(event.conversation_id)
    await record_event(
        session,
        interaction,
        EventType.CALL_AUDIO,
        idempotency_key=f"{key}:audio",
        normalized={"bytes": len(event.audio), "sha256": digest},
    )
    await session.flush()
    return CallResult(interaction=interaction, created=created, changed=True)


async def apply_initiation_failure(
    session: AsyncSession, settings: Settings, event: CallInitiationFailureEvent, *, payload: Any
) -> CallResult:
    """An outbound call that never connected: a FAILED OUTBOUND call."""
    region = settings.default_phone_region
    customer = normalize_possible(event.customer_number, region) if event.customer_number else None
    agent = normalize_possible(event.agent_number, region) if event.agent_number else None
    started = event.event_timestamp or utcnow()
    defaults = {
        "direction": Direction.OUTBOUND,
        "status": InteractionStatus.FAILED,
        "started_at": started,
        "ended_at": started,
        "from_number": agent or event.agent_number,
        "to_number": customer or event.customer_number,
        "customer_phone": customer,
        "outcome": Outcome.UNKNOWN,
    }
    interaction, created = await _interaction(session, event.conversation_id, defaults)
    key = f"elevenlabs:{event.conversation_id}"
    previous = interaction.status
    if not created:
        interaction.status = InteractionStatus.FAILED
        interaction.ended_at = interaction.ended_at or started
    normalized = {"conversationId": event.conversation_id, "failureReason": event.failure_reason}
    if created:
        await record_event(
            session,
            interaction,
            EventType.INTERACTION_CREATED,
            idempotency_key=f"{key}:created",
            payload=payload,
            normalized=normalized,
        )
    await record_event(
        session,
        interaction,
        EventType.STATUS_CHANGED,
        idempotency_key=f"{key}:status:FAILED",
        payload=payload if not created else None,
        normalized={**normalized, "from": previous.value, "to": "FAILED"},
    )
    await session.flush()
    return CallResult(interaction=interaction, created=created, changed=True)
