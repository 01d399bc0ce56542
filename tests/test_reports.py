"""Reports (docs/service-levels.md, "Rollups" and "Reports"): every figure of
`GET /api/metrics/report` equals a recomputation in plain SQL over the source tables (written
here, apart from the repository's code), the rollup job's increments equal a full rebuild, the
job racing itself counts once, and the API refuses what it should."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import random
import re
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from contact_center.cli import cli
from contact_center.db.base import UtcDateTime, utcnow
from contact_center.models import (
    ConversationSla,
    CsatSurvey,
    Interaction,
    RepeatContact,
    ReportHistogram,
    ReportRollup,
    Team,
    TeamMember,
)
from contact_center.models.enums import (
    Channel,
    Direction,
    Handler,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    Outcome,
    Role,
    SlaState,
)
from contact_center.reports import tasks
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.test_errors import assert_envelope

ZONE = ZoneInfo("America/Argentina/Buenos_Aires")
# Late October to early November 2026: a range that crosses a month; Argentina keeps UTC-3 all
# year (no daylight saving), so every local day is 24 hours.
FIRST_DAY = date(2026, 10, 27)
DAYS = 10
AGENTS = ("ana", "bruno", "carla", '=HYPERLINK("http://x")')
INTENTS = ("saldo", "tarjeta", "@SUM(A1)", None)


@dataclass
class World:
    team_a: uuid.UUID
    team_b: uuid.UUID
    interactions: list[uuid.UUID]


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def _person(i: Interaction, at: datetime, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "direction": Direction.OUTBOUND,
        "status": MessageStatus.DELIVERED,
        "attempts": 1,
        "created_at": at,
    }
    values.update(overrides)
    return f.message(i, **values)


async def _generate(
    sessions: async_sessionmaker[AsyncSession], seed: int, per_day: int = 14
) -> World:
    """Conversations over DAYS local days (some minutes from midnight on either side), with
    messages of people, the bot and one-time codes, calls, clocks, surveys and repeats."""
    rng = random.Random(seed)
    team_a, team_b = Team(name=f"Tarjetas {seed}"), Team(name=f"Préstamos {seed}")
    async with sessions() as session:
        session.add_all([team_a, team_b])
        await session.flush()
        teams = [team_a.id, team_b.id, None]
        ids: list[uuid.UUID] = []
        parents: list[Interaction] = []
        rows: list[Any] = []
        for d in range(DAYS):
            day = FIRST_DAY + timedelta(days=d)
            for n in range(per_day):
                # The first and last minutes of the local day are in every day.
                hour, minute = ((0, 1), (23, 58))[n] if n < 2 else (rng.randrange(24), n)
                started = _at(day, hour, minute) + timedelta(seconds=rng.randrange(50))
                channel = rng.choice([Channel.WHATSAPP, Channel.SMS, Channel.CALL])
                status = rng.choice(list(InteractionStatus))
                agent = rng.choice([*AGENTS, None, None])
                ai = rng.random() < 0.5
                outcome = rng.choice([*Outcome, None])
                ended = (
                    started + timedelta(seconds=rng.choice([5, 40, 700, 5000, 90000, 900000]))
                    if status is InteractionStatus.COMPLETED or rng.random() < 0.2
                    else None
                )
                i = f.interaction(
                    started_at=started,
                    created_at=started,
                    updated_at=started,
                    channel=channel,
                    status=status,
                    outcome=outcome,
                    assigned_agent=agent,
                    ai_handled=ai,
                    team_id=rng.choice(teams),
                    intent=rng.choice(INTENTS),
                    ended_at=ended,
                )
                parents.append(i)
                ids.append(i.id)
                survey_message = None
                if channel is Channel.CALL:
                    if rng.random() < 0.9:
                        rows.append(
                            f.call_detail(i, duration_secs=rng.choice([None, 9, 61, 300, 1250]))
                        )
                else:
                    at = started
                    for _ in range(rng.randrange(7)):
                        at += timedelta(seconds=rng.choice([3, 15, 50, 200, 1000, 4000]))
                        kind = rng.random()
                        if kind < 0.45:
                            rows.append(f.message(i, created_at=at))
                        elif kind < 0.75:
                            rows.append(_person(i, at))
                        elif kind < 0.82:  # queued by a person, not yet sent
                            rows.append(_person(i, at, status=MessageStatus.QUEUED, attempts=0))
                        elif kind < 0.9:  # the bot's own message: arrived sent, no attempt
                            rows.append(
                                _person(
                                    i, at, status=MessageStatus.SENT, attempts=0,
                                    provider_confirmed_at=at,
                                )
                            )  # fmt: skip
                        elif kind < 0.95:
                            rows.append(_person(i, at, kind=MessageKind.OTP))
                        else:  # the survey
                            survey = _person(i, at, id=uuid.uuid4())
                            survey_message = survey.id
                            rows.append(survey)
                if rng.random() < 0.6:
                    states = [None, *SlaState]
                    n_next = rng.randrange(4)
                    rows.append(
                        ConversationSla(
                            interaction_id=i.id,
                            first_response_state=rng.choice(states),
                            next_responses=n_next,
                            next_responses_met=rng.randrange(n_next + 1),
                            resolution_state=rng.choice(states),
                            created_at=started,
                            updated_at=started,
                        )
                    )
                if rng.random() < 0.5:
                    answered = rng.random() < 0.7
                    rows.append(
                        CsatSurvey(
                            interaction_id=i.id,
                            channel=Channel.SMS if channel is Channel.CALL else channel,
                            message_id=survey_message,
                            handler=rng.choice(list(Handler)),
                            agent=rng.choice([*AGENTS, None]),
                            team_id=rng.choice(teams),
                            sent_at=started,
                            expires_at=started + timedelta(days=7),
                            answered_at=started + timedelta(hours=1) if answered else None,
                            score=rng.randint(1, 5) if answered else None,
                            created_at=started,
                            updated_at=started,
                        )
                    )
        # Parents first: the unit of work does not order rows of tables it knows no relation of.
        session.add_all(parents)
        await session.flush()
        session.add_all([r for r in rows if not isinstance(r, ConversationSla | CsatSurvey)])
        await session.flush()
        session.add_all([r for r in rows if isinstance(r, ConversationSla | CsatSurvey)])
        await session.flush()
        for i_id in rng.sample(ids, len(ids) // 6):
            session.add(
                RepeatContact(
                    interaction_id=i_id,
                    repeat_interaction_id=rng.choice(ids),
                    detected_at=_at(FIRST_DAY + timedelta(days=DAYS), 12, 0),
                )
            )
        await _automated_and_events(session, random.Random(seed + 1000), parents)
        await session.commit()
    return World(team_a.id, team_b.id, ids)


async def _automated_and_events(
    session: AsyncSession, rng: random.Random, parents: list[Interaction]
) -> None:
    """What the bank sends on its own (one-time codes, links, surveys by SMS: not contacts),
    and the events that say who handled a conversation (a bot paused, who resolved it)."""
    extra: list[Interaction] = []
    messages: list[Any] = []
    for d in range(DAYS):
        day = FIRST_DAY + timedelta(days=d)
        for n, kind in enumerate(
            (MessageKind.OTP, MessageKind.VERIFICATION_LINK, MessageKind.CSAT, MessageKind.OTP)
        ):
            at = _at(day, rng.randrange(24), 10 + n)
            otp = kind is MessageKind.OTP
            i = f.interaction(
                started_at=at,
                created_at=at,
                updated_at=at,
                channel=rng.choice([Channel.SMS, Channel.WHATSAPP]),
                direction=Direction.OUTBOUND,
                status=InteractionStatus.IN_PROGRESS,
                ai_handled=False,
                provider_conversation_id=f"otp:{uuid.uuid4()}" if otp else None,
            )
            extra.append(i)
            messages.append(_person(i, at, kind=kind))
            if n == 3:  # the customer answered a code's message: still no contact
                messages.append(f.message(i, created_at=at + timedelta(seconds=5)))
        # A link the customer answered is a contact.
        at = _at(day, rng.randrange(24), 30)
        answered = f.interaction(
            started_at=at, created_at=at, updated_at=at, channel=Channel.SMS,
            direction=Direction.OUTBOUND, ai_handled=rng.random() < 0.5,
        )  # fmt: skip
        extra.append(answered)
        messages.append(_person(answered, at, kind=MessageKind.ONBOARDING_LINK))
        messages.append(f.message(answered, created_at=at + timedelta(seconds=40)))
    session.add_all(extra)
    await session.flush()
    session.add_all(messages)
    events: list[Any] = []
    for i in parents:
        if i.channel is not Channel.CALL and rng.random() < 0.25:
            events.append(
                f.event(
                    i, type="bot.paused", occurred_at=i.started_at + timedelta(seconds=1),
                    idempotency_key=f"paused:{i.id}", normalized={"actor": "ana"},
                )
            )  # fmt: skip
        if rng.random() < 0.4:
            # Resolved once or twice: the latest resolve's actor is who resolved it.
            for r in range(rng.randrange(1, 3)):
                events.append(
                    f.event(
                        i, type="conversation.resolved",
                        occurred_at=i.started_at + timedelta(minutes=10 + r),
                        idempotency_key=f"resolved:{i.id}:{r}",
                        normalized={"actor": rng.choice(["system", "ana", "bruno"])},
                    )
                )  # fmt: skip
    session.add_all(events)
    await session.flush()


# --- the recomputation in plain SQL ----------------------------------------------------------

PERSON = """({m}.direction = 'OUTBOUND' AND {m}.kind = 'TEXT'
    AND ({m}.attempts > 0 OR {m}.status IN ('QUEUED', 'SENDING'))
    AND NOT EXISTS (SELECT 1 FROM csat_survey AS sv WHERE sv.message_id = {m}.id))"""
# Resolved: a call the AI agent completed counts unless it was escalated or transferred.
RESOLVED = """(i.status = 'COMPLETED'
    AND (i.outcome = 'RESOLVED' OR (i.channel = 'CALL' AND i.ai_handled
         AND (i.outcome IS NULL OR i.outcome NOT IN ('ESCALATED', 'TRANSFERRED')))))"""
# A contact: not a one-time code's conversation; a call, or a conversation with no message, a
# message of the customer's or a TEXT one (not only the bank's automated messages).
CONTACT = """(i.provider_conversation_id IS NULL OR i.provider_conversation_id NOT LIKE 'otp:%')
    AND (i.channel = 'CALL'
         OR NOT EXISTS (SELECT 1 FROM message AS a WHERE a.interaction_id = i.id)
         OR EXISTS (SELECT 1 FROM message AS a WHERE a.interaction_id = i.id
                    AND (a.direction = 'INBOUND' OR a.kind = 'TEXT')))"""
# Who handled it: a person who resolved it (the latest conversation.resolved's actor); a call
# by its outcome and ai_handled; WhatsApp and SMS by a person's reply or assignment, else the
# AI when the bot was never paused.
HANDLER = """CASE
    WHEN coalesce((SELECT {actor} FROM interaction_event AS e
                   WHERE e.interaction_id = i.id AND e.type = 'conversation.resolved'
                   ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1), '')
         NOT IN ('', 'system') THEN 'PERSON'
    WHEN i.channel = 'CALL' AND i.outcome IN ('ESCALATED', 'TRANSFERRED') THEN 'PERSON'
    WHEN i.channel = 'CALL' AND i.ai_handled THEN 'AI'
    WHEN i.channel = 'CALL' AND coalesce(i.assigned_agent, '') <> '' THEN 'PERSON'
    WHEN i.channel = 'CALL' THEN 'NONE'
    WHEN coalesce(i.assigned_agent, '') <> '' THEN 'PERSON'
    WHEN EXISTS (SELECT 1 FROM message AS pm WHERE pm.interaction_id = i.id AND {person})
        THEN 'PERSON'
    WHEN i.ai_handled AND NOT EXISTS (
        SELECT 1 FROM interaction_event AS bp
        WHERE bp.interaction_id = i.id AND bp.type = 'bot.paused') THEN 'AI'
    ELSE 'NONE' END"""
# What a conversation is grouped by, and what its survey answer is (team, agent, handler).
KEYS = {
    "all": ("''", "''"),
    "team": ("i.team_id", "s.team_id"),
    "agent": ("coalesce(i.assigned_agent, '')", "coalesce(s.agent, '')"),
    "channel": ("i.channel", "i.channel"),
    "intent": ("coalesce(i.intent, '')", "coalesce(i.intent, '')"),
    "handler": (HANDLER, "s.handler"),
}
COUNTER_SQL = """
SELECT {key} AS k, count(*) AS volume,
  sum(CASE WHEN i.channel = 'CALL' THEN 1 ELSE 0 END) AS calls,
  sum(CASE WHEN i.channel = 'CALL' AND i.status = 'COMPLETED' AND cd.duration_secs IS NOT NULL
      THEN 1 ELSE 0 END) AS completed,
  sum(CASE WHEN i.channel = 'CALL' AND i.status = 'COMPLETED' THEN coalesce(cd.duration_secs, 0)
      ELSE 0 END) AS handle_secs,
  sum(CASE WHEN c.first_response_state = 'MET' THEN 1 ELSE 0 END) AS fr_met,
  sum(CASE WHEN c.first_response_state IN ('MET', 'BREACHED') THEN 1 ELSE 0 END) AS fr_total,
  sum(coalesce(c.next_responses_met, 0)) AS nr_met,
  sum(coalesce(c.next_responses, 0)) AS nr_total,
  sum(CASE WHEN c.resolution_state = 'MET' THEN 1 ELSE 0 END) AS res_met,
  sum(CASE WHEN c.resolution_state IN ('MET', 'BREACHED') THEN 1 ELSE 0 END) AS res_total,
  sum(CASE WHEN {resolved} THEN 1 ELSE 0 END) AS resolved,
  sum(CASE WHEN {resolved} AND NOT EXISTS (
      SELECT 1 FROM repeat_contact AS r WHERE r.interaction_id = i.id) THEN 1 ELSE 0 END)
      AS first_time,
  sum(CASE WHEN ({handler}) = 'AI' THEN 1 ELSE 0 END) AS ai,
  sum(CASE WHEN ({handler}) = 'AI' AND {resolved} THEN 1 ELSE 0 END) AS contained
