"""Service levels (docs/service-levels.md): business-time due times, pauses, warnings and
breaches fired once with their actions, policy matching, the job's watermark, and the API's
validation and access rules."""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from contact_center.models.audit_log import AuditLog
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    MessageStatus,
    Priority,
    Role,
    SlaAction,
    SlaState,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.note import Notification
from contact_center.models.service_levels import ClosedDay, ConversationSla, SlaPolicy
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount
from contact_center.service_levels import keeper, tasks
from contact_center.service_levels.clocks import best_policy, compute
from tests import auth
from tests import factories as f

Sessions = async_sessionmaker[AsyncSession]
BA = ZoneInfo("America/Argentina/Buenos_Aires")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Friday 13 November 2026, 17:00 in Buenos Aires; Monday 16 is a working day.
FRIDAY = datetime(2026, 11, 13, 17, 0, tzinfo=BA)
# Friday 20 November 2026, 17:00; Monday 23 is a national holiday (Día de la Soberanía).
HOLIDAY_FRIDAY = datetime(2026, 11, 20, 17, 0, tzinfo=BA)
# Tuesday 17 November 2026, 10:00: a plain working morning.
TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=BA)
HOUR = 3600


@pytest.fixture
async def people(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    admin = await auth.token_client(app, "root", Role.ADMIN)
    yield {**people, "admin": admin}
    await admin.aclose()


def _sessions(app: FastAPI) -> Sessions:
    sessions: Sessions = app.state.session_factory
    return sessions


async def _policy(sessions: Sessions, **overrides: Any) -> SlaPolicy:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": f"policy-{uuid.uuid4().hex[:8]}",
        "position": 0,
        "first_response_secs": 2 * HOUR,
        "pause_while_waiting_on_customer": False,
        "breach_action": SlaAction.NOTIFY,
        "enabled": True,
    }
    values.update(overrides)
    policy = SlaPolicy(**values)
    async with sessions() as session:
        await f.save(session, policy)
    return policy


async def _conversation(
    sessions: Sessions, at: datetime, *, extra: list[Any] | None = None, **overrides: Any
) -> Interaction:
    """A WhatsApp conversation whose customer wrote at `at`."""
    chat = f.interaction(
        started_at=at.astimezone(UTC),
        updated_at=at.astimezone(UTC),
        last_message_at=at.astimezone(UTC),
        waiting_since=at.astimezone(UTC),
        ai_handled=False,
        **overrides,
    )
    async with sessions() as session:
        await f.save(session, chat, f.message(chat, created_at=at.astimezone(UTC)))
        for make in extra or []:
            made = make(chat) if callable(make) else make
            for row in made if isinstance(made, list) else [made]:
                session.add(row)
                await session.flush()
        await session.commit()
    return chat


def _reply(at: datetime, *, person: bool = True) -> Any:
    """A person's reply (or the system's message) queued at `at`."""

    def rows(chat: Interaction) -> list[Any]:
        message = f.message(
            chat,
            id=uuid.uuid4(),
            direction=Direction.OUTBOUND,
            status=MessageStatus.SENT,
            created_at=at.astimezone(UTC),
        )
        event = f.event(
            chat,
            type=EventType.MESSAGE_QUEUED.value,
            occurred_at=at.astimezone(UTC),
            payload=None,
            normalized={"messageId": str(message.id), "kind": "TEXT", "person": person},
        )
        return [message, event]

    return rows


async def _add(sessions: Sessions, chat: Interaction, *makers: Any, touch: datetime) -> None:
    async with sessions() as session:
        for make in makers:
            made = make(chat)
            for row in made if isinstance(made, list) else [made]:
                session.add(row)
                await session.flush()
        found = await session.get(Interaction, chat.id)
        assert found is not None
        found.updated_at = touch.astimezone(UTC)
        await session.commit()


async def _run(sessions: Sessions, now: datetime, since: datetime = EPOCH) -> tasks.Run:
    return await tasks.run(
        sessions, now.astimezone(UTC), since, default_zone="America/Argentina/Buenos_Aires"
    )


async def _row(sessions: Sessions, interaction_id: uuid.UUID) -> ConversationSla:
    async with sessions() as session:
        row = await session.get(ConversationSla, interaction_id)
        assert row is not None
        return row


async def _events(sessions: Sessions, interaction_id: uuid.UUID, kind: str) -> list[dict[str, Any]]:
    """The normalized documents of the conversation's events of `kind`."""
    async with sessions() as session:
        stmt = select(InteractionEvent).where(
            InteractionEvent.interaction_id == interaction_id, InteractionEvent.type == kind
        )
        return [dict(e.normalized or {}) for e in (await session.scalars(stmt)).all()]


async def _audits(sessions: Sessions, action: str) -> list[AuditLog]:
    async with sessions() as session:
        return list(
            (await session.scalars(select(AuditLog).where(AuditLog.action == action))).all()
        )


