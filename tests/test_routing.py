"""The router (docs/workflow.md, "Routing"): teams by the rules, assignments by each team's mode
within capacity, several routers at once, snoozes that end, offline people's conversations back
in the queues, and the inbound paths that put a conversation in a queue."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.session import create_engine, create_session_factory
from contact_center.live.bus import BUS, EventBus
from contact_center.models import AuditLog, Interaction, InteractionEvent
from contact_center.models.enums import (
    Availability,
    Channel,
    InteractionStatus,
    Priority,
    RoutingMode,
)
from contact_center.models.team import RoutingRule, Team, TeamMember
from contact_center.models.user_account import UserAccount
from contact_center.routing.tasks import Router, sweep
from contact_center.settings import Settings
from tests import factories
from tests.deliveries import incoming, post_builderbot, post_elevenlabs, transcription

Sessions = async_sessionmaker[AsyncSession]
_numbers = itertools.count(1000)


def _now() -> datetime:
    return datetime.now(UTC)


async def _team(
    sessions: Sessions,
    name: str,
    members: list[str],
    *,
    mode: RoutingMode = RoutingMode.ROUND_ROBIN,
    default: bool = False,
    **capacity: int,
) -> uuid.UUID:
    """A team and its members (new ONLINE users, or existing ones by name)."""
    async with sessions() as session:
        team = Team(name=name, routing_mode=mode, is_default=default)
        session.add(team)
        await session.flush()
        for username in members:
            user = (
                await session.scalars(select(UserAccount).where(UserAccount.username == username))
            ).one_or_none()
            if user is None:
                user = UserAccount(
                    username=username,
                    role="agent",
                    password_hash="x",
                    availability=Availability.ONLINE,
                    availability_changed_at=_now(),
                    **{f"capacity_{k}": v for k, v in capacity.items()},
                )
                session.add(user)
                await session.flush()
            session.add(TeamMember(team_id=team.id, user_id=user.id))
        await session.commit()
        return team.id


async def _waiting(
    sessions: Sessions, n: int, *, team_id: uuid.UUID | None, **overrides: Any
) -> list[uuid.UUID]:
    """`n` conversations waiting in `team_id`'s queue, a second apart (oldest first)."""
    start = overrides.pop("queued_at", _now() - timedelta(minutes=10))
    ids = []
    async with sessions() as session:
        for i in range(n):
            row = factories.interaction(
                customer_phone=f"+54911{next(_numbers):08d}",
                queued_at=None if start is None else start + timedelta(seconds=i),
                team_id=team_id,
                **overrides,
            )
            session.add(row)
            ids.append(row.id)
        await session.commit()
    return ids


async def _agents(sessions: Sessions, ids: list[uuid.UUID]) -> list[str | None]:
    async with sessions() as session:
        rows = await session.execute(
            select(Interaction.id, Interaction.assigned_agent).where(Interaction.id.in_(ids))
        )
        found = {row[0]: row[1] for row in rows}
    return [found[i] for i in ids]


async def _set_availability(
    sessions: Sessions, username: str, availability: Availability, at: datetime | None = None
) -> None:
    async with sessions() as session:
        await session.execute(
            update(UserAccount)
            .where(UserAccount.username == username)
            .values(availability=availability, availability_changed_at=at or _now())
        )
        await session.commit()


async def _events(sessions: Sessions, type_: str) -> list[InteractionEvent]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(InteractionEvent).where(InteractionEvent.type == type_)
                )
            ).all()
        )


async def _audits(sessions: Sessions, action: str) -> int:
    async with sessions() as session:
        stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        return int((await session.execute(stmt)).scalar_one())


# --- choosing a team ------------------------------------------------------------------------