FROM interaction AS i
LEFT JOIN call_detail AS cd ON cd.interaction_id = i.id
LEFT JOIN conversation_sla AS c ON c.interaction_id = i.id
WHERE i.started_at >= :start AND i.started_at < :end AND {scope}
GROUP BY 1
"""
CSAT_SQL = """
SELECT {key} AS k, count(*) AS answers, sum(s.score) AS total,
  sum(CASE WHEN s.score >= 4 THEN 1 ELSE 0 END) AS satisfied
FROM csat_survey AS s JOIN interaction AS i ON i.id = s.interaction_id
WHERE s.score IS NOT NULL AND i.started_at >= :start AND i.started_at < :end AND {scope}
GROUP BY 1
"""
FIRST_RESPONSE_SQL = """
SELECT {key} AS k, fi.asked AS asked, (
    SELECT min(m.created_at) FROM message AS m
    WHERE m.interaction_id = i.id AND m.created_at > fi.asked AND {person_m}) AS answered
FROM interaction AS i
JOIN (SELECT interaction_id, min(created_at) AS asked FROM message
      WHERE direction = 'INBOUND' GROUP BY interaction_id) AS fi ON fi.interaction_id = i.id
WHERE i.channel IN ('WHATSAPP', 'SMS') AND i.started_at >= :start AND i.started_at < :end
  AND {scope}
