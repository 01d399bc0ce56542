"""Outbound messages end to end: the API, the job queue, the worker, the emulator, the callbacks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import Interaction, Message
from contact_center.models.enums import InteractionStatus, MessageStatus
from contact_center.settings import Settings
from contact_center.worker.deps import job_context
from tests import auth
from tests.conftest import Backend
from tests.live import FAST, PrivateRedis, free_port, live_app, number


async def send_many(
    http: httpx.AsyncClient, count: int, *, start: int = 0, parallel: int = 10
) -> list[str]:
    gate = asyncio.Semaphore(parallel)

    async def one(i: int) -> str:
        async with gate:
            response = await http.post(
                "/api/sms/send", json={"to": number(start + i), "body": f"Mensaje {start + i}"}
            )
            assert response.status_code == 202, response.text
            return str(response.json()["messageId"])

    return await asyncio.gather(*(one(i) for i in range(count)))


async def statuses(session_factory: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with session_factory() as session:
        rows = (
            await session.execute(select(Message.status, func.count()).group_by(Message.status))
        ).all()
    return Counter({status.value: int(n) for status, n in rows})


async def wait_for(
    session_factory: async_sessionmaker[AsyncSession], status: str, count: int, seconds: float = 180
) -> Counter[str]:
    deadline = time.monotonic() + seconds
    while True:
        current = await statuses(session_factory)
        if current[status] >= count:
            return current
        assert time.monotonic() < deadline, f"waited for {count} {status}, have {dict(current)}"
        await asyncio.sleep(0.25)


@pytest.mark.slow
async def test_a_thousand_sms_are_sent_once_and_delivered(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        await send_many(live.http, 1000)
        final = await wait_for(session_factory, "DELIVERED", 1000)
        outbox = await live.outbox()
    assert final == Counter({"DELIVERED": 1000})
    assert len(outbox) == 1000
    assert len({item["body"] for item in outbox}) == 1000
    assert len({item["sid"] for item in outbox}) == 1000
    async with session_factory() as session:
        completed = (
            await session.execute(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.status == InteractionStatus.COMPLETED)
            )
        ).scalar_one()
    assert completed == 1000


@pytest.mark.slow
async def test_transient_errors_are_retried_until_sent(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        await live.emulator("/twilio/faults", {"status": 503, "count": 3})
        [message_id] = await send_many(live.http, 1)
        await wait_for(session_factory, "DELIVERED", 1)
        outbox = await live.outbox()
        detail = (
            await live.http.get(
                "/api/interactions/"
                + (await live.http.get("/api/interactions")).json()["items"][0]["id"]
            )
        ).json()
    assert len(outbox) == 1
    async with session_factory() as session:
        message = (await session.scalars(select(Message))).one()
    assert str(message.id) == message_id
    assert message.attempts == 4
    assert message.error_code is None
    types = [e["type"] for e in detail["events"]]
    assert types.count("message.sent") == 1
    assert "message.status" in types


async def test_a_permanent_error_fails_at_once(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        await live.emulator(
            "/twilio/faults",
            {
                "status": 400,
                "code": 21211,
                "number": number(7),
                "count": 5,
                "message": "The 'To' number is not a valid phone number.",
            },
        )
        await send_many(live.http, 1, start=7)
        await wait_for(session_factory, "FAILED", 1)
        await asyncio.sleep(1)  # no retry comes
        assert await live.outbox() == []
    async with session_factory() as session:
        message = (await session.scalars(select(Message))).one()
        interaction = (await session.scalars(select(Interaction))).one()
    assert message.status is MessageStatus.FAILED
    assert message.error_code == "21211"
    assert message.attempts == 1
    assert interaction.status is InteractionStatus.FAILED


@pytest.mark.slow
async def test_embedded_restart_delivers_what_was_queued(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await send_many(live.http, 20)
    assert await statuses(session_factory) == Counter({"QUEUED": 20})
    # A new process: its in-memory queue is empty; the database still holds the work.
    async with live_app(settings_factory) as live:
        await wait_for(session_factory, "DELIVERED", 20, seconds=60)
        assert len(await live.outbox()) == 20


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(str(tmp_path))
    server.start()
    yield server
    server.stop()


async def test_redis_down_while_requests_arrive(
    backend: Backend,
    settings_factory: Callable[..., Settings],
    session_factory: async_sessionmaker[AsyncSession],
    redis_server: PrivateRedis,
) -> None:
    if backend.name != "postgresql":
        pytest.skip("the Redis deployment runs on PostgreSQL")
    async with live_app(settings_factory, REDIS_URL=redis_server.url) as live:
        redis_server.stop()
        await send_many(live.http, 20, parallel=5)
        assert (await statuses(session_factory))["QUEUED"] == 20
        health = (await live.http.get("/api/health")).json()
        assert health == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}
        redis_server.start()
        await wait_for(session_factory, "DELIVERED", 20, seconds=120)
        assert len(await live.outbox()) == 20


def _process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "contact_center", *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
async def test_worker_killed_mid_batch_loses_nothing(
    backend: Backend,
    database_url: str,
    tmp_path: Path,
    session_factory: async_sessionmaker[AsyncSession],
    redis_server: PrivateRedis,
) -> None:
    if backend.name != "postgresql":
        pytest.skip("separate processes share a database server")
    port = free_port()
    env = {
        **os.environ,
        **FAST,
        "TWILIO_MAX_MPS": "40",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "APP_PORT": str(port),
        "RECORDINGS_DIR": str(tmp_path),
    }
    api = _process(["serve", "--no-worker"], env, tmp_path / "api.log")
    worker = _process(["worker"], env, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            for _ in range(300):
                try:
                    if (await http.get("/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            http.headers.update(auth.bearer(await asyncio.to_thread(auth.cli_token, env)))
            await send_many(http, 300)
            deadline = time.monotonic() + 60
            while (await statuses(session_factory))["QUEUED"] > 200:
                assert time.monotonic() < deadline, "the worker is not sending"
                await asyncio.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            at_kill = await statuses(session_factory)
            worker = _process(["worker"], env, tmp_path / "worker2.log")
            final = await wait_for(session_factory, "DELIVERED", 300, seconds=180)
            outbox = list((await http.get("/_emulator/twilio/outbox")).json()["items"])
    finally:
        for process in (api, worker):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    assert final == Counter({"DELIVERED": 300})
    sends = Counter(item["body"] for item in outbox)
    assert set(sends) == {f"Mensaje {i}" for i in range(300)}  # none lost
    duplicates = sum(n - 1 for n in sends.values())
    print(f"worker killed with {dict(at_kill)}; duplicates sent: {duplicates}")
    assert duplicates <= at_kill["SENDING"]  # only messages in flight at the kill can repeat


async def test_a_job_held_by_a_dead_worker_does_not_block_its_message(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from contact_center.worker.reconciler import reconcile

    async with live_app(settings_factory, with_worker=False) as live:
        runtime = live.app.state.runtime
        jobs = job_context(runtime, live.app.state.webhooks)
        (message_id,) = await send_many(live.http, 1)
        await asyncio.sleep(0.2)  # the job is enqueued after the response
        held = await runtime.queue.dequeue(timeout=1)  # a worker takes it, then dies
        assert held is not None
        assert held.kwargs["message_id"] == message_id

        async def age(seconds: int) -> None:
            async with session_factory() as session:
                row = (await session.scalars(select(Message))).one()
                await session.execute(
                    update(Message).values(updated_at=row.updated_at - timedelta(seconds=seconds))
                )
                await session.commit()

        await age(10)  # overdue, not stale: the same key, a no-op while that job exists
        assert (await reconcile(jobs))["enqueued"] == 0
        await age(60)  # stale: a job of its own, which a live worker then runs
        assert (await reconcile(jobs))["enqueued"] == 1
        fresh = await runtime.queue.dequeue(timeout=1)
        assert fresh is not None
        assert fresh.kwargs["message_id"] == message_id
        assert fresh.key != held.key
