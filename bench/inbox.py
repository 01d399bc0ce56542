"""The inbox at a million interactions: list a view, open a conversation, search.

Fills (once) a named PostgreSQL database, `bench_inbox` by default, with bench.generate's
1,000,000 interactions, their calls (transcripts, summaries) and 5,000,000 messages, then shapes
it as a working inbox (docs/inbox.md):

  * 5,000 open conversations (the most recently active; every other one is closed): 60 %
    assigned to the 30 agents (about 100 each), 20 % waiting unassigned in the queues of three
    teams, 20 % unassigned in no team (the shared pool), 2 % of them snoozed;
  * two agents with accounts, `lucia` (member of the team Tarjetas) and `nicolas`, take over
    the conversations of two of the generated agents (their history: about 25,000 each);
  * a few rare words in the messages and call summaries ("hipoteca" in ~1,000 messages,
    "Ushuaia" in ~20, "jubilación" in ~200 call summaries), beside the common ones of the
    generated texts ("tarjeta", "transferencia": hundreds of thousands).

The database is kept between runs (the shaping is recorded in it and not repeated); `--drop`
removes it. Each run starts one `contact-center serve --no-worker` on it, makes API tokens for
`lucia` (agent) and `supervisor`, and sends sequential requests of each operation (after
warm-ups) over one keep-alive connection:

  inbox       GET /api/inbox?view=unassigned | view=mine (lucia), view=all (supervisor)
  open        GET /api/interactions/{id} of an open conversation (lucia: hers; supervisor: any),
              and the console's /inbox/{id} when that page exists (a signed-in session)
  search      GET /api/search?q= common and rare words, a customer reference (lucia, supervisor)

Targets: list p95 < 100 ms, open p95 < 150 ms, search p95 < 300 ms.

    .venv/bin/python -m bench.inbox                  # seed if needed, then measure
    .venv/bin/python -m bench.inbox --requests 50 --explain
    .venv/bin/python -m bench.inbox --drop           # remove the database
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

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
from bench.generate import generate, migrate

DATABASE = "bench_inbox"
OPEN = 5_000
TEAMS = ("Tarjetas", "Préstamos", "Fraude")
# Generated agents whose conversations the two accounts take over (bench.generate's AGENTS).
ACCOUNTS = {"lucia": "Lucía Fernández", "nicolas": "Nicolás Herrera"}
TARGETS = {"inbox": 100.0, "open": 150.0, "search": 300.0}

SHAPE_SQL = [
    # The marker: shaped once.
    "CREATE TABLE bench_inbox_shape (done_at timestamptz NOT NULL DEFAULT now())",
    # Two generated agents become accounts' usernames.
    *(
        f"UPDATE interaction SET assigned_agent = '{username}' WHERE assigned_agent = '{name}'"
        for username, name in ACCOUNTS.items()
    ),
    # 5,000 open conversations: the most recently active open ones stay open.
    f"""
    CREATE TEMPORARY TABLE keep_open AS
    SELECT id, row_number() OVER (ORDER BY random()) AS n FROM (
        SELECT id FROM interaction WHERE status IN ('NEW', 'IN_PROGRESS')
        ORDER BY updated_at DESC LIMIT {OPEN}) AS newest
    """,
    "CREATE UNIQUE INDEX ON keep_open (id)",
    """
    UPDATE interaction SET status = 'COMPLETED', outcome = 'RESOLVED',
        ended_at = updated_at, waiting_since = NULL
    WHERE status IN ('NEW', 'IN_PROGRESS') AND id NOT IN (SELECT id FROM keep_open)
    """,
    # Who holds them: 60 % the agents (lucia and nicolas among them), 20 % a team's queue,
    # 20 % the shared pool; teams for the assigned ones too.
    f"""
    UPDATE interaction AS i SET
        assigned_agent = CASE
            WHEN k.n % 10 < 6 THEN CASE k.n % 30 WHEN 0 THEN 'lucia' WHEN 1 THEN 'nicolas'
                ELSE coalesce(i.assigned_agent, 'Martín Gómez') END
            END,
        assigned_at = CASE WHEN k.n % 10 < 6 THEN i.started_at END,
        team_id = CASE WHEN k.n % 10 < 8 THEN
            (SELECT id FROM team ORDER BY name OFFSET (k.n % {len(TEAMS)}) LIMIT 1) END,
        queued_at = CASE WHEN k.n % 10 >= 6 THEN i.started_at END,
        snoozed_until = CASE WHEN k.n % 50 = 7 THEN now() + interval '3 hours' END
    FROM keep_open AS k WHERE k.id = i.id
    """,
    # lucia works in Tarjetas: her open conversations are in its queue.
    """
    UPDATE interaction SET team_id = (SELECT id FROM team WHERE name = 'Tarjetas')
    WHERE assigned_agent = 'lucia' AND status IN ('NEW', 'IN_PROGRESS')
    """,
    # Rare words.
    """
    UPDATE message SET body = body || ' Consulto además por la hipoteca del departamento.'
    WHERE id IN (SELECT id FROM message TABLESAMPLE BERNOULLI (0.02) WHERE body IS NOT NULL)
    """,
    """
    UPDATE message SET body = body || ' Estoy de viaje en Ushuaia.'
    WHERE id IN (SELECT id FROM message TABLESAMPLE BERNOULLI (0.0004) WHERE body IS NOT NULL)
    """,
    """
    UPDATE call_detail SET summary = coalesce(summary, '') || ' Preguntó por su jubilación.'
    WHERE id IN (SELECT id FROM call_detail TABLESAMPLE BERNOULLI (0.06))
    """,
    "VACUUM (ANALYZE) interaction",
    "VACUUM (ANALYZE) message",
    "VACUUM (ANALYZE) call_detail",
]


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_url(url))


async def ensure_database(url: str, console: Console) -> None:
    """Create, migrate and fill the database unless it is there; shape it once."""
    name = url.rsplit("/", 1)[1]
    admin = await _connect(ADMIN)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
            console.print(f"created {url}")
    finally:
        await admin.close()
    await migrate(url)
    connection = await _connect(url)
    try:
        filled = await connection.fetchval("SELECT EXISTS (SELECT FROM interaction)")
        shaped = await connection.fetchval("SELECT to_regclass('bench_inbox_shape') IS NOT NULL")
    finally:
        await connection.close()
    if not filled:
        started = time.perf_counter()
        await generate(url, 1_000_000, 5_000_000)
        console.print(f"generated in {time.perf_counter() - started:.0f} s")
    if not shaped:
        started = time.perf_counter()
        connection = await _connect(url)
        try:
            for team in TEAMS:
                await connection.execute(
                    "INSERT INTO team (id, name, routing_mode, is_default, created_at, updated_at)"
                    " VALUES (gen_random_uuid(), $1, 'ROUND_ROBIN', false, now(), now())"
                    " ON CONFLICT DO NOTHING",
                    team,
                )
            await connection.execute("SET maintenance_work_mem = '256MB'")
            for statement in SHAPE_SQL:
                await connection.execute(statement)
        finally:
            await connection.close()
        console.print(f"shaped as an inbox in {time.perf_counter() - started:.0f} s")


async def accounts(url: str) -> dict[str, str]:
    """API tokens of `lucia` (agent, member of Tarjetas) and `supervisor`, made as the service
    makes them (the users are created the first time)."""
    return await person_api_tokens(
        url, [("lucia", "agent", ("Tarjetas",)), ("supervisor", "supervisor", ())]
    )


@dataclass
class Operation:
    name: str
    group: str  # inbox, open, search
    who: str  # lucia, supervisor
    targets: list[str]
    times: list[float] = field(default_factory=list[float])
    sizes: list[int] = field(default_factory=list[int])


async def plan(url: str, requests: int, warmup: int, seed: int) -> list[Operation]:
    rng = random.Random(seed)
    connection = await _connect(url)
    try:
        mine = [
            str(r["id"])
            for r in await connection.fetch(
                "SELECT id FROM interaction WHERE assigned_agent = 'lucia' "
                "AND status IN ('NEW', 'IN_PROGRESS')"
            )
        ]
        open_ = [
            str(r["id"])
            for r in await connection.fetch(
                "SELECT id FROM interaction WHERE status IN ('NEW', 'IN_PROGRESS')"
            )
        ]
        ref = await connection.fetchval(
            "SELECT customer_ref FROM interaction WHERE customer_ref IS NOT NULL "
            "AND assigned_agent IS NULL AND team_id IS NULL LIMIT 1"
        )
    finally:
        await connection.close()
    count = requests + warmup

    def ids(pool: list[str], path: str) -> list[str]:
        return [path.format(rng.choice(pool)) for _ in range(count)]

    def same(path: str, **params: str) -> list[str]:
        return [f"{path}?{urlencode(params)}"] * count

    operations = [
        Operation("inbox view=unassigned", "inbox", "lucia", same("/api/inbox", view="unassigned")),
        Operation("inbox view=mine", "inbox", "lucia", same("/api/inbox", view="mine")),
        Operation("inbox view=all", "inbox", "supervisor", same("/api/inbox", view="all")),
        Operation("open (agent: hers)", "open", "lucia", ids(mine, "/api/interactions/{}")),
        Operation("open (supervisor)", "open", "supervisor", ids(open_, "/api/interactions/{}")),
        Operation("console /inbox/{id}", "open", "supervisor", ids(open_, "/inbox/{}")),
    ]
    for who in ("lucia", "supervisor"):
        for label, q in (
            ("common: tarjeta", "tarjeta"),
            ("common: transferencia", "transferencia"),
            ("two words: tarjeta bloqueada", "tarjeta bloqueada"),
            ("rare: hipoteca", "hipoteca"),
            ("rarest: Ushuaia", "ushuaia"),
            ("summary: jubilacion", "jubilacion"),
            ("customer reference", str(ref)),
        ):
            operations.append(Operation(f"search {label}", "search", who, same("/api/search", q=q)))
    return operations


async def measure(
    port: int, tokens: dict[str, str], operations: list[Operation], warmup: int
) -> None:
    clients = {who: RawHttp("127.0.0.1", port) for who in tokens}
    try:
        for operation in operations:
            headers = {"Authorization": f"Bearer {tokens[operation.who]}"}
            client = clients[operation.who]
            for n, target in enumerate(operation.targets):
                started = time.perf_counter()
                status, body = await client.request("GET", target, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if status == 404 and operation.name.startswith("console") and n == 0:
                    operation.targets = []  # the page is not in this checkout
                    break
                if status != 200:
                    raise SystemExit(f"GET {target}: {status} {body[:300]!r}")
                if n >= warmup:
                    operation.times.append(elapsed)
                    operation.sizes.append(len(body))
    finally:
        for client in clients.values():
            await client.close()


async def explain(url: str, console: Console) -> None:
    """EXPLAIN ANALYZE of the search statements for a common and a rare word (supervisor)."""
    connection = await _connect(url)
    try:
        for word in ("tarjeta", "ushuaia"):
            tsq = await connection.fetchval("SELECT plainto_tsquery('cc_spanish', $1)::text", word)
            quoted = "'" + tsq.replace("'", "''") + "'"
            for sql in (
                "SELECT id FROM message WHERE search_vector @@ {q}::tsquery "
                "ORDER BY created_at DESC, id DESC LIMIT 21",
                "SELECT i.id FROM call_detail c JOIN interaction i ON i.id = c.interaction_id "
                "WHERE c.transcript_vector @@ {q}::tsquery "
                "ORDER BY i.started_at DESC, i.id DESC LIMIT 21",
            ):
                lines = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql.format(q=quoted))
                console.print(f"\n[bold]{word}[/bold]: {sql.format(q=quoted)}")
                for line in lines:
                    console.print("  " + line[0], highlight=False)
    finally:
        await connection.close()


def report(console: Console, operations: list[Operation], heading: str) -> None:
    console.print(f"\n{heading}\n")
    console.print("| operation | as | p50 | p95 | p99 | target p95 | body |", highlight=False)
    console.print("| --- | --- | --- | --- | --- | --- | --- |", highlight=False)
    for op in operations:
        if not op.times:
            console.print(f"| {op.name} | {op.who} | – | – | – | – | not in this checkout |")
            continue
        p95 = percentile(op.times, 95)
        target = TARGETS[op.group]
        mark = "yes" if p95 < target else "**no**"
        console.print(
            f"| {op.name} | {op.who} | {percentile(op.times, 50):.1f} ms | {p95:.1f} ms | "
            f"{percentile(op.times, 99):.1f} ms | < {target:.0f} ms: {mark} | "
            f"{sum(op.sizes) / len(op.sizes) / 1024:.1f} KB |",
            highlight=False,
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
    await ensure_database(url, console)
    if args.seed_only:
        return
    tokens = await accounts(url)
    groups = set(args.only.split(","))
    operations = [
        op for op in await plan(url, args.requests, args.warmup, args.seed) if op.group in groups
    ]
    workdir = tempfile.mkdtemp(prefix="bench_inbox_")
    port = free_port()
    server, log = start_contact_center(
        ["serve", "--no-worker"], url=url, port=port, workdir=workdir, log_name="serve.log"
    )
    try:
        await wait_answering(port, "/api/health/ready", server, log)
        load_before = os.getloadavg()[0]
        await measure(port, tokens, operations, args.warmup)
        load_after = os.getloadavg()[0]
    finally:
        stop_all([server])
    git = await asyncio.create_subprocess_exec(
        "git", "rev-parse", "--short", "HEAD", stdout=asyncio.subprocess.PIPE
    )
    commit = (await git.communicate())[0].decode().strip()
    report(
        console,
        operations,
        f"Inbox at 1M interactions / 5M messages ({OPEN:,} open), commit {commit}: "
        f"{args.requests} sequential requests per operation after {args.warmup} warm-ups, "
        f"1 serve process; load average {load_before:.1f} before, {load_after:.1f} after",
    )
    if args.explain:
        await explain(url, console)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help=f"the database (default: {DATABASE} on BENCH_POSTGRES_URL's)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seed-only", action="store_true", help="fill and shape, no measures")
    parser.add_argument(
        "--only", default="inbox,open,search", help="the groups to measure (comma-separated)"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the searches")
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