"""
# A customer message opens a wait (a next response) when the first response came before it
# and no other customer message came between the last reply by a person and it.
NEXT_RESPONSE_SQL = """
SELECT {key} AS k, q.created_at AS asked, (
    SELECT min(m.created_at) FROM message AS m
    WHERE m.interaction_id = i.id AND m.created_at > q.created_at AND {person_m}) AS answered
FROM interaction AS i
JOIN message AS q ON q.interaction_id = i.id AND q.direction = 'INBOUND'
WHERE i.channel IN ('WHATSAPP', 'SMS') AND i.started_at >= :start AND i.started_at < :end
  AND {scope}
  AND EXISTS (
      SELECT 1 FROM message AS p
      WHERE p.interaction_id = i.id AND p.created_at < q.created_at AND {person_p}
        AND p.created_at > (SELECT min(f.created_at) FROM message AS f
                            WHERE f.interaction_id = i.id AND f.direction = 'INBOUND'))
  AND NOT EXISTS (
      SELECT 1 FROM message AS j
      WHERE j.interaction_id = i.id AND j.direction = 'INBOUND' AND j.created_at < q.created_at
        AND j.created_at > (SELECT max(p2.created_at) FROM message AS p2
                            WHERE p2.interaction_id = i.id AND p2.created_at < q.created_at
                              AND {person_p2}))
"""
RESOLUTION_SQL = """
SELECT {key} AS k, i.started_at AS asked, i.ended_at AS answered FROM interaction AS i
WHERE {resolved} AND i.ended_at IS NOT NULL AND i.started_at >= :start AND i.started_at < :end
  AND {scope}
"""
HANDLE_SQL = """
SELECT {key} AS k, cd.duration_secs AS secs FROM interaction AS i
JOIN call_detail AS cd ON cd.interaction_id = i.id
WHERE i.channel = 'CALL' AND i.status = 'COMPLETED' AND cd.duration_secs IS NOT NULL
  AND i.started_at >= :start AND i.started_at < :end AND {scope}
