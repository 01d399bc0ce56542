"""Two app processes on one PostgreSQL database: still exactly one WhatsApp interaction."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import Interaction, Message
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot
from tests.live import free_port

pytestmark = pytest.mark.slow  # two `serve` processes


def _start(database_url: str, tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
    }
    log = (tmp_path / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def two_apps(backend: Backend, database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    if backend.name != "postgresql":
        pytest.skip("several processes share a database server, not a SQLite file")
    started = [_start(database_url, tmp_path, f"app{i}") for i in range(2)]
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
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=30)


async def test_parallel_first_messages_on_two_processes_open_one_interaction(
    two_apps: list[str], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with (
        httpx.AsyncClient(base_url=two_apps[0]) as a,
        httpx.AsyncClient(base_url=two_apps[1]) as b,
    ):
        responses = await asyncio.gather(
            *(
                post_builderbot((a, b)[i % 2], incoming("5493515550101", f"hola {i}"))
                for i in range(20)
            )
        )
    assert [r.status_code for r in responses] == [200] * 20
    async with session_factory() as session:
        interactions = (
            await session.execute(select(func.count()).select_from(Interaction))
        ).scalar_one()
        stored = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    assert interactions == 1
    assert stored == 20
