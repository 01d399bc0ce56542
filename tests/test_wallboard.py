"""The wallboard (docs/service-levels.md, "The wallboard"): `GET /api/metrics/wallboard` and the
console page `/wallboard`. Its figures on generated data against the same figures counted here
one conversation at a time; who sees what (an admin every team, a supervisor theirs, an agent
nothing)."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update

from contact_center.metrics.service import day_bounds, today
from contact_center.models.enums import (
    Availability,
    Channel,
    InteractionStatus,
    Role,
    SlaState,
)
from contact_center.models.interaction import Interaction
from contact_center.models.service_levels import ConversationSla
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount
from tests import auth
from tests import factories as f

OPEN = (InteractionStatus.NEW, InteractionStatus.IN_PROGRESS)
CLOSED = (InteractionStatus.ABANDONED,)


@pytest.fixture
async def board(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The usual people (ana and bruno agents, sup a supervisor) and an admin."""
    admin = await auth.token_client(app, "root", Role.ADMIN)
    yield {**people, "admin": admin}
    await admin.aclose()


@dataclass
class World:
    teams: dict[str, uuid.UUID]
    now: datetime
    interactions: list[Interaction] = field(default_factory=list)
    clocks: list[ConversationSla] = field(default_factory=list)
    members: dict[str, set[str]] = field(default_factory=dict)  # username → team names
    availability: dict[str, Availability] = field(default_factory=dict)


async def _users(
    app: FastAPI, world: World, spec: dict[str, tuple[Availability, list[str]]]
) -> None:
    sessions = app.state.session_factory
    for username, (availability, team_names) in spec.items():
        account = await auth.user(sessions, username, Role.AGENT)
        async with sessions() as session:
            await session.execute(
                update(UserAccount)
                .where(UserAccount.id == account.id)
                .values(availability=availability)
            )
            for name in team_names:
                session.add(TeamMember(team_id=world.teams[name], user_id=account.id))
            await session.commit()
        world.members[username] = set(team_names)
        world.availability[username] = availability


async def _teams(app: FastAPI, *names: str) -> dict[str, uuid.UUID]:
    async with app.state.session_factory() as session:
        made = {name: Team(name=name) for name in names}
        session.add_all(made.values())
        await session.commit()
        return {name: team.id for name, team in made.items()}


async def _generated(app: FastAPI, seed: int, count: int = 240) -> World:
    """Teams Tarjetas and Préstamos, people in them (some in both, some in none), and `count`
    conversations of every kind: waiting (snoozed or not), held by someone, finished, calls
    in progress, finished calls waiting for a follow-up; clocks of every state, decided today,
    yesterday or not yet."""
    rng = random.Random(seed)
    world = World(teams=await _teams(app, "Tarjetas", "Préstamos"), now=datetime.now(UTC))
    await _users(
        app,
        world,
        {
            "carla": (Availability.ONLINE, ["Tarjetas"]),
            "dario": (Availability.BUSY, ["Tarjetas", "Préstamos"]),
            "elena": (Availability.AWAY, ["Préstamos"]),
            "fabian": (Availability.OFFLINE, ["Préstamos"]),
            "gina": (Availability.ONLINE, []),
        },
    )
    settings = app.state.settings
    start, _end = day_bounds(settings, today(settings))
    now = world.now

    # A moment today, before now (the day's start when the day has just begun).
    def today_at() -> datetime:
        return max(start, now - timedelta(seconds=rng.randint(1, 3600)))

    agents = [None, None, "carla", "dario", "elena", "gina", "ana"]
    for _ in range(count):
        channel = rng.choice(list(Channel))
        status = rng.choice(
            [
                *OPEN,
                InteractionStatus.IN_PROGRESS,
                InteractionStatus.COMPLETED,
                InteractionStatus.ABANDONED,
            ]
        )
        agent = rng.choice(agents)
        team = rng.choice([None, "Tarjetas", "Préstamos"])
        queued = None
        if agent is None and rng.random() < 0.8:
            queued = now - timedelta(seconds=rng.randint(5, 7200))
        snoozed = rng.choice(
            [None, None, None, now + timedelta(hours=1), now - timedelta(minutes=1)]
        )
        item = f.interaction(
            channel=channel,
            status=status,
            assigned_agent=agent,
            team_id=world.teams[team] if team else None,
            queued_at=queued,
            snoozed_until=snoozed,
            waiting_since=rng.choice([None, now - timedelta(minutes=rng.randint(1, 90))]),
            ai_handled=False,
            started_at=now - timedelta(hours=3),
        )
        world.interactions.append(item)
        if channel is not Channel.CALL and rng.random() < 0.7:

            def state() -> SlaState | None:
                states: list[SlaState | None] = [None, *SlaState]
                return rng.choice(states)

            def moment() -> datetime:
                return rng.choice(
                    [today_at(), start - timedelta(hours=2), now + timedelta(hours=1)]
                )

            first, resolution = state(), state()
            world.clocks.append(
                ConversationSla(
                    interaction_id=item.id,
                    first_response_state=first,
                    first_response_due_at=moment(),
                    first_response_at=moment()
                    if first is SlaState.MET or rng.random() < 0.3
                    else None,
                    next_response_state=state(),
                    next_response_due_at=moment(),
                    resolution_state=resolution,
                    resolution_due_at=moment(),
                    resolved_at=moment() if resolution is SlaState.MET else None,
                    # Written when last changed: today, unless decided before today.
                    updated_at=now - timedelta(seconds=rng.randint(0, 60)),
                )
            )
    async with app.state.session_factory() as session:
        await f.save(session, *world.interactions)
        await f.save(session, *world.clocks)
    return world


