"""Report rollups at a million conversations over twelve months (docs/service-levels.md).

Generates 1,000,000 interactions started over the last 365 days with their messages and calls
(bench.generate), puts them in teams by queue, and adds what the other jobs would have written:
service-level clocks for the WhatsApp and SMS conversations, CSAT surveys (some answered) and
repeat contacts for resolved ones. Then measures, on PostgreSQL:

  * the rollup rebuild of the whole history (`contact-center reports rebuild`'s routine),
    target < 5 min;
  * a 90-day report and a 12-month report (`GET /api/metrics/report`'s service call, grouped
    by team and by agent), targets < 1 s and < 3 s.

The database is created on BENCH_POSTGRES_URL's server and dropped at the end (--keep keeps it).

    .venv/bin/python -m bench.reports
    .venv/bin/python -m bench.reports --interactions 100000 --messages 500000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
from rich.console import Console

from bench.common import ADMIN, asyncpg_url, create_database, drop_database
from bench.generate import generate, migrate

# `mypy bench` sees contact_center as an installed package without py.typed, hence untyped
# here; `mypy src bench` checks these uses for real.
from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
    create_engine,
    create_session_factory,
)
from contact_center.principal import SYSTEM  # type: ignore[import-untyped, unused-ignore]
from contact_center.reports import (  # type: ignore[import-untyped, unused-ignore]
    service,
    tasks,
)
from contact_center.reports.schemas import GroupBy  # type: ignore[import-untyped, unused-ignore]
from contact_center.settings import load_settings  # type: ignore[import-untyped, unused-ignore]

DAYS = 365
TEAMS = ("tarjetas", "prestamos", "cuentas", "fraude", "general")
REPEATS = 5

# Teams by queue (the routing rules would have put them there), each worked by its own six
# people; no queue: the shared pool.
TEAMS_SQL = """
INSERT INTO team (id, name, routing_mode, is_default, created_at, updated_at)
SELECT gen_random_uuid(), q, 'ROUND_ROBIN', false, now(), now() FROM unnest($1::text[]) AS q;
"""
ASSIGN_TEAMS_SQL = """
UPDATE interaction SET team_id = team.id,
       assigned_agent = CASE WHEN assigned_agent IS NOT NULL
           THEN team.name || '-' || (1 + abs(hashtext(interaction.id::text)) % 6) END
FROM team WHERE interaction.queue = team.name
"""

# The clocks of the WhatsApp and SMS conversations a policy timed (four in five).
SLA_SQL = """
INSERT INTO conversation_sla (
    interaction_id, first_response_state, next_response_state, next_responses,
    next_responses_met, resolution_state, resolved_at, paused_secs, created_at, updated_at
)
SELECT id,
       CASE WHEN r1 < 0.8 THEN 'MET' WHEN r1 < 0.95 THEN 'BREACHED' ELSE 'RUNNING' END,
       NULL, n, least(n, floor(n * r2 * 1.2)::int),
       CASE WHEN status <> 'COMPLETED' THEN 'RUNNING' WHEN r3 < 0.7 THEN 'MET' ELSE 'BREACHED' END,
       CASE WHEN status = 'COMPLETED' THEN ended_at END,
       0, started_at, updated_at
FROM (
    SELECT id, status, started_at, ended_at, updated_at, random() AS r1, random() AS r2,
           random() AS r3, floor(random() * 4)::int AS n, random() AS pick
    FROM interaction WHERE channel <> 'CALL'
) AS c
WHERE pick < 0.8
"""

RESOLVED = """
status = 'COMPLETED' AND (outcome = 'RESOLVED' OR (channel = 'CALL' AND ai_handled))
"""

# One survey per resolved conversation; two in five answered.
CSAT_SQL = f"""
INSERT INTO csat_survey (
    id, interaction_id, channel, handler, agent, team_id, sent_at, expires_at, answered_at,
    score, created_at, updated_at
)
SELECT gen_random_uuid(), id, CASE WHEN channel = 'WHATSAPP' THEN 'WHATSAPP' ELSE 'SMS' END,
       CASE WHEN assigned_agent IS NULL THEN 'AI' ELSE 'PERSON' END, assigned_agent, team_id,
       coalesce(ended_at, updated_at), coalesce(ended_at, updated_at) + interval '7 days',
       CASE WHEN r < 0.4 THEN coalesce(ended_at, updated_at) + interval '1 hour' END,
       CASE WHEN r < 0.4 THEN 1 + floor(random() * 5)::int END,
       coalesce(ended_at, updated_at), coalesce(ended_at, updated_at)