async def test_the_first_matching_rule_chooses_the_team_else_the_default_one(
    session_factory: Sessions, settings: Settings
) -> None:
    sms_team = await _team(session_factory, "sms", [])
    fraud = await _team(session_factory, "fraude", [])
    general = await _team(session_factory, "general", [], default=True)
    async with session_factory() as session:
        session.add_all(
            [
                RoutingRule(position=2, team_id=general, intent="fraude"),  # later: never wins
                RoutingRule(position=0, team_id=sms_team, channel=Channel.SMS),
                RoutingRule(position=1, team_id=fraud, channel=Channel.WHATSAPP, intent="fraude"),
            ]
        )
        await session.commit()
    sms = await _waiting(session_factory, 1, team_id=None, channel=Channel.SMS, intent="fraude")
    whatsapp_fraud = await _waiting(session_factory, 1, team_id=None, intent="fraude")
    other = await _waiting(session_factory, 1, team_id=None, intent="saldo")
    result = await sweep(session_factory, settings)
    assert result.teamed == 3
    async with session_factory() as session:
        teams = dict(
            (
                await session.execute(
                    select(Interaction.id, Interaction.team_id).where(
                        Interaction.id.in_(sms + whatsapp_fraud + other)
                    )
                )
            ).all()
        )
    assert teams[sms[0]] == sms_team
    assert teams[whatsapp_fraud[0]] == fraud
    assert teams[other[0]] == general


async def test_without_rules_or_a_default_team_a_conversation_waits_in_the_shared_pool(
    session_factory: Sessions, settings: Settings
) -> None:
    await _team(session_factory, "ventas", ["vera"], whatsapp=5)
    ids = await _waiting(session_factory, 2, team_id=None)
    result = await sweep(session_factory, settings)
    assert result.teamed == 0
    assert result.assignments == []
    assert await _agents(session_factory, ids) == [None, None]


# --- assigning ------------------------------------------------------------------------------


async def test_round_robin_takes_turns_starting_with_who_was_never_assigned(
    session_factory: Sessions, settings: Settings
) -> None:
    team = await _team(session_factory, "rr", ["ana", "beto", "caro"], whatsapp=10)
    async with session_factory() as session:
        # beto was assigned a while ago, ana more recently, caro never.
        for name, minutes in (("ana", 1), ("beto", 5)):
            user_id = (
                await session.execute(select(UserAccount.id).where(UserAccount.username == name))
            ).scalar_one()
            await session.execute(
                update(TeamMember)
                .where(TeamMember.team_id == team, TeamMember.user_id == user_id)
                .values(last_assigned_at=_now() - timedelta(minutes=minutes))
            )
        await session.commit()
    ids = await _waiting(session_factory, 9, team_id=team)
    await sweep(session_factory, settings)
    assert await _agents(session_factory, ids) == ["caro", "beto", "ana"] * 3
    events = await _events(session_factory, "agent.assigned")
    assert len(events) == 9
    normalized = [e.normalized or {} for e in events]
    assert {n["by"] for n in normalized} == {"routing"}
    assert {n["teamId"] for n in normalized} == {str(team)}
    assert all(n["from"] is None for n in normalized)
    assert await _audits(session_factory, "interaction.routed") == 9
    async with session_factory() as session:
        queued = (
            await session.execute(
                select(func.count()).where(Interaction.id.in_(ids), Interaction.queued_at.is_(None))
            )
        ).scalar_one()
    assert queued == 9


async def test_least_busy_picks_the_fewest_open_conversations_in_the_channel(
    session_factory: Sessions, settings: Settings
) -> None:
    team = await _team(
        session_factory, "lb", ["ana", "beto", "caro"], mode=RoutingMode.LEAST_BUSY, whatsapp=10
    )
    async with session_factory() as session:
        for agent, n in (("ana", 2), ("caro", 1)):
            for _ in range(n):
                session.add(
                    factories.interaction(
                        assigned_agent=agent, customer_phone=f"+54911{next(_numbers):08d}"
                    )
                )
        # Closed conversations and other channels do not count.
        session.add(
            factories.interaction(assigned_agent="beto", status=InteractionStatus.COMPLETED)
        )
        session.add(factories.interaction(assigned_agent="beto", channel=Channel.SMS))
        await session.commit()
    ids = await _waiting(session_factory, 3, team_id=team)
    await sweep(session_factory, settings)
    # beto 0 → beto; beto 1 = caro 1, caro never assigned → caro; beto 1 < ana 2, caro 2 → beto.
    assert await _agents(session_factory, ids) == ["beto", "caro", "beto"]


