"""Who sees what, with teams (docs/workflow.md, "Who sees what"): an agent sees their own
conversations, the unassigned ones waiting in their teams' queues and the unassigned ones in no
team (the shared pool) — never another team's waiting conversation, through any read: lists,
counts, details, the customer profile, the metrics, the console and the live stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from contact_center.db.base import utcnow
from contact_center.metrics import service as metrics
from contact_center.models.enums import ActorType, Channel, Role
from contact_center.models.team import Team, TeamMember
from contact_center.principal import Principal
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.live import live_app
from tests.test_agent_scope import _ids_until, _next_notice

PHONE = "+5491155550303"


@dataclass
class World:
    team_a: uuid.UUID
    team_b: uuid.UUID
    mine: uuid.UUID  # assigned to Ana
    a_waiting: uuid.UUID  # unassigned, in Ana's team
    b_waiting: uuid.UUID  # unassigned, in Bruno's team
    pool: uuid.UUID  # unassigned, in no team
    others: uuid.UUID  # assigned to Bruno, in Ana's team

    @property
    def anas(self) -> set[str]:
        return {str(self.mine), str(self.a_waiting), str(self.pool)}


async def _world(app: FastAPI) -> World:
    """Ana in team A, Bruno in team B, and one conversation of each kind, all of one customer."""
    ana = await auth.user(app.state.session_factory, "ana", Role.AGENT)
    bruno = await auth.user(app.state.session_factory, "bruno", Role.AGENT)
    now = utcnow()
    team_a, team_b = Team(name="A"), Team(name="B")

    def conversation(agent: str | None, team: Team | None) -> object:
        return f.interaction(
            assigned_agent=agent,
            team_id=team.id if team else None,
            queued_at=None if agent else now,
            customer_phone=PHONE,
            from_number=PHONE,
            started_at=now,
            channel=Channel.WHATSAPP,
        )

    async with app.state.session_factory() as session:
        session.add_all([team_a, team_b])
        await session.flush()
        rows = [conversation("ana", team_a), conversation(None, team_a)]
        rows += [conversation(None, team_b), conversation(None, None)]
        rows += [conversation("bruno", team_a)]
        await f.save(
            session,
            TeamMember(team_id=team_a.id, user_id=ana.id),
            TeamMember(team_id=team_b.id, user_id=bruno.id),
            *rows,
        )
    ids = [r.id for r in rows]  # type: ignore[attr-defined]
    return World(team_a.id, team_b.id, *ids)


@pytest.fixture
async def ana(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    http = await auth.token_client(app, "ana", Role.AGENT)
    yield http
    await http.aclose()


async def test_an_agent_lists_and_counts_their_own_their_teams_queue_and_the_shared_pool(
    app: FastAPI, ana: httpx.AsyncClient
) -> None:
    world = await _world(app)
    listed = await ana.get("/api/interactions")
    assert {i["id"] for i in listed.json()["items"]} == world.anas
    counted = await ana.get("/api/interactions/count")
    assert counted.json() == {"count": 3}
    assert (await ana.get("/api/interactions/count", params={"channel": "WHATSAPP"})).json() == {
        "count": 3
    }


async def test_an_agent_never_opens_another_teams_waiting_conversation(
    app: FastAPI, ana: httpx.AsyncClient
) -> None:
    world = await _world(app)
    for visible in (world.mine, world.a_waiting, world.pool):
        assert (await ana.get(f"/api/interactions/{visible}")).status_code == 200
    for hidden in (world.b_waiting, world.others):
        refused = await ana.get(f"/api/interactions/{hidden}")
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "interaction_not_found"
        # Nor changes it, nor takes it.
        patch = await ana.patch(f"/api/interactions/{hidden}", json={"assignedAgent": "ana"})
        assert patch.status_code == 404
        page = await ana.get(f"/console/partials/interactions/{hidden}")
        assert page.status_code == 404
    # The console's pages list what the API lists.
    html = (await ana.get("/whatsapp")).text
    assert str(world.b_waiting) not in html
    assert str(world.pool) in html


async def test_the_customer_profile_holds_only_what_the_agent_sees(
    app: FastAPI, ana: httpx.AsyncClient
) -> None:
    world = await _world(app)
    profile = (await ana.get(f"/api/interactions/client/{PHONE}")).json()
    assert {i["id"] for i in profile["interactions"]} == world.anas
    assert profile["stats"]["total"] == 3


async def test_an_agent_in_no_team_sees_their_own_work_and_the_shared_pool_only(
    app: FastAPI,
) -> None:
    world = await _world(app)
    carla = await auth.token_client(app, "carla", Role.AGENT)
    try:
        listed = await carla.get("/api/interactions")
        assert {i["id"] for i in listed.json()["items"]} == {str(world.pool)}
        assert (await carla.get(f"/api/interactions/{world.a_waiting}")).status_code == 404
    finally:
        await carla.aclose()


async def test_joining_a_team_shows_its_queue_at_once(app: FastAPI, ana: httpx.AsyncClient) -> None:
    world = await _world(app)
    assert (await ana.get(f"/api/interactions/{world.b_waiting}")).status_code == 404
    sup = await auth.token_client(app, "sup", Role.SUPERVISOR)
    try:
        ana_user = await auth.user(app.state.session_factory, "ana", Role.AGENT)
        joined = await sup.put(
            f"/api/teams/{world.team_b}/members", json={"userIds": [str(ana_user.id)]}
        )
        assert joined.status_code == 200
    finally:
        await sup.aclose()
    assert (await ana.get(f"/api/interactions/{world.b_waiting}")).status_code == 200


async def test_the_metrics_count_only_what_the_viewer_sees_and_each_team_now(
    app: FastAPI, settings: Settings
) -> None:
    world = await _world(app)
    ana_view = Principal(
        actor_type=ActorType.USER,
        actor_id="ana",
        role=Role.AGENT,
        team_ids=frozenset({world.team_a}),
    )
    day = metrics.today(settings)
    async with app.state.session_factory() as session:
        mine = await metrics.summary(session, settings, day, viewer=ana_view)
        everything = await metrics.summary(session, settings, day)
        team_b = await metrics.summary(session, settings, day, team_id=world.team_b)
    assert mine.total == 3
    assert [(t.name, t.waiting, t.open_assigned) for t in mine.teams] == [
        ("A", 1, 1),
        (None, 1, 0),
    ]
    assert everything.total == 5
    assert [(t.name, t.waiting, t.open_assigned) for t in everything.teams] == [
        ("A", 1, 2),
        ("B", 1, 0),
        (None, 1, 0),
    ]
    assert team_b.total == 1
    assert [t.name for t in team_b.teams] == ["B"]


async def test_the_metrics_api_takes_a_team_and_counts_members_online(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    world = await _world(app)
    ana = await auth.token_client(app, "ana", Role.AGENT)
    try:
        await ana.put("/api/account/availability", json={"availability": "ONLINE"})
        assert (await ana.get("/api/metrics/summary")).status_code == 403
    finally:
        await ana.aclose()
    body = (await client.get("/api/metrics/summary", params={"teamId": str(world.team_a)})).json()
    assert body["teamId"] == str(world.team_a)
    assert body["teams"] == [
        {
            "teamId": str(world.team_a),
            "name": "A",
            "waiting": 1,
            "openAssigned": 2,
            "membersOnline": 1,
        }
    ]
    unknown = await client.get("/api/metrics/summary", params={"teamId": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_team"
    bad = await client.get("/api/metrics/summary", params={"teamId": "x"})
    assert bad.status_code == 422


async def test_the_live_stream_carries_another_teams_queue_to_nobody_but_its_team(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        world = await _world(live.app)
        secret = await auth.token(live.app.state.session_factory, "ana", Role.AGENT)
        async with (
            httpx.AsyncClient(base_url=live.base, timeout=30, headers=auth.bearer(secret)) as http,
            http.stream("GET", "/console/stream") as stream,
        ):
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 2000"
            for target in (world.b_waiting, world.others, world.a_waiting):
                moved = await live.http.patch(f"/api/interactions/{target}", json={"queue": "q"})
                assert moved.status_code == 200
            # Ana's first notice is her team's waiting conversation.
            assert await _ids_until(lines, world.a_waiting) == [str(world.a_waiting)]
            await live.http.patch(f"/api/interactions/{world.pool}", json={"queue": "q"})
            heard = await _next_notice(lines, 5)
            assert heard is not None
            assert heard["interactionId"] == str(world.pool)
            assert set(heard) == {"interactionId", "type", "channel"}
            # Bruno's waiting conversation handed to Ana: she hears it from then on.
            given = await live.http.patch(
                f"/api/interactions/{world.b_waiting}", json={"assignedAgent": "ana"}
            )
            assert given.status_code == 200
            assert await _ids_until(lines, world.b_waiting) == [str(world.b_waiting)]


async def test_the_supervisors_dashboard_shows_each_teams_queue_now(app: FastAPI) -> None:
    world = await _world(app)
    http = await auth.token_client(app, "sup", Role.SUPERVISOR)
    try:
        page = await http.get("/dashboard", headers={"Accept": "text/html"})
    finally:
        await http.aclose()
    assert page.status_code == 200
    assert "Colas ahora" in page.text
    assert f'data-team-waiting="{world.team_a}">1<' in page.text
    assert f'data-team-waiting="{world.team_b}">1<' in page.text
    assert 'data-team-waiting="pool">1<' in page.text
    assert "Sin equipo (bolsa común)" in page.text
