"""The router's rules (docs/workflow.md, "Routing"): which team's queue a waiting conversation
is in, which member takes it, when a snoozed one wakes and when an offline person's return to
the queues. Each function works in the caller's transaction (the sweep in routing.tasks owns
it) and writes, for every change, a timeline event, an audit row and (through the event) a live
notice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.interactions.queue import enter_queue, leave_queue
from contact_center.interactions.service import Event, new_event_rows, record
from contact_center.live.bus import also_heard_by
from contact_center.models.enums import Channel, EventType, RoutingMode
from contact_center.models.interaction import Interaction
from contact_center.models.team import RoutingRule
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.routing import repository
from contact_center.routing.repository import OPEN, Member

# Assignments per transaction at most: a team's lock is held for one batch, and a batch's
# writes go to the database together.
BATCH = 25
# Conversations a sweep gives a team, wakes or returns per transaction at most.
SWEEP_LIMIT = 500
BY = "routing"


@dataclass(frozen=True)
class Assignment:
    interaction_id: uuid.UUID
    agent: str
    team_id: uuid.UUID
    channel: Channel


# --- choosing a team ------------------------------------------------------------------------


def matches(rule: RoutingRule, interaction: Interaction) -> bool:
    """Every criterion the rule gives (not NULL) matches the conversation."""
    return (
        (rule.channel is None or rule.channel == interaction.channel)
        and (rule.intent is None or rule.intent == interaction.intent)
        and (rule.queue is None or rule.queue == interaction.queue)
    )


def team_for(
    rules: Sequence[RoutingRule], default: uuid.UUID | None, interaction: Interaction
) -> uuid.UUID | None:
    """The first rule (by position) that matches, else the default team, else none (the shared
    pool)."""
    for rule in rules:
        if matches(rule, interaction):
            return rule.team_id
    return default


async def choose_teams(session: AsyncSession, now: datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Waiting conversations without a team get one by the rules; how many did."""
    rules = await repository.rules(session)
    default = await repository.default_team(session)
    if not rules and default is None:
        return 0  # everything waits in the shared pool
    chosen = 0
    for interaction in await repository.waiting_without_team(session, now, limit):
        team_id = team_for(rules, default, interaction)
        if team_id is not None:
            interaction.team_id = team_id
            chosen += 1
    await session.flush()
    return chosen


# --- assigning ------------------------------------------------------------------------------


def _recency(member: Member) -> tuple[bool, datetime | None, str]:
    # Never assigned first, then the least recently assigned; the name breaks ties.
    at = member.last_assigned_at
    return (at is not None, at, member.username)


def pick(members: Sequence[Member], mode: RoutingMode, channel: Channel) -> Member | None:
    """The member who takes the next conversation of `channel`: among those below capacity in
    that channel, by the team's mode."""
    free = [m for m in members if m.load.get(channel, 0) < m.capacity[channel]]
    if not free:
        return None
    if mode is RoutingMode.LEAST_BUSY:
        return min(free, key=lambda m: (m.load.get(channel, 0), *_recency(m)))
    return min(free, key=_recency)


async def route_team(
    session: AsyncSession, team_id: uuid.UUID, now: datetime, *, batch: int = BATCH
) -> list[Assignment] | None:
    """Assign up to `batch` of the team's waiting conversations, in order (higher priority,
    then oldest), to its ONLINE members with room. None when another router holds the team.

    The team's row is locked, then its ONLINE members' rows in id order; their load is counted
    after those locks, so a member shared with a team another router is assigning right now is
    counted with that router's assignments (which committed before the lock was granted).
    """
    mode = await repository.lock_team(session, team_id)
    if mode is None:
        return None
    members = await repository.online_members(session, team_id)
    if not members:
        return []
    load = await repository.load(session, [m.username for m in members])
    for member in members:
        member.load = {ch: n for (agent, ch), n in load.items() if agent == member.username}
    # Only the channels someone has room for: waiting conversations of a full channel must not
    # hold back those behind them.
    channels = [ch for ch in Channel if any(m.load.get(ch, 0) < m.capacity[ch] for m in members)]
    if not channels:
        return []
    waiting = await repository.waiting_in_team(session, team_id, channels, now, batch)
    assignments: list[Assignment] = []
    assigned_at: dict[uuid.UUID, datetime] = {}
    event_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    taken: list[Interaction] = []
    for interaction in waiting:
        chosen = pick(members, RoutingMode(mode), interaction.channel)
        if chosen is None:
            continue  # nobody has room in this channel; a later one may be of another
        member = chosen
        # Each assignment of the batch a microsecond apart: round-robin order within the batch
        # is kept, and each event has its own key.
        at = now + timedelta(microseconds=len(assignments))
        member.load[interaction.channel] = member.load.get(interaction.channel, 0) + 1
        member.last_assigned_at = at
        assigned_at[member.user_id] = at
        events, audit_row = _assigned(session, interaction, member.username, team_id, at)
        event_rows += events
        audit_rows.append(audit_row)
        taken.append(interaction)
        assignments.append(
            Assignment(interaction.id, member.username, team_id, interaction.channel)
        )
    await repository.assign(session, taken)
    await repository.add_events(session, event_rows)
    await repository.add_audit_rows(session, audit_rows)
    await repository.members_assigned(session, team_id, assigned_at)
    return assignments


