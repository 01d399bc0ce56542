"""The service-level job's work on one conversation (docs/service-levels.md): its clocks
recomputed from its history, its `conversation_sla` row written, and each warning or breach
fired once — the state moves by a conditional update, and only the transaction that moved it
(and wrote the event's idempotency key first) writes the event, the audit row and the policy's
action. The caller (service_levels.tasks) owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.interactions.queue import enter_queue
from contact_center.interactions.service import Event, record
from contact_center.live.bus import also_heard_by
from contact_center.models.enums import Direction, EventType, Priority, SlaAction, SlaState
from contact_center.models.interaction import Interaction
from contact_center.models.note import Notification
from contact_center.models.service_levels import SlaPolicy
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.service_levels import repository
from contact_center.service_levels.calendar import Calendars
from contact_center.service_levels.clocks import (
    CLOSED,
    TARGETS,
    Clock,
    History,
    best_policy,
    compute,
)

NOTIFICATION_KIND = "sla.breached"
STEPS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
TARGET_NAMES = {
    "first_response": "FIRST_RESPONSE",
    "next_response": "NEXT_RESPONSE",
    "resolution": "RESOLUTION",
}


@dataclass(frozen=True)
class Fired:
    interaction_id: uuid.UUID
    target: str
    state: SlaState
    action: SlaAction | None = None


async def history(session: AsyncSession, interaction: Interaction) -> History:
    messages = await repository.messages_of(session, interaction.id)
    events = await repository.clock_events(session, interaction.id)
    return History(
        interaction,
        [(direction, kind, at) for _, direction, kind, at in messages],
        events,
    )


async def keep(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    now: datetime,
    calendars: Calendars,
    policies: Sequence[SlaPolicy],
) -> list[Fired]:
    """Bring one conversation's clocks to `now`; what fired."""
    interaction = await repository.interaction(session, interaction_id, for_update=True)
    if interaction is None:
        return []
    policy = best_policy(policies, interaction)
    existing = await repository.clocks(session, interaction.id)
    if policy is None:
        # No policy (deleted, disabled, or none matches any more): the states stay as they
        # are (a breach is never erased) and stop moving.
        if existing is not None and existing.next_check_at is not None:
            await repository.update_clocks(
                session, interaction.id, {"next_check_at": None, "updated_at": now}
            )
        return []
    past = await history(session, interaction)
    if not any(direction is Direction.INBOUND for direction, _, _ in past.messages):
        # Only a conversation the customer wrote in is timed: a one-time code, a link or a
        # survey the bank sent on its own has no clocks (a row written before is removed).
        if existing is not None:
            await repository.delete_clocks(session, interaction.id)
        return []
    calendar = await calendars.of(interaction.team_id)
    clocks = compute(past, policy, calendar, now)
    if existing is None:
        await repository.create_clocks(
            session,
            {"interaction_id": interaction.id, "created_at": now, "updated_at": now},
        )
        existing = await repository.clocks(session, interaction.id)
        assert existing is not None
    previous_due = {t: getattr(existing, f"{t}_due_at") for t in TARGETS}
    previous_state = {t: getattr(existing, f"{t}_state") for t in TARGETS}
    values = clocks.values()
    fired: list[Fired] = []
    for target in TARGETS:
        current = clocks.clock(target)
        wanted = current.state if current else None
        if previous_state[target] is SlaState.BREACHED and await _same_clock(
            session, interaction.id, target, current
        ):
            # A breach stays a breach for its clock (the same customer message): a longer
            # target under another policy does not undo it, nor a policy without the target.
            values[f"{target}_due_at"] = previous_due[target]
            continue
        moved = await repository.move_state(
            session,
            interaction.id,
            target,
            wanted,
            previous_due[target]
            if wanted is not SlaState.RUNNING
            else (current.due_at if current else None),
            new_clock=previous_state[target] is SlaState.BREACHED,
        )
        if moved and current is not None and wanted in (SlaState.WARNING, SlaState.BREACHED):
            assert wanted is not None
            if await _fire(session, interaction, policy, current, wanted, now):
                fired.append(
                    Fired(
                        interaction.id,
                        target,
                        wanted,
                        policy.breach_action if wanted is SlaState.BREACHED else None,
                    )
                )
    await repository.update_clocks(session, interaction.id, {**values, "updated_at": now})
    return fired