def _local(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(BA)


# --- due times in business time ------------------------------------------------------------


async def test_a_message_on_friday_at_five_is_due_on_monday_at_ten_and_on_tuesday_after_a_holiday(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=2 * HOUR, resolution_secs=10 * HOUR)
    plain = await _conversation(sessions, FRIDAY)
    holiday = await _conversation(sessions, HOLIDAY_FRIDAY)
    await _run(sessions, FRIDAY + timedelta(minutes=1))
    row = await _row(sessions, plain.id)
    assert _local(row.first_response_due_at) == datetime(2026, 11, 16, 10, 0, tzinfo=BA)
    assert row.first_response_state is SlaState.RUNNING
    # 1 h on Friday, 9 h on Monday: Monday 18:00.
    assert _local(row.resolution_due_at) == datetime(2026, 11, 16, 18, 0, tzinfo=BA)
    # The 80 % mark (1 h 36 min): Monday 09:36.
    assert _local(row.next_check_at) == datetime(2026, 11, 16, 9, 36, tzinfo=BA)
    row = await _row(sessions, holiday.id)
    assert _local(row.first_response_due_at) == datetime(2026, 11, 24, 10, 0, tzinfo=BA)


async def test_a_closed_day_of_the_bank_moves_the_due_time(app: FastAPI) -> None:
    sessions = _sessions(app)
    async with sessions() as session:
        await f.save(session, ClosedDay(day=datetime(2026, 11, 16).date(), name="Aniversario"))
    await _policy(sessions)
    chat = await _conversation(sessions, FRIDAY)
    await _run(sessions, FRIDAY + timedelta(minutes=1))
    row = await _row(sessions, chat.id)
    assert _local(row.first_response_due_at) == datetime(2026, 11, 17, 10, 0, tzinfo=BA)


async def test_a_reply_in_time_meets_the_target_and_a_late_one_stays_breached(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR)
    early = await _conversation(sessions, TUESDAY, extra=[_reply(TUESDAY + timedelta(minutes=30))])
    late = await _conversation(sessions, TUESDAY, extra=[_reply(TUESDAY + timedelta(hours=2))])
    bot = await _conversation(
        sessions, TUESDAY, extra=[_reply(TUESDAY + timedelta(minutes=5), person=False)]
    )
    await _run(sessions, TUESDAY + timedelta(hours=3))
    row = await _row(sessions, early.id)
    assert row.first_response_state is SlaState.MET
    assert _local(row.first_response_at) == TUESDAY + timedelta(minutes=30)
    assert row.next_check_at is None
    assert (await _row(sessions, late.id)).first_response_state is SlaState.BREACHED
    # A message the system queued is not a reply: the clock ran out.
    row = await _row(sessions, bot.id)
    assert row.first_response_state is SlaState.BREACHED
    assert row.first_response_at is None


# --- warning, breach, once -----------------------------------------------------------------


async def test_the_warning_fires_at_80_percent_and_the_breach_at_the_due_time_each_once(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR)
    chat = await _conversation(sessions, TUESDAY)
    await _run(sessions, TUESDAY + timedelta(minutes=47))
    assert (await _row(sessions, chat.id)).first_response_state is SlaState.RUNNING
    assert await _events(sessions, chat.id, "sla.warning") == []
    for _ in range(2):
        await _run(sessions, TUESDAY + timedelta(minutes=48))
    row = await _row(sessions, chat.id)
    assert row.first_response_state is SlaState.WARNING
    assert _local(row.next_check_at) == TUESDAY + timedelta(hours=1)
    warnings = await _events(sessions, chat.id, "sla.warning")
    assert len(warnings) == 1
    assert warnings[0]["target"] == "FIRST_RESPONSE"
    assert len(await _audits(sessions, "sla.warning")) == 1
    for _ in range(2):
        result = await _run(sessions, TUESDAY + timedelta(hours=1, seconds=1))
    assert result.fired == []
    assert (await _row(sessions, chat.id)).first_response_state is SlaState.BREACHED
    breaches = await _events(sessions, chat.id, "sla.breached")
    assert len(breaches) == 1
    assert breaches[0]["dueAt"] == (TUESDAY + timedelta(hours=1)).astimezone(UTC).isoformat()
    audits = await _audits(sessions, "sla.breached")
    assert [(a.actor_id, a.entity_id) for a in audits] == [("system", str(chat.id))]
    # NOTIFY: the supervisors (sup belongs to no team: every supervisor).
    async with sessions() as session:
        notified = (
            (
                await session.execute(
                    select(UserAccount.username)
                    .join(Notification, Notification.user_id == UserAccount.id)
                    .where(Notification.kind == "sla.breached")
                )
            )
            .scalars()
            .all()
        )
    assert notified == ["sup"]


async def test_two_workers_racing_fire_one_breach(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR)
    chats = [await _conversation(sessions, TUESDAY) for _ in range(3)]
    results = await asyncio.gather(
        *(_run(sessions, TUESDAY + timedelta(hours=2)) for _ in range(4))
    )
    assert sum(len(r.fired) for r in results) == 3
    for chat in chats:
        assert len(await _events(sessions, chat.id, "sla.breached")) == 1
    assert len(await _audits(sessions, "sla.breached")) == 3
    async with sessions() as session:
        assert len((await session.scalars(select(Notification))).all()) == 3


async def test_raise_priority_goes_one_step_and_requeue_puts_it_back_in_the_queue(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await _policy(
        sessions,
        channel=Channel.WHATSAPP,
        breach_action=SlaAction.RAISE_PRIORITY,
        first_response_secs=HOUR,
    )
    await _policy(
        sessions, channel=Channel.SMS, breach_action=SlaAction.REQUEUE, first_response_secs=HOUR
    )
    raised = await _conversation(sessions, TUESDAY, priority=Priority.HIGH)
    urgent = await _conversation(sessions, TUESDAY, priority=Priority.URGENT)
    requeued = await _conversation(
        sessions,
        TUESDAY,
        channel=Channel.SMS,
        assigned_agent="ana",
        assigned_at=TUESDAY.astimezone(UTC),
    )
    await _run(sessions, TUESDAY + timedelta(hours=2))
    async with sessions() as session:
        assert (await session.get(Interaction, raised.id)).priority is Priority.URGENT  # type: ignore[union-attr]
        assert (await session.get(Interaction, urgent.id)).priority is Priority.URGENT  # type: ignore[union-attr]
        back = await session.get(Interaction, requeued.id)
        assert back is not None
        assert back.assigned_agent is None
        assert back.queued_at is not None
    changed = await _events(sessions, raised.id, "priority.changed")
    assert [(e["from"], e["to"]) for e in changed] == [("HIGH", "URGENT")]
    assert await _events(sessions, urgent.id, "priority.changed") == []
    unassigned = await _events(sessions, requeued.id, "agent.unassigned")
    assert [e["from"] for e in unassigned] == ["ana"]
    assert len(await _audits(sessions, "interaction.unassign")) == 1
    # A second run after the raise (the conversation changed) fires nothing again.
    await _run(sessions, TUESDAY + timedelta(hours=3))
    assert len(await _events(sessions, raised.id, "priority.changed")) == 1


async def test_notify_goes_to_the_supervisors_of_the_conversations_team(app: FastAPI) -> None:
    sessions = _sessions(app)
    ours = await auth.user(sessions, "sup-tarjetas", Role.SUPERVISOR)
    await auth.user(sessions, "sup-otro", Role.SUPERVISOR)
    team = Team(id=uuid.uuid4(), name="Tarjetas")
    async with sessions() as session:
        await f.save(session, team, TeamMember(team_id=team.id, user_id=ours.id))
    await _policy(sessions, first_response_secs=HOUR)
    chat = await _conversation(sessions, TUESDAY, team_id=team.id)
    await _run(sessions, TUESDAY + timedelta(hours=2))
    async with sessions() as session:
        rows = (await session.scalars(select(Notification))).all()
    assert [(n.user_id, n.interaction_id, n.kind) for n in rows] == [
        (ours.id, chat.id, "sla.breached")
    ]


# --- pauses --------------------------------------------------------------------------------


def _snoozed(at: datetime, until: datetime) -> Any:
    return lambda chat: f.event(
        chat,
        type=EventType.CONVERSATION_SNOOZED.value,
        occurred_at=at.astimezone(UTC),
        payload=None,
        normalized={"until": until.astimezone(UTC).isoformat(), "from": None},
    )


def _woke(at: datetime) -> Any:
    return lambda chat: f.event(
        chat,
        type=EventType.CONVERSATION_WOKE.value,
        occurred_at=at.astimezone(UTC),
        payload=None,
        normalized={"by": "router"},
    )


async def test_the_clock_stands_still_while_snoozed(app: FastAPI) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=2 * HOUR)
    start = TUESDAY
    until = start + timedelta(hours=3)
    chat = await _conversation(
        sessions,
        start,
        extra=[_snoozed(start + timedelta(minutes=30), until)],
        snoozed_until=until.astimezone(UTC),
    )
    # While snoozed: paused since the snooze, no check until it wakes.
    await _run(sessions, start + timedelta(hours=1))
    row = await _row(sessions, chat.id)
    assert _local(row.paused_since) == start + timedelta(minutes=30)
    assert row.first_response_state is SlaState.RUNNING
    assert _local(row.next_check_at) == until
    # Woken early (after 1 h 30 min of snooze): the due time moves by that.
    async with sessions() as session:
        found = await session.get(Interaction, chat.id)
        assert found is not None
        found.snoozed_until = None
        await session.commit()
    await _add(sessions, chat, _woke(start + timedelta(hours=2)), touch=start + timedelta(hours=2))
    await _run(sessions, start + timedelta(hours=2, minutes=1))
    row = await _row(sessions, chat.id)
    assert row.paused_since is None
    assert row.paused_secs == 90 * 60
    assert _local(row.first_response_due_at) == start + timedelta(hours=3, minutes=30)
    assert row.first_response_state is SlaState.RUNNING


async def test_waiting_on_the_customer_pauses_only_when_the_policy_says_so(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    paused = await _policy(
        sessions,
        channel=Channel.WHATSAPP,
        first_response_secs=None,
        resolution_secs=2 * HOUR,
        pause_while_waiting_on_customer=True,
    )
    await _policy(sessions, channel=Channel.SMS, first_response_secs=None, resolution_secs=2 * HOUR)
    start = TUESDAY

    def customer(at: datetime) -> Any:
        return lambda chat: f.message(chat, id=uuid.uuid4(), created_at=at.astimezone(UTC))

    chats = []
    for channel in (Channel.WHATSAPP, Channel.SMS):
        chat = await _conversation(sessions, start, channel=channel)
        await _add(
            sessions,
            chat,
            _reply(start + timedelta(minutes=10)),
            customer(start + timedelta(minutes=70)),
            touch=start + timedelta(minutes=70),
        )
        chats.append(chat)
    await _run(sessions, start + timedelta(minutes=80))
    row = await _row(sessions, chats[0].id)
    assert row.policy_id == paused.id
    assert row.paused_secs == 3600
    assert _local(row.resolution_due_at) == start + timedelta(hours=3)
    other = await _row(sessions, chats[1].id)
    assert other.paused_secs == 0
    assert _local(other.resolution_due_at) == start + timedelta(hours=2)


async def test_next_responses_are_counted_one_by_one(app: FastAPI) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR, next_response_secs=HOUR)
    start = TUESDAY

    def customer(at: datetime) -> Any:
        return lambda chat: f.message(chat, id=uuid.uuid4(), created_at=at.astimezone(UTC))

    chat = await _conversation(sessions, start)
    await _add(
        sessions,
        chat,
        _reply(start + timedelta(minutes=5)),
        customer(start + timedelta(minutes=10)),
        _reply(start + timedelta(minutes=20)),  # met
        customer(start + timedelta(minutes=30)),
        _reply(start + timedelta(hours=2)),  # late
        customer(start + timedelta(hours=3)),  # waiting now
        touch=start + timedelta(hours=3),
    )
    await _run(sessions, start + timedelta(hours=3, minutes=50))
    row = await _row(sessions, chat.id)
    assert (row.next_responses, row.next_responses_met) == (2, 1)
    assert row.next_response_state is SlaState.WARNING
    assert _local(row.next_response_due_at) == start + timedelta(hours=4)
    assert row.first_response_state is SlaState.MET


# --- matching and the watermark ------------------------------------------------------------


def test_the_most_specific_enabled_policy_wins_then_the_position_then_the_name() -> None:
    team = uuid.uuid4()

    def policy(name: str, **kw: Any) -> SlaPolicy:
        values: dict[str, Any] = {"name": name, "position": 0, "enabled": True}
        values.update(kw)
        return (
            SlaPolicy(team_id=None, channel=None, priority=None, **values)
            if not kw
            else SlaPolicy(**{"team_id": None, "channel": None, "priority": None, **values})
        )

    chat = f.interaction(team_id=team, priority=Priority.HIGH, channel=Channel.WHATSAPP)
    anything = policy("b-any")
    also_any = policy("a-any")
    channel = policy("channel", channel=Channel.WHATSAPP)
    team_channel = policy("team+channel", team_id=team, channel=Channel.WHATSAPP, position=5)
    team_priority = policy("team+priority", team_id=team, priority=Priority.HIGH, position=1)
    disabled = policy(
        "all three", team_id=team, channel=Channel.WHATSAPP, priority=Priority.HIGH, enabled=False
    )
    sms = policy("sms", channel=Channel.SMS, team_id=team, priority=Priority.HIGH)
    assert best_policy([anything, also_any], chat) is also_any
    assert best_policy([anything, channel], chat) is channel
    every = [anything, channel, team_channel, team_priority, disabled, sms]
    assert best_policy(every, chat) is team_priority
    assert best_policy([sms, disabled], chat) is None


async def test_the_job_picks_up_a_change_committed_after_its_watermark_passed(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR)
    first = await _conversation(sessions, TUESDAY)
    result = await _run(sessions, TUESDAY + timedelta(minutes=1))
    assert result.looked == 1
    assert (await _row(sessions, first.id)).first_response_state is SlaState.RUNNING
    watermark = result.watermark
    assert watermark == TUESDAY.astimezone(UTC)
    # A transaction stamped its change a little before the watermark and committed after it.
    late = await _conversation(sessions, TUESDAY - timedelta(seconds=10))
    result = await _run(sessions, TUESDAY + timedelta(minutes=2), watermark)
    assert (await _row(sessions, late.id)).first_response_state is SlaState.RUNNING
    assert result.watermark == watermark


async def test_conversations_of_calls_and_without_a_policy_get_no_clocks(app: FastAPI) -> None:
    sessions = _sessions(app)
    chat = await _conversation(sessions, TUESDAY)
    await _run(sessions, TUESDAY + timedelta(hours=5))
    async with sessions() as session:
        assert await session.get(ConversationSla, chat.id) is None
    await _policy(sessions)
    call = await _conversation(sessions, TUESDAY, channel=Channel.CALL)
    await _run(sessions, TUESDAY + timedelta(hours=5))
    async with sessions() as session:
        assert await session.get(ConversationSla, call.id) is None
        assert await session.get(ConversationSla, chat.id) is not None


# --- what is timed, pauses, failures and breaches that stay --------------------------------


async def _sent_by_the_bank(
    sessions: Sessions, at: datetime, provider_conversation_id: str, **overrides: Any
) -> Interaction:
    """An SMS the bank sent on its own (a code, a link, a survey): no customer message."""
    chat = f.interaction(
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        provider_conversation_id=provider_conversation_id,
        started_at=at.astimezone(UTC),
        updated_at=at.astimezone(UTC),
        last_message_at=at.astimezone(UTC),
        ai_handled=False,
        **overrides,
    )
    async with sessions() as session:
        await f.save(session, chat)
    await _add(sessions, chat, _reply(at, person=False), touch=at)
    return chat


async def test_messages_the_bank_sends_on_its_own_get_no_clocks_and_fire_nothing(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = _sessions(app)
    await _policy(
        sessions,
        first_response_secs=HOUR,
        next_response_secs=HOUR,
        resolution_secs=2 * HOUR,
        breach_action=SlaAction.RAISE_PRIORITY,
    )
    otp = await _sent_by_the_bank(sessions, TUESDAY, f"otp:{uuid.uuid4().hex}")
    link = await _sent_by_the_bank(sessions, TUESDAY, f"link:{uuid.uuid4().hex}")
    survey = await _sent_by_the_bank(
        sessions, TUESDAY, f"csat:{uuid.uuid4().hex}", status=InteractionStatus.COMPLETED
    )
    # A row written for one of them before the rule: removed.
    async with sessions() as session:
        await f.save(
            session,
            ConversationSla(
                interaction_id=link.id,
                resolution_state=SlaState.RUNNING,
                next_check_at=(TUESDAY + timedelta(hours=1)).astimezone(UTC),
            ),
        )
    results = [await _run(sessions, TUESDAY + timedelta(days=days)) for days in (0, 3, 30)]
    assert [r.fired for r in results] == [[], [], []]
    async with sessions() as session:
        for chat in (otp, link, survey):
            assert await session.get(ConversationSla, chat.id) is None
            found = await session.get(Interaction, chat.id)
            assert found is not None
            assert found.priority is Priority.NORMAL
        assert (await session.scalars(select(Notification))).all() == []
        timed = select(InteractionEvent).where(InteractionEvent.type.like("sla.%"))
        assert (await session.scalars(timed)).all() == []
    assert await _audits(sessions, "sla.breached") == []


async def test_the_resolution_clock_starts_at_the_customers_first_message(app: FastAPI) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=None, resolution_secs=2 * HOUR)
    # The bank sent a link at 10:00; the customer answered it at 11:00.
    chat = await _sent_by_the_bank(sessions, TUESDAY, f"link:{uuid.uuid4().hex}")
    await _add(
        sessions,
        chat,
        lambda c: f.message(c, id=uuid.uuid4(), created_at=(TUESDAY + timedelta(hours=1))),
        touch=TUESDAY + timedelta(hours=1),
    )
    await _run(sessions, TUESDAY + timedelta(hours=2, minutes=30))
    row = await _row(sessions, chat.id)
    assert _local(row.resolution_due_at) == TUESDAY + timedelta(hours=3)
    assert row.resolution_state is SlaState.RUNNING


def _bot(at: datetime) -> Any:
    """A bot's message: stored from the provider, never queued."""
    return lambda chat: f.message(
        chat,
        id=uuid.uuid4(),
        direction=Direction.OUTBOUND,
        status=MessageStatus.SENT,
        created_at=at.astimezone(UTC),
    )


async def test_waiting_on_the_customer_pauses_after_a_persons_reply_never_in_the_queue(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await _policy(
        sessions,
        first_response_secs=HOUR,
        resolution_secs=2 * HOUR,
        pause_while_waiting_on_customer=True,
    )
    start = TUESDAY
    # The bot hands over at 10:05 and the customer waits in the queue: nothing pauses.
    handed_over = await _conversation(
        sessions,
        start,
        extra=[_bot(start + timedelta(minutes=5))],
        queued_at=(start + timedelta(minutes=5)).astimezone(UTC),
    )
    # A person replied at 10:10 and the customer has not written since: paused.
    replied = await _conversation(sessions, start, extra=[_reply(start + timedelta(minutes=10))])
    # A person replied at 10:10, then it went back to the queue at 10:30: paused until then.
    requeued = await _conversation(
        sessions,
        start,
        extra=[_reply(start + timedelta(minutes=10))],
        queued_at=(start + timedelta(minutes=30)).astimezone(UTC),
    )
    await _run(sessions, start + timedelta(hours=1, minutes=1))
    row = await _row(sessions, handed_over.id)
    assert row.first_response_state is SlaState.BREACHED
    assert (row.paused_secs, row.paused_since) == (0, None)
    assert _local(row.resolution_due_at) == start + timedelta(hours=2)
    row = await _row(sessions, replied.id)
    assert row.first_response_state is SlaState.MET
    assert _local(row.paused_since) == start + timedelta(minutes=10)
    row = await _row(sessions, requeued.id)
    assert row.paused_since is None
    assert row.paused_secs == 20 * 60
    assert _local(row.resolution_due_at) == start + timedelta(hours=2, minutes=20)


async def test_a_conversation_that_fails_is_skipped_logged_and_tried_again_on_the_next_run(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR)
    bad = await _conversation(sessions, TUESDAY + timedelta(minutes=5))
    good = await _conversation(sessions, TUESDAY)
    later = await _conversation(sessions, TUESDAY + timedelta(minutes=10))
    real = compute

    def failing(history: Any, *args: Any) -> Any:
        if history.interaction.id == bad.id:
            raise RuntimeError(f"boom {history.interaction.customer_phone}")
        return real(history, *args)

    monkeypatch.setattr(keeper, "compute", failing)
    with capture_logs() as logs:
        # A fresh logger: the module's own was cached by whichever test used it first, with the
        # processors of that moment, and would write past the capture.
        monkeypatch.setattr(tasks, "log", structlog.get_logger(tasks.__name__))
        first = await _run(sessions, TUESDAY + timedelta(minutes=20))
    assert first.failed == [bad.id]
    assert first.looked == 2
    for chat in (good, later):
        assert (await _row(sessions, chat.id)).first_response_state is SlaState.RUNNING
    async with sessions() as session:
        assert await session.get(ConversationSla, bad.id) is None
    # The watermark moves past the failed one; it is remembered for the next run instead.
    assert first.watermark == (TUESDAY + timedelta(minutes=10)).astimezone(UTC)
    failures = [e for e in logs if e["event"] == "sla_keep_failed"]
    assert failures == [
        {
            "event": "sla_keep_failed",
            "interaction_id": str(bad.id),
            "error": "RuntimeError",
            "log_level": "warning",
        }
    ]
    assert "555" not in repr(logs)
    monkeypatch.setattr(keeper, "compute", real)
    # Long after: the failed one is no longer among the changes, but it is tried again.
    second = await tasks.run(
        sessions,
        (TUESDAY + timedelta(minutes=30)).astimezone(UTC),
        first.watermark + timedelta(hours=1),
        default_zone="America/Argentina/Buenos_Aires",
        retry=first.failed,
    )
    assert second.failed == []
    assert (await _row(sessions, bad.id)).first_response_state is SlaState.RUNNING


class _Redis:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> bytes | None:
        value = self.values.get(key)
        return None if value is None else value.encode()

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)


async def test_the_failed_conversations_are_remembered_in_redis_between_runs() -> None:
    queue: Any = type("Queue", (), {"redis": _Redis()})()
    failed = [uuid.uuid4(), uuid.uuid4()]
    await tasks._write_retry(queue, failed)
    assert await tasks._read_retry(queue) == failed
    queue.redis.values[tasks.RETRY_KEY] = f"not-a-uuid,{failed[0]}"
    assert await tasks._read_retry(queue) == [failed[0]]
    await tasks._write_retry(queue, [])
    assert await tasks._read_retry(queue) == []


async def test_a_breach_stays_when_another_policy_gives_a_longer_target(app: FastAPI) -> None:
    sessions = _sessions(app)
    await _policy(
        sessions,
        priority=Priority.NORMAL,
        first_response_secs=HOUR,
        resolution_secs=2 * HOUR,
        breach_action=SlaAction.RAISE_PRIORITY,
    )
    await _policy(
        sessions, priority=Priority.HIGH, first_response_secs=8 * HOUR, resolution_secs=9 * HOUR
    )
    chat = await _conversation(sessions, TUESDAY, priority=Priority.NORMAL)
    breached_at = TUESDAY + timedelta(hours=1, minutes=1)
    await _run(sessions, breached_at)
    row = await _row(sessions, chat.id)
    assert row.first_response_state is SlaState.BREACHED
    due = row.first_response_due_at
    async with sessions() as session:
        found = await session.get(Interaction, chat.id)
        assert found is not None
        assert found.priority is Priority.HIGH  # now under the 8 h policy
    # Looked at again (it changed), and later a reply comes well inside 8 h.
    await _run(sessions, breached_at + timedelta(minutes=1))
    assert (await _row(sessions, chat.id)).first_response_state is SlaState.BREACHED
    await _add(sessions, chat, _reply(TUESDAY + timedelta(hours=2)), touch=breached_at)
    await _run(sessions, TUESDAY + timedelta(hours=3))
    row = await _row(sessions, chat.id)
    assert row.first_response_state is SlaState.BREACHED
    assert row.first_response_due_at == due
    assert len(await _events(sessions, chat.id, "sla.breached")) == 1


async def test_deleting_or_disabling_a_policy_leaves_the_states_as_they_were(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = _sessions(app)
    deleted = await _policy(sessions, channel=Channel.WHATSAPP, first_response_secs=HOUR)
    disabled = await _policy(sessions, channel=Channel.SMS, first_response_secs=HOUR)
    one = await _conversation(sessions, TUESDAY)
    other = await _conversation(sessions, TUESDAY, channel=Channel.SMS)
    await _run(sessions, TUESDAY + timedelta(hours=2))
    for chat in (one, other):
        assert (await _row(sessions, chat.id)).first_response_state is SlaState.BREACHED
    admin = people["admin"]
    response = await admin.delete(f"/api/sla-policies/{deleted.id}")
    assert response.status_code == 204, response.text
    response = await admin.patch(f"/api/sla-policies/{disabled.id}", json={"enabled": False})
    assert response.status_code == 200, response.text
    await _add(sessions, one, _reply(TUESDAY + timedelta(hours=3)), touch=TUESDAY)
    await _add(sessions, other, _reply(TUESDAY + timedelta(hours=3)), touch=TUESDAY)
    await _run(sessions, TUESDAY + timedelta(hours=4))
    for chat in (one, other):
        row = await _row(sessions, chat.id)
        assert row.first_response_state is SlaState.BREACHED
        assert row.next_check_at is None


# --- the API -------------------------------------------------------------------------------


def _error(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


POLICY = {
    "name": "WhatsApp urgente",
    "channel": "WHATSAPP",
    "priority": "URGENT",
    "firstResponseSecs": 900,
    "nextResponseSecs": 1800,
    "resolutionSecs": 28800,
    "pauseWhileWaitingOnCustomer": True,
    "breachAction": "RAISE_PRIORITY",
}


async def test_an_admin_creates_changes_and_deletes_a_policy_each_change_audited(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    admin, sup = people["admin"], people["sup"]
    created = await admin.post("/api/sla-policies", json=POLICY)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["firstResponseSecs"] == 900
    assert policy["enabled"] is True
    listed = await sup.get("/api/sla-policies")
    assert [p["name"] for p in listed.json()["items"]] == ["WhatsApp urgente"]
    assert (await sup.get(f"/api/sla-policies/{policy['id']}")).json()["id"] == policy["id"]
    patched = await admin.patch(
        f"/api/sla-policies/{policy['id']}", json={"firstResponseSecs": 600, "channel": None}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["firstResponseSecs"], patched.json()["channel"]) == (600, None)
    taken = await admin.post("/api/sla-policies", json=POLICY)
    assert (taken.status_code, _error(taken)) == (409, "sla_policy_name_taken")
    deleted = await admin.delete(f"/api/sla-policies/{policy['id']}")
    assert deleted.status_code == 204
    gone = await admin.get(f"/api/sla-policies/{policy['id']}")
    assert (gone.status_code, _error(gone)) == (404, "sla_policy_not_found")
    sessions = _sessions(app)
    actions = [
        a.action
        for a in await _audits(sessions, "sla_policy.create")
        + await _audits(sessions, "sla_policy.update")
        + await _audits(sessions, "sla_policy.delete")
    ]
    assert actions == ["sla_policy.create", "sla_policy.update", "sla_policy.delete"]
    (update,) = await _audits(sessions, "sla_policy.update")
    assert update.metadata_ == {
        "firstResponseSecs": {"from": 900, "to": 600},
        "channel": {"from": "WHATSAPP", "to": None},
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"firstResponseSecs": 0}, "firstResponseSecs"),
        ({"firstResponseSecs": -5}, "firstResponseSecs"),
        ({"resolutionSecs": 366 * 24 * 3600}, "resolutionSecs"),
        ({"resolutionSecs": 10**30}, "resolutionSecs"),
        ({"nextResponseSecs": "3600"}, "nextResponseSecs"),
        ({"nextResponseSecs": 1.5}, "nextResponseSecs"),
        ({"name": "   "}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"channel": "FAX"}, "channel"),
        ({"breachAction": "EXPLODE"}, "breachAction"),
        ({"enabled": "yes"}, "enabled"),
        ({"teamId": "not-a-uuid"}, "teamId"),
    ],
)
async def test_a_policy_with_a_bad_field_is_refused_with_nothing_written(
    app: FastAPI, people: dict[str, httpx.AsyncClient], change: dict[str, Any], field: str
) -> None:
    response = await people["admin"].post("/api/sla-policies", json={**POLICY, **change})
    assert response.status_code == 422, response.text
    assert _error(response) in {"validation_failed", "validation_error"}, response.text
    assert field in response.text
    async with _sessions(app)() as session:
        assert (await session.scalars(select(SlaPolicy))).all() == []


