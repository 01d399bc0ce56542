"""A conversation's clocks, computed from its history (docs/service-levels.md, "Service-level
policies"): pure functions of the conversation's messages and events, the policy, the calendar
and `now`, so the job recomputes the same answer however often (and however late) it looks.

What is a person's reply: an OUTBOUND message queued through the API or the console by a
person — its `message.queued` event says `"person": true` (messaging.outbound writes it). A
bot's message (stored from the provider, never queued), an echo of our own send, and anything
queued by the system (one-time codes, links, surveys: `"person": false`) is not a reply. Events
written before that flag existed count when the message is plain TEXT.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contact_center.business_time import BusinessCalendar
from contact_center.models.enums import (
    Direction,
    EventType,
    InteractionStatus,
    MessageKind,
    SlaState,
)
from contact_center.models.interaction import Interaction
from contact_center.models.service_levels import SlaPolicy

WARNING_SHARE = 0.8
CLOSED = frozenset(
    {InteractionStatus.COMPLETED, InteractionStatus.ABANDONED, InteractionStatus.FAILED}
)
TARGETS = ("first_response", "next_response", "resolution")

Pause = tuple[datetime, datetime | None]  # (start, end); end None: still paused


@dataclass(frozen=True)
class History:
    """What the clocks read of one conversation."""

    interaction: Interaction
    # (direction, kind, created_at), oldest first.
    messages: Sequence[tuple[Direction, MessageKind, datetime]]
    # (type, occurred_at, normalized), oldest first: message.queued and the workflow's
    # snooze, wake, resolve and reopen.
    events: Sequence[tuple[str, datetime, Any]]


@dataclass(frozen=True)
class Clock:
    """One target's clock: when it started, its due time, and where it stands."""

    target: str
    start: datetime
    due_at: datetime
    state: SlaState | None
    ended_at: datetime | None = None
    # When the job must look again (the warning, then the due time); None: nothing to wait for.
    next_check: datetime | None = None


@dataclass
class Clocks:
    """A conversation's row as the clocks compute it."""

    policy_id: uuid.UUID | None
    first_response: Clock | None = None
    next_response: Clock | None = None
    resolution: Clock | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    next_responses: int = 0
    next_responses_met: int = 0
    paused_secs: int = 0
    paused_since: datetime | None = None
    next_check_at: datetime | None = None
    finished: list[Clock] = field(default_factory=list)

    def clock(self, target: str) -> Clock | None:
        found: Clock | None = getattr(self, target)
        return found

    def values(self) -> dict[str, Any]:
        """The conversation_sla columns (but the states, which move by conditional updates)."""
        values: dict[str, Any] = {
            "policy_id": self.policy_id,
            "first_response_at": self.first_response_at,
            "resolved_at": self.resolved_at,
            "next_responses": self.next_responses,
            "next_responses_met": self.next_responses_met,
            "paused_secs": self.paused_secs,
            "paused_since": self.paused_since,
            "next_check_at": self.next_check_at,
        }
        for target in TARGETS:
            clock = self.clock(target)
            values[f"{target}_due_at"] = clock.due_at if clock else None
        return values


# --- matching -------------------------------------------------------------------------------


def specificity(policy: SlaPolicy) -> int:
    return sum(x is not None for x in (policy.team_id, policy.channel, policy.priority))


def matches(policy: SlaPolicy, interaction: Interaction) -> bool:
    return (
        policy.enabled
        and (policy.team_id is None or policy.team_id == interaction.team_id)
        and (policy.channel is None or policy.channel == interaction.channel)
        and (policy.priority is None or policy.priority == interaction.priority)
    )


def best_policy(policies: Sequence[SlaPolicy], interaction: Interaction) -> SlaPolicy | None:
    """The most specific enabled policy that matches, then the lowest position, then the name."""
    found = [p for p in policies if matches(p, interaction)]
    if not found:
        return None
    return min(found, key=lambda p: (-specificity(p), p.position, p.name))


# --- history → moments ----------------------------------------------------------------------


def is_person_reply(normalized: Any) -> bool:
    if not isinstance(normalized, dict):
        return False
    person = normalized.get("person")
    if isinstance(person, bool):
        return person
    return bool(normalized.get("kind", MessageKind.TEXT.value) == MessageKind.TEXT.value)


