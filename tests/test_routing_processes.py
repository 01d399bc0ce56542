"""Two `serve` processes (each with its embedded worker's router) on one PostgreSQL database,
conversations arriving while both route: each assigned once, nobody over capacity."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import Interaction, InteractionEvent
from contact_center.models.enums import RoutingMode
from tests.conftest import Backend
from tests.test_routing import _team, _waiting
from tests.test_webhooks_processes import _start

pytestmark = pytest.mark.slow  # two `serve` processes


@pytest.fixture
def two_routers(backend: Backend, database_url: str, tmp_path: Path) -> Iterator[None]:
    if backend.name != "postgresql":
        pytest.skip("several processes share a database server, not a SQLite file")
    started = [_start(database_url, tmp_path, f"router{i}") for i in range(2)]
    try:
        for process, base in started:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, "app process exited"
                assert time.monotonic() < deadline, "app process did not start"
                time.sleep(0.2)
        yield
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=30)


async def test_two_processes_routing_at_once_assign_each_conversation_once_within_capacity(
    two_routers: None, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    names = [f"agente{i}" for i in range(6)]
    teams = [
        await _team(session_factory, "uno", names[:4], whatsapp=10),
        await _team(session_factory, "dos", names[2:], mode=RoutingMode.LEAST_BUSY, whatsapp=10),
    ]
    arrived = []
    for chunk in range(10):
        arrived += await _waiting(session_factory, 10, team_id=teams[chunk % 2])
        await asyncio.sleep(0.05)
    # 6 agents × 10 = 60 of the 100 find room.
    deadline = time.monotonic() + 20
    while True:
        async with session_factory() as session:
            rows = (
                await session.execute(
                    select(Interaction.assigned_agent).where(Interaction.id.in_(arrived))
                )
            ).all()
        assigned = [agent for (agent,) in rows if agent]
        if len(assigned) >= 60 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # any assignment beyond capacity would show now
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(Interaction.assigned_agent).where(Interaction.id.in_(arrived))
            )
        ).all()
        events = (
            await session.scalars(
                select(InteractionEvent.interaction_id).where(
                    InteractionEvent.type == "agent.assigned"
                )
            )
        ).all()
    load = Counter(agent for (agent,) in rows if agent)
    assert sum(load.values()) == 60
    assert max(load.values()) == 10
    assert max(Counter(events).values()) == 1
    assert len(events) == 60
