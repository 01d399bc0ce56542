"""Teams and people (docs/workflow.md, "Teams and people"): teams and members, routing rules,
availability, capacity and the people list, with their audit rows, their access rules and
hostile input."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contact_center.models.audit_log import AuditLog
from contact_center.models.enums import Channel, InteractionStatus, Role
from contact_center.models.team import RoutingRule, Team, TeamMember
from contact_center.models.user_account import UserAccount
from tests import auth
from tests import factories as f


@pytest.fixture
async def people(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The usual people (tests/conftest.py) and an admin."""
    admin = await auth.token_client(app, "root", Role.ADMIN)
    yield {**people, "admin": admin}
    await admin.aclose()


async def _user_id(app: FastAPI, username: str) -> uuid.UUID:
    async with app.state.session_factory() as session:
        found: uuid.UUID = (
            await session.scalars(select(UserAccount.id).where(UserAccount.username == username))
        ).one()
        return found


async def _audit(app: FastAPI, action: str) -> list[AuditLog]:
    async with app.state.session_factory() as session:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.occurred_at)
        return list((await session.scalars(stmt)).all())


async def _count(app: FastAPI, model: Any) -> int:
    async with app.state.session_factory() as session:
        return len((await session.scalars(select(model))).all())


def _error(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


async def test_a_supervisor_creates_changes_and_deletes_a_team_and_each_change_is_audited(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    created = await sup.post(
        "/api/teams",
        json={
            "name": " Tarjetas ",
            "description": "Consultas de tarjetas",
            "routingMode": "LEAST_BUSY",
        },
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["name"] == "Tarjetas"
    assert team["routingMode"] == "LEAST_BUSY"
    assert team["isDefault"] is False
    assert team["members"] == []
    assert set(team) == {
        "id",
        "name",
        "description",
        "routingMode",
        "isDefault",
        "members",
        "createdAt",
        "updatedAt",
    }
    changed = await sup.patch(
        f"/api/teams/{team['id']}", json={"description": None, "routingMode": "ROUND_ROBIN"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] is None
    assert changed.json()["routingMode"] == "ROUND_ROBIN"
    # Any signed-in user reads teams.
    listed = await people["ana"].get("/api/teams")
    assert [t["name"] for t in listed.json()["items"]] == ["Tarjetas"]
    assert (await people["ana"].get(f"/api/teams/{team['id']}")).json()["id"] == team["id"]
    gone = await sup.delete(f"/api/teams/{team['id']}")
    assert gone.status_code == 204
    missing = await sup.get(f"/api/teams/{team['id']}")
    assert missing.status_code == 404
    assert _error(missing) == "team_not_found"
    assert [a.action for a in await _audit(app, "team.create")] == ["team.create"]
    [update] = await _audit(app, "team.update")
    assert update.actor_id == "sup"
    assert (update.metadata_ or {})["routingMode"] == {"from": "LEAST_BUSY", "to": "ROUND_ROBIN"}
    assert len(await _audit(app, "team.delete")) == 1


async def test_a_taken_team_name_answers_409_and_writes_nothing(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    assert (await sup.post("/api/teams", json={"name": "Ventas"})).status_code == 201
    other = (await sup.post("/api/teams", json={"name": "Cobranzas"})).json()
    again = await sup.post("/api/teams", json={"name": " Ventas"})
    assert again.status_code == 409
    assert _error(again) == "team_name_taken"
    renamed = await sup.patch(f"/api/teams/{other['id']}", json={"name": "Ventas"})
    assert renamed.status_code == 409
    assert _error(renamed) == "team_name_taken"
    assert await _count(app, Team) == 2
    assert len(await _audit(app, "team.create")) == 2
    assert await _audit(app, "team.update") == []


async def test_at_most_one_team_is_the_default_even_when_two_are_made_default_at_once(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    first = (await sup.post("/api/teams", json={"name": "Uno", "isDefault": True})).json()
    assert first["isDefault"] is True
    second = (await sup.post("/api/teams", json={"name": "Dos", "isDefault": True})).json()
    assert second["isDefault"] is True
    teams = {t["name"]: t["isDefault"] for t in (await sup.get("/api/teams")).json()["items"]}
    assert teams == {"Uno": False, "Dos": True}
    ids = [
        (await sup.post("/api/teams", json={"name": f"Equipo {n}"})).json()["id"] for n in range(4)
    ]
    answers = await asyncio.gather(
        *(sup.patch(f"/api/teams/{i}", json={"isDefault": True}) for i in ids)
    )
    assert [a.status_code for a in answers] == [200] * 4
    defaults = [t for t in (await sup.get("/api/teams")).json()["items"] if t["isDefault"]]
    assert len(defaults) == 1
    # Clearing the flag leaves no default team.
    cleared = await sup.patch(f"/api/teams/{defaults[0]['id']}", json={"isDefault": False})
    assert cleared.json()["isDefault"] is False
    assert not [t for t in (await sup.get("/api/teams")).json()["items"] if t["isDefault"]]


async def test_members_are_replaced_and_an_unknown_or_disabled_user_writes_nothing(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    team = (await sup.post("/api/teams", json={"name": "Soporte"})).json()
    ana, bruno = await _user_id(app, "ana"), await _user_id(app, "bruno")
    put = await sup.put(
        f"/api/teams/{team['id']}/members", json={"userIds": [str(ana), str(bruno), str(ana)]}
    )
    assert put.status_code == 200, put.text
    members = put.json()["members"]
    assert [m["username"] for m in members] == ["ana", "bruno"]
    assert members[0] == {
        "userId": str(ana),
        "username": "ana",
        "displayName": None,
        "availability": "OFFLINE",
    }
    # Unknown: 422 naming the entry, and the members stay as they were.
    unknown = await sup.put(
        f"/api/teams/{team['id']}/members", json={"userIds": [str(ana), str(uuid.uuid4())]}
    )
    assert unknown.status_code == 422
    assert _error(unknown) == "unknown_user"
    assert unknown.json()["error"]["details"][0]["field"] == "body.userIds[1]"
    # Disabled: the same.
    async with app.state.session_factory() as session:
        carla = UserAccount(username="carla", role=Role.AGENT, password_hash="x", active=False)
        session.add(carla)
        await session.commit()
        carla_id = carla.id
    disabled = await sup.put(f"/api/teams/{team['id']}/members", json={"userIds": [str(carla_id)]})
    assert disabled.status_code == 422
    after = (await sup.get(f"/api/teams/{team['id']}")).json()
    assert [m["username"] for m in after["members"]] == ["ana", "bruno"]
    # Replaced: Bruno leaves, nobody else changes.
    only = await sup.put(f"/api/teams/{team['id']}/members", json={"userIds": [str(ana)]})
    assert [m["username"] for m in only.json()["members"]] == ["ana"]
    assert await _count(app, TeamMember) == 1
    audits = await _audit(app, "team.members")
    assert [(a.metadata_ or {})["added"] for a in audits] == [["ana", "bruno"], []]
    assert (audits[1].metadata_ or {})["removed"] == [str(bruno)]
    unknown_team = await sup.put(f"/api/teams/{uuid.uuid4()}/members", json={"userIds": []})
    assert unknown_team.status_code == 404


async def test_routing_rules_are_listed_in_position_order_and_an_unknown_team_is_refused(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    team = (await sup.post("/api/teams", json={"name": "Cobranzas"})).json()
    first = await sup.post(
        "/api/routing/rules", json={"teamId": team["id"], "channel": "WHATSAPP", "intent": "deuda"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["position"] == 0
    second = await sup.post("/api/routing/rules", json={"teamId": team["id"], "queue": "mora"})
    assert second.json()["position"] == 1
    early = await sup.post("/api/routing/rules", json={"teamId": team["id"], "position": 0})
    rules = (await sup.get("/api/routing/rules")).json()["items"]
    assert rules[-1]["id"] == second.json()["id"]
    assert {r["id"] for r in rules[:2]} == {first.json()["id"], early.json()["id"]}
    assert rules[0]["channel"] in ("WHATSAPP", None)
    unknown = await sup.post("/api/routing/rules", json={"teamId": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert _error(unknown) == "unknown_team"
    assert await _count(app, RoutingRule) == 3
    deleted = await sup.delete(f"/api/routing/rules/{first.json()['id']}")
    assert deleted.status_code == 204
    again = await sup.delete(f"/api/routing/rules/{first.json()['id']}")
    assert again.status_code == 404
    assert len(await _audit(app, "routing_rule.create")) == 3
    assert len(await _audit(app, "routing_rule.delete")) == 1
    # A team's rules go with it.
    await sup.delete(f"/api/teams/{team['id']}")
    assert (await sup.get("/api/routing/rules")).json()["items"] == []


async def test_everyone_sets_their_own_availability_and_the_routers_hear_of_it(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    ana = people["ana"]
    bus = app.state.runtime.events
    with bus.subscribe() as queue:
        answer = await ana.put("/api/account/availability", json={"availability": "ONLINE"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["username"] == "ana"
        assert body["availability"] == "ONLINE"
        assert body["availabilityChangedAt"] is not None
        notice = await asyncio.wait_for(queue.get(), timeout=5)
    ana_id = await _user_id(app, "ana")
    assert notice == {"type": "agent.availability", "userId": str(ana_id), "availability": "ONLINE"}
    [row] = await _audit(app, "user.availability")
    assert row.actor_id == "ana"
    assert row.entity_id == str(ana_id)
    assert row.metadata_ == {"from": "OFFLINE", "to": "ONLINE"}
    # The same value again changes nothing and says nothing.
    same = await ana.put("/api/account/availability", json={"availability": "ONLINE"})
    assert same.json()["availabilityChangedAt"] == body["availabilityChangedAt"]
    assert len(await _audit(app, "user.availability")) == 1
    # A supervisor sets anyone's.
    set_by_sup = await people["sup"].put(
        f"/api/users/{ana_id}/availability", json={"availability": "AWAY"}
    )
    assert set_by_sup.status_code == 200
    assert set_by_sup.json()["availability"] == "AWAY"
    async with app.state.session_factory() as session:
        user = await session.get(UserAccount, ana_id)
        assert user is not None
        assert user.availability.value == "AWAY"


async def test_capacity_takes_whole_numbers_from_0_to_100(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    ana_id = await _user_id(app, "ana")
    ok = await sup.put(f"/api/users/{ana_id}/capacity", json={"call": 0, "whatsapp": 8, "sms": 3})
    assert ok.status_code == 200, ok.text
    assert ok.json()["capacity"] == {"call": 0, "whatsapp": 8, "sms": 3}
    for bad in (
        {"call": -1, "whatsapp": 1, "sms": 1},
        {"call": 101, "whatsapp": 1, "sms": 1},
        {"call": "2", "whatsapp": 1, "sms": 1},
        {"call": 1.5, "whatsapp": 1, "sms": 1},
        {"call": True, "whatsapp": 1, "sms": 1},
        {"call": 1, "whatsapp": 1},
        {"call": None, "whatsapp": 1, "sms": 1},
        [1, 2, 3],
    ):
        refused = await sup.put(f"/api/users/{ana_id}/capacity", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert _error(refused) == "validation_error"
    async with app.state.session_factory() as session:
        user = await session.get(UserAccount, ana_id)
        assert user is not None
        assert (user.capacity_call, user.capacity_whatsapp, user.capacity_sms) == (0, 8, 3)
    [row] = await _audit(app, "user.capacity")
    assert row.metadata_ == {
        "from": {"call": 1, "whatsapp": 5, "sms": 5},
        "to": {"call": 0, "whatsapp": 8, "sms": 3},
    }
    unknown = await sup.put(
        f"/api/users/{uuid.uuid4()}/capacity", json={"call": 1, "whatsapp": 1, "sms": 1}
    )
    assert unknown.status_code == 404


async def test_the_people_list_shows_teams_capacity_and_load_per_channel(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    team = (await sup.post("/api/teams", json={"name": "Tarjetas"})).json()
    ana_id = await _user_id(app, "ana")
    await sup.put(f"/api/teams/{team['id']}/members", json={"userIds": [str(ana_id)]})
    async with app.state.session_factory() as session:
        await f.save(
            session,
            f.interaction(assigned_agent="ana", channel=Channel.WHATSAPP),
            f.interaction(
                assigned_agent="ana", channel=Channel.WHATSAPP, status=InteractionStatus.NEW
            ),
            f.interaction(assigned_agent="ana", channel=Channel.SMS),
            f.interaction(
                assigned_agent="ana", channel=Channel.CALL, status=InteractionStatus.COMPLETED
            ),
            f.interaction(assigned_agent="bruno", channel=Channel.CALL),
            f.interaction(assigned_agent=None),
        )
    listed = await people["bruno"].get("/api/agents")
    assert listed.status_code == 200, listed.text
    by_name = {a["username"]: a for a in listed.json()["items"]}
    assert by_name["ana"] == {
        "id": str(ana_id),
        "username": "ana",
        "displayName": None,
        "role": "agent",
        "availability": "OFFLINE",
        "teams": [team["id"]],
        "capacity": {"call": 1, "whatsapp": 5, "sms": 5},
        "load": {"call": 0, "whatsapp": 2, "sms": 1},
    }
    assert by_name["bruno"]["load"] == {"call": 1, "whatsapp": 0, "sms": 0}
    assert by_name["sup"]["teams"] == []
    # The admin's users list carries the same.
    users = {u["username"]: u for u in (await people["admin"].get("/api/users")).json()["items"]}
    assert users["ana"]["teams"] == [team["id"]]
    assert users["ana"]["availability"] == "OFFLINE"
    assert users["ana"]["capacity"] == {"call": 1, "whatsapp": 5, "sms": 5}


async def test_an_agent_may_not_manage_teams_rules_or_anyone_elses_availability_or_capacity(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup, ana = people["sup"], people["ana"]
    team = (await sup.post("/api/teams", json={"name": "Ventas"})).json()
    rule = (await sup.post("/api/routing/rules", json={"teamId": team["id"]})).json()
    bruno_id = await _user_id(app, "bruno")
    ana_id = await _user_id(app, "ana")
    for method, url, body in (
        ("POST", "/api/teams", {"name": "Mío"}),
        ("PATCH", f"/api/teams/{team['id']}", {"isDefault": True}),
        ("DELETE", f"/api/teams/{team['id']}", None),
        ("PUT", f"/api/teams/{team['id']}/members", {"userIds": [str(ana_id)]}),
        ("GET", "/api/routing/rules", None),
        ("POST", "/api/routing/rules", {"teamId": team["id"]}),
        ("DELETE", f"/api/routing/rules/{rule['id']}", None),
        ("PUT", f"/api/users/{bruno_id}/availability", {"availability": "OFFLINE"}),
        ("PUT", f"/api/users/{ana_id}/availability", {"availability": "ONLINE"}),
        ("PUT", f"/api/users/{ana_id}/capacity", {"call": 9, "whatsapp": 9, "sms": 9}),
    ):
        refused = await ana.request(method, url, json=body)
        assert refused.status_code == 403, (method, url, refused.text)
        assert _error(refused) == "forbidden"
    after = (await sup.get(f"/api/teams/{team['id']}")).json()
    assert after["isDefault"] is False
    assert after["members"] == []
    assert await _count(app, RoutingRule) == 1
    assert await _audit(app, "user.availability") == []
    assert await _audit(app, "user.capacity") == []
    # Her own availability is hers to set.
    mine = await ana.put("/api/account/availability", json={"availability": "BUSY"})
    assert mine.status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/api/teams", {"name": "a\u0000b"}),
        ("POST", "/api/teams", {"name": "x" * 10_000}),
        ("POST", "/api/teams", {"name": "   "}),
        ("POST", "/api/teams", {"name": ""}),
        ("POST", "/api/teams", {"name": 7}),
        ("POST", "/api/teams", {"name": ["Ventas"]}),
        ("POST", "/api/teams", {"name": "Ventas", "isDefault": "yes"}),
        ("POST", "/api/teams", {"name": "Ventas", "routingMode": "RANDOM"}),
        ("POST", "/api/teams", {"name": "Ventas", "description": "d" * 10_000}),
        ("POST", "/api/teams", {"name": "Ventas", "description": "\u0000"}),
        ("POST", "/api/teams", "Ventas"),
        ("PUT", "/api/teams/{team}/members", {"userIds": "ana"}),
        ("PUT", "/api/teams/{team}/members", {"userIds": ["not-a-uuid"]}),
        ("PUT", "/api/teams/{team}/members", {"userIds": [None]}),
        ("PUT", "/api/teams/{team}/members", {"userIds": [str(uuid.UUID(int=1))] * 1001}),
        ("POST", "/api/routing/rules", {"teamId": "nope"}),
        ("POST", "/api/routing/rules", {"teamId": "{team}", "channel": "FAX"}),
        ("POST", "/api/routing/rules", {"teamId": "{team}", "intent": "i" * 10_000}),
        ("POST", "/api/routing/rules", {"teamId": "{team}", "queue": "q\u0000"}),
        ("POST", "/api/routing/rules", {"teamId": "{team}", "position": -1}),
        ("POST", "/api/routing/rules", {"teamId": "{team}", "position": "1"}),
        ("PUT", "/api/account/availability", {"availability": "SLEEPING"}),
        ("PUT", "/api/account/availability", {"availability": None}),
        ("PUT", "/api/account/availability", {}),
        ("PATCH", "/api/teams/{team}", {"name": "\u0000"}),
        ("PATCH", "/api/teams/{team}", {"isDefault": 1}),
    ],
)
async def test_hostile_input_is_refused_with_the_envelope_and_writes_nothing(
    app: FastAPI, people: dict[str, httpx.AsyncClient], method: str, url: str, body: Any
) -> None:
    sup = people["sup"]
    team = (await sup.post("/api/teams", json={"name": "Base"})).json()
    text = str(body).replace("{team}", team["id"]) if isinstance(body, str) else None
    payload: Any = text if text is not None else _fill(body, team["id"])
    answer = await sup.request(method, url.replace("{team}", team["id"]), json=payload)
    assert answer.status_code == 422, answer.text
    assert _error(answer) in ("validation_error", "invalid_json")
    assert await _count(app, Team) == 1
    assert await _count(app, TeamMember) == 0
    assert await _count(app, RoutingRule) == 0
    after = (await sup.get(f"/api/teams/{team['id']}")).json()
    assert after["name"] == "Base"
    assert after["isDefault"] is False


def _fill(body: Any, team_id: str) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, team_id) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, team_id) for v in body]
    return team_id if body == "{team}" else body


async def test_unknown_ids_in_the_path_answer_404_or_422_never_500(
    people: dict[str, httpx.AsyncClient],
) -> None:
    sup = people["sup"]
    for method, url, body in (
        ("GET", "/api/teams/not-a-uuid", None),
        ("PATCH", f"/api/teams/{uuid.uuid4()}", {"name": "x"}),
        ("DELETE", f"/api/teams/{uuid.uuid4()}", None),
        ("PUT", f"/api/users/{uuid.uuid4()}/availability", {"availability": "ONLINE"}),
        ("DELETE", "/api/routing/rules/123", None),
    ):
        answer = await sup.request(method, url, json=body)
        assert answer.status_code in (404, 422), (url, answer.text)
        _error(answer)
