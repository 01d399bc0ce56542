"""PATCH /api/interactions/{id}: each changed field gets one event and one audit row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import AuditLog, InteractionEvent
from contact_center.models.enums import InteractionStatus, Role
from tests import auth
from tests import factories as f


async def _rows(
    session_factory: async_sessionmaker[AsyncSession], model: Any, interaction_id: uuid.UUID
) -> Sequence[Any]:
    async with session_factory() as session:
        if model is AuditLog:
            audits = select(AuditLog).where(AuditLog.entity_id == str(interaction_id))
            return (await session.scalars(audits.order_by(AuditLog.action))).all()
        events = select(InteractionEvent).where(InteractionEvent.interaction_id == interaction_id)
        return (await session.scalars(events)).all()


async def test_patch_changes_fields_with_events_and_audit(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction(queue="general")
    async with session_factory() as session:
        await f.save(session, row)
    await auth.user(session_factory, "lucia.fernandez", Role.AGENT)
    response = await client.patch(
        f"/api/interactions/{row.id}",
        json={
            "assignedAgent": "lucia.fernandez",
            "queue": "tarjetas",
            "status": "COMPLETED",
            "outcome": "RESOLVED",
            "intent": "bloqueo_tarjeta",
        },
        headers={"User-Agent": "pytest-agent"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["assignedAgent"] == "lucia.fernandez"
    assert body["status"] == "COMPLETED"
    assert body["endedAt"] is not None
    assert body["updatedAt"] > row.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    events = await _rows(session_factory, InteractionEvent, row.id)
    assert sorted(e.type for e in events) == sorted(
        [
            "agent.assigned",
            "interaction.updated",
            "status.changed",
            "interaction.updated",
            "interaction.updated",
            "interaction.completed",
        ]
    )
    assert len({e.idempotency_key for e in events}) == len(events)
    audits = await _rows(session_factory, AuditLog, row.id)
    assert [a.action for a in audits] == [
        "interaction.update.assignedAgent",
        "interaction.update.intent",
        "interaction.update.outcome",
        "interaction.update.queue",
        "interaction.update.status",
    ]
    queue_audit = next(a for a in audits if a.action == "interaction.update.queue")
    assert queue_audit.metadata_ == {"field": "queue", "from": "general", "to": "tarjetas"}
    assert queue_audit.user_agent == "pytest-agent"
    assert queue_audit.ip is not None


async def test_null_clears_and_unchanged_fields_write_nothing(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction(queue="general", assigned_agent="Martín")
    async with session_factory() as session:
        await f.save(session, row)
    response = await client.patch(
        f"/api/interactions/{row.id}", json={"queue": None, "assignedAgent": "Martín"}
    )
    assert response.status_code == 200
    assert response.json()["queue"] is None
    assert response.json()["assignedAgent"] == "Martín"
    assert [e.type for e in await _rows(session_factory, InteractionEvent, row.id)] == [
        "interaction.updated"
    ]
    assert len(await _rows(session_factory, AuditLog, row.id)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"status": "NEW"},
        {"status": None},
        {"status": "DONE"},
        {"outcome": "MAYBE"},
        {"assignedAgent": ""},
        {"queue": "x" * 129},
        {"unknownField": 1},
        ["not", "an", "object"],
    ],
)
async def test_invalid_patch_answers_422_and_changes_nothing(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], body: Any
) -> None:
    row = f.interaction()
    async with session_factory() as session:
        await f.save(session, row)
    response = await client.patch(f"/api/interactions/{row.id}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await _rows(session_factory, InteractionEvent, row.id) == []
    assert await _rows(session_factory, AuditLog, row.id) == []


async def test_patch_to_a_name_that_is_no_active_user_answers_422_and_changes_nothing(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction()
    async with session_factory() as session:
        await f.save(session, row)
    response = await client.patch(
        f"/api/interactions/{row.id}", json={"assignedAgent": "Lucía Fernández"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "unknown_user"
    assert await _rows(session_factory, InteractionEvent, row.id) == []
    assert await _rows(session_factory, AuditLog, row.id) == []


async def test_patch_unknown_interaction_answers_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(f"/api/interactions/{uuid.uuid4()}", json={"queue": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "interaction_not_found"


async def test_reopening_clears_ended_at(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction()
    async with session_factory() as session:
        await f.save(session, row)
    closed = (
        await client.patch(f"/api/interactions/{row.id}", json={"status": "COMPLETED"})
    ).json()
    assert closed["endedAt"] is not None
    reopened = (
        await client.patch(f"/api/interactions/{row.id}", json={"status": "IN_PROGRESS"})
    ).json()
    assert reopened["endedAt"] is None


async def test_a_patch_of_the_assignee_moves_the_conversation_out_of_and_back_into_its_queue(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction(status=InteractionStatus.IN_PROGRESS)
    async with session_factory() as session:
        await f.save(session, row)
    await auth.user(session_factory, "lucia.fernandez", Role.AGENT)
    taken = await client.patch(
        f"/api/interactions/{row.id}", json={"assignedAgent": "lucia.fernandez"}
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignedAt"] is not None
    assert taken.json()["queuedAt"] is None
    released = await client.patch(f"/api/interactions/{row.id}", json={"assignedAgent": None})
    assert released.status_code == 200, released.text
    assert released.json()["assignedAgent"] is None
    assert released.json()["assignedAt"] is None
    assert released.json()["queuedAt"] is not None