async def test_higher_priority_goes_first_then_the_oldest(
    session_factory: Sessions, settings: Settings
) -> None:
    team = await _team(session_factory, "prio", ["ana"], whatsapp=2)
    low = await _waiting(session_factory, 1, team_id=team, priority=Priority.LOW)
    normal = await _waiting(session_factory, 1, team_id=team, priority=Priority.NORMAL)
    urgent = await _waiting(
        session_factory, 1, team_id=team, priority=Priority.URGENT, queued_at=_now()
    )
    await sweep(session_factory, settings)
    assert await _agents(session_factory, urgent + normal + low) == ["ana", "ana", None]


async def test_capacity_is_per_channel_and_zero_means_none_of_that_channel(
    session_factory: Sessions, settings: Settings
) -> None:
    team = await _team(session_factory, "mix", ["ana"], sms=0, whatsapp=1)
    sms = await _waiting(session_factory, 2, team_id=team, channel=Channel.SMS)
    whatsapp = await _waiting(session_factory, 3, team_id=team)
    await sweep(session_factory, settings)
    assert await _agents(session_factory, sms) == [None, None]
    assert await _agents(session_factory, whatsapp) == ["ana", None, None]
    await _team(session_factory, "mix-2", ["beto"], sms=5, whatsapp=0)
    async with session_factory() as session:
        await session.execute(
            update(Interaction).where(Interaction.id.in_(sms)).values(team_id=None)
        )
        beto_team = (
            await session.execute(select(Team.id).where(Team.name == "mix-2"))
        ).scalar_one()
        await session.execute(
            update(Interaction).where(Interaction.id.in_(sms)).values(team_id=beto_team)
        )
        await session.commit()
    await sweep(session_factory, settings)
    assert await _agents(session_factory, sms) == ["beto", "beto"]
    assert await _agents(session_factory, whatsapp) == ["ana", None, None]


async def test_snoozed_conversations_and_members_not_online_get_nothing(
    session_factory: Sessions, settings: Settings
) -> None:
    team = await _team(session_factory, "t", ["ana", "beto"], whatsapp=5)
    await _set_availability(session_factory, "beto", Availability.BUSY)
    snoozed = await _waiting(
        session_factory, 1, team_id=team, snoozed_until=_now() + timedelta(hours=1)
    )
    ids = await _waiting(session_factory, 2, team_id=team)
    await sweep(session_factory, settings)
    assert await _agents(session_factory, snoozed + ids) == [None, "ana", "ana"]


async def _race(
    settings: Settings,
    routers: int,
    arrive: Callable[[], Any],
    rounds: int,
) -> None:
    engines = [create_engine(settings) for _ in range(routers)]
    try:
        factories_ = [create_session_factory(engine) for engine in engines]

        async def router(sessions: Sessions) -> None:
            for _ in range(rounds):
                await sweep(sessions, settings, batch=7)
                await asyncio.sleep(0.01)

        await asyncio.gather(arrive(), *(router(s) for s in factories_))
        # Whatever arrived after the last rounds.
        await asyncio.gather(*(sweep(s, settings) for s in factories_))
    finally:
        for engine in engines:
            await engine.dispose()


