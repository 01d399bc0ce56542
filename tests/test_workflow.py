"""The conversation lifecycle (docs/workflow.md): assign, unassign, transfer, resolve, reopen,
snooze, unsnooze, priority and labels; each writes one event, one audit row and a live notice,
and what the conversation's state does not allow writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.live.bus import visible_to
from contact_center.models import AuditLog, InteractionEvent
from contact_center.models.enums import ActorType, InteractionStatus, Role
from contact_center.models.interaction import Interaction
from contact_center.models.team import Team
from contact_center.principal import Principal
from tests import auth
from tests import factories as f
from tests.conftest import Backend

Sessions = async_sessionmaker[AsyncSession]


async def _team(sessions: Sessions, name: str = "Tarjetas") -> uuid.UUID:
    team = Team(name=name)
    async with sessions() as session:
        await f.save(session, team)
    return team.id


async def _conversation(sessions: Sessions, **overrides: Any) -> Interaction:
    row = f.interaction(**overrides)
    async with sessions() as session:
        await f.save(session, row)
    return row


async def _written(sessions: Sessions, interaction_id: uuid.UUID) -> tuple[list[str], list[str]]:
    """The conversation's event types and audit actions, oldest first."""
    async with sessions() as session:
        events = await session.scalars(
            select(InteractionEvent.type)
            .where(InteractionEvent.interaction_id == interaction_id)
            .order_by(InteractionEvent.occurred_at)
        )
        audits = await session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_id == str(interaction_id))
            .order_by(AuditLog.occurred_at, AuditLog.action)
        )
        return list(events), list(audits)


async def _row(sessions: Sessions, interaction_id: uuid.UUID) -> Interaction:
    async with sessions() as session:
        found = await session.get(Interaction, interaction_id)
        assert found is not None
        return found


def _future(**delta: float) -> str:
    return (utcnow() + timedelta(**delta)).isoformat()


Check = Callable[[dict[str, Any]], None]


def _assigned_to(agent: str) -> Check:
    def check(body: dict[str, Any]) -> None:
        assert body["assignedAgent"] == agent
        assert body["assignedAt"] is not None
        assert body["queuedAt"] is None

    return check


def _queued(body: dict[str, Any]) -> None:
    assert body["assignedAgent"] is None
    assert body["queuedAt"] is not None


def _resolved(body: dict[str, Any]) -> None:
    assert body["status"] == "COMPLETED"
    assert body["outcome"] == "RESOLVED"
    assert body["resolutionCode"] == "answered"
    assert body["endedAt"] is not None
    assert body["queuedAt"] is None
    assert body["snoozedUntil"] is None


def _reopened(body: dict[str, Any]) -> None:
    assert body["status"] == "IN_PROGRESS"
    assert body["endedAt"] is None
    assert body["resolutionCode"] is None
    assert body["queuedAt"] is not None  # nobody holds it: back in the queue


def _snoozed(body: dict[str, Any]) -> None:
    assert body["snoozedUntil"] is not None


def _woke(body: dict[str, Any]) -> None:
    assert body["snoozedUntil"] is None


def _urgent(body: dict[str, Any]) -> None:
    assert body["priority"] == "URGENT"


def _labelled(body: dict[str, Any]) -> None:
    assert body["labels"] == ["fraude", "tarjeta crédito"]


HAPPY: list[tuple[str, dict[str, Any], str, str, Any, str, str, Check]] = [
    # (name, conversation, method, path, body, event, audit action, check)
    (
        "assign",
        {},
        "POST",
        "assign",
        {"agent": "Ana"},
        "agent.assigned",
        "assign",
        _assigned_to("ana"),
    ),
    (
        "unassign",
        {"assigned_agent": "ana"},
        "POST",
        "unassign",
        None,
        "agent.unassigned",
        "unassign",
        _queued,
    ),
    (
        "transfer to a person",
        {"assigned_agent": "ana"},
        "POST",
        "transfer",
        {"agent": "bruno"},
        "conversation.transferred",
        "transfer",
        _assigned_to("bruno"),
    ),
    (
        "resolve",
        {"queued_at": f.BASE_TIME, "snoozed_until": f.BASE_TIME + timedelta(days=400)},
        "POST",
        "resolve",
        {"resolutionCode": "  Answered "},
        "conversation.resolved",
        "resolve",
        _resolved,
    ),
    (
        "reopen",
        {"status": InteractionStatus.COMPLETED, "ended_at": f.BASE_TIME, "resolution_code": "x"},
        "POST",
        "reopen",
        None,
        "conversation.reopened",
        "reopen",
        _reopened,
    ),
    (
        "snooze",
        {},
        "POST",
        "snooze",
        {"until": "FUTURE"},
        "conversation.snoozed",
        "snooze",
        _snoozed,
    ),
    (
        "unsnooze",
        {"snoozed_until": f.BASE_TIME + timedelta(days=400)},
        "POST",
        "unsnooze",
        None,
        "conversation.woke",
        "unsnooze",
        _woke,
    ),
    (
        "priority",
        {},
        "PUT",
        "priority",
        {"priority": "URGENT"},
        "priority.changed",
        "priority",
        _urgent,
    ),
    (
        "labels",
        {},
        "PUT",
        "labels",
        {"labels": ["Fraude", "  tarjeta   CRÉDITO ", "fraude"]},
        "labels.changed",
        "labels",
        _labelled,
    ),
]