def _expected(
    world: World, start: datetime, end: datetime, teams: set[str] | None
) -> dict[str, Any]:
    """The wallboard counted one conversation at a time (`teams` None: every team)."""
    names = {v: k for k, v in world.teams.items()}
    clocks = {c.interaction_id: c for c in world.clocks}
    rows: dict[str | None, Counter[str]] = defaultdict(Counter)
    oldest: dict[str | None, datetime] = {}
    now = world.now
    for item in world.interactions:
        team = names.get(item.team_id) if item.team_id else None
        if team is not None and teams is not None and team not in teams:
            continue
        row = rows[team]
        is_open = item.status in OPEN
        awake = item.snoozed_until is None or item.snoozed_until <= now
        if (
            item.queued_at is not None
            and item.assigned_agent is None
            and awake
            and (is_open or item.channel is Channel.CALL)
        ):
            row["waiting"] += 1
            if team not in oldest or item.queued_at < oldest[team]:
                oldest[team] = item.queued_at
        clock = clocks.get(item.id)
        if is_open:
            row["assigned"] += item.assigned_agent is not None
            row["calls"] += (
                item.channel is Channel.CALL and item.status is InteractionStatus.IN_PROGRESS
            )
            # Overdue now: a late first response already sent, or a late reply already given
            # (the customer no longer waits), is not.
            if clock is not None and (
                (
                    clock.first_response_state is SlaState.BREACHED
                    and clock.first_response_at is None
                )
                or (
                    clock.next_response_state is SlaState.BREACHED
                    and item.waiting_since is not None
                )
                or clock.resolution_state is SlaState.BREACHED
            ):
                row["breaches"] += 1
        if clock is not None:

            def on(moment: datetime | None) -> bool:
                return moment is not None and start <= moment < end

            for state, met_at, due_at in (
                (clock.first_response_state, clock.first_response_at, clock.first_response_due_at),
                (clock.resolution_state, clock.resolved_at, clock.resolution_due_at),
            ):
                row["met"] += state is SlaState.MET and on(met_at)
                row["breached"] += state is SlaState.BREACHED and on(due_at)
    return {"rows": rows, "oldest": oldest}


