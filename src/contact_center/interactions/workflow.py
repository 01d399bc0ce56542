"""The lifecycle of a conversation (docs/workflow.md): assign, unassign, transfer, resolve,
reopen, snooze, unsnooze, priority and labels, and the reply that takes a conversation.

Each operation reads the conversation through the caller's scope with its row lock, checks
that its state allows the operation (else 409 `transition_not_allowed`, nothing written), and
writes one timeline event and one audit row (the live notice follows the event) in the
request's transaction. What the provider must be told (the WhatsApp bot paused or resumed) is
returned for the caller to enqueue after the commit: no provider call inside a request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, ValidationFailed
from contact_center.interactions import repository
from contact_center.interactions.queue import enter_queue, leave_queue
from contact_center.interactions.service import (
    Event,
    record,
    require_assignable,
    visible_interaction,
)
from contact_center.live.bus import also_heard_by
from contact_center.models.enums import (
    ActorType,
    Channel,
    EventType,
    InteractionStatus,
    Outcome,
    Priority,
)
from contact_center.models.interaction import Interaction
from contact_center.principal import AuditContext, Principal

BotAction = Literal["pause", "resume"]

OPEN = frozenset({InteractionStatus.NEW, InteractionStatus.IN_PROGRESS})
REOPENABLE = frozenset({InteractionStatus.COMPLETED, InteractionStatus.ABANDONED})
MAX_SNOOZE = timedelta(days=90)
MAX_LABELS = 20
RESOLUTION_CODE = re.compile(r"^[a-z0-9_-]{1,64}$")
LABEL = re.compile(r"^[a-z0-9 _\-áéíóúñü]{1,50}$")


# --- the WhatsApp bot (the decision; messaging's job tells the provider) ---------------------


def bot_paused(event_types: Iterable[str]) -> bool:
    """Whether a person holds the conversation: its latest bot event (oldest first) is a pause."""
    latest = None
    for kind in event_types:
        if kind in (EventType.BOT_PAUSED.value, EventType.BOT_RESUMED.value):
            latest = kind
    return latest == EventType.BOT_PAUSED.value


def bot_controlled(interaction: Interaction, action: BotAction, actor: str, now: datetime) -> Event:
    """A person takes the conversation from the bot (pause) or hands it back (resume)."""
    kind = EventType.BOT_PAUSED if action == "pause" else EventType.BOT_RESUMED
    interaction.ai_handled = action == "resume"
    return Event(kind, f"bot:{interaction.id}:{action}:{now.isoformat()}", normalized={"by": actor})


def has_bot(interaction: Interaction) -> bool:
    return interaction.channel is Channel.WHATSAPP and bool(interaction.customer_phone)


async def _control_bot(
    session: AsyncSession,
    context: AuditContext,
    interaction: Interaction,
    action: BotAction,
    now: datetime,
) -> BotAction | None:
    """Pause or resume the bot unless it is so already; what the provider must be told."""
    if not has_bot(interaction):
        return None
    paused = await repository.latest_bot_event(session, interaction.id) == "bot.paused"
    if paused == (action == "pause"):
        return None
    await record(
        session, interaction, bot_controlled(interaction, action, context.principal.actor_id, now)
    )
    await audit.record(
        session,
        context,
        "whatsapp.bot.paused" if action == "pause" else "whatsapp.bot.resumed",
        entity_type="interaction",
        entity_id=interaction.id,
    )
    return action


# --- input rules ----------------------------------------------------------------------------


def _invalid(field_name: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field_name, "message": message}])


def resolution_code(raw: str) -> str:
    code = raw.strip().lower()
    if not RESOLUTION_CODE.match(code):
        raise _invalid(
            "body.resolutionCode", "1 to 64 characters: letters, digits, '_' and '-' only."
        )
    return code


def labels(raw: Sequence[str]) -> list[str]:
    """Lower-case, trimmed, each once, alphabetically."""
    if len(raw) > MAX_LABELS:
        raise _invalid("body.labels", f"At most {MAX_LABELS} labels.")
    found: set[str] = set()
    for index, item in enumerate(raw):
        label = " ".join(item.split()).lower()
        if not LABEL.match(label):
            raise _invalid(
                f"body.labels.{index}",
                "1 to 50 characters: letters, digits, spaces, '_' and '-' only.",
            )
        found.add(label)
    return sorted(found)


def snooze_until(until: datetime, now: datetime) -> datetime:
    if until.tzinfo is None:
        raise _invalid("body.until", "A timestamp with its time zone (e.g. ending in Z).")
    if until <= now:
        raise _invalid("body.until", "Must be in the future.")
    if until > now + MAX_SNOOZE:
        raise _invalid("body.until", "At most 90 days ahead.")
    return until


async def require_user(session: AsyncSession, username: str, field_name: str) -> str:
    """An existing active user's username (422 `unknown_user` otherwise)."""
    name = username.strip().lower()
    if not name or not await repository.active_user_exists(session, name):
        raise _invalid(field_name, f"No active user named {username!r}.", "unknown_user")
    return name


