"""SQL of the reports: a day's source rows for its rollup, the days changed since the job's
watermark, the rollups' writes, and the sums a report reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    select,
    true,
    type_coerce,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import lock_key
from contact_center.models.call_detail import CallDetail
from contact_center.models.csat import CsatSurvey, RepeatContact
from contact_center.models.enums import Channel, EventType
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message
from contact_center.models.report import ReportDay, ReportHistogram, ReportRollup, ReportWatermark
from contact_center.models.service_levels import ConversationSla
from contact_center.models.team import Team, TeamMember
from contact_center.outcomes.repository import not_otp, resolved

# --- a day's source rows ------------------------------------------------------------------


@dataclass(frozen=True)
class DayConversation:
    """One conversation started in the day, with its call, clocks, survey and repeat contact."""

    id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None
    channel: str
    status: str
    outcome: str | None
    team_id: uuid.UUID | None
    assigned_agent: str | None
    intent: str | None
    ai_handled: bool
    duration_secs: int | None
    first_response_state: str | None
    next_responses: int
    next_responses_met: int
    resolution_state: str | None
    csat_score: int | None
    csat_handler: str | None
    csat_agent: str | None
    csat_team_id: uuid.UUID | None
    csat_message_id: uuid.UUID | None
    repeat_contact: bool
    # Resolved as contact_center.outcomes decides it (its `resolved()`, read with the row).
    resolved: bool = False
    # Whether the bot was ever paused in it (a person took it over): a `bot.paused` event.
    bot_paused: bool = False
    # The actor of its latest `conversation.resolved` event (None: none, or no actor).
    resolver: str | None = None


@dataclass(frozen=True)
class DayMessage:
    interaction_id: uuid.UUID
    id: uuid.UUID
    direction: str
    kind: str
    status: str
    attempts: int
    created_at: datetime


def _value(v: Any) -> Any:
    return v


def _text(column: Any) -> Any:
    """An enum column read as its stored text: no enum objects built for rows read in bulk."""
    return type_coerce(column, String())


def _actor(normalized: Any) -> str | None:
    actor = normalized.get("actor") if isinstance(normalized, dict) else None
    return actor if isinstance(actor, str) and actor else None


async def day_conversations(
    session: AsyncSession, start: datetime, end: datetime
) -> list[DayConversation]:
    """The conversations started in [start, end), one-time codes' left out (not contacts, as
    for contact_center.outcomes): one row each (every join is one-to-one). Whether the rest
    are contacts is decided on their messages (rollups.is_contact)."""
    bot_paused = (
        select(InteractionEvent.id)
        .where(
            InteractionEvent.interaction_id == Interaction.id,
            InteractionEvent.type == EventType.BOT_PAUSED.value,
        )
        .exists()
    )
    latest_resolve = (
        select(InteractionEvent.normalized)
        .where(
            InteractionEvent.interaction_id == Interaction.id,
            InteractionEvent.type == EventType.CONVERSATION_RESOLVED.value,
        )
        .order_by(InteractionEvent.occurred_at.desc(), InteractionEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            Interaction.id,
            Interaction.started_at,
            Interaction.ended_at,
            _text(Interaction.channel),
            _text(Interaction.status),
            _text(Interaction.outcome),
            Interaction.team_id,
            Interaction.assigned_agent,
            Interaction.intent,
            Interaction.ai_handled,
            CallDetail.duration_secs,
            _text(ConversationSla.first_response_state),
            ConversationSla.next_responses,
            ConversationSla.next_responses_met,
            _text(ConversationSla.resolution_state),
            CsatSurvey.score,
            _text(CsatSurvey.handler),
            CsatSurvey.agent,
            CsatSurvey.team_id,
            CsatSurvey.message_id,
            RepeatContact.interaction_id,
            resolved(),
            bot_paused,
            latest_resolve,
        )
        .outerjoin(CallDetail, CallDetail.interaction_id == Interaction.id)
        .outerjoin(ConversationSla, ConversationSla.interaction_id == Interaction.id)
        .outerjoin(CsatSurvey, CsatSurvey.interaction_id == Interaction.id)
        .outerjoin(RepeatContact, RepeatContact.interaction_id == Interaction.id)
        .where(Interaction.started_at >= start, Interaction.started_at < end, not_otp())
    )
    return [
        DayConversation(
            id=r[0],
            started_at=r[1],
            ended_at=r[2],
            channel=_value(r[3]),
            status=_value(r[4]),
            outcome=_value(r[5]),
            team_id=r[6],
            assigned_agent=r[7],
            intent=r[8],
            ai_handled=bool(r[9]),
            duration_secs=r[10],
            first_response_state=_value(r[11]),
            next_responses=int(r[12] or 0),
            next_responses_met=int(r[13] or 0),
            resolution_state=_value(r[14]),
            csat_score=r[15],
            csat_handler=_value(r[16]),
            csat_agent=r[17],
            csat_team_id=r[18],
            csat_message_id=r[19],
            repeat_contact=r[20] is not None,
            resolved=bool(r[21]),
            bot_paused=bool(r[22]),
            resolver=_actor(r[23]),
        )
        for r in (await (await session.connection()).execute(stmt)).all()
    ]


async def day_messages(session: AsyncSession, start: datetime, end: datetime) -> list[DayMessage]:
    """The messages of the WhatsApp and SMS conversations started in [start, end), in order."""
    stmt = (
        select(
            Message.interaction_id,
            Message.id,
            _text(Message.direction),
            _text(Message.kind),
            _text(Message.status),
            Message.attempts,
            Message.created_at,
        )
        .join(Interaction, Interaction.id == Message.interaction_id)
        .where(
            Interaction.started_at >= start,
            Interaction.started_at < end,
            Interaction.channel.in_([Channel.WHATSAPP, Channel.SMS]),
            not_otp(),
        )
        .order_by(Message.interaction_id, Message.created_at, Message.id)
    )
    return [
        DayMessage(
            interaction_id=r[0],
            id=r[1],
            direction=_value(r[2]),
            kind=_value(r[3]),
            status=_value(r[4]),
            attempts=int(r[5] or 0),
            created_at=r[6],
        )
        for r in (await (await session.connection()).execute(stmt)).all()
    ]


# --- what changed ----------------------------------------------------------------------------


async def started_of_changed(session: AsyncSession, since: datetime) -> list[datetime]:
    """When the conversations started whose row, messages, clocks, survey or repeat contact
    changed at or after `since` (each read by an index on its time)."""
    started = Interaction.started_at
    stmt = union(
        select(started).where(Interaction.updated_at >= since),
        select(started)
        .join(Message, Message.interaction_id == Interaction.id)
        .where(Message.created_at >= since),
        select(started)
        .join(ConversationSla, ConversationSla.interaction_id == Interaction.id)
        .where(ConversationSla.updated_at >= since),
        select(started)
        .join(CsatSurvey, CsatSurvey.interaction_id == Interaction.id)
        .where(CsatSurvey.updated_at >= since),
        select(started)
        .join(RepeatContact, RepeatContact.interaction_id == Interaction.id)
        .where(RepeatContact.detected_at >= since),
    )
    values = (await session.execute(stmt)).scalars().all()
    # A UNION's column comes back untyped on SQLite: read it through the column's type.
    return [_as_datetime(v) for v in values]


def _as_datetime(value: Any) -> datetime:
    """A timestamp read without its column's type (SQLite: naive UTC, or its text)."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def started_range(session: AsyncSession) -> tuple[datetime, datetime] | None:
    """The first and last conversation start (None: no conversation)."""
    first, last = (
        await session.execute(
            select(func.min(Interaction.started_at), func.max(Interaction.started_at))
        )
    ).one()
    if first is None or last is None:
        return None
    return _as_datetime(first), _as_datetime(last)