def _by_name(body: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {t["name"]: t for t in body["teams"]}


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_wallboard_counts_each_teams_queue_calls_breaches_and_service_level_today(
    app: FastAPI, board: dict[str, httpx.AsyncClient], seed: int
) -> None:
    world = await _generated(app, seed)
    answer = await board["admin"].get("/api/metrics/wallboard")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    settings = app.state.settings
    start, end = day_bounds(settings, today(settings))
    assert body["day"] == today(settings).isoformat()
    expected = _expected(world, start, end, None)
    shown = _by_name(body)
    assert list(shown) == ["Préstamos", "Tarjetas", None]  # by name, then the shared pool
    totals: Counter[str] = Counter()
    for name, row in shown.items():
        want = expected["rows"][name]
        totals.update(want)
        assert row["waiting"] == want["waiting"], name
        assert row["openAssigned"] == want["assigned"], name
        assert row["activeCalls"] == want["calls"], name
        assert row["breachesNow"] == want["breaches"], name
        assert row["slaToday"]["met"] == want["met"], name
        assert row["slaToday"]["breached"] == want["breached"], name
        assert row["slaToday"]["total"] == want["met"] + want["breached"], name
        oldest = expected["oldest"].get(name)
        assert _parse(row["oldestWaitingSince"]) == oldest, name
        if oldest is not None:
            waited = (_parse(body["generatedAt"]) - oldest).total_seconds()
            assert abs(row["oldestWaitingSecs"] - waited) <= 1
        else:
            assert row["oldestWaitingSecs"] is None
    assert totals["waiting"] > 0
    assert totals["breaches"] > 0
    assert totals["met"] > 0
    t = body["totals"]
    assert t["waiting"] == totals["waiting"]
    assert t["activeCalls"] == totals["calls"]
    assert t["breachesNow"] == totals["breaches"]
    assert t["slaToday"]["met"] == totals["met"]
    assert t["slaToday"]["total"] == totals["met"] + totals["breached"]
    assert t["slaToday"]["rate"] == round(totals["met"] / (totals["met"] + totals["breached"]), 4)
    assert _parse(t["oldestWaitingSince"]) == min(expected["oldest"].values())
    # People by availability: each team's members; everyone listed once in the totals.
    assert shown["Tarjetas"]["agents"] == {"online": 1, "busy": 1, "away": 0, "offline": 0}
    assert shown["Préstamos"]["agents"] == {"online": 0, "busy": 1, "away": 1, "offline": 1}
    assert shown[None]["agents"] == {"online": 0, "busy": 0, "away": 0, "offline": 0}
    # Agents listed: the team members, agents in no team (gina; ana and bruno, offline).
    listed = {a["username"]: a for a in body["agents"]}
    assert set(listed) == {"ana", "bruno", "carla", "dario", "elena", "fabian", "gina"}
    assert t["agents"] == {"online": 2, "busy": 1, "away": 1, "offline": 3}
    # Load: each person's open conversations, whatever their team.
    load = Counter(
        i.assigned_agent for i in world.interactions if i.status in OPEN and i.assigned_agent
    )
    assert {u: a["load"] for u, a in listed.items()} == {u: load.get(u, 0) for u in listed}
    assert listed["carla"]["availability"] == "ONLINE"
    assert listed["carla"]["capacity"] == 11  # 1 call, 5 WhatsApp, 5 SMS
    assert listed["dario"]["teamIds"] == sorted(str(i) for i in world.teams.values())


async def test_a_supervisor_sees_their_teams_only(
    app: FastAPI, board: dict[str, httpx.AsyncClient]
) -> None:
    world = await _generated(app, 3)
    sessions = app.state.session_factory
    sup = await auth.user(sessions, "sup", Role.SUPERVISOR)
    async with sessions() as session:
        session.add(TeamMember(team_id=world.teams["Tarjetas"], user_id=sup.id))
        await session.commit()
    body = (await board["sup"].get("/api/metrics/wallboard")).json()
    # Their team; not the other, not the shared pool (as in the reports).
    assert [t["name"] for t in body["teams"]] == ["Tarjetas"]
    settings = app.state.settings
    start, end = day_bounds(settings, today(settings))
    expected = _expected(world, start, end, {"Tarjetas"})["rows"]["Tarjetas"]
    totals = body["totals"]
    assert totals["waiting"] == expected["waiting"]
    assert totals["breachesNow"] == expected["breaches"]
    assert totals["activeCalls"] == expected["calls"]
    assert totals["slaToday"]["met"] == expected["met"]
    # Préstamos' people are not on this supervisor's board (dario is in both teams).
    assert {a["username"] for a in body["agents"]} == {"carla", "dario", "sup"}
    # The console page shows the same, and nothing of the other team.
    page = await auth.session_client(app, "sup", Role.SUPERVISOR)
    try:
        html = (await page.get("/wallboard")).text
        assert "Tarjetas" in html
        assert "Préstamos" not in html
        assert "Bolsa común" not in html
    finally:
        await page.aclose()
    # A supervisor in no team has an empty board.
    async with sessions() as session:
        await session.execute(delete(TeamMember).where(TeamMember.user_id == sup.id))
        await session.commit()
    body = (await board["sup"].get("/api/metrics/wallboard")).json()
    assert body["teams"] == []
    assert body["agents"] == []
    assert body["totals"]["waiting"] == 0
    assert body["totals"]["breachesNow"] == 0


async def test_breaches_now_are_the_targets_overdue_now_not_those_missed_once(
    app: FastAPI, board: dict[str, httpx.AsyncClient]
) -> None:
    """A first response sent late and a reply given late stay BREACHED for the reports; they are
    not overdue now. An unsent late first response, a late reply still awaited, and a late
    resolution are."""
    now = datetime.now(UTC)
    team = (await _teams(app, "Tarjetas"))["Tarjetas"]
    late = now - timedelta(minutes=30)

    def open_one(waiting: bool) -> Interaction:
        return f.interaction(
            status=InteractionStatus.IN_PROGRESS,
            assigned_agent="ana",
            team_id=team,
            waiting_since=now - timedelta(minutes=40) if waiting else None,
            started_at=now - timedelta(hours=2),
        )

    answered_late, replied_late, unsent, awaited, unresolved = (
        open_one(False),
        open_one(False),
        open_one(True),
        open_one(True),
        open_one(False),
    )
    met = SlaState.MET
    breached = SlaState.BREACHED
    clocks = [
        ConversationSla(
            interaction_id=answered_late.id,
            first_response_state=breached,
            first_response_due_at=late,
            first_response_at=now - timedelta(minutes=5),
        ),
        ConversationSla(
            interaction_id=replied_late.id,
            first_response_state=met,
            first_response_at=late,
            next_response_state=breached,
            next_response_due_at=late,
        ),
        ConversationSla(
            interaction_id=unsent.id, first_response_state=breached, first_response_due_at=late
        ),
        ConversationSla(
            interaction_id=awaited.id,
            first_response_state=met,
            first_response_at=late,
            next_response_state=breached,
            next_response_due_at=late,
        ),
        ConversationSla(
            interaction_id=unresolved.id,
            first_response_state=met,
            first_response_at=late,
            resolution_state=breached,
            resolution_due_at=late,
        ),
    ]
    async with app.state.session_factory() as session:
        await f.save(session, answered_late, replied_late, unsent, awaited, unresolved)
        await f.save(session, *clocks)
    body = (await board["admin"].get("/api/metrics/wallboard")).json()
    assert _by_name(body)["Tarjetas"]["breachesNow"] == 3
    assert body["totals"]["breachesNow"] == 3
    # The reply arrives: the awaited one is no longer overdue.
    async with app.state.session_factory() as session:
        await session.execute(
            update(Interaction).where(Interaction.id == awaited.id).values(waiting_since=None)
        )
        await session.commit()
    body = (await board["admin"].get("/api/metrics/wallboard")).json()
    assert body["totals"]["breachesNow"] == 2


async def test_agents_and_strangers_are_refused_on_the_api_and_the_page(
    app: FastAPI, board: dict[str, httpx.AsyncClient], anonymous: httpx.AsyncClient
) -> None:
    await _generated(app, 4, count=20)
    refused = await board["ana"].get("/api/metrics/wallboard")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert (await anonymous.get("/api/metrics/wallboard")).status_code == 401
    ana = await auth.session_client(app, "ana", Role.AGENT)
    try:
        for path in ("/wallboard", "/console/wallboard/board"):
            answer = await ana.get(path)
            assert answer.status_code == 403, path
            assert "Tarjetas" not in answer.text
        # No link to it in an agent's menu.
        assert 'href="/wallboard"' not in (await ana.get("/dashboard")).text
    finally:
        await ana.aclose()
    sup = await auth.session_client(app, "sup", Role.SUPERVISOR)
    try:
        page = await sup.get("/wallboard")
        assert page.status_code == 200
        assert 'href="/wallboard"' in page.text
        assert "/static/vendor/echarts.min.js" in page.text
    finally:
        await sup.aclose()


async def test_an_empty_service_answers_zeros_and_nulls(
    board: dict[str, httpx.AsyncClient],
) -> None:
    body = (await board["admin"].get("/api/metrics/wallboard")).json()
    assert body["teams"] == [
        {
            "teamId": None,
            "name": None,
            "waiting": 0,
            "oldestWaitingSince": None,
            "oldestWaitingSecs": None,
            "openAssigned": 0,
            "activeCalls": 0,
            "breachesNow": 0,
            "slaToday": {"met": 0, "breached": 0, "total": 0, "rate": None},
            "agents": {"online": 0, "busy": 0, "away": 0, "offline": 0},
        }
    ]
    assert body["totals"]["slaToday"]["rate"] is None


async def test_the_page_renders_the_figures_in_spanish(
    app: FastAPI, board: dict[str, httpx.AsyncClient]
) -> None:
    world = await _generated(app, 5)
    body = (await board["admin"].get("/api/metrics/wallboard")).json()
    admin = await auth.session_client(app, "root", Role.ADMIN)
    try:
        html = (await admin.get("/wallboard")).text
    finally:
        await admin.aclose()
    assert "Monitor en vivo" in html
    assert "En espera" in html
    # The shared pool's label fits a large screen's team column (no "Sin equipo (bolsa com…").
    assert "Bolsa común" in html
    assert "Sin equipo" not in html
    for row in body["teams"]:
        key = row["teamId"] or "pool"
        assert f'data-team-waiting="{key}">{row["waiting"]}<' in html
        assert f'data-team-breaches="{key}">{row["breachesNow"]}<' in html
    assert world.teams