def _not_allowed(message: str) -> Conflict:
    return Conflict(message, code="transition_not_allowed")


def _require_open(interaction: Interaction, operation: str) -> None:
    if interaction.status not in OPEN:
        raise _not_allowed(
            f"Only an open conversation (NEW or IN_PROGRESS) can be {operation}; "
            f"this one is {interaction.status.value}."
        )


# --- the operations ---------------------------------------------------------------------------


@dataclass
class Done:
    """What an operation did: the conversation, and what the provider must be told."""

    interaction: Interaction
    bot: BotAction | None = None
    changed: bool = True


async def _write(
    session: AsyncSession,
    context: AuditContext,
    interaction: Interaction,
    kind: EventType,
    action: str,
    normalized: dict[str, Any],
    *,
    previous_agent: str | None = None,
    previous_team: uuid.UUID | None = None,
) -> None:
    """The operation's event (and its live notice, heard too by the agent it was taken from)
    and its audit row."""
    # Whoever held it before (an agent, or a team's queue) hears that it left them.
    if (previous_agent, previous_team) != (interaction.assigned_agent, interaction.team_id):
        also_heard_by(session.info, interaction.id, previous_agent, previous_team)
    await record(
        session,
        interaction,
        Event(
            kind,
            f"workflow:{action}:{interaction.id}:{uuid.uuid4().hex}",
            normalized={**normalized, "actor": context.principal.actor_id},
        ),
    )
    await audit.record(
        session,
        context,
        f"interaction.{action}",
        entity_type="interaction",
        entity_id=interaction.id,
        metadata=normalized,
    )
    await session.flush()


async def _locked(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID
) -> Interaction:
    return await visible_interaction(session, interaction_id, context.principal, for_update=True)


async def assign(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID, agent: str
) -> Done:
    """Assign an open conversation to a user (an agent: to themselves only)."""
    require_assignable(context.principal, agent.strip().lower())
    interaction = await _locked(session, context, interaction_id)
    _require_open(interaction, "assigned")
    name = await require_user(session, agent, "body.agent")
    return await _assign(session, context, interaction, name, by="assign")


async def _assign(
    session: AsyncSession, context: AuditContext, interaction: Interaction, name: str, *, by: str
) -> Done:
    previous, previous_team = interaction.assigned_agent, interaction.team_id
    if previous == name:
        return Done(interaction, changed=False)
    leave_queue(interaction, name, utcnow())
    await _write(
        session,
        context,
        interaction,
        EventType.AGENT_ASSIGNED,
        "assign",
        {"field": "assignedAgent", "from": previous, "to": name, "by": by},
        previous_agent=previous,
        previous_team=previous_team,
    )
    return Done(interaction)


async def unassign(session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID) -> Done:
    """Back to its team's queue (an agent unassigns their own work only: they see no other)."""
    interaction = await _locked(session, context, interaction_id)
    _require_open(interaction, "unassigned")
    previous, previous_team = interaction.assigned_agent, interaction.team_id
    if previous is None:
        raise _not_allowed("This conversation is not assigned to anyone.")
    enter_queue(interaction, utcnow())
    await _write(
        session,
        context,
        interaction,
        EventType.AGENT_UNASSIGNED,
        "unassign",
        {"from": previous},
        previous_agent=previous,
        previous_team=previous_team,
    )
    return Done(interaction)


async def transfer(
    session: AsyncSession,
    context: AuditContext,
    interaction_id: uuid.UUID,
    *,
    agent: str | None,
    team_id: uuid.UUID | None,
) -> Done:
    """To a person (assigned to them) or to a team (waiting in its queue)."""
    if (agent is None) == (team_id is None):
        raise _invalid("body", "Give exactly one of agent or teamId.")
    if agent is not None:
        require_assignable(context.principal, agent.strip().lower())
    interaction = await _locked(session, context, interaction_id)
    _require_open(interaction, "transferred")
    previous, previous_team = interaction.assigned_agent, interaction.team_id
    now = utcnow()
    if agent is not None:
        name = await require_user(session, agent, "body.agent")
        leave_queue(interaction, name, now)
        target: dict[str, Any] = {"toAgent": name}
    else:
        assert team_id is not None
        if not await repository.team_exists(session, team_id):
            raise _invalid("body.teamId", f"No team with id {team_id}.", "unknown_team")
        enter_queue(interaction, now, team_id)
        target = {"toTeam": str(team_id)}
    await _write(
        session,
        context,
        interaction,
        EventType.CONVERSATION_TRANSFERRED,
        "transfer",
        {"fromAgent": previous, **target},
        previous_agent=previous,
        previous_team=previous_team,
    )
    return Done(interaction)