FROM (SELECT *, random() AS r FROM interaction WHERE {RESOLVED}) AS c
"""

# One resolved conversation in twelve came back within a week.
REPEAT_SQL = f"""
INSERT INTO repeat_contact (interaction_id, repeat_interaction_id, detected_at)
SELECT id, id, coalesce(ended_at, updated_at) + interval '1 day'
FROM interaction WHERE {RESOLVED} AND random() < 0.083
"""


async def add_outcomes(url: str, console: Console) -> None:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        await connection.execute("SET synchronous_commit = off")
        for label, sql, args in (
            ("teams", TEAMS_SQL, (list(TEAMS),)),
            ("conversations into teams", ASSIGN_TEAMS_SQL, ()),
            ("service-level clocks", SLA_SQL, ()),
            ("CSAT surveys", CSAT_SQL, ()),
            ("repeat contacts", REPEAT_SQL, ()),
        ):
            started = time.perf_counter()
            status = await connection.execute(sql, *args)
            console.print(f"{label}: {status} in {time.perf_counter() - started:.0f} s")
        for table in ("interaction", "conversation_sla", "csat_survey", "repeat_contact", "team"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await connection.close()


def _commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "unknown"


async def measure(url: str, console: Console) -> dict[str, Any]:
    settings = load_settings(database_url=url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    results: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        done = 0

        def show(day: date, n: int) -> None:
            nonlocal done
            done += 1
            if done % 30 == 0:
                console.print(f"  {done} days ({day}), {time.perf_counter() - started:.0f} s")

        days, conversations = await tasks.rebuild(sessions, settings, None, None, progress=show)
        results["rebuild"] = (days, conversations, time.perf_counter() - started)
        console.print(
            f"rebuild: {days} days, {conversations:,} conversations in "
            f"{results['rebuild'][2]:.1f} s"
        )
        async with sessions() as session:
            history = await service.history_range(session, settings)
        assert history is not None, "no conversation generated"
        last = history[1]
        for label, span in (("90 days", 90), ("12 months", 365)):
            first = last - timedelta(days=span - 1)
            for group_by in (GroupBy.TEAM, GroupBy.AGENT, GroupBy.INTENT):
                times = []
                for _ in range(REPEATS):
                    async with sessions() as session:
                        t0 = time.perf_counter()
                        report = await service.report(
                            session, settings, first, last, group_by, viewer=SYSTEM
                        )
                        times.append(time.perf_counter() - t0)
                key = f"{label}, groupBy={group_by.value}"
                results[key] = (statistics.median(times), max(times), report.totals.volume)
                console.print(
                    f"report {key}: median {results[key][0] * 1000:.0f} ms, "
                    f"max {results[key][1] * 1000:.0f} ms ({report.totals.volume:,} conversations)"
                )
        async with sessions() as session:
            sizes = await session.connection()
            rows = await sizes.exec_driver_sql(
                "SELECT (SELECT count(*) FROM report_rollup), (SELECT count(*) FROM"
                " report_histogram), pg_size_pretty(pg_total_relation_size('report_rollup')"
                " + pg_total_relation_size('report_histogram'))"
            )
            results["rollup size"] = tuple(rows.one())
            console.print(f"rollups: {results['rollup size']}")
    finally:
        await engine.dispose()
    return results


async def run(args: argparse.Namespace) -> None:
    console = Console()
    commit = _commit()
    url = args.url or await create_database(args.admin_url)
    console.print(f"database {url}; code at {commit}")
    try:
        await migrate(url)
        if not args.url:
            started = time.perf_counter()
            await generate(url, args.interactions, args.messages, days=DAYS)
            await add_outcomes(url, console)
            console.print(f"data generated in {time.perf_counter() - started:.0f} s")
        results = await measure(url, console)
    finally:
        if not args.keep and not args.url:
            await drop_database(url, args.admin_url)
            console.print("database dropped")
    console.print(f"\ncommit {commit}")
    for key, value in results.items():
        console.print(f"| {key} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="measure an existing database (not generated, not dropped)")
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--admin-url", default=ADMIN)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