def _breach_key(interaction_id: uuid.UUID, target: str, start: datetime) -> str:
    return f"sla:{interaction_id}:{target}:{start.isoformat()}:breached"


async def _same_clock(
    session: AsyncSession, interaction_id: uuid.UUID, target: str, current: Clock | None
) -> bool:
    """Whether the row's breach belongs to the clock computed now. The first response and the
    resolution have one clock a conversation (from the customer's first message); a next
    response starts anew with each customer message that waits, so the breach is of the
    current one when that clock's breach event (keyed by its start) exists."""
    if current is None or target != "next_response":
        return True
    return await repository.event_exists(
        session, _breach_key(interaction_id, target, current.start)
    )


async def _fire(
    session: AsyncSession,
    interaction: Interaction,
    policy: SlaPolicy,
    clock: Clock,
    state: SlaState,
    now: datetime,
) -> bool:
    """The event (once per target, clock start and state: its idempotency key), the audit
    row and, on a breach, the policy's action. False when another run wrote it already."""
    word = "warning" if state is SlaState.WARNING else "breached"
    kind = EventType.SLA_WARNING if state is SlaState.WARNING else EventType.SLA_BREACHED
    details = {
        "target": TARGET_NAMES[clock.target],
        "dueAt": clock.due_at.isoformat(),
        "policy": policy.name,
        "policyId": str(policy.id),
    }
    key = f"sla:{interaction.id}:{clock.target}:{clock.start.isoformat()}:{word}"
    if not await record(session, interaction, Event(kind, key, normalized=details)):
        return False
    await audit.record(
        session,
        SYSTEM_CONTEXT,
        f"sla.{word}",
        entity_type="interaction",
        entity_id=interaction.id,
        metadata=details,
    )
    if state is SlaState.BREACHED:
        await _act(session, interaction, policy, details, now)
    return True


async def _act(
    session: AsyncSession,
    interaction: Interaction,
    policy: SlaPolicy,
    details: dict[str, str],
    now: datetime,
) -> None:
    action = policy.breach_action
    if action is SlaAction.NOTIFY:
        supervisors = await repository.supervisors(session, interaction.team_id)
        await repository.add_notifications(
            session,
            [
                Notification(
                    user_id=user_id,
                    kind=NOTIFICATION_KIND,
                    interaction_id=interaction.id,
                    actor="system",
                    created_at=utcnow(),
                )
                for user_id in supervisors
            ],
        )
        return
    if interaction.status in CLOSED:
        return  # a closed conversation is neither raised nor requeued
    if action is SlaAction.RAISE_PRIORITY:
        previous = interaction.priority
        if previous is Priority.URGENT:
            return
        interaction.priority = STEPS[STEPS.index(previous) + 1]
        change = {"from": previous.value, "to": interaction.priority.value, "by": "sla"}
        await _workflow_event(session, interaction, EventType.PRIORITY_CHANGED, "priority", change)
    elif action is SlaAction.REQUEUE:
        previous_agent, previous_team = interaction.assigned_agent, interaction.team_id
        if previous_agent is None:
            return  # waiting in its queue already
        enter_queue(interaction, now)
        also_heard_by(session.info, interaction.id, previous_agent, previous_team)
        await _workflow_event(
            session,
            interaction,
            EventType.AGENT_UNASSIGNED,
            "unassign",
            {"from": previous_agent, "by": "sla"},
        )


async def _workflow_event(
    session: AsyncSession,
    interaction: Interaction,
    kind: EventType,
    action: str,
    normalized: dict[str, str],
) -> None:
    """The workflow's event and audit row for a change the service-level job made."""
    await record(
        session,
        interaction,
        Event(
            kind,
            f"sla:{action}:{interaction.id}:{uuid.uuid4().hex}",
            normalized={**normalized, "actor": "system"},
        ),
    )
    await audit.record(
        session,
        SYSTEM_CONTEXT,
        f"interaction.{action}",
        entity_type="interaction",
        entity_id=interaction.id,
        metadata=normalized,
    )
    await session.flush()
