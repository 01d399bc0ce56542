"""The clock job's work on one complaint (docs/complaints.md, "The clock job"): its warning,
its escalation to the responsable and its overdue flag, each fired once.

Each step moves the row by a conditional update (`… WHERE warned_at IS NULL`): of two runs that
race, the second waits on the first's row lock and then finds nothing to move. Only the
transaction that moved the row writes the step's event (keyed `<id>:<step>`, unique: a second
guard), its audit row, its notifications and its live notice. The caller (complaints.tasks)
owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.complaints import clock_repository as repository
from contact_center.live.bus import note, note_process
from contact_center.models.complaint import Complaint
from contact_center.models.note import Notification
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.service_levels.repository import add_notifications, supervisors

WARNED, ESCALATED, OVERDUE = "warned", "escalated", "overdue"
# What each step's notification is called (the console's list names it).
NOTIFICATION_KINDS = {
    WARNED: "complaint.warning",
    ESCALATED: "complaint.escalated",
    OVERDUE: "complaint.overdue",
}
ACTOR = "system"


@dataclass(frozen=True)
class Fired:
    complaint_id: uuid.UUID
    step: str


def event_key(complaint_id: uuid.UUID, step: str) -> str:
    """The idempotency key of a clock event: one per complaint and step."""
    return f"{complaint_id}:{step}"


async def fire(
    session: AsyncSession, complaint_id: uuid.UUID, now: datetime, responsable: str
) -> list[Fired]:
    """Fire what is due on one complaint at `now` (warning, escalation, overdue, in that
    order); what this transaction fired."""
    complaint = await repository.complaint(session, complaint_id)
    if complaint is None:
        return []
    # Read before the updates below change the row behind the ORM's back.
    case = _Case.of(complaint)
    fired: list[Fired] = []
    data: dict[str, Any]
    if await repository.mark_warned(session, case.id, now):
        data = {"warnAt": _iso(case.warn_at), "dueAt": _iso(case.due_at)}
        if await _record(session, case, WARNED, now, data, []):
            fired.append(Fired(case.id, WARNED))
    if await repository.mark_escalated(session, case.id, now, responsable):
        data = {
            "escalateAt": _iso(case.escalate_at),
            "dueAt": _iso(case.due_at),
            "from": case.status,
            "to": responsable,
            "automatic": True,
        }
        if await _record(session, case, ESCALATED, now, data, [responsable]):
            fired.append(Fired(case.id, ESCALATED))
    if await repository.mark_overdue(session, case.id, now):
        data = {"dueAt": _iso(case.due_at)}
        if await _record(session, case, OVERDUE, now, data, [responsable]):
            fired.append(Fired(case.id, OVERDUE))
    return fired


@dataclass(frozen=True)
class _Case:
    id: uuid.UUID
    number: str | None
    status: str
    owner: str | None
    team_id: uuid.UUID | None
    warn_at: datetime | None
    escalate_at: datetime | None
    due_at: datetime | None

    @classmethod
    def of(cls, row: Complaint) -> _Case:
        return cls(
            row.id,
            row.number,
            row.status.value,
            row.owner,
            row.team_id,
            row.warn_at,
            row.escalate_at,
            row.due_at,
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def _record(
    session: AsyncSession,
    case: _Case,
    step: str,
    now: datetime,
    data: dict[str, Any],
    also_notify: Sequence[str],
) -> bool:
    """The step's event, audit row, notifications and live notice; False when its event was
    written already (the step fired before)."""
    written = await repository.add_event(
        session,
        {
            "id": uuid.uuid4(),
            "complaint_id": case.id,
            "type": step,
            "key": event_key(case.id, step),
            "actor": ACTOR,
            "occurred_at": now,
            "data": data,
        },
    )
    if not written:
        return False
    await audit.record(
        session,
        SYSTEM_CONTEXT,
        f"complaint.{step}",
        entity_type="complaint",
        entity_id=case.id,
        metadata={"number": case.number, **data},
    )
    interactions = await repository.interactions_of(session, case.id)
    await _notify(session, case, step, now, also_notify, interactions)
    _notice(session, case, step, interactions)
    return True


async def _notify(
    session: AsyncSession,
    case: _Case,
    step: str,
    now: datetime,
    also: Sequence[str],
    interactions: Sequence[uuid.UUID],
) -> None:
    """A notification for the owner, the team's supervisors (every supervisor when the case
    has no team) and, from the escalation on, the responsable: each person once."""
    people = await repository.active_users(session, [case.owner or "", *also])
    people += await supervisors(session, case.team_id)
    seen: set[uuid.UUID] = set()
    rows = []
    for user_id in people:
        if user_id in seen:
            continue
        seen.add(user_id)
        rows.append(
            Notification(
                user_id=user_id,
                kind=NOTIFICATION_KINDS[step],
                # The conversation the complaint came from, for the console's link.
                interaction_id=interactions[0] if interactions else None,
                actor=ACTOR,
                created_at=now,
            )
        )
    if rows:
        await add_notifications(session, rows)


def _notice(
    session: AsyncSession, case: _Case, step: str, interactions: Sequence[uuid.UUID]
) -> None:
    """The live notice, published when the transaction commits: on each conversation the
    complaint concerns (heard by whoever sees the case: its owner, its team's queue), else for
    the processes only."""
    notice = {"type": f"complaint.{step}", "complaintId": str(case.id)}
    if not interactions:
        note_process(session.info, notice)
        return
    for interaction_id in interactions:
        note(
            session.info,
            {**notice, "interactionId": str(interaction_id)},
            assigned_agent=case.owner,
            team_id=case.team_id,
        )
