"""What one local day's conversations add up to: the rollup rows and histogram rows of the
day, computed from its source rows (docs/service-levels.md, "Rollups"). Pure: no SQL here."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contact_center.models.report import NO_TEAM
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.reports.buckets import bucket_of
from contact_center.reports.repository import COUNTERS, DayConversation, DayMessage

# The dimensions a rollup row is kept by (each row also carries its team).
DIMENSIONS = ("all", "hour", "agent", "channel", "intent", "handler")
# Percentiles are not asked per hour: the hour dimension keeps no histogram.
HISTOGRAM_DIMENSIONS = ("all", "agent", "channel", "intent", "handler")
# The conversation's handler when neither a person nor the AI handled it (e.g. abandoned).
NO_HANDLER = "NONE"
# The actor of what the system did (jobs, the bot): not a person.
SYSTEM_ACTOR = SYSTEM_CONTEXT.principal.actor_id

_INDEX = {name: i for i, name in enumerate(COUNTERS)}


def is_person_reply(message: DayMessage, survey_message: uuid.UUID | None) -> bool:
    """An outbound message a person queued (through the API or the console): our send job
    handles it (attempts made, or waiting for one). A bot's message arrives already sent with
    no attempt; a one-time code or a verification link is another kind; a survey is named by
    its csat_survey row."""
    return (
        message.direction == "OUTBOUND"
        and message.kind == "TEXT"
        and (message.attempts > 0 or message.status in ("QUEUED", "SENDING"))
        and message.id != survey_message
    )


def response_times(
    messages: Iterable[DayMessage], survey_message: uuid.UUID | None
) -> tuple[float | None, list[float]]:
    """The first response (the customer's first message → the first reply by a person after
    it) and each next response (a customer message after a reply, when none is pending → the
    next reply by a person), in seconds."""
    first: float | None = None
    following: list[float] = []
    first_in: datetime | None = None
    waiting_since: datetime | None = None
    for message in messages:
        if message.direction == "INBOUND":
            if first_in is None:
                first_in = waiting_since = message.created_at
            elif waiting_since is None and first is not None:
                waiting_since = message.created_at
        elif waiting_since is not None and is_person_reply(message, survey_message):
            secs = (message.created_at - waiting_since).total_seconds()
            if first is None:
                first = secs
            else:
                following.append(secs)
            waiting_since = None
    return first, following


def is_contact(c: DayConversation, messages: Sequence[DayMessage]) -> bool:
    """Whether the conversation is a contact (counted in a report; one-time codes' are left
    out by the query, as contact_center.outcomes leaves them out): a call, or a conversation
    with a message of the customer's or a TEXT message (a person's or the bot's), or with no
    message at all (nothing says the bank sent it on its own). A
    conversation of automated messages only — a verification or onboarding link, a card
    activation, a survey sent by SMS (kind CSAT, in a conversation of its own) — is the bank
    notifying, not a contact."""
    if c.channel == "CALL" or not messages:
        return True
    return any(m.direction == "INBOUND" or m.kind == "TEXT" for m in messages)


def is_resolved(c: DayConversation) -> bool:
    """Resolved as contact_center.outcomes decides it (`outcomes.repository.resolved`, read by
    the query): COMPLETED with outcome RESOLVED, or a call the AI agent completed that was
    neither escalated nor transferred to a person."""
    return c.resolved


def handler_of(c: DayConversation, messages: Sequence[DayMessage]) -> str:
    """Who handled the conversation, by facts that do not change later (the same rule as
    CSAT's attribution, contact_center.outcomes.service.attribution, where both look):

    - a person resolved it (the actor of its latest `conversation.resolved` is a user): PERSON;
    - a call: AI when the AI agent kept it (`ai_handled`; its `assigned_agent` names the voice
      agent) unless it was escalated or transferred to a person (PERSON); PERSON when a person
      took it; else NONE;
    - WhatsApp or SMS: PERSON when a person replied or is assigned; AI when the AI agent handled
      it and the bot was never paused (`ai_handled` alone turns true again when a person
      resolves and the bot resumes); else NONE (e.g. abandoned in the queue).

    Attribution does not look at replies or pauses: a conversation a person replied in, then
    left unassigned and closed by no person, is PERSON here and AI on its survey (whose answer
    is counted on the survey's handler)."""
    if c.resolver is not None and c.resolver != SYSTEM_ACTOR:
        return "PERSON"
    if c.channel == "CALL":
        if c.outcome in ("ESCALATED", "TRANSFERRED"):
            return "PERSON"
        if c.ai_handled:
            return "AI"
        return "PERSON" if c.assigned_agent else NO_HANDLER
    replied = any(is_person_reply(m, c.csat_message_id) for m in messages)
    if replied or c.assigned_agent:
        return "PERSON"
    return "AI" if c.ai_handled and not c.bot_paused else NO_HANDLER


def _team(team_id: uuid.UUID | None) -> str:
    return str(team_id) if team_id is not None else NO_TEAM


@dataclass
class DayRollup:
    day: date
    conversations: int = 0
    counters: dict[tuple[str, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0] * len(COUNTERS))
    )
    histograms: dict[tuple[str, str, str, str, int], int] = field(
        default_factory=lambda: defaultdict(int)
    )

    def add(self, keys: Sequence[tuple[str, str]], team: str, values: dict[str, int]) -> None:
        nonzero = [(_INDEX[name], value) for name, value in values.items() if value]
        counters = self.counters
        for dimension, key in keys:
            row = counters[(dimension, key, team)]
            for index, value in nonzero:
                row[index] += value

    def count(self, keys: Sequence[tuple[str, str]], team: str, metric: str, secs: float) -> None:
        bucket = bucket_of(secs)
        for dimension, key in keys:
            if dimension != "hour":
                self.histograms[(dimension, key, team, metric, bucket)] += 1

    def rollup_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "dimension": d,
                "day": self.day,
                "key": k,
                "team": t,
                **dict(zip(COUNTERS, v, strict=True)),
            }
            for (d, k, t), v in self.counters.items()
        ]

    def histogram_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "dimension": d,
                "day": self.day,
                "key": k,
                "team": t,
                "metric": m,
                "bucket": b,
                "count": n,
            }
            for (d, k, t, m, b), n in self.histograms.items()
        ]


