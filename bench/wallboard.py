"""The wallboard at a million interactions: `GET /api/metrics/wallboard` as an admin (every
team) and as a supervisor (two teams), and each of its statements alone.

Fills (once) a named PostgreSQL database, `bench_wallboard` by default, with bench.generate's
1,000,000 interactions (300,000 messages: the wallboard reads none), then shapes it as a busy
contact center (recorded in the database, not repeated):

  * eight teams; the 30 generated agents get accounts (their names as usernames, so their
    conversations are their load), each in one or two teams, ONLINE, BUSY, AWAY or OFFLINE;
  * the open interactions and those of the last two days in a team (80 %) or the shared pool
    (older finished ones stay in no team: the wallboard reads what is open and today's clocks,
    and rewriting a million rows with their indexes takes longer than the measure); the
    generator's open ones (~29,000: a pessimistic backlog) stay open, the unassigned ones wait
    in their queue (`queued_at`), 2 % of those snoozed;
  * a `conversation_sla` row for every WhatsApp and SMS conversation (~650,000): first
    response due in 15 minutes and resolution in 8 hours, met or breached by what happened,
    running or breached for the open ones, written when the conversation last changed (the
    history of 90 days; today's thousands changed today).

Each run starts one `contact-center serve --no-worker`, makes API tokens for `admin` and for
`supervisor` (member of Tarjetas and Préstamos), and sends sequential requests (after warm-ups)
over one keep-alive connection; then times each statement of the wallboard in this process
(`--statements`), and `--explain` prints their plans.

Target: p95 < 100 ms.

    .venv/bin/python -m bench.wallboard                    # seed if needed, then measure
    .venv/bin/python -m bench.wallboard --requests 200 --explain
    .venv/bin/python -m bench.wallboard --drop             # remove the database
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from rich.console import Console

from bench.common import (
    ADMIN,
    RawHttp,
    asyncpg_url,
    database_url,
    free_port,
    percentile,
    person_api_tokens,
    start_contact_center,
    stop_all,
    wait_answering,
)
from bench.generate import AGENTS, generate, migrate

DATABASE = "bench_wallboard"
TEAMS = (
    "Tarjetas", "Préstamos", "Inversiones", "Cuentas", "Seguros", "Comercios", "Fraude",
    "Atención general",
)  # fmt: skip
SUPERVISED = ("Tarjetas", "Préstamos")
TARGET_MS = 100.0
OPEN = 5_000
AVAILABILITY = ("ONLINE", "ONLINE", "BUSY", "AWAY", "OFFLINE")

SHAPE_SQL = [
    # Every interaction in a team (8 in 10) or the shared pool; the open unassigned ones wait
    # in their queue since they started, 2 % of them snoozed.
    """
    UPDATE interaction AS i SET
        team_id = CASE WHEN k.n % 10 < 8 THEN
            (SELECT array_agg(id ORDER BY name) FROM team)[1 + k.n % 8] END,
        queued_at = CASE WHEN i.assigned_agent IS NULL AND i.status IN ('NEW', 'IN_PROGRESS')
            THEN i.started_at END,
        snoozed_until = CASE WHEN i.assigned_agent IS NULL
            AND i.status IN ('NEW', 'IN_PROGRESS') AND k.n % 50 = 0
            THEN now() + interval '2 hours' END
    FROM (SELECT id, abs(hashtext(id::text)) AS n FROM interaction
          WHERE status IN ('NEW', 'IN_PROGRESS') OR started_at > now() - interval '2 days') AS k
    WHERE k.id = i.id
    """,
    # Each WhatsApp and SMS conversation's clocks, as the service-level job would have left
    # them: first response due after 15 minutes, resolution after 8 hours.
    """
    INSERT INTO conversation_sla (
        interaction_id, first_response_due_at, first_response_at, first_response_state,
        next_response_due_at, next_response_state, next_responses, next_responses_met,
        resolution_due_at, resolved_at, resolution_state, paused_secs, created_at, updated_at
    )
    WITH r AS MATERIALIZED (
        SELECT i.id, i.status, i.started_at, i.ended_at, i.updated_at,
               i.status IN ('NEW', 'IN_PROGRESS') AS open,
               random() AS r_first, random() AS r_next,
               i.started_at + interval '15 minutes' AS first_due,
               i.started_at + interval '8 hours' AS resolution_due
        FROM interaction AS i WHERE i.channel IN ('WHATSAPP', 'SMS')
    ), s AS MATERIALIZED (
        SELECT r.*,
               CASE WHEN NOT (open AND r_first < 0.3)
                   THEN started_at + r_first * interval '20 minutes' END AS first_at,
               CASE WHEN status = 'COMPLETED' THEN ended_at END AS resolved
        FROM r
    )
    SELECT id, first_due, first_at,
           CASE WHEN first_at IS NULL THEN
                    CASE WHEN first_due < now() THEN 'BREACHED' ELSE 'RUNNING' END
                WHEN first_at <= first_due THEN 'MET' ELSE 'BREACHED' END,
           CASE WHEN open AND r_next < 0.2 THEN updated_at + interval '10 minutes' END,
           CASE WHEN open AND r_next < 0.1 THEN 'BREACHED'
                WHEN open AND r_next < 0.2 THEN 'RUNNING' END,
           (r_next * 4)::int, (r_next * 3)::int,
           resolution_due, resolved,
           CASE WHEN resolved IS NOT NULL THEN
                    CASE WHEN resolved <= resolution_due THEN 'MET' ELSE 'BREACHED' END
                WHEN open THEN
                    CASE WHEN resolution_due < now() THEN 'BREACHED' ELSE 'RUNNING' END END,
           0, started_at, greatest(updated_at, coalesce(first_at, started_at))
    FROM s
    """,
    "CREATE TABLE bench_wallboard_shape (shaped_at timestamptz DEFAULT now())",
    "INSERT INTO bench_wallboard_shape DEFAULT VALUES",
]
# A working day's backlog, as bench/inbox.py shapes it: the 5,000 most recently active open
# conversations stay open, every other one (the generator leaves ~29,000 open over 90 days)
# is closed (once: the database keeps it). `--backlog all` measures a database not yet closed
# with the generator's backlog.
BACKLOG_SQL = [
    f"""
    UPDATE interaction SET status = 'COMPLETED', outcome = 'RESOLVED', queued_at = NULL,
        snoozed_until = NULL, ended_at = updated_at
    WHERE status IN ('NEW', 'IN_PROGRESS') AND id NOT IN (
        SELECT id FROM interaction WHERE status IN ('NEW', 'IN_PROGRESS')
        ORDER BY updated_at DESC LIMIT {OPEN})
    """,
    "CREATE TABLE bench_wallboard_backlog (shaped_at timestamptz DEFAULT now())",
    "INSERT INTO bench_wallboard_backlog DEFAULT VALUES",
]


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_url(url))


async def _people(connection: asyncpg.Connection) -> None:
    """The generated agents as accounts (their names are their usernames), in one or two
    teams each, with an availability."""
    teams = [r["id"] for r in await connection.fetch("SELECT id FROM team ORDER BY name")]
    for n, name in enumerate(AGENTS):
        user_id = await connection.fetchval(
            "INSERT INTO user_account (id, username, display_name, role, password_hash, active,"
            " must_change_password, failed_logins, password_changed_at, created_at, updated_at,"
            " availability, capacity_call, capacity_whatsapp, capacity_sms)"
            " VALUES (gen_random_uuid(), $1, $1, 'agent', '!', true, false, 0, now(), now(),"
            " now(), $2, 1, 5, 5) RETURNING id",
            name,
            AVAILABILITY[n % len(AVAILABILITY)],
        )
        member_of = {teams[n % len(teams)]}
        if n % 3 == 0:
            member_of.add(teams[(n + 1) % len(teams)])
        for team in member_of:
            await connection.execute(
                "INSERT INTO team_member (team_id, user_id, added_at) VALUES ($1, $2, now())",
                team,
                user_id,
            )


async def ensure_database(url: str, console: Console, *, backlog: bool = True) -> None:
    """Create, migrate and fill the database unless it is there; shape it once."""
    name = url.rsplit("/", 1)[1]
    admin = await _connect(ADMIN)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
            console.print(f"created {url}")
    finally:
        await admin.close()
    await migrate(url)
    connection = await _connect(url)
    try:
        filled = await connection.fetchval("SELECT EXISTS (SELECT FROM interaction)")
        shaped = await connection.fetchval(
            "SELECT to_regclass('bench_wallboard_shape') IS NOT NULL"
        )
    finally:
        await connection.close()
    if not filled:
        started = time.perf_counter()
        await generate(url, 1_000_000, 300_000)
        console.print(f"generated in {time.perf_counter() - started:.0f} s")
    if not shaped:
        await _shape(url, console)
    connection = await _connect(url)
    try:
        done = await connection.fetchval(
            "SELECT to_regclass('bench_wallboard_backlog') IS NOT NULL"
        )
        if backlog and not done:
            started = time.perf_counter()
            async with connection.transaction():
                for statement in BACKLOG_SQL:
                    await connection.execute(statement)
            console.print(f"closed all but {OPEN:,} open: {time.perf_counter() - started:.0f} s")
        # Fresh statistics and visibility (index-only scans) after the rewrites.
        await connection.execute("VACUUM ANALYZE interaction")
        await connection.execute("VACUUM ANALYZE conversation_sla")
    finally:
        await connection.close()


async def _shape(url: str, console: Console) -> None:
    started = time.perf_counter()
    connection = await _connect(url)
    try:
        async with connection.transaction():
            for team in TEAMS:
                await connection.execute(
                    "INSERT INTO team (id, name, routing_mode, is_default, created_at, updated_at)"
                    " VALUES (gen_random_uuid(), $1, 'ROUND_ROBIN', false, now(), now())",
                    team,
                )
            await _people(connection)
            await connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
            await connection.execute("SET LOCAL work_mem = '256MB'")
            for statement in SHAPE_SQL:
                await connection.execute(statement)
    finally:
        await connection.close()
    console.print(f"shaped as a contact center in {time.perf_counter() - started:.0f} s")


async def accounts(url: str) -> dict[str, str]:
    """API tokens of `admin` and `supervisor` (member of SUPERVISED), made as the service makes
    them (the users are created the first time)."""
    return await person_api_tokens(
        url, [("admin", "admin", ()), ("supervisor", "supervisor", SUPERVISED)]
    )


async def measure_api(
    port: int, tokens: dict[str, str], requests: int, warmup: int
) -> dict[str, tuple[list[float], int]]:
    """Per caller: the latencies (ms) of sequential GET /api/metrics/wallboard, and a body's
    size."""
    found: dict[str, tuple[list[float], int]] = {}
    for who, token in tokens.items():
        client = RawHttp("127.0.0.1", port)
        times: list[float] = []
        size = 0
        try:
            for n in range(warmup + requests):
                started = time.perf_counter()
                status, body = await client.request(
                    "GET", "/api/metrics/wallboard", headers={"Authorization": f"Bearer {token}"}
                )
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    raise SystemExit(
                        f"GET /api/metrics/wallboard as {who}: {status} {body[:300]!r}"
                    )
                if n >= warmup:
                    times.append(elapsed)
                    size = len(body)
        finally:
            await client.close()
        found[who] = (times, size)
    return found


async def measure_statements(url: str, requests: int, warmup: int) -> dict[str, list[float]]:
    """Each repository function of the wallboard alone, every team in scope (ms)."""
    from datetime import UTC, datetime

    from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
        create_engine,
        create_session_factory,
    )
    from contact_center.metrics.service import (  # type: ignore[import-untyped, unused-ignore]
        day_bounds,
        today,
    )
    from contact_center.settings import (  # type: ignore[import-untyped, unused-ignore]
        load_settings,
    )
    from contact_center.wallboard import (  # type: ignore[import-untyped, unused-ignore]
        repository,
    )

    settings = load_settings(database_url=url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    scope = repository.Scope()
    start, end = day_bounds(settings, today(settings))
    usernames = list(AGENTS)
    now = datetime.now(UTC)
    calls: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "waiting (queue index)": lambda s: repository.waiting(s, now, scope),
        "open figures + breaches": lambda s: repository.open_figures(s, scope),
        "targets decided today": lambda s: repository.targets_today(s, start, end, scope),
        "members by availability": lambda s: repository.availability_by_team(s, scope),
        "people": lambda s: repository.people(s, scope),
        "loads": lambda s: repository.loads(s, usernames),
        "teams": lambda s: repository.teams(s, scope),
    }
    found: dict[str, list[float]] = {}
    try:
        async with sessions() as session:
            for name, call in calls.items():
                times: list[float] = []
                for n in range(warmup + requests):
                    started = time.perf_counter()
                    await call(session)
                    if n >= warmup:
                        times.append((time.perf_counter() - started) * 1000)
                found[name] = times
    finally:
        await engine.dispose()
    return found


EXPLAINED = {
    "waiting": """
        SELECT team_id, count(*), min(queued_at) FROM interaction
        WHERE queued_at IS NOT NULL AND coalesce(assigned_agent, '') = ''
          AND (snoozed_until IS NULL OR snoozed_until <= now())
          AND (status IN ('NEW', 'IN_PROGRESS') OR channel = 'CALL')
        GROUP BY team_id""",
    "open figures + breaches": """
        SELECT i.team_id,
               sum(CASE WHEN i.assigned_agent IS NOT NULL THEN 1 ELSE 0 END),
               sum(CASE WHEN i.channel = 'CALL' AND i.status = 'IN_PROGRESS' THEN 1 ELSE 0 END),
               sum(CASE WHEN i.channel = 'CALL' THEN 0 WHEN EXISTS (SELECT FROM conversation_sla c
                   WHERE c.interaction_id = i.id AND (c.first_response_state = 'BREACHED'
                   OR c.next_response_state = 'BREACHED' OR c.resolution_state = 'BREACHED'))
                   THEN 1 ELSE 0 END)
        FROM interaction i WHERE i.status IN ('NEW', 'IN_PROGRESS') GROUP BY i.team_id""",
    "targets decided today": """
        SELECT i.team_id, count(*) FROM conversation_sla c JOIN interaction i
        ON i.id = c.interaction_id WHERE c.updated_at >= date_trunc('day', now())
        GROUP BY i.team_id""",
}


async def explain(url: str, console: Console) -> None:
    connection = await _connect(url)
    try:
        for name, sql in EXPLAINED.items():
            console.print(f"\n[bold]{name}[/bold]")
            for line in await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql):
                console.print("  " + line[0], highlight=False)
    finally:
        await connection.close()


async def dataset(url: str) -> str:
    connection = await _connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM interaction) AS interactions,"
            " (SELECT count(*) FROM interaction WHERE status IN ('NEW', 'IN_PROGRESS')) AS open,"
            " (SELECT count(*) FROM interaction WHERE queued_at IS NOT NULL"
            "   AND assigned_agent IS NULL) AS waiting,"
            " (SELECT count(*) FROM conversation_sla) AS clocks,"
            " (SELECT count(*) FROM conversation_sla"
            "   WHERE updated_at >= date_trunc('day', now())) AS today"
        )
    finally:
        await connection.close()
    return (
        f"{row['interactions']:,} interactions, {row['open']:,} open, {row['waiting']:,} "
        f"waiting, {row['clocks']:,} clocks ({row['today']:,} changed today)"
    )


def line(name: str, times: list[float], extra: str = "") -> str:
    p95 = percentile(times, 95)
    mark = "yes" if p95 < TARGET_MS else "**no**"
    return (
        f"| {name} | {percentile(times, 50):.1f} ms | {p95:.1f} ms | {percentile(times, 99):.1f}"
        f" ms | {max(times):.1f} ms | < {TARGET_MS:.0f} ms: {mark} |{extra}"
    )


async def run(args: argparse.Namespace) -> None:
    console = Console(width=240)
    url = args.url or database_url(ADMIN, DATABASE)
    if args.drop:
        admin = await _connect(ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await admin.close()
        console.print(f"dropped {url}")
        return
    await ensure_database(url, console, backlog=args.backlog == "day")
    if args.seed_only:
        return
    tokens = await accounts(url)
    workdir = tempfile.mkdtemp(prefix="bench_wallboard_")
    port = free_port()
    server, log = start_contact_center(
        ["serve", "--no-worker"], url=url, port=port, workdir=workdir, log_name="serve.log"
    )
    try:
        await wait_answering(port, "/api/health/ready", server, log)
        load_before = os.getloadavg()[0]
        api = await measure_api(port, tokens, args.requests, args.warmup)
        load_after = os.getloadavg()[0]
    finally:
        stop_all([server])
    statements = await measure_statements(url, args.requests, args.warmup)
    git = await asyncio.create_subprocess_exec(
        "git", "rev-parse", "--short", "HEAD", stdout=asyncio.subprocess.PIPE
    )
    commit = (await git.communicate())[0].decode().strip()
    console.print(
        f"\nWallboard at {await dataset(url)}, commit {commit}: {args.requests} sequential "
        f"requests per caller after {args.warmup} warm-ups, 1 serve process; load average "
        f"{load_before:.1f} before, {load_after:.1f} after\n"
    )
    console.print("| GET /api/metrics/wallboard as | p50 | p95 | p99 | max | target p95 | body |")
    console.print("| --- | --- | --- | --- | --- | --- | --- |")
    for who, (times, size) in api.items():
        scope = "every team" if who == "admin" else f"{' and '.join(SUPERVISED)}"
        console.print(line(f"{who} ({scope})", times, f" {size / 1024:.1f} KB |"), highlight=False)
    console.print("\n| statement (every team), in process | p50 | p95 | p99 | max | target p95 |")
    console.print("| --- | --- | --- | --- | --- | --- |")
    for name, times in statements.items():
        console.print(line(name, times), highlight=False)
    if args.explain:
        await explain(url, console)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help=f"the database (default: {DATABASE} on BENCH_POSTGRES_URL's)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed-only", action="store_true", help="fill and shape, no measures")
    parser.add_argument(
        "--backlog",
        choices=("day", "all"),
        default="day",
        help=f"day: {OPEN:,} open conversations (default); all: the generator's ~29,000",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the statements")
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