async def test_four_routers_at_once_assign_each_conversation_once_and_nobody_over_capacity(
    session_factory: Sessions, settings: Settings
) -> None:
    # Three teams share members; whatsapp capacity (8 × 12 = 96) is below what arrives (150),
    # SMS capacity (8 × 8 = 64) above (50).
    names = [f"agente{i}" for i in range(8)]
    teams = [
        await _team(session_factory, "a", names[:5], whatsapp=12, sms=8),
        await _team(session_factory, "b", names[3:], mode=RoutingMode.LEAST_BUSY),
        await _team(session_factory, "c", names[::2]),
    ]
    async with session_factory() as session:
        await session.execute(
            update(UserAccount)
            .where(UserAccount.username.in_(names))
            .values(capacity_whatsapp=12, capacity_sms=8)
        )
        await session.commit()
    arrived: list[uuid.UUID] = []

    async def arrive() -> None:
        for chunk in range(20):
            channel = Channel.SMS if chunk % 4 == 0 else Channel.WHATSAPP
            arrived.extend(
                await _waiting(
                    session_factory, 10, team_id=teams[chunk % 3], channel=channel, queued_at=_now()
                )
            )
            await asyncio.sleep(0.02)

    await _race(settings, 4, arrive, rounds=12)
    assert len(arrived) == 200
    events = await _events(session_factory, "agent.assigned")
    per_conversation = Counter(e.interaction_id for e in events)
    assert max(per_conversation.values()) == 1
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(Interaction.id, Interaction.channel, Interaction.assigned_agent).where(
                    Interaction.id.in_(arrived)
                )
            )
        ).all()
    assigned = {row.id: row.assigned_agent for row in rows if row.assigned_agent}
    assert set(assigned) == set(per_conversation)
    load = Counter((row.assigned_agent, row.channel) for row in rows if row.assigned_agent)
    assert max(n for (_, ch), n in load.items() if ch is Channel.WHATSAPP) <= 12
    assert max(n for (_, ch), n in load.items() if ch is Channel.SMS) <= 8
    by_channel = Counter(row.channel for row in rows if row.assigned_agent)
    assert by_channel[Channel.SMS] == 50  # room for all of them
    assert by_channel[Channel.WHATSAPP] == 96  # every member full
    assert await _audits(session_factory, "interaction.routed") == 146


# --- the loop, woken by the live bus -----------------------------------------------------------


@pytest.fixture
async def live_router(
    settings_factory: Callable[..., Settings], session_factory: Sessions
) -> AsyncIterator[tuple[Router, EventBus]]:
    # A long interval: only a wake-up can make it prompt.
    settings = settings_factory(ROUTING_INTERVAL_SECONDS="30")
    bus = EventBus()
    session_factory.configure(info={BUS: bus})
    router = Router(session_factory, settings, bus)
    await router.start()
    await asyncio.sleep(0.2)  # its first sweep
    try:
        yield router, bus
    finally:
        await router.stop()


async def _until_assigned(sessions: Sessions, ids: list[uuid.UUID], seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if all(await _agents(sessions, ids)):
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"not assigned within {seconds} s")


async def test_with_nobody_online_it_waits_then_goes_as_soon_as_someone_is(
    session_factory: Sessions, live_router: tuple[Router, EventBus]
) -> None:
    _router, bus = live_router
    team = await _team(session_factory, "t", ["ana"], whatsapp=5)
    await _set_availability(session_factory, "ana", Availability.AWAY)
    ids = await _waiting(session_factory, 2, team_id=team)
    bus.publish_nowait([{"type": "interaction.created", "interactionId": str(ids[0])}])
    await asyncio.sleep(0.5)
    assert await _agents(session_factory, ids) == [None, None]
    await _set_availability(session_factory, "ana", Availability.ONLINE)
    async with session_factory() as session:
        user_id = (
            await session.execute(select(UserAccount.id).where(UserAccount.username == "ana"))
        ).scalar_one()
    bus.publish_nowait([{"type": "agent.availability", "userId": str(user_id)}])
    assert await _until_assigned(session_factory, ids, 2.0) < 2.0