"""


def _bounds(first: date, last: date) -> dict[str, datetime]:
    return {
        "start": datetime.combine(first, time.min, tzinfo=ZONE).astimezone(UTC),
        "end": datetime.combine(last + timedelta(days=1), time.min, tzinfo=ZONE).astimezone(UTC),
    }


def _statement(sql: str) -> Any:
    return text(sql).bindparams(
        bindparam("start", type_=UtcDateTime()), bindparam("end", type_=UtcDateTime())
    )


def _key(value: Any) -> str | None:
    """A group key as the API writes it (a team id with dashes; '' → null)."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    text_value = str(value)
    if re.fullmatch(r"[0-9a-f]{32}", text_value):  # SQLite stores a UUID as 32 hex digits
        return str(uuid.UUID(text_value))
    return text_value


def _scope(column: str, teams: list[uuid.UUID] | None) -> str:
    if teams is None:
        return "1 = 1"
    if not teams:
        return "1 = 0"
    return f"{column} IN ({', '.join(':t' + str(n) for n in range(len(teams)))})"


def _team_params(session: AsyncSession, teams: list[uuid.UUID] | None) -> dict[str, Any]:
    if not teams:
        return {}
    sqlite = session.get_bind().dialect.name == "sqlite"
    return {f"t{n}": (t.hex if sqlite else t) for n, t in enumerate(teams)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percentile(values: list[float], p: int, bounds: list[int | None]) -> int | None:
    """Nearest rank, then the upper bound of the bucket holding it (None above the last)."""
    if not values:
        return None
    ordered = sorted(values)
    value = ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]
    for bound in bounds:
        if bound is None or value <= bound:
            return bound
    return None


def _seconds(a: Any, b: Any) -> float:
    return float((b - a).total_seconds())