@pytest.mark.parametrize(
    ("conversation", "method", "path", "body", "event", "action", "check"),
    [case[1:] for case in HAPPY],
    ids=[case[0] for case in HAPPY],
)
async def test_each_operation_writes_one_event_one_audit_row_and_a_live_notice(
    app: FastAPI,
    people: dict[str, httpx.AsyncClient],
    session_factory: Sessions,
    conversation: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    event: str,
    action: str,
    check: Check,
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    row = await _conversation(session_factory, **conversation)
    if body == {"until": "FUTURE"}:
        body = {"until": _future(hours=2)}
    with app.state.runtime.events.subscribe() as notices:
        answered = await people["sup"].request(
            method, f"/api/interactions/{row.id}/{path}", json=body
        )
        assert answered.status_code == 200, answered.text
        notice = notices.get_nowait()
    detail = answered.json()
    check(detail)
    assert detail["id"] == str(row.id)
    # The answer is the detail route's, masked the same way.
    assert detail["customerPhone"] != row.customer_phone
    events, audits = await _written(session_factory, row.id)
    assert events == [event]
    assert audits == [f"interaction.{action}"]
    assert notice is not None
    assert notice["interactionId"] == str(row.id)
    assert notice["type"] == event
    # The event says who did it.
    shown = (
        await people["sup"].get(f"/api/interactions/{row.id}", params={"includeAllEvents": "true"})
    ).json()
    assert shown["events"][-1]["type"] == event
    assert shown["events"][-1]["normalized"]["actor"] == "sup"
    check(shown)


async def test_the_same_priority_or_labels_again_write_nothing(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    row = await _conversation(session_factory)
    sup = people["sup"]
    for _ in range(2):
        assert (
            await sup.put(f"/api/interactions/{row.id}/labels", json={"labels": ["mora"]})
        ).status_code == 200
        assert (
            await sup.put(f"/api/interactions/{row.id}/priority", json={"priority": "HIGH"})
        ).status_code == 200
    assert await _written(session_factory, row.id) == (
        ["labels.changed", "priority.changed"],
        ["interaction.labels", "interaction.priority"],
    )
    cleared = await sup.put(f"/api/interactions/{row.id}/labels", json={"labels": []})
    assert cleared.json()["labels"] == []


async def test_labels_show_in_the_list_and_the_detail(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    first = await _conversation(session_factory)
    second = await _conversation(session_factory)
    sup = people["sup"]
    await sup.put(f"/api/interactions/{first.id}/labels", json={"labels": ["mora", "baja"]})
    await sup.put(f"/api/interactions/{second.id}/labels", json={"labels": ["reclamo"]})
    listed = {
        item["id"]: item["labels"] for item in (await sup.get("/api/interactions")).json()["items"]
    }
    assert listed == {str(first.id): ["baja", "mora"], str(second.id): ["reclamo"]}
    assert (await sup.get(f"/api/interactions/{first.id}")).json()["labels"] == ["baja", "mora"]


async def test_transfer_to_a_team_puts_it_in_that_teams_queue(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    team = await _team(session_factory)
    row = await _conversation(session_factory, assigned_agent="ana")
    moved = await people["ana"].post(
        f"/api/interactions/{row.id}/transfer", json={"teamId": str(team)}
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["teamId"] == str(team)
    _queued(body)
    events, audits = await _written(session_factory, row.id)
    assert (events, audits) == (["conversation.transferred"], ["interaction.transfer"])


async def test_an_agent_assigns_to_themselves_only_and_may_unassign_their_own(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    await auth.user(session_factory, "bruno", Role.AGENT)
    row = await _conversation(session_factory)
    ana = people["ana"]
    for path, body in (("assign", {"agent": "bruno"}), ("transfer", {"agent": "bruno"})):
        refused = await ana.post(f"/api/interactions/{row.id}/{path}", json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden_assignment"
    assert await _written(session_factory, row.id) == ([], [])
    taken = await ana.post(f"/api/interactions/{row.id}/assign", json={"agent": "ana"})
    assert taken.status_code == 200
    assert taken.json()["assignedAgent"] == "ana"
    released = await ana.post(f"/api/interactions/{row.id}/unassign")
    assert released.status_code == 200
    assert released.json()["assignedAgent"] is None


NOT_ALLOWED: list[tuple[str, dict[str, Any], str, str, Any]] = [
    (
        "resolve a resolved one",
        {"status": InteractionStatus.COMPLETED},
        "POST",
        "resolve",
        {"resolutionCode": "x"},
    ),
    (
        "resolve a failed one",
        {"status": InteractionStatus.FAILED},
        "POST",
        "resolve",
        {"resolutionCode": "x"},
    ),
    ("reopen an open one", {}, "POST", "reopen", None),
    ("reopen a failed one", {"status": InteractionStatus.FAILED}, "POST", "reopen", None),
    ("unassign an unassigned one", {}, "POST", "unassign", None),
    (
        "assign a resolved one",
        {"status": InteractionStatus.COMPLETED},
        "POST",
        "assign",
        {"agent": "ana"},
    ),
    (
        "transfer an abandoned one",
        {"status": InteractionStatus.ABANDONED},
        "POST",
        "transfer",
        {"agent": "ana"},
    ),
    (
        "snooze a resolved one",
        {"status": InteractionStatus.COMPLETED},
        "POST",
        "snooze",
        {"until": "FUTURE"},
    ),
    ("unsnooze one not snoozed", {}, "POST", "unsnooze", None),
]


@pytest.mark.parametrize(
    ("conversation", "method", "path", "body"),
    [case[1:] for case in NOT_ALLOWED],
    ids=[case[0] for case in NOT_ALLOWED],
)
async def test_an_operation_the_state_does_not_allow_answers_409_and_writes_nothing(
    people: dict[str, httpx.AsyncClient],
    session_factory: Sessions,
    conversation: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    row = await _conversation(session_factory, **conversation)
    if body == {"until": "FUTURE"}:
        body = {"until": _future(hours=1)}
    refused = await people["sup"].request(method, f"/api/interactions/{row.id}/{path}", json=body)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["message"]
    assert await _written(session_factory, row.id) == ([], [])
    after = await _row(session_factory, row.id)
    assert (after.status, after.assigned_agent, after.updated_at) == (
        row.status,
        row.assigned_agent,
        row.updated_at,
    )


BAD_INPUT: list[tuple[str, str, str, Any, str]] = [
    ("unknown user", "POST", "assign", {"agent": "nadie"}, "unknown_user"),
    ("unknown user in a transfer", "POST", "transfer", {"agent": "nadie"}, "unknown_user"),
    ("unknown team", "POST", "transfer", {"teamId": str(uuid.uuid4())}, "unknown_team"),
    ("both agent and team", "POST", "transfer", {"agent": "ana", "teamId": str(uuid.uuid4())}, ""),
    ("neither agent nor team", "POST", "transfer", {}, ""),
    ("a team id that is no uuid", "POST", "transfer", {"teamId": "x"}, ""),
    ("a snooze in the past", "POST", "snooze", {"until": "PAST"}, ""),
    ("a snooze 91 days ahead", "POST", "snooze", {"until": "FAR"}, ""),
    ("a snooze without a time zone", "POST", "snooze", {"until": "2099-01-01T10:00:00"}, ""),
    ("a snooze that is no time", "POST", "snooze", {"until": "mañana"}, ""),
    ("a resolution code with spaces", "POST", "resolve", {"resolutionCode": "no sé"}, ""),
    ("an empty resolution code", "POST", "resolve", {"resolutionCode": "  "}, ""),
    ("a NUL byte", "POST", "resolve", {"resolutionCode": "ok\u0000"}, ""),
    ("a huge resolution code", "POST", "resolve", {"resolutionCode": "a" * 100_000}, ""),
    ("a resolution code that is a number", "POST", "resolve", {"resolutionCode": 42}, ""),
    ("an agent that is a list", "POST", "assign", {"agent": ["ana"]}, ""),
    ("a huge agent name", "POST", "assign", {"agent": "a" * 10_000}, ""),
    ("an unknown field", "POST", "assign", {"agent": "ana", "x": 1}, ""),
    ("a body that is a list", "POST", "assign", ["ana"], ""),
    ("an unknown priority", "PUT", "priority", {"priority": "MEGA"}, ""),
    ("a priority that is null", "PUT", "priority", {"priority": None}, ""),
    ("21 labels", "PUT", "labels", {"labels": [f"l{i}" for i in range(21)]}, ""),
    ("a label of 51 characters", "PUT", "labels", {"labels": ["a" * 51]}, ""),
    ("an empty label", "PUT", "labels", {"labels": ["  "]}, ""),
    ("a label with symbols", "PUT", "labels", {"labels": ["<script>"]}, ""),
    ("a label with a NUL byte", "PUT", "labels", {"labels": ["a\u0000b"]}, ""),
    ("labels that are a string", "PUT", "labels", {"labels": "fraude"}, ""),
    ("a label that is a number", "PUT", "labels", {"labels": [7]}, ""),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
async def test_bad_input_answers_422_with_the_envelope_and_writes_nothing(
    people: dict[str, httpx.AsyncClient],
    session_factory: Sessions,
    method: str,
    path: str,
    body: Any,
    code: str,
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    row = await _conversation(session_factory)
    if isinstance(body, dict) and body.get("until") in ("PAST", "FAR"):
        body = {"until": _future(minutes=-1) if body["until"] == "PAST" else _future(days=91)}
    refused = await people["sup"].request(method, f"/api/interactions/{row.id}/{path}", json=body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["message"]
    assert error["code"] == (code or "validation_error")
    assert await _written(session_factory, row.id) == ([], [])
    after = await _row(session_factory, row.id)
    assert after.updated_at == row.updated_at


OPERATIONS: list[tuple[str, str, Any]] = [
    ("POST", "assign", {"agent": "bruno"}),
    ("POST", "unassign", None),
    ("POST", "transfer", {"agent": "bruno"}),
    ("POST", "resolve", {"resolutionCode": "x"}),
    ("POST", "reopen", None),
    ("POST", "snooze", {"until": "FUTURE"}),
    ("POST", "unsnooze", None),
    ("PUT", "priority", {"priority": "LOW"}),
    ("PUT", "labels", {"labels": ["mía"]}),
    ("POST", "notes", {"body": "mía"}),
    ("GET", "notes", None),
]


async def test_another_agents_conversation_is_unknown_to_every_operation(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    row = await _conversation(session_factory, assigned_agent="ana")
    unknown = uuid.uuid4()
    for method, path, body in OPERATIONS:
        if body == {"until": "FUTURE"}:
            body = {"until": _future(hours=1)}
        for target in (row.id, unknown):
            refused = await people["bruno"].request(
                method, f"/api/interactions/{target}/{path}", json=body
            )
            assert refused.status_code == 404, (path, refused.text)
            assert refused.json()["error"]["code"] == "interaction_not_found"
    assert await _written(session_factory, row.id) == ([], [])
    assert (await _row(session_factory, row.id)).assigned_agent == "ana"


async def test_two_resolves_at_once_one_wins_and_the_other_answers_409(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions, backend: Backend
) -> None:
    if backend.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    row = await _conversation(session_factory)
    sup = people["sup"]
    answers = await asyncio.gather(
        *(
            sup.post(f"/api/interactions/{row.id}/resolve", json={"resolutionCode": f"c{i}"})
            for i in range(2)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    events, audits = await _written(session_factory, row.id)
    assert (events, audits) == (["conversation.resolved"], ["interaction.resolve"])


async def test_a_live_notice_of_a_taken_conversation_reaches_the_agent_it_was_taken_from(
    app: FastAPI, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    await auth.user(session_factory, "bruno", Role.AGENT)
    row = await _conversation(session_factory, assigned_agent="ana")
    with app.state.runtime.events.subscribe() as notices:
        moved = await people["sup"].post(
            f"/api/interactions/{row.id}/transfer", json={"agent": "bruno"}
        )
        assert moved.status_code == 200
        notice = notices.get_nowait()
    assert notice is not None
    for agent in ("ana", "bruno"):
        viewer = Principal(actor_type=ActorType.USER, actor_id=agent, role=Role.AGENT)
        assert visible_to(notice, viewer) is not None
    carol = Principal(actor_type=ActorType.USER, actor_id="carol", role=Role.AGENT)
    assert visible_to(notice, carol) is None