async def watermark(session: AsyncSession, name: str) -> datetime | None:
    return cast(
        datetime | None,
        await session.scalar(
            select(ReportWatermark.changed_since).where(ReportWatermark.name == name)
        ),
    )


async def move_watermark(session: AsyncSession, name: str, to: datetime, now: datetime) -> None:
    """Forward only: a slower run that started earlier never moves it back."""
    moved = await session.execute(
        update(ReportWatermark)
        .where(ReportWatermark.name == name, ReportWatermark.changed_since < to)
        .values(changed_since=to, updated_at=now)
    )
    if cast(Any, moved).rowcount:
        return
    if await watermark(session, name) is None:
        await session.execute(
            insert(cast(Table, ReportWatermark.__table__)),
            {"name": name, "changed_since": to, "updated_at": now},
        )


# --- the rollups' writes ---------------------------------------------------------------------


async def lock_day(session: AsyncSession, day: date) -> None:
    """One recompute of a day at a time (until commit): a second waits, then recomputes from
    what the first committed, and replaces its rows — never adds to them."""
    await lock_key(session, f"report_day:{day.isoformat()}")


async def replace_day(
    session: AsyncSession,
    day: date,
    dimensions: Sequence[str],
    rollups: Sequence[dict[str, Any]],
    histograms: Sequence[dict[str, Any]],
    conversations: int,
    now: datetime,
) -> None:
    """The day's rows, replaced (Core statements: no ORM objects to build). The deletes name
    every dimension so the primary keys (dimension, day, …) find the day's rows."""
    connection = await session.connection()
    for table in (ReportRollup, ReportHistogram):
        await connection.execute(
            delete(table).where(table.dimension.in_(list(dimensions)), table.day == day)
        )
    await connection.execute(delete(ReportDay).where(ReportDay.day == day))
    if rollups:
        await connection.execute(insert(cast(Table, ReportRollup.__table__)), list(rollups))
    if histograms:
        await connection.execute(insert(cast(Table, ReportHistogram.__table__)), list(histograms))
    await connection.execute(
        insert(cast(Table, ReportDay.__table__)),
        {"day": day, "conversations": conversations, "computed_at": now},
    )