async def test_a_new_whatsapp_conversation_is_assigned_within_two_seconds(
    app: FastAPI, client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    """End to end: the webhook, the live notice, the sweep it wakes (as a worker runs it)."""
    runtime = app.state.runtime
    settings = runtime.settings.model_copy(update={"routing_interval_seconds": 30.0})
    router = Router(runtime.sessions, settings, runtime.events)
    await router.start()
    await asyncio.sleep(0.2)
    await _team(app.state.session_factory, "general", ["ana"], default=True, whatsapp=5)
    await post_builderbot(client, incoming("5491155550777", "hola, necesito ayuda"))
    async with session_factory() as session:
        conversation = (
            await session.scalars(
                select(Interaction).where(Interaction.customer_phone == "+5491155550777")
            )
        ).one()
    try:
        assert await _until_assigned(session_factory, [conversation.id], 2.0) < 2.0
    finally:
        await router.stop()


# --- snoozes and offline people ---------------------------------------------------------------


async def test_a_snooze_that_ended_wakes_the_conversation_back_into_its_queue(
    session_factory: Sessions, settings: Settings
) -> None:
    over = await _waiting(
        session_factory, 1, team_id=None, snoozed_until=_now() - timedelta(seconds=1)
    )
    async with session_factory() as session:
        await session.execute(
            update(Interaction).where(Interaction.id.in_(over)).values(queued_at=None)
        )
        await session.commit()
    later = await _waiting(
        session_factory, 1, team_id=None, snoozed_until=_now() + timedelta(hours=1)
    )
    result = await sweep(session_factory, settings)
    assert result.woke == 1
    async with session_factory() as session:
        woke = await session.get(Interaction, over[0])
        asleep = await session.get(Interaction, later[0])
    assert woke is not None
    assert asleep is not None
    assert woke.snoozed_until is None
    assert woke.queued_at is not None
    assert asleep.snoozed_until is not None
    events = await _events(session_factory, "conversation.woke")
    assert [e.interaction_id for e in events] == over
    assert await _audits(session_factory, "interaction.woke") == 1


async def test_an_offline_persons_conversations_return_to_the_queue_after_the_grace_period(
    session_factory: Sessions, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(ROUTING_OFFLINE_GRACE_SECONDS="60")
    team = await _team(session_factory, "t", ["ana", "beto", "caro"], whatsapp=5)
    await _set_availability(
        session_factory, "ana", Availability.OFFLINE, _now() - timedelta(minutes=2)
    )
    await _set_availability(
        session_factory, "beto", Availability.OFFLINE, _now() - timedelta(seconds=5)
    )
    await _set_availability(session_factory, "caro", Availability.AWAY, _now() - timedelta(hours=1))
    held = {}
    for agent in ("ana", "beto", "caro"):
        held[agent] = await _waiting(
            session_factory, 1, team_id=team, assigned_agent=agent, queued_at=None
        )
    closed = await _waiting(
        session_factory,
        1,
        team_id=team,
        assigned_agent="ana",
        queued_at=None,
        status=InteractionStatus.COMPLETED,
    )
    result = await sweep(session_factory, settings)
    assert result.requeued == 1
    assert await _agents(session_factory, held["ana"] + held["beto"] + held["caro"] + closed) == [
        None,
        "beto",
        "caro",
        "ana",
    ]
    async with session_factory() as session:
        back = await session.get(Interaction, held["ana"][0])
    assert back is not None
    assert back.queued_at is not None
    assert back.team_id == team
    (event,) = await _events(session_factory, "agent.unassigned")
    assert event.normalized == {"from": "ana", "to": None, "by": "routing", "reason": "offline"}
    assert await _audits(session_factory, "interaction.unassigned") == 1


# --- entering the queue on the inbound paths ------------------------------------------------------


async def _conversation(sessions: Sessions, phone: str) -> Interaction:
    async with sessions() as session:
        return (
            await session.scalars(select(Interaction).where(Interaction.customer_phone == phone))
        ).one()


@pytest.mark.parametrize("path", ["fast", "orm"])
async def test_an_inbound_message_queues_a_new_conversation_reopens_and_wakes_an_old_one(
    app: FastAPI, client: httpx.AsyncClient, session_factory: Sessions, path: str
) -> None:
    fast = app.state.webhooks.handlers._fast
    saved = dict(fast)
    if path == "orm":
        fast.clear()
    try:
        number = f"54911{next(_numbers):08d}"
        phone = "+" + number
        await post_builderbot(client, incoming(number, "hola"))
        first = await _conversation(session_factory, phone)
        assert first.queued_at == first.created_at
        # Resolved by a person.
        async with session_factory() as session:
            await session.execute(
                update(Interaction)
                .where(Interaction.id == first.id)
                .values(
                    status=InteractionStatus.COMPLETED,
                    resolution_code="consulta",
                    queued_at=None,
                    assigned_agent=None,
                )
            )
            await session.commit()
        await post_builderbot(client, incoming(number, "una cosa más"))
        again = await _conversation(session_factory, phone)
        assert again.status is InteractionStatus.IN_PROGRESS
        assert again.resolution_code is None
        assert again.queued_at is not None
        assert again.queued_at > first.queued_at
        reopened = [
            e
            for e in await _events(session_factory, "conversation.reopened")
            if e.interaction_id == first.id
        ]
        assert [e.normalized for e in reopened] == [{"from": "COMPLETED", "by": "customer"}]
        # Snoozed while held by ana: the message wakes it, ana keeps it.
        async with session_factory() as session:
            await session.execute(
                update(Interaction)
                .where(Interaction.id == first.id)
                .values(
                    snoozed_until=_now() + timedelta(hours=2), assigned_agent="ana", queued_at=None
                )
            )
            await session.commit()
        await post_builderbot(client, incoming(number, "¿siguen ahí?"))
        woke = await _conversation(session_factory, phone)
        assert woke.snoozed_until is None
        assert woke.assigned_agent == "ana"
        assert woke.queued_at is None
        assert [
            e.normalized
            for e in await _events(session_factory, "conversation.woke")
            if e.interaction_id == first.id
        ] == [{"by": "customer"}]
    finally:
        fast.update(saved)


async def test_an_escalated_call_enters_the_queue_once(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    payload = transcription("conv_escalated")
    payload["data"]["analysis"]["data_collection_results"]["escalated"] = {"value": True}
    await post_elevenlabs(client, payload)
    async with session_factory() as session:
        call = (
            await session.scalars(
                select(Interaction).where(Interaction.provider_conversation_id == "conv_escalated")
            )
        ).one()
    assert call.outcome is not None
    assert call.outcome.value == "ESCALATED"
    assert call.queued_at is not None
    assert call.assigned_agent is None
    # The same report again (a retry, the sync) does not move it or name the voice agent again.
    await post_elevenlabs(
        client, {**payload, "event_timestamp": payload.get("event_timestamp", 0) + 1}
    )
    async with session_factory() as session:
        again = await session.get(Interaction, call.id)
    assert again is not None
    assert again.queued_at == call.queued_at
    assert again.assigned_agent is None
    queued = [
        e
        for e in await _events(session_factory, "conversation.queued")
        if e.interaction_id == call.id
    ]
    assert [e.normalized for e in queued] == [{"reason": "escalated"}]


async def test_a_resolved_call_does_not_enter_the_queue(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    await post_elevenlabs(client, transcription("conv_resolved"))
    async with session_factory() as session:
        call = (
            await session.scalars(
                select(Interaction).where(Interaction.provider_conversation_id == "conv_resolved")
            )
        ).one()
    assert call.queued_at is None
    assert call.assigned_agent is not None
