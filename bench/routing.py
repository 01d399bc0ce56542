"""Routing benchmark on PostgreSQL: decision latency, assignments/s, arrival → assignment.

    .venv/bin/python -m bench.routing --routers 4 --arrivals 50

1. Decisions: a fresh database with 100 ONLINE agents in 20 teams (each agent in two teams, so
   routers meet on the members' row locks) and 2,000 waiting WhatsApp conversations; `--routers`
   routers, each on its own engine (as separate workers), route the teams at once, one batch
   (up to 50 assignments) per transaction. It reports the latency of a team's batch transaction
   (lock the team and its members, count their load, read the queue, assign, write the events
   and audit rows, commit) and per assignment, and assignments/s until the queues are empty,
   then checks each conversation was assigned once and nobody went over capacity.
2. End to end: `contact-center serve` (its embedded worker runs the router) on a database with a
   default team and one free ONLINE agent; a BuilderBot webhook opens a new conversation, and the
   time until the database shows it assigned is measured, for `--arrivals` arrivals one after
   another.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import asyncpg_url, create_database, drop_database, free_port, percentile
from contact_center.db.migrate import upgrade_database
from contact_center.db.session import create_engine, create_session_factory
from contact_center.models import Interaction, Team, TeamMember, UserAccount
from contact_center.models.enums import (
    Availability,
    Channel,
    Direction,
    InteractionStatus,
    Provider,
    RoutingMode,
)
from contact_center.routing.service import BATCH, route_team
from contact_center.settings import load_settings

WEBHOOK_TOKEN = "emulator-builderbot-token"  # the emulator's published credential
AGENTS = 100
TEAMS = 20
CONVERSATIONS = 2000
CAPACITY = 25  # per agent; 100 × 25 ≥ 2,000: every conversation finds room


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


async def seed(
    sessions: async_sessionmaker[AsyncSession], *, agents: int, teams: int, conversations: int
) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    user_ids = [uuid.uuid4() for _ in range(agents)]
    team_ids = [uuid.uuid4() for _ in range(teams)]
    async with sessions() as session:
        await session.execute(
            insert(_table(UserAccount)),
            [
                {
                    "id": user_id,
                    "username": f"agente{i:03d}",
                    "role": "agent",
                    "password_hash": "x",
                    "active": True,
                    "must_change_password": False,
                    "failed_logins": 0,
                    "password_changed_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "availability": Availability.ONLINE,
                    "availability_changed_at": now,
                    "capacity_call": 1,
                    "capacity_whatsapp": CAPACITY,
                    "capacity_sms": 5,
                }
                for i, user_id in enumerate(user_ids)
            ],
        )
        await session.execute(
            insert(_table(Team)),
            [
                {
                    "id": team_id,
                    "name": f"equipo{t:02d}",
                    "routing_mode": RoutingMode.LEAST_BUSY if t % 2 else RoutingMode.ROUND_ROBIN,
                    "is_default": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for t, team_id in enumerate(team_ids)
            ],
        )
        per_team = agents // teams
        members = []
        for t, team_id in enumerate(team_ids):
            own = range(t * per_team, (t + 1) * per_team)
            shared = [(i + agents // 2) % agents for i in own]
            for i in [*own, *shared]:
                members.append({"team_id": team_id, "user_id": user_ids[i], "added_at": now})
        await session.execute(insert(_table(TeamMember)), members)
        rows = []
        for n in range(conversations):
            at = now - timedelta(minutes=30) + timedelta(milliseconds=n)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "channel": Channel.WHATSAPP,
                    "direction": Direction.INBOUND,
                    "status": InteractionStatus.NEW,
                    "started_at": at,
                    "created_at": at,
                    "updated_at": at,
                    "customer_phone": f"+54911{30000000 + n}",
                    "from_number": f"+54911{30000000 + n}",
                    "provider": Provider.BUILDERBOT,
                    "ai_handled": True,
                    "last_message_at": at,
                    "queued_at": at,
                    "team_id": team_ids[n % teams],
                    "priority": "NORMAL",
                }
            )
        await session.execute(insert(_table(Interaction)), rows)
        await session.commit()
    return team_ids


async def decisions(url: str, routers: int, batch: int) -> dict[str, Any]:
    settings = load_settings(DATABASE_URL=url, DATABASE_POOL_SIZE="4")
    engine = create_engine(settings)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    team_ids = await seed(sessions, agents=AGENTS, teams=TEAMS, conversations=CONVERSATIONS)
    engines = [create_engine(settings) for _ in range(routers)]
    batch_ms: list[float] = []
    per_assignment_ms: list[float] = []
    assigned = 0

    async def router(index: int) -> None:
        nonlocal assigned
        factory = create_session_factory(engines[index])
        # Each router starts at a different team, as workers woken together would.
        order = team_ids[index::routers] + [
            t for t in team_ids if t not in team_ids[index::routers]
        ]
        while True:
            progress = False
            for team_id in order:
                started = time.perf_counter()
                async with factory() as session:
                    result = await route_team(session, team_id, datetime.now(UTC), batch=batch)
                    await session.commit()
                if result:
                    elapsed = (time.perf_counter() - started) * 1000
                    batch_ms.append(elapsed)
                    per_assignment_ms.append(elapsed / len(result))
                    assigned += len(result)
                    progress = True
            if not progress:
                return

    began = time.perf_counter()
    await asyncio.gather(*(router(i) for i in range(routers)))
    elapsed = time.perf_counter() - began
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Interaction.assigned_agent, Interaction.queued_at).where(
                    Interaction.channel == Channel.WHATSAPP
                )
            )
        ).all()
    load: dict[str, int] = {}
    for agent, _queued in rows:
        if agent:
            load[agent] = load.get(agent, 0) + 1
    waiting = sum(1 for agent, queued in rows if agent is None and queued is not None)
    for extra in engines:
        await extra.dispose()
    await engine.dispose()
    return {
        "assigned": assigned,
        "distinct": sum(load.values()),
        "waiting": waiting,
        "max_load": max(load.values()),
        "seconds": elapsed,
        "rate": assigned / elapsed,
        "batches": len(batch_ms),
        "batch": batch_ms,
        "each": per_assignment_ms,
    }


async def end_to_end(url: str, arrivals: int) -> list[float]:
    settings = load_settings(DATABASE_URL=url)
    engine = create_engine(settings)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    async with sessions() as session:
        team = Team(name="general", routing_mode=RoutingMode.ROUND_ROBIN, is_default=True)
        user = UserAccount(
            username="ana",
            role="agent",
            password_hash="x",
            availability=Availability.ONLINE,
            availability_changed_at=now,
            capacity_whatsapp=arrivals + 10,
        )
        session.add_all([team, user])
        await session.flush()
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        await session.commit()
    await engine.dispose()
    workdir = tempfile.mkdtemp(prefix="cc-routing-")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RECORDINGS_DIR": workdir,
        "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
        "SMS_STATUS_RECONCILE_INTERVAL_MINUTES": "0",
        "APP_PORT": str(port),
    }
    env.pop("REDIS_URL", None)
    log = Path(workdir, "serve.log")
    server = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "serve", "--port", str(port), "--with-worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    latencies: list[float] = []
    db = await asyncpg.connect(asyncpg_url(url))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await client.get("/api/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"serve did not start; see {log}")
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # the worker and its router start after the server answers
            for n in range(arrivals):
                number = f"54911{50000000 + n}"
                started = time.perf_counter()
                response = await client.post(
                    "/webhooks/builderbot/whatsapp",
                    json={
                        "eventName": "message.incoming",
                        "data": {
                            "body": "Hola, necesito hablar con alguien",
                            "name": "Cliente de prueba",
                            "from": number,
                            "attachment": [],
                        },
                    },
                    headers={"X-Webhook-Token": WEBHOOK_TOKEN},
                )
                response.raise_for_status()
                while True:
                    agent = await db.fetchval(
                        "SELECT assigned_agent FROM interaction WHERE customer_phone = $1",
                        "+" + number,
                    )
                    if agent is not None:
                        latencies.append((time.perf_counter() - started) * 1000)
                        break
                    if time.perf_counter() - started > 10:
                        raise SystemExit(f"arrival {n} not assigned within 10 s; see {log}")
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.2)  # arrivals apart, as customers write
    finally:
        await db.close()
        server.terminate()
        server.wait(timeout=30)
    return latencies


def _row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {statistics.median(values):.1f} | {percentile(values, 95):.1f} "
        f"| {percentile(values, 99):.1f} | {max(values):.1f} |"
    )


async def main(routers: int, arrivals: int, batch: int) -> None:
    results = {}
    for count in sorted({1, routers}):
        url = await create_database()
        try:
            results[count] = await decisions(url, count, batch)
        finally:
            await drop_database(url)
    url = await create_database()
    try:
        arrival = await end_to_end(url, arrivals)
    finally:
        await drop_database(url)
    print(
        f"\n{AGENTS} agents, {TEAMS} teams (each agent in 2), {CONVERSATIONS} waiting "
        f"conversations, up to {batch} assignments per transaction\n"
    )
    print("| measure | p50 ms | p95 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    for count, result in results.items():
        print(_row(f"team batch transaction, {count} router(s)", result["batch"]))
        print(_row(f"per assignment, {count} router(s)", result["each"]))
    print(_row(f"arrival → assignment ({len(arrival)} arrivals, serve)", arrival))
    print()
    for count, result in results.items():
        print(
            f"{count} router(s): assigned {result['assigned']} (distinct {result['distinct']}, "
            f"still waiting {result['waiting']}, max load {result['max_load']} of {CAPACITY}) "
            f"in {result['seconds']:.2f} s: {result['rate']:.0f} assignments/s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--routers", type=int, default=4)
    parser.add_argument("--arrivals", type=int, default=50)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    asyncio.run(main(args.routers, args.arrivals, args.batch))