def replies(history: History) -> list[datetime]:
    return [
        at
        for kind, at, normalized in history.events
        if kind == EventType.MESSAGE_QUEUED.value and is_person_reply(normalized)
    ]


def inbound(history: History) -> list[datetime]:
    return [at for d, _, at in history.messages if d is Direction.INBOUND]


def _parse(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def snoozes(history: History, now: datetime) -> list[Pause]:
    """The conversation's snoozes, from its events; the current one (still snoozed) open."""
    found: list[Pause] = []
    current: tuple[datetime, datetime] | None = None
    for kind, at, normalized in history.events:
        if current is not None and kind in (
            EventType.CONVERSATION_SNOOZED.value,
            EventType.CONVERSATION_WOKE.value,
            EventType.CONVERSATION_RESOLVED.value,
        ):
            found.append((current[0], min(current[1], at)))
            current = None
        if kind == EventType.CONVERSATION_SNOOZED.value:
            until = _parse(normalized.get("until") if isinstance(normalized, dict) else None)
            if until is not None and until > at:
                current = (at, until)
    if current is not None:
        snoozed = history.interaction.snoozed_until
        if snoozed is not None and snoozed > now:
            found.append((current[0], None))
        else:
            found.append((current[0], min(current[1], now)))
    return found


def closed_spells(history: History) -> list[Pause]:
    """Resolved, then reopened: the clocks stood still in between."""
    found: list[Pause] = []
    since: datetime | None = None
    for kind, at, _ in history.events:
        if kind == EventType.CONVERSATION_RESOLVED.value and since is None:
            since = at
        elif kind == EventType.CONVERSATION_REOPENED.value and since is not None:
            found.append((since, at))
            since = None
    return found


def waiting_on_customer(history: History, answers: Sequence[datetime]) -> list[Pause]:
    """From a person's reply until the customer writes again. A bot's message or one the
    system queued (a code, a link, a survey) pauses nothing, and a conversation waiting in a
    queue (`queued_at` set) is never paused: an open pause ends when it entered the queue."""
    found: list[Pause] = []
    since: datetime | None = None
    moments = sorted(
        [(at, 1) for at in answers] + [(at, 0) for at in inbound(history)],
        key=lambda m: m,
    )
    for at, is_reply in moments:
        if is_reply and since is None:
            since = at
        elif not is_reply and since is not None:
            found.append((since, at))
            since = None
    if since is not None:
        queued = history.interaction.queued_at
        if queued is None:
            found.append((since, None))
        elif queued > since:
            found.append((since, queued))
    return found


def merged(pauses: Sequence[Pause]) -> list[Pause]:
    result: list[Pause] = []
    for start, end in sorted(pauses, key=lambda p: p[0]):
        if result:
            last_start, last_end = result[-1]
            if last_end is None:
                continue
            if start <= last_end:
                result[-1] = (last_start, None if end is None else max(end, last_end))
                continue
        result.append((start, end))
    return result


def consumed_at(
    calendar: BusinessCalendar, start: datetime, amount: timedelta, pauses: Sequence[Pause]
) -> datetime | None:
    """When `amount` of business time has run from `start`, the clock standing still during
    `pauses` (merged, in order); None when an open pause stops it before."""
    cursor, remaining = start, amount
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= cursor:
            continue
        begins = max(pause_start, cursor)
        candidate = calendar.add(cursor, remaining)
        if candidate <= begins:
            return candidate
        remaining -= calendar.elapsed(cursor, begins)
        if pause_end is None:
            return None
        cursor = pause_end
    return calendar.add(cursor, remaining)


def _closed(pauses: Sequence[Pause], now: datetime) -> list[Pause]:
    return [(s, now if e is None else e) for s, e in pauses]


def clock(
    target: str,
    calendar: BusinessCalendar,
    start: datetime,
    secs: int,
    pauses: Sequence[Pause],
    *,
    ended_at: datetime | None,
    closed_at: datetime | None,
    now: datetime,
) -> Clock:
    """One clock from `start` with a target of `secs` business seconds."""
    total = timedelta(seconds=secs)
    due = consumed_at(calendar, start, total, pauses)
    warn = consumed_at(calendar, start, timedelta(microseconds=secs * 800_000), pauses)
    shown = due if due is not None else consumed_at(calendar, start, total, _closed(pauses, now))
    assert shown is not None
    if ended_at is not None:
        state = SlaState.MET if due is None or ended_at <= due else SlaState.BREACHED
        return Clock(target, start, shown, state, ended_at)
    if closed_at is not None:
        breached = due is not None and due <= closed_at
        return Clock(target, start, shown, SlaState.BREACHED if breached else None)
    if due is not None and due <= now:
        return Clock(target, start, shown, SlaState.BREACHED)
    if warn is not None and warn <= now:
        return Clock(target, start, shown, SlaState.WARNING, next_check=due)
    return Clock(target, start, shown, SlaState.RUNNING, next_check=warn)


def compute(
    history: History, policy: SlaPolicy | None, calendar: BusinessCalendar, now: datetime
) -> Clocks:
    """The conversation's clocks under `policy` at `now`."""
    interaction = history.interaction
    result = Clocks(policy_id=policy.id if policy else None)
    closed_at = None
    if interaction.status in CLOSED:
        closed_at = interaction.ended_at or interaction.updated_at
    if interaction.status is InteractionStatus.COMPLETED:
        result.resolved_at = interaction.ended_at or interaction.updated_at
    answers = replies(history)
    customer = inbound(history)
    first_in = customer[0] if customer else None
    first_reply = next((r for r in answers if first_in is not None and r >= first_in), None)
    result.first_response_at = first_reply

    stood_still = [*snoozes(history, now), *closed_spells(history)]
    if policy is not None and policy.pause_while_waiting_on_customer:
        stood_still += waiting_on_customer(history, answers)
    pauses = merged(stood_still)
    if closed_at is None:
        ongoing = next((s for s, e in pauses if e is None), None)
        result.paused_since = ongoing
    started = interaction.started_at
    result.paused_secs = int(
        sum(
            (calendar.elapsed(max(s, started), e) for s, e in pauses if e is not None),
            timedelta(),
        ).total_seconds()
    )
    if policy is None:
        return result

    def make(target: str, start: datetime, secs: int, ended: datetime | None) -> Clock:
        return clock(
            target, calendar, start, secs, pauses, ended_at=ended, closed_at=closed_at, now=now
        )

    if policy.first_response_secs and first_in is not None:
        result.first_response = make(
            "first_response", first_in, policy.first_response_secs, first_reply
        )
    if policy.resolution_secs and first_in is not None:
        # From the customer's first message: what the bank sent before it is not a request.
        result.resolution = make("resolution", first_in, policy.resolution_secs, result.resolved_at)
    if policy.next_response_secs and first_reply is not None:
        last: Clock | None = None
        for start, ended in _episodes(customer, answers, first_reply):
            if closed_at is not None and start >= closed_at:
                break
            last = make("next_response", start, policy.next_response_secs, ended)
            if last.ended_at is not None or closed_at is not None:
                if last.state is not None:
                    result.next_responses += 1
                    result.next_responses_met += last.state is SlaState.MET
                result.finished.append(last)
        result.next_response = last
    running = (result.first_response, result.next_response, result.resolution)
    checks = [c.next_check for c in running if c is not None and c.next_check is not None]
    snoozed = interaction.snoozed_until
    if result.paused_since is not None and snoozed is not None and snoozed > now:
        checks.append(snoozed)  # the clocks run again when it wakes
    result.next_check_at = min(checks) if checks else None
    return result


def _episodes(
    customer: Sequence[datetime], answers: Sequence[datetime], first_reply: datetime
) -> list[tuple[datetime, datetime | None]]:
    """Each customer message that waits after the first reply, to the next person's reply."""
    found: list[tuple[datetime, datetime | None]] = []
    for at in customer:
        if at <= first_reply:
            continue
        if found and (found[-1][1] is None or at <= found[-1][1]):
            continue
        reply = next((r for r in answers if r >= at), None)
        found.append((at, reply))
    return found