def _assigned(
    session: AsyncSession, interaction: Interaction, agent: str, team_id: uuid.UUID, at: datetime
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Assign and return the rows it writes: its timeline event (its live notice waits for the
    commit) and its audit row; a batch writes them together."""
    # Every agent heard of it while it waited unassigned: their pages drop it.
    also_heard_by(session.info, interaction.id, None, interaction.team_id)
    leave_queue(interaction, agent, at)
    events = new_event_rows(
        session,
        interaction,
        [
            Event(
                EventType.AGENT_ASSIGNED,
                f"routing:{interaction.id}:assigned:{at.isoformat()}",
                normalized={"from": None, "to": agent, "by": BY, "teamId": str(team_id)},
                occurred_at=at,
            )
        ],
    )
    audit_row = audit.row(
        SYSTEM_CONTEXT,
        "interaction.routed",
        entity_type="interaction",
        entity_id=interaction.id,
        metadata={"agent": agent, "teamId": str(team_id)},
    )
    return events, audit_row


# --- snoozed and offline ---------------------------------------------------------------------


def _waits_for_a_person(interaction: Interaction) -> bool:
    return interaction.assigned_agent is None and (
        interaction.status in OPEN or interaction.channel is Channel.CALL
    )


async def wake_snoozed(session: AsyncSession, now: datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Snoozed conversations whose time came wake: back in their queue if nobody has them."""
    woken = await repository.snooze_over(session, now, limit)
    for interaction in woken:
        until = interaction.snoozed_until
        interaction.snoozed_until = None
        if _waits_for_a_person(interaction) and interaction.queued_at is None:
            enter_queue(interaction, now)
        await record(
            session,
            interaction,
            Event(
                EventType.CONVERSATION_WOKE,
                f"routing:{interaction.id}:woke:{until.isoformat() if until else now.isoformat()}",
                normalized={"by": BY, "snoozedUntil": until.isoformat() if until else None},
                occurred_at=now,
            ),
        )
        await audit.record(
            session,
            SYSTEM_CONTEXT,
            "interaction.woke",
            entity_type="interaction",
            entity_id=interaction.id,
        )
    await session.flush()
    return len(woken)


async def requeue_offline(
    session: AsyncSession, now: datetime, grace_seconds: int, *, limit: int = SWEEP_LIMIT
) -> int:
    """Open conversations of people OFFLINE for longer than the grace period return to their
    queues."""
    returned = await repository.of_offline(session, now - timedelta(seconds=grace_seconds), limit)
    for interaction in returned:
        agent = interaction.assigned_agent
        also_heard_by(session.info, interaction.id, agent, interaction.team_id)
        enter_queue(interaction, now)
        await record(
            session,
            interaction,
            Event(
                EventType.AGENT_UNASSIGNED,
                f"routing:{interaction.id}:offline:{now.isoformat()}",
                normalized={"from": agent, "to": None, "by": BY, "reason": "offline"},
                occurred_at=now,
            ),
        )
        await audit.record(
            session,
            SYSTEM_CONTEXT,
            "interaction.unassigned",
            entity_type="interaction",
            entity_id=interaction.id,
            metadata={"agent": agent, "reason": "offline"},
        )
    await session.flush()
    return len(returned)


async def teams_waiting(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """The teams with a conversation waiting (what a sweep routes)."""
    return await repository.teams_waiting(session, now)