async def analyze(session: AsyncSession) -> None:
    """Fresh planner statistics after a rebuild rewrote the rollups (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        await connection.exec_driver_sql("ANALYZE report_rollup, report_histogram, report_day")


# --- what a report reads ---------------------------------------------------------------------

COUNTERS = (
    "volume",
    "calls",
    "calls_completed",
    "handle_secs",
    "first_response_met",
    "first_response_total",
    "next_response_met",
    "next_response_total",
    "resolution_met",
    "resolution_total",
    "csat_answers",
    "csat_score_sum",
    "csat_satisfied",
    "resolved",
    "resolved_first_time",
    "ai_handled",
    "contained",
)


@dataclass(frozen=True)
class Slice:
    """Which rollup rows a report reads: one dimension, a range of days, some teams."""

    dimension: str
    first: date
    last: date
    # The teams as stored (NO_TEAM for the shared pool); None: every team.
    teams: Sequence[str] | None = None

    def condition(self, table: type[ReportRollup] | type[ReportHistogram]) -> ColumnElement[bool]:
        conditions = [
            table.dimension == self.dimension,
            table.day >= self.first,
            table.day <= self.last,
        ]
        if self.teams is not None:
            conditions.append(table.team.in_(sorted(self.teams)))
        return and_(true(), *conditions)


def _group_columns(
    table: type[ReportRollup] | type[ReportHistogram], by: Sequence[str]
) -> list[Any]:
    return [getattr(table, name) for name in by]


async def rollup_sums(
    session: AsyncSession, piece: Slice, by: Sequence[str]
) -> list[tuple[tuple[Any, ...], dict[str, int]]]:
    """The counters summed over `piece`, grouped by the columns `by` (day, key, team)."""
    groups = _group_columns(ReportRollup, by)
    stmt = (
        select(*groups, *(func.sum(getattr(ReportRollup, c)) for c in COUNTERS))
        .where(piece.condition(ReportRollup))
        .group_by(*groups)
    )
    out = []
    # Plain rows (no ORM entities to build): the Core path of the session's connection.
    connection = await session.connection()
    for row in (await connection.execute(stmt)).all():
        key = tuple(row[: len(groups)])
        out.append(
            (key, {c: int(v or 0) for c, v in zip(COUNTERS, row[len(groups) :], strict=True)})
        )
    return out


async def histogram_sums(
    session: AsyncSession, piece: Slice, by: Sequence[str]
) -> list[tuple[tuple[Any, ...], str, int, int]]:
    """(group, metric, bucket, count) summed over `piece`, grouped by `by`."""
    groups = _group_columns(ReportHistogram, by)
    stmt = (
        select(
            *groups, ReportHistogram.metric, ReportHistogram.bucket, func.sum(ReportHistogram.count)
        )
        .where(piece.condition(ReportHistogram))
        .group_by(*groups, ReportHistogram.metric, ReportHistogram.bucket)
    )
    n = len(groups)
    connection = await session.connection()
    return [
        (tuple(row[:n]), str(row[n]), int(row[n + 1]), int(row[n + 2] or 0))
        for row in (await connection.execute(stmt)).all()
    ]


async def computed_days(
    session: AsyncSession, first: date, last: date
) -> tuple[int, datetime | None]:
    """How many days of [first, last] the rollups hold, and the oldest recompute among them."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(ReportDay.computed_at)).where(
                ReportDay.day >= first, ReportDay.day <= last
            )
        )
    ).one()
    return int(count or 0), (_as_datetime(oldest) if oldest is not None else None)


async def team_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    return {tid: name for tid, name in (await session.execute(select(Team.id, Team.name))).all()}


async def member_team_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    return list((await session.scalars(stmt)).all())