async def resolve(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID, code: str
) -> Done:
    """COMPLETED with outcome RESOLVED; it leaves any queue, and a paused bot resumes."""
    code = resolution_code(code)
    interaction = await _locked(session, context, interaction_id)
    _require_open(interaction, "resolved")
    now = utcnow()
    previous = interaction.status
    interaction.status = InteractionStatus.COMPLETED
    interaction.outcome = Outcome.RESOLVED
    interaction.ended_at = now
    interaction.resolution_code = code
    interaction.queued_at = None
    interaction.snoozed_until = None
    # A person closed it: whatever the customer writes next starts a new wait.
    interaction.waiting_since = None
    await _write(
        session,
        context,
        interaction,
        EventType.CONVERSATION_RESOLVED,
        "resolve",
        {"resolutionCode": code, "from": previous.value},
    )
    bot = await _control_bot(session, context, interaction, "resume", now)
    return Done(interaction, bot=bot)


async def reopen(session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID) -> Done:
    """IN_PROGRESS again; with nobody assigned it waits in its queue."""
    interaction = await _locked(session, context, interaction_id)
    if interaction.status not in REOPENABLE:
        raise _not_allowed(
            "Only a resolved conversation (COMPLETED or ABANDONED) can be reopened; "
            f"this one is {interaction.status.value}."
        )
    now = utcnow()
    previous = interaction.status
    interaction.status = InteractionStatus.IN_PROGRESS
    interaction.ended_at = None
    interaction.resolution_code = None
    interaction.outcome = None
    if interaction.assigned_agent is None:
        enter_queue(interaction, now)
    await _write(
        session,
        context,
        interaction,
        EventType.CONVERSATION_REOPENED,
        "reopen",
        {"from": previous.value},
    )
    return Done(interaction)


async def snooze(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID, until: datetime
) -> Done:
    """Hidden from the queue until `until`; the router wakes it then."""
    until = snooze_until(until, utcnow())
    interaction = await _locked(session, context, interaction_id)
    _require_open(interaction, "snoozed")
    previous = interaction.snoozed_until
    interaction.snoozed_until = until
    await _write(
        session,
        context,
        interaction,
        EventType.CONVERSATION_SNOOZED,
        "snooze",
        {"until": until.isoformat(), "from": previous.isoformat() if previous else None},
    )
    return Done(interaction)


async def unsnooze(session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID) -> Done:
    interaction = await _locked(session, context, interaction_id)
    if interaction.snoozed_until is None:
        raise _not_allowed("This conversation is not snoozed.")
    previous = interaction.snoozed_until
    interaction.snoozed_until = None
    await _write(
        session,
        context,
        interaction,
        EventType.CONVERSATION_WOKE,
        "unsnooze",
        {"snoozedUntil": previous.isoformat(), "by": "person"},
    )
    return Done(interaction)


async def set_priority(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID, priority: Priority
) -> Done:
    interaction = await _locked(session, context, interaction_id)
    previous = interaction.priority
    if previous == priority:
        return Done(interaction, changed=False)
    interaction.priority = priority
    await _write(
        session,
        context,
        interaction,
        EventType.PRIORITY_CHANGED,
        "priority",
        {"from": previous.value, "to": priority.value},
    )
    return Done(interaction)


async def set_labels(
    session: AsyncSession, context: AuditContext, interaction_id: uuid.UUID, raw: Sequence[str]
) -> Done:
    """Replace the conversation's labels."""
    wanted = labels(raw)
    interaction = await _locked(session, context, interaction_id)
    previous = (await repository.labels_for(session, [interaction.id]))[interaction.id]
    if previous == wanted:
        return Done(interaction, changed=False)
    await repository.replace_labels(session, interaction.id, wanted, utcnow())
    await _write(
        session,
        context,
        interaction,
        EventType.LABELS_CHANGED,
        "labels",
        {"from": previous, "to": wanted},
    )
    return Done(interaction)


# --- a person's reply takes the conversation ------------------------------------------------


def is_person(principal: Principal) -> bool:
    """A signed-in user (a console session or their API token), not a job or the system."""
    return principal.actor_type is ActorType.USER and principal.user_id is not None


async def taken_by_reply(
    session: AsyncSession, context: AuditContext, interaction: Interaction
) -> BotAction | None:
    """A person replied into `interaction` (already locked or just read in this transaction):
    unassigned, it becomes theirs; on WhatsApp the bot pauses. What the provider must be told.
    Sends by the system (codes, links, jobs) change nothing."""
    principal = context.principal
    if not is_person(principal) or interaction.status not in OPEN:
        return None
    if interaction.assigned_agent is None:
        await _assign(session, context, interaction, principal.actor_id, by="reply")
    return await _control_bot(session, context, interaction, "pause", utcnow())


# --- what the console offers --------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """Whom a conversation may go to: active people (username, display name) and teams."""

    people: list[tuple[str, str | None]]
    teams: list[tuple[uuid.UUID, str]]

    def team_name(self, team_id: uuid.UUID | None) -> str | None:
        return next((name for id, name in self.teams if id == team_id), None)


async def choices(session: AsyncSession) -> Choices:
    return Choices(await repository.active_people(session), await repository.teams(session))