def compute_day(
    day: date,
    zone: ZoneInfo,
    conversations: Sequence[DayConversation],
    messages: Sequence[DayMessage],
) -> DayRollup:
    """The day's rollup: each conversation counted on its team and on one key of every
    dimension; its CSAT answer on the survey's team, agent and handler."""
    by_conversation: dict[uuid.UUID, list[DayMessage]] = defaultdict(list)
    for message in messages:
        by_conversation[message.interaction_id].append(message)
    contacts = [c for c in conversations if is_contact(c, by_conversation.get(c.id, ()))]
    result = DayRollup(day=day, conversations=len(contacts))
    for c in contacts:
        own = by_conversation.get(c.id, ())
        hour = f"{c.started_at.astimezone(zone).hour:02d}"
        common = [("all", ""), ("hour", hour), ("channel", c.channel), ("intent", c.intent or "")]
        handler = handler_of(c, own)
        keys = [*common, ("agent", c.assigned_agent or ""), ("handler", handler)]
        team = _team(c.team_id)
        resolved = is_resolved(c)
        completed_call = (
            c.channel == "CALL" and c.status == "COMPLETED" and c.duration_secs is not None
        )
        values = {
            "volume": 1,
            "calls": int(c.channel == "CALL"),
            "calls_completed": int(completed_call),
            "handle_secs": int(c.duration_secs or 0) if completed_call else 0,
            "first_response_met": int(c.first_response_state == "MET"),
            "first_response_total": int(c.first_response_state in ("MET", "BREACHED")),
            "next_response_met": c.next_responses_met,
            "next_response_total": c.next_responses,
            "resolution_met": int(c.resolution_state == "MET"),
            "resolution_total": int(c.resolution_state in ("MET", "BREACHED")),
            "resolved": int(resolved),
            "resolved_first_time": int(resolved and not c.repeat_contact),
            "ai_handled": int(handler == "AI"),
            "contained": int(handler == "AI" and resolved),
        }
        result.add(keys, team, values)
        if c.csat_score is not None:
            survey_keys = [
                *common,
                ("agent", c.csat_agent or ""),
                ("handler", c.csat_handler or NO_HANDLER),
            ]
            result.add(
                survey_keys,
                _team(c.csat_team_id),
                {
                    "csat_answers": 1,
                    "csat_score_sum": int(c.csat_score),
                    "csat_satisfied": int(c.csat_score >= 4),
                },
            )
        if c.channel in ("WHATSAPP", "SMS"):
            first, following = response_times(own, c.csat_message_id)
            if first is not None:
                result.count(keys, team, "first_response", first)
            for secs in following:
                result.count(keys, team, "next_response", secs)
        if resolved and c.ended_at is not None:
            result.count(keys, team, "resolution", (c.ended_at - c.started_at).total_seconds())
        if completed_call:
            result.count(keys, team, "handle", float(c.duration_secs or 0))
    return result