async def expected(
    session: AsyncSession,
    first: date,
    last: date,
    group: str,
    bounds: list[int | None],
    teams: list[uuid.UUID] | None = None,
) -> dict[str | None, dict[str, Any]]:
    """Per group key: the figures the report must answer, recomputed from the source tables."""
    params = {**_bounds(first, last), **_team_params(session, teams)}
    actor = (
        "json_extract(e.normalized, '$.actor')"
        if session.get_bind().dialect.name == "sqlite"
        else "e.normalized ->> 'actor'"
    )
    handler = HANDLER.format(actor=actor, person=PERSON.format(m="pm"))
    key, survey_key = KEYS[group]
    key = handler if key == HANDLER else key
    scope = f"{_scope('i.team_id', teams)} AND {CONTACT}"
    survey_scope = f"{_scope('s.team_id', teams)} AND {CONTACT}"
    out: dict[str | None, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    rows = await session.execute(
        _statement(COUNTER_SQL.format(key=key, scope=scope, resolved=RESOLVED, handler=handler)),
        params,
    )
    for row in rows.mappings():
        figures = out[_key(row["k"])]
        for name, value in row.items():
            if name != "k":
                figures[name] += int(value or 0)
    rows = await session.execute(
        _statement(CSAT_SQL.format(key=survey_key, scope=survey_scope)), params
    )
    for row in rows.mappings():
        figures = out[_key(row["k"])]
        figures["answers"] += int(row["answers"])
        figures["score"] += int(row["total"])
        figures["satisfied"] += int(row["satisfied"])
    durations: dict[str | None, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    person = {f"person_{m}": PERSON.format(m=m) for m in ("m", "p", "p2")}
    for metric, sql in (
        ("first_response", FIRST_RESPONSE_SQL),
        ("next_response", NEXT_RESPONSE_SQL),
        ("resolution", RESOLUTION_SQL),
    ):
        statement = _statement(sql.format(key=key, scope=scope, resolved=RESOLVED, **person))
        typed = statement.columns(asked=UtcDateTime(), answered=UtcDateTime())
        for row in (await session.execute(typed, params)).mappings():
            if row["answered"] is not None:
                durations[_key(row["k"])][metric].append(_seconds(row["asked"], row["answered"]))
    rows = await session.execute(_statement(HANDLE_SQL.format(key=key, scope=scope)), params)
    for row in rows.mappings():
        durations[_key(row["k"])]["handle"].append(float(row["secs"]))
    result: dict[str | None, dict[str, Any]] = {}
    for k in set(out) | set(durations):
        c = out[k]
        d = durations[k]
        spread = {
            metric: {
                "n": len(d[metric]),
                "p50": _percentile(d[metric], 50, bounds),
                "p90": _percentile(d[metric], 90, bounds),
            }
            for metric in ("first_response", "next_response", "resolution", "handle")
        }
        result[k] = {
            "volume": c["volume"],
            "calls": c["calls"],
            "sla": {
                "firstResponse": {
                    "met": c["fr_met"],
                    "total": c["fr_total"],
                    "n": c["fr_total"],
                    "rate": _rate(c["fr_met"], c["fr_total"]),
                },
                "nextResponse": {
                    "met": c["nr_met"],
                    "total": c["nr_total"],
                    "n": c["nr_total"],
                    "rate": _rate(c["nr_met"], c["nr_total"]),
                },
                "resolution": {
                    "met": c["res_met"],
                    "total": c["res_total"],
                    "n": c["res_total"],
                    "rate": _rate(c["res_met"], c["res_total"]),
                },
            },
            "firstResponse": spread["first_response"],
            "nextResponse": spread["next_response"],
            "resolution": spread["resolution"],
            "handleTime": spread["handle"],
            "aht": {
                "n": c["completed"],
                "meanSecs": round(c["handle_secs"] / c["completed"], 1) if c["completed"] else None,
            },
            "csat": {
                "answers": c["answers"],
                "n": c["answers"],
                "mean": round(c["score"] / c["answers"], 2) if c["answers"] else None,
                "satisfied": c["satisfied"],
                "rate": _rate(c["satisfied"], c["answers"]),
            },
            "fcr": {
                "resolved": c["resolved"],
                "firstTime": c["first_time"],
                "n": c["resolved"],
                "rate": _rate(c["first_time"], c["resolved"]),
            },
            "containment": {
                "aiHandled": c["ai"],
                "contained": c["contained"],
                "n": c["ai"],
                "rate": _rate(c["contained"], c["ai"]),
            },
        }
    return result


FIGURES = (
    "volume",
    "calls",
    "sla",
    "firstResponse",
    "nextResponse",
    "resolution",
    "handleTime",
    "aht",
    "csat",
    "fcr",
    "containment",
)


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in FIGURES}


EMPTY = {
    "volume": 0,
    "calls": 0,
    "sla": {
        name: {"met": 0, "total": 0, "n": 0, "rate": None}
        for name in ("firstResponse", "nextResponse", "resolution")
    },
    **{
        name: {"n": 0, "p50": None, "p90": None}
        for name in ("firstResponse", "nextResponse", "resolution", "handleTime")
    },
    "aht": {"n": 0, "meanSecs": None},
    "csat": {"answers": 0, "n": 0, "mean": None, "satisfied": 0, "rate": None},
    "fcr": {"resolved": 0, "firstTime": 0, "n": 0, "rate": None},
    "containment": {"aiHandled": 0, "contained": 0, "n": 0, "rate": None},
}


async def assert_report_matches(
    http: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    first: date,
    last: date,
    group: str,
    teams: list[uuid.UUID] | None = None,
) -> dict[str, Any]:
    response = await http.get(
        "/api/metrics/report",
        params={"from": first.isoformat(), "to": last.isoformat(), "groupBy": group},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    bounds = body["buckets"]
    async with sessions() as session:
        totals = await expected(session, first, last, "all", bounds, teams)
        groups = await expected(session, first, last, group, bounds, teams)
        assert _figures(body["totals"]) == totals.get(None, EMPTY), (first, last, "totals")
        got = {g["key"]: _figures(g) for g in body["groups"]}
        assert got == groups, (first, last, group)
        # Every day of the range, each a recomputation of its own.
        assert [d["day"] for d in body["daily"]] == [
            (first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
        ]
        for day in body["daily"]:
            one = date.fromisoformat(day["day"])
            want = (await expected(session, one, one, "all", bounds, teams)).get(None, EMPTY)
            assert _figures(day) == want, one
        # The heatmap: volume by local weekday and hour.
        params = {**_bounds(first, last), **_team_params(session, teams)}
        starts = await session.execute(
            _statement(
                "SELECT i.started_at AS s FROM interaction AS i WHERE i.started_at >= :start"
                f" AND i.started_at < :end AND {_scope('i.team_id', teams)} AND {CONTACT}"
            ).columns(s=UtcDateTime()),
            params,
        )
        heat: dict[tuple[int, int], int] = defaultdict(int)
        for (started,) in starts.all():
            local = started.astimezone(ZONE)
            heat[(local.weekday(), local.hour)] += 1
    assert len(body["heatmap"]) == 168
    assert {(c["weekday"], c["hour"]): c["volume"] for c in body["heatmap"] if c["volume"]} == heat
    return dict(body)


# --- the figures -----------------------------------------------------------------------------


async def test_every_report_figure_equals_a_recomputation_in_sql(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    sessions = app.state.session_factory
    world = await _generate(sessions, seed=7)
    assert await tasks.refresh(sessions, settings) >= DAYS
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    cases = [
        (FIRST_DAY, last, "team"),  # across October and November
        (FIRST_DAY, last, "agent"),
        (FIRST_DAY, last, "intent"),
        (FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=2), "channel"),  # one day
        (date(2026, 10, 31), date(2026, 11, 1), "handler"),  # the month's last and first days
        (date(2026, 11, 2), date(2026, 12, 31), "agent"),  # beyond the data
    ]
    for first, end, group in cases:
        body = await assert_report_matches(client, sessions, first, end, group)
        assert body["timezone"] == "America/Argentina/Buenos_Aires"
        assert body["daysComputed"] == len(
            [d for d in body["daily"] if FIRST_DAY <= date.fromisoformat(d["day"]) <= last]
        )
    # Team groups are named.
    body = (await client.get("/api/metrics/report", params={"from": "2026-10-27"})).json()
    names = {g["key"]: g["name"] for g in body["groups"]}
    assert names[str(world.team_a)] == "Tarjetas 7"
    assert names[None] is None


async def test_a_conversation_counts_on_the_local_day_and_hour_it_started(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    sessions = app.state.session_factory
    # 02:30 UTC on 1 November is 23:30 on 31 October in Buenos Aires.
    late = f.interaction(started_at=datetime(2026, 11, 1, 2, 30, tzinfo=UTC))
    async with sessions() as session:
        await f.save(session, late)
    await tasks.refresh(sessions, settings)
    body = (
        await client.get("/api/metrics/report", params={"from": "2026-10-31", "to": "2026-11-01"})
    ).json()
    assert [(d["day"], d["volume"]) for d in body["daily"]] == [
        ("2026-10-31", 1),
        ("2026-11-01", 0),
    ]
    cells = [(c["weekday"], c["hour"]) for c in body["heatmap"] if c["volume"]]
    assert cells == [(5, 23)]  # a Saturday, 23 h


async def test_contacts_resolution_and_the_handler_follow_what_happened(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    """A call the AI agent kept counts as AI whatever voice agent it names; an escalated one is
    a person's; a chat a person replied in stays a person's after the bot resumes; the bank's
    codes, links and surveys by SMS are no contact."""
    sessions = app.state.session_factory
    day = FIRST_DAY
    done = {"status": InteractionStatus.COMPLETED, "ended_at": _at(day, 13, 0)}
    ai_call = f.interaction(
        started_at=_at(day, 10, 0), channel=Channel.CALL, assigned_agent="Sofía (voz)",
        ai_handled=True, outcome=Outcome.RESOLVED, **done,
    )  # fmt: skip
    escalated = f.interaction(
        started_at=_at(day, 10, 5), channel=Channel.CALL, assigned_agent="Sofía (voz)",
        ai_handled=True, outcome=Outcome.ESCALATED, **done,
    )  # fmt: skip
    taken = f.interaction(
        started_at=_at(day, 10, 10), ai_handled=True, outcome=Outcome.RESOLVED, **done
    )
    bot_only = f.interaction(
        started_at=_at(day, 10, 15), ai_handled=True, outcome=Outcome.RESOLVED, **done
    )
    sms = {"channel": Channel.SMS, "direction": Direction.OUTBOUND, "ai_handled": False}
    code = f.interaction(
        started_at=_at(day, 11, 0), provider_conversation_id=f"otp:{uuid.uuid4()}", **sms
    )
    link = f.interaction(started_at=_at(day, 11, 5), **sms)
    survey_sms = f.interaction(started_at=_at(day, 11, 10), **sms)
    survey_message = uuid.uuid4()
    async with sessions() as session:
        session.add_all([ai_call, escalated, taken, bot_only, code, link, survey_sms])
        await session.flush()
        session.add_all(
            [
                f.message(taken, created_at=_at(day, 10, 10)),
                _person(taken, _at(day, 10, 12)),
                f.event(taken, type="bot.paused", occurred_at=_at(day, 10, 12)),
                f.event(taken, type="bot.resumed", occurred_at=_at(day, 13, 0)),
                f.event(
                    taken, type="conversation.resolved", occurred_at=_at(day, 13, 0),
                    normalized={"actor": "ana"},
                ),
                f.message(bot_only, created_at=_at(day, 10, 15)),
                _person(bot_only, _at(day, 10, 16), status=MessageStatus.SENT, attempts=0),
                f.event(
                    bot_only, type="conversation.resolved", occurred_at=_at(day, 13, 0),
                    normalized={"actor": "system"},
                ),
                _person(code, _at(day, 11, 0), kind=MessageKind.OTP),
                f.message(code, created_at=_at(day, 11, 1)),
                _person(link, _at(day, 11, 5), kind=MessageKind.VERIFICATION_LINK),
                _person(survey_sms, _at(day, 11, 10), kind=MessageKind.CSAT, id=survey_message),
            ]
        )  # fmt: skip
        await session.flush()
        session.add(
            CsatSurvey(
                interaction_id=taken.id, channel=Channel.SMS, message_id=survey_message,
                handler=Handler.PERSON, agent="ana", sent_at=_at(day, 13, 1),
                expires_at=_at(day, 13, 1) + timedelta(days=7), created_at=_at(day, 13, 1),
                updated_at=_at(day, 13, 1),
            )
        )  # fmt: skip
        await session.commit()
    await tasks.refresh(sessions, settings)
    params = {"from": day.isoformat(), "to": day.isoformat(), "groupBy": "handler"}
    body = (await client.get("/api/metrics/report", params=params)).json()
    totals = body["totals"]
    assert totals["volume"] == 4  # the code, the link and the survey by SMS are not contacts
    assert {g["key"]: g["volume"] for g in body["groups"]} == {"AI": 2, "PERSON": 2}
    assert totals["fcr"]["resolved"] == 3  # the escalated call is not resolved
    assert totals["containment"] == {"aiHandled": 2, "contained": 2, "n": 2, "rate": 1.0}
    channels = {**params, "groupBy": "channel"}
    body = (await client.get("/api/metrics/report", params=channels)).json()
    assert {g["key"]: g["volume"] for g in body["groups"]} == {"CALL": 2, "WHATSAPP": 2}


# --- the job ---------------------------------------------------------------------------------


async def _rollups(sessions: async_sessionmaker[AsyncSession]) -> tuple[set[Any], set[Any]]:
    async with sessions() as session:
        rollups = {
            tuple(r) for r in (await session.execute(select(*ReportRollup.__table__.columns))).all()
        }
        histograms = {
            tuple(r)
            for r in (await session.execute(select(*ReportHistogram.__table__.columns))).all()
        }
    return rollups, histograms


async def test_the_job_after_changes_equals_a_full_rebuild(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    sessions = app.state.session_factory
    world = await _generate(sessions, seed=11, per_day=8)
    await tasks.refresh(sessions, settings)
    assert await tasks.refresh(sessions, settings) == 0  # nothing changed since
    rng = random.Random(3)
    now = utcnow()
    changed = rng.sample(world.interactions, 12)
    async with sessions() as session:
        # A conversation resolved, one moved to another team, one reassigned…
        for n, i_id in enumerate(changed[:6]):
            i = await session.get(Interaction, i_id)
            assert i is not None
            i.status = InteractionStatus.COMPLETED
            i.outcome = Outcome.RESOLVED
            i.ended_at = i.started_at + timedelta(minutes=5 + n)
            i.team_id = world.team_b if n % 2 else None
            i.assigned_agent = "dora" if n % 3 else None
            i.updated_at = now
        # …a message arrives (the conversation's row untouched), a clock moves, a survey is
        # answered, a repeat contact is found, and a new conversation starts.
        i = await session.get(Interaction, changed[6])
        assert i is not None
        session.add(f.message(i, created_at=now))
        session.add(_person(i, now + timedelta(seconds=30)))
        clock = await session.get(ConversationSla, changed[7])
        if clock is None:
            session.add(
                ConversationSla(
                    interaction_id=changed[7],
                    first_response_state=SlaState.MET,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            clock.first_response_state = SlaState.BREACHED
            clock.next_responses += 2
            clock.updated_at = now
        survey = await session.scalar(
            select(CsatSurvey).where(CsatSurvey.interaction_id == changed[8])
        )
        if survey is None:
            session.add(
                CsatSurvey(
                    interaction_id=changed[8],
                    channel=Channel.SMS,
                    handler=Handler.AI,
                    sent_at=now,
                    expires_at=now + timedelta(days=7),
                    answered_at=now,
                    score=5,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            survey.score, survey.answered_at, survey.updated_at = 2, now, now
        if await session.get(RepeatContact, changed[9]) is None:
            session.add(
                RepeatContact(
                    interaction_id=changed[9], repeat_interaction_id=changed[10], detected_at=now
                )
            )
        session.add(f.interaction(started_at=_at(FIRST_DAY, 12, 0), updated_at=now))
        await session.commit()
    assert await tasks.refresh(sessions, settings) >= 1
    incremental = await _rollups(sessions)
    await tasks.rebuild(sessions, settings, None, None)
    assert await _rollups(sessions) == incremental
    await assert_report_matches(
        client, sessions, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1), "agent"
    )


async def test_the_job_racing_itself_counts_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    sessions = app.state.session_factory
    await _generate(sessions, seed=5, per_day=6)
    days = [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]
    await asyncio.gather(
        tasks.refresh(sessions, settings),
        tasks.refresh(sessions, settings),
        tasks.recompute_days(sessions, settings, days),
        tasks.recompute_days(sessions, settings, list(reversed(days))),
    )
    await assert_report_matches(
        client, sessions, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1), "team"
    )
    raced = await _rollups(sessions)
    await tasks.rebuild(sessions, settings, None, None)
    assert await _rollups(sessions) == raced


async def test_a_rebuild_of_the_history_moves_the_watermark(
    app: FastAPI, settings: Settings
) -> None:
    sessions = app.state.session_factory
    await _generate(sessions, seed=9, per_day=2)
    seen: list[date] = []
    days, conversations = await tasks.rebuild(
        sessions, settings, None, None, progress=lambda day, n: seen.append(day)
    )
    # Each day: its two conversations and a link the customer answered (the bank's codes, links
    # and surveys by SMS are not contacts).
    assert (days, conversations) == (DAYS, DAYS * 3)
    assert sorted(seen) == [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]
    # The job has nothing left to do: the rebuild moved its watermark.
    assert await tasks.refresh(sessions, settings) == 0


async def test_the_rebuild_command_recomputes_a_range_with_its_progress(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, tmp_path: Any
) -> None:
    sessions = app.state.session_factory
    await _generate(sessions, seed=21, per_day=3)
    env = {"DATABASE_URL": database_url, "APP_ENV": "test", "MEDIA_DIR": str(tmp_path)}

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, ["reports", "rebuild", *args], env=env)

    refused = await asyncio.to_thread(invoke, "--from", "2026-11-03", "--to", "2026-11-01")
    assert refused.exit_code == 2
    bad = await asyncio.to_thread(invoke, "--from", "noviembre")
    assert bad.exit_code == 2
    done = await asyncio.to_thread(invoke, "--from", "2026-10-30", "--to", "2026-11-01")
    assert done.exit_code == 0, done.output
    volumes = []
    async with sessions() as session:
        for n in range(3):
            one = date(2026, 10, 30) + timedelta(days=n)
            volumes.append((await expected(session, one, one, "all", [None]))[None]["volume"])
    # The contacts of the three days (the bank's codes, links and surveys by SMS are not).
    assert f"recomputed 3 days, {sum(volumes)} conversations" in done.stdout
    assert "Recomputing days" in done.stderr
    body = (
        await client.get("/api/metrics/report", params={"from": "2026-10-27", "to": "2026-11-05"})
    ).json()
    assert body["daysComputed"] == 3
    assert [d["volume"] for d in body["daily"]] == [0, 0, 0, *volumes, 0, 0, 0, 0]
    assert all(v >= 3 for v in volumes)


# --- who sees what ---------------------------------------------------------------------------


async def test_agents_are_refused_and_supervisors_see_their_teams_only(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, anonymous: httpx.AsyncClient
) -> None:
    sessions = app.state.session_factory
    world = await _generate(sessions, seed=13, per_day=6)
    await tasks.refresh(sessions, settings)
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    agent = await auth.token_client(app, "ana", Role.AGENT)
    supervisor = await auth.token_client(app, "sara", Role.SUPERVISOR)
    loner = await auth.token_client(app, "lola", Role.SUPERVISOR)
    try:
        for path in ("/api/metrics/report", "/api/metrics/report/export"):
            assert_envelope(await agent.get(path), 403, "forbidden")
            assert (await anonymous.get(path)).status_code == 401
        sara = await auth.user(sessions, "sara", Role.SUPERVISOR)
        async with sessions() as session:
            session.add(TeamMember(team_id=world.team_a, user_id=sara.id))
            await session.commit()
        for group in ("team", "agent", "handler"):
            body = await assert_report_matches(
                supervisor, sessions, FIRST_DAY, last, group, teams=[world.team_a]
            )
        body = await assert_report_matches(
            supervisor, sessions, FIRST_DAY, last, "team", teams=[world.team_a]
        )
        assert {g["key"] for g in body["groups"]} == {str(world.team_a)}
        everything = (await client.get("/api/metrics/report", params={"from": "2026-10-27"})).json()
        assert body["totals"]["volume"] < everything["totals"]["volume"]
        # A supervisor in no team sees nothing.
        await assert_report_matches(loner, sessions, FIRST_DAY, last, "agent", teams=[])
        export = await supervisor.get(
            "/api/metrics/report/export", params={"from": "2026-10-27", "to": "2026-11-05"}
        )
        assert str(world.team_b) not in export.text
    finally:
        for http in (agent, supervisor, loner):
            await http.aclose()


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "2026-11-05", "to": "2026-11-04"},
        {"from": "2025-01-01", "to": "2026-12-31"},  # over 400 days
        {"from": "99999-01-01"},
        # The calendar's ends: the default range around them would overflow.
        {"from": "9999-12-31"},
        {"to": "0001-01-01"},
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "2101-01-01", "to": "2101-01-02"},
        {"from": "2026-11-01\x00"},
        {"from": "2026-11-01", "to": "2026-11-0١"},  # an Arabic-Indic digit
        {"groupBy": "customer"},
        {"from": "x" * 10_000},
        {"format": "pdf"},
    ],
)
async def test_a_bad_range_or_grouping_answers_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    for path in ("/api/metrics/report", "/api/metrics/report/export"):
        if "format" in params and path.endswith("report"):
            continue
        assert_envelope(await client.get(path, params=params), 422, "validation_error")


async def test_the_years_2000_to_2100_are_the_range_a_report_covers(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/api/metrics/report", "/api/metrics/report/export"):
        for params in ({"from": "2000-01-01"}, {"to": "2100-12-31"}):
            assert (await client.get(path, params=params)).status_code == 200
        refused = await client.get(path, params={"from": "9999-12-31"})
        assert_envelope(refused, 422, "validation_error")
        assert refused.json()["error"]["details"][0]["field"] == "query.from"


async def test_invalid_utf8_in_the_query_answers_4xx(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/metrics/report?from=%ff%fe")
    assert 400 <= response.status_code < 500


async def test_the_defaults_are_the_last_30_days_by_team(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body = (await client.get("/api/metrics/report")).json()
    today = datetime.now(settings.zone).date()
    assert (body["from"], body["to"], body["groupBy"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
        "team",
    )
    assert len(body["daily"]) == 30
    assert body["totals"]["volume"] == 0
    assert body["groups"] == []
    assert body["buckets"][-1] is None
    assert body["buckets"][:3] == [10, 20, 30]
    exactly_400 = await client.get(
        "/api/metrics/report", params={"from": "2026-01-01", "to": "2027-02-04"}
    )
    assert exactly_400.status_code == 200
    assert len(exactly_400.json()["daily"]) == 400


# --- exports ---------------------------------------------------------------------------------


def _xlsx_rows(content: bytes, sheet: int = 1) -> list[list[Any]]:
    """A sheet's cells as written (shared strings resolved); fails if any cell is a formula."""
    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['x']}}}t"))
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("x:si", ns)
        ]
        root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml"))
    assert root.find(".//x:f", ns) is None, "a formula in the sheet"
    out: list[list[Any]] = []
    for row in root.findall(".//x:row", ns):
        cells: list[Any] = []
        for cell in row.findall("x:c", ns):
            column = re.match(r"[A-Z]+", cell.get("r", "A")).group(0)  # type: ignore[union-attr]
            index = 0
            for ch in column:
                index = index * 26 + ord(ch) - 64
            while len(cells) < index - 1:
                cells.append(None)
            value = cell.find("x:v", ns)
            if value is None:
                cells.append(None)
            elif cell.get("t") == "s":
                cells.append(strings[int(value.text or 0)])
            else:
                number = float(value.text or 0)
                cells.append(int(number) if number.is_integer() else number)
        out.append(cells)
    return out


def _flat(figures: dict[str, Any]) -> list[Any]:
    sla = figures["sla"]
    cells: list[Any] = [figures["volume"], figures["calls"]]
    for name in ("firstResponse", "nextResponse", "resolution"):
        cells += [sla[name]["met"], sla[name]["total"], sla[name]["rate"]]
    for name in ("firstResponse", "nextResponse", "resolution", "handleTime"):
        cells += [figures[name]["n"], figures[name]["p50"], figures[name]["p90"]]
    cells += [figures["aht"]["n"], figures["aht"]["meanSecs"]]
    c = figures["csat"]
    cells += [c["answers"], c["mean"], c["satisfied"], c["rate"]]
    cells += [figures["fcr"]["resolved"], figures["fcr"]["firstTime"], figures["fcr"]["rate"]]
    k = figures["containment"]
    cells += [k["aiHandled"], k["contained"], k["rate"]]
    return cells


def _api_rows(body: dict[str, Any]) -> list[list[Any]]:
    rows = [["total", None, None, None, *_flat(body["totals"])]]
    rows += [["group", g["key"], g["name"], None, *_flat(g)] for g in body["groups"]]
    rows += [["day", None, None, d["day"], *_flat(d)] for d in body["daily"]]
    return rows


def _unquote(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in ("=", "+", "-", "@") else value


async def test_csv_and_xlsx_exports_hold_the_api_figures_as_text(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    sessions = app.state.session_factory
    await _generate(sessions, seed=17, per_day=6)
    await tasks.refresh(sessions, settings)
    params = {"from": "2026-10-27", "to": "2026-11-05"}
    for group in ("agent", "intent"):
        body = (await client.get("/api/metrics/report", params={**params, "groupBy": group})).json()
        want = _api_rows(body)
        response = await client.get(
            "/api/metrics/report/export", params={**params, "groupBy": group, "format": "csv"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        content = response.content.decode("utf-8-sig")
        parsed = list(csv.reader(io.StringIO(content)))
        header, rows = parsed[0], parsed[1:]
        assert header[:5] == ["section", "key", "name", "day", "volume"]
        # A name that looks like a formula is quoted: no cell starts with = + - @.
        assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
        assert any(cell.startswith("'=") or cell.startswith("'@") for row in rows for cell in row)
        assert len(rows) == len(want)
        for got, expected_row in zip(rows, want, strict=True):
            assert [_unquote(c) for c in got] == ["" if v is None else str(v) for v in expected_row]
        response = await client.get(
            "/api/metrics/report/export", params={**params, "groupBy": group, "format": "xlsx"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet = _xlsx_rows(response.content)
        assert sheet[0][:2] == ["section", "key"]
        for got_row, expected_row in zip(sheet[1:], want, strict=True):
            padded = got_row + [None] * (len(expected_row) - len(got_row))
            assert padded == expected_row
        heat = _xlsx_rows(response.content, sheet=2)
        assert len(heat) == 169