async def test_a_policy_needs_a_target_and_a_known_team(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    admin = people["admin"]
    bare = {"name": "Sin metas"}
    response = await admin.post("/api/sla-policies", json=bare)
    assert (response.status_code, _error(response)) == (422, "sla_policy_without_target")
    response = await admin.post("/api/sla-policies", json={**POLICY, "teamId": str(uuid.uuid4())})
    assert (response.status_code, _error(response)) == (422, "unknown_team")
    created = (await admin.post("/api/sla-policies", json=POLICY)).json()
    cleared = await admin.patch(
        f"/api/sla-policies/{created['id']}",
        json={"firstResponseSecs": None, "nextResponseSecs": None, "resolutionSecs": None},
    )
    assert (cleared.status_code, _error(cleared)) == (422, "sla_policy_without_target")
    null_name = await admin.patch(f"/api/sla-policies/{created['id']}", json={"name": None})
    assert null_name.status_code == 422
    deep: Any = 1
    for _ in range(10_000):
        deep = [deep]
    hostile = await admin.post(
        "/api/sla-policies",
        content=b'{"name": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert 400 <= hostile.status_code < 500
    broken = await admin.post(
        "/api/sla-policies",
        content=b'{"name": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert 400 <= broken.status_code < 500
    async with _sessions(app)() as session:
        names = [p.name for p in (await session.scalars(select(SlaPolicy))).all()]
    assert names == ["WhatsApp urgente"]


async def test_agents_are_refused_and_supervisors_only_read(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    ana, sup = people["ana"], people["sup"]
    asked: list[tuple[str, str, Any]] = [
        ("GET", "/api/sla-policies", None),
        ("GET", "/api/business-calendar", None),
        ("GET", "/api/business-calendar/holidays?year=2026", None),
        ("POST", "/api/sla-policies", POLICY),
        ("PUT", "/api/business-calendar/default", {"zone": "UTC", "hours": {}}),
        ("POST", "/api/business-calendar/closed-days", {"day": "2026-12-24", "name": "x"}),
    ]
    for method, url, body in asked:
        response = await ana.request(method, url, json=body)
        assert response.status_code == 403, (method, url, response.text)
    refused: list[tuple[str, str, Any]] = [
        ("POST", "/api/sla-policies", POLICY),
        ("PATCH", f"/api/sla-policies/{uuid.uuid4()}", {"enabled": False}),
        ("DELETE", f"/api/sla-policies/{uuid.uuid4()}", None),
        (
            "PUT",
            "/api/business-calendar/default",
            {"zone": "UTC", "hours": {"monday": [{"opens": "09:00", "closes": "17:00"}]}},
        ),
        ("POST", "/api/business-calendar/closed-days", {"day": "2026-12-24", "name": "x"}),
        ("DELETE", "/api/business-calendar/closed-days/2026-12-24", None),
        ("DELETE", f"/api/teams/{uuid.uuid4()}/business-hours", None),
    ]
    for method, url, body in refused:
        response = await sup.request(method, url, json=body)
        assert response.status_code == 403, (method, url, response.text)
    assert (await sup.get("/api/sla-policies")).status_code == 200
    assert (await sup.get("/api/business-calendar")).status_code == 200


async def test_the_business_calendar_is_set_checked_and_read(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    admin, sup = people["admin"], people["sup"]
    initial = (await sup.get("/api/business-calendar")).json()
    assert initial["default"]["hours"]["monday"] == [{"opens": "09:00", "closes": "18:00"}]
    assert initial["default"]["hours"]["saturday"] == []
    assert initial["default"]["holidayCountry"] == "AR"
    week = {
        "monday": [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "20:00"}],
        "saturday": [{"opens": "09:00", "closes": "13:00"}],
    }
    put = await admin.put(
        "/api/business-calendar/default",
        json={"zone": "America/Argentina/Cordoba", "hours": week, "holidayCountry": "AR"},
    )
    assert put.status_code == 200, put.text
    team = Team(id=uuid.uuid4(), name="Tarjetas")
    async with _sessions(app)() as session:
        await f.save(session, team)
    own = await admin.put(
        f"/api/teams/{team.id}/business-hours",
        json={"zone": "UTC", "hours": {"sunday": [{"opens": "00:00", "closes": "24:00"}]}},
    )
    assert own.status_code == 200, own.text
    unknown = await admin.put(
        f"/api/teams/{uuid.uuid4()}/business-hours", json={"zone": "UTC", "hours": week}
    )
    assert unknown.status_code == 404
    closed = await admin.post(
        "/api/business-calendar/closed-days", json={"day": "2026-12-24", "name": "Nochebuena"}
    )
    assert closed.status_code == 201, closed.text
    again = await admin.post(
        "/api/business-calendar/closed-days", json={"day": "2026-12-24", "name": "Otra"}
    )
    assert (again.status_code, _error(again)) == (409, "closed_day_exists")
    read = (await sup.get("/api/business-calendar")).json()
    assert read["default"]["zone"] == "America/Argentina/Cordoba"
    assert read["default"]["hours"]["monday"] == week["monday"]
    assert [(t["teamName"], t["zone"]) for t in read["teams"]] == [("Tarjetas", "UTC")]
    assert read["closedDays"] == [{"day": "2026-12-24", "name": "Nochebuena"}]
    # The calendar the job uses follows.
    from contact_center.service_levels.calendar import calendar_for

    async with _sessions(app)() as session:
        default = await calendar_for(session, None)
        teams = await calendar_for(session, team.id)
        other = await calendar_for(session, uuid.uuid4())
    assert str(default.zone) == "America/Argentina/Cordoba"
    assert str(teams.zone) == "UTC"
    assert str(other.zone) == "America/Argentina/Cordoba"
    assert not default.is_working_day(datetime(2026, 12, 24).date())
    assert (await admin.delete(f"/api/teams/{team.id}/business-hours")).status_code == 204
    assert (await admin.delete(f"/api/teams/{team.id}/business-hours")).status_code == 404
    assert (await admin.delete("/api/business-calendar/closed-days/2026-12-24")).status_code == 204
    holidays = await sup.get("/api/business-calendar/holidays", params={"year": 2026})
    days = [h["day"] for h in holidays.json()["items"]]
    assert "2026-11-23" in days
    assert "2026-07-09" in days
    actions = {a.action for a in await _audits(_sessions(app), "business_hours.update")}
    assert actions == {"business_hours.update"}
    assert len(await _audits(_sessions(app), "closed_day.create")) == 1
    assert len(await _audits(_sessions(app), "closed_day.delete")) == 1
    assert len(await _audits(_sessions(app), "business_hours.delete")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"zone": "UTC", "hours": {"monday": [{"opens": "18:00", "closes": "09:00"}]}},
        {
            "zone": "UTC",
            "hours": {
                "monday": [
                    {"opens": "09:00", "closes": "13:00"},
                    {"opens": "12:00", "closes": "18:00"},
                ]
            },
        },
        {"zone": "Mars/Olympus_Mons", "hours": {"monday": [{"opens": "09:00", "closes": "18:00"}]}},
        {"zone": "../../etc/passwd", "hours": {"monday": [{"opens": "09:00", "closes": "18:00"}]}},
        {"zone": "UTC", "hours": {"funday": [{"opens": "09:00", "closes": "18:00"}]}},
        {
            "zone": "UTC",
            "hours": {
                "monday": [{"opens": "09:00", "closes": "18:00"}],
                "funday": [{"opens": "09:00", "closes": "18:00"}],
            },
        },
        {"zone": "UTC", "hours": {}},
        {"zone": "UTC", "hours": {"monday": [{"opens": "9", "closes": "18:00"}]}},
        {"zone": "UTC", "hours": {"monday": [{"opens": "25:00", "closes": "26:00"}]}},
        {"zone": "UTC", "hours": {"monday": "09:00-18:00"}},
        {"zone": "UTC\x00", "hours": {"monday": [{"opens": "09:00", "closes": "18:00"}]}},
        {
            "zone": "UTC",
            "hours": {"monday": [{"opens": "09:00", "closes": "18:00"}]},
            "holidayCountry": "ZZ",
        },
    ],
)
async def test_bad_business_hours_are_refused_with_the_error_envelope(
    app: FastAPI, people: dict[str, httpx.AsyncClient], body: dict[str, Any]
) -> None:
    response = await people["admin"].put("/api/business-calendar/default", json=body)
    assert response.status_code == 422, response.text
    _error(response)
    read = (await people["sup"].get("/api/business-calendar")).json()
    assert read["default"]["zone"] == "America/Argentina/Buenos_Aires"


async def test_a_conversations_clocks_are_read_in_the_callers_scope(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = _sessions(app)
    policy = await _policy(sessions, first_response_secs=HOUR)
    mine = await _conversation(sessions, TUESDAY, assigned_agent="ana")
    theirs = await _conversation(sessions, TUESDAY, assigned_agent="bruno")
    await _run(sessions, TUESDAY + timedelta(minutes=50))
    response = await people["ana"].get(f"/api/interactions/{mine.id}/sla")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["policyId"] == str(policy.id)
    assert body["policyName"] == policy.name
    assert body["firstResponse"]["state"] == "WARNING"
    assert body["firstResponse"]["dueAt"] == "2026-11-17T14:00:00.000000Z"
    assert body["resolution"] == {"dueAt": None, "state": None}
    hidden = await people["ana"].get(f"/api/interactions/{theirs.id}/sla")
    assert hidden.status_code == 404
    unknown = await people["ana"].get(f"/api/interactions/{uuid.uuid4()}/sla")
    assert unknown.status_code == 404
    assert (await people["sup"].get(f"/api/interactions/{theirs.id}/sla")).status_code == 200


# --- the console page ----------------------------------------------------------------------


async def test_the_service_levels_page_lists_policies_hours_closed_days_and_holidays(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions = _sessions(app)
    team = Team(id=uuid.uuid4(), name="Tarjetas")
    async with sessions() as session:
        await f.save(session, team, ClosedDay(day=datetime(2026, 12, 24).date(), name="Nochebuena"))
    await _policy(sessions, name="WhatsApp urgente", team_id=team.id, first_response_secs=900)
    admin = await auth.session_client(app, "jefa", Role.ADMIN)
    sup = await auth.session_client(app, "super", Role.SUPERVISOR)
    agent = await auth.session_client(app, "agente", Role.AGENT)
    try:
        page = await admin.get("/admin/service-levels", headers={"Accept-Language": "es-AR"})
        assert page.status_code == 200, page.text
        text = html.unescape(page.text)
        assert "WhatsApp urgente" in text
        assert 'id="new-policy"' in text
        assert "Nochebuena" in text
        assert "24/12/2026" in text
        assert 'href="/admin/service-levels"' in text
        read = html.unescape((await sup.get("/admin/service-levels")).text)
        assert "WhatsApp urgente" in read
        assert 'id="new-policy"' not in read
        assert 'data-method="DELETE"' not in read
        assert (await agent.get("/admin/service-levels")).status_code == 403
    finally:
        for http in (admin, sup, agent):
            await http.aclose()


async def test_the_inbox_header_shows_the_pending_target_and_when_it_is_due(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await _policy(sessions, first_response_secs=HOUR)
    waiting = await _conversation(sessions, TUESDAY, assigned_agent="lucia")
    late = await _conversation(sessions, TUESDAY - timedelta(days=1), assigned_agent="lucia")
    answered = await _conversation(
        sessions, TUESDAY, assigned_agent="lucia", extra=[_reply(TUESDAY + timedelta(minutes=5))]
    )
    await _run(sessions, TUESDAY + timedelta(minutes=10))
    agent = await auth.session_client(app, "lucia", Role.AGENT)
    try:

        async def header(chat: Interaction) -> str:
            response = await agent.get(
                f"/console/partials/inbox/conversation/{chat.id}",
                headers={"Accept-Language": "es-AR"},
            )
            assert response.status_code == 200, response.text
            return html.unescape(response.text)

        text = await header(waiting)
        assert 'data-sla="RUNNING"' in text
        assert "Primera respuesta vence <time" in text
        assert ">17/11/2026 11:00</time>" in text
        text = await header(late)
        assert 'data-sla="BREACHED"' in text
        assert "Primera respuesta vencida" in text
        assert "data-sla" not in await header(answered)
    finally:
        await agent.aclose()
