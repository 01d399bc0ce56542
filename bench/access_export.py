"""A customer's access export (Ley 25.326 art. 14; docs/data-lifecycle.md) at 1,000,000
interactions and 5,000,000 messages. Target: < 5 s.

On `bench.lifecycle_data`'s database (made here and dropped after, or `--url`), times
`subject_requests.service.build_access_export` for the heaviest customers (290 and 280
interactions over two years, by phone and reference) and for a typical one (~5 interactions):
the first call (cold: their rows read from disk) and the median and max of `--repeats` more.
Each call's SQL statements are timed too; `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the
slowest statements of the heaviest customer's export, with their parameters.

    .venv/bin/python -m bench.access_export
    .venv/bin/python -m bench.access_export --url postgresql://…/bench_lifecycle_x --explain
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from rich.console import Console
from sqlalchemy import event

from bench.common import asyncpg_url, drop_database
from bench.generate import migrate
from bench.lifecycle_data import HEAVY, add_arguments, database, heavy_phone, heavy_ref
from bench.purge_ingest import short_commit, uptime

# `mypy bench` sees contact_center as an installed package without py.typed, hence untyped
# here; `mypy src bench` checks these uses for real.
from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
    create_engine,
    create_session_factory,
)
from contact_center.settings import load_settings  # type: ignore[import-untyped, unused-ignore]
from contact_center.subject_requests.service import (  # type: ignore[import-untyped, unused-ignore]
    build_access_export,
)

TYPICAL_SQL = """
SELECT customer_phone, customer_ref FROM interaction TABLESAMPLE SYSTEM (0.1)
WHERE customer_ref IS NOT NULL AND customer_phone NOT LIKE '+549119900%'
LIMIT 1
"""


@contextmanager
def statements(engine: Any, into: list[tuple[float, str, Any]]) -> Iterator[None]:
    """Record (ms, statement, parameters) of every statement `engine` runs meanwhile."""
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        into.append(((time.perf_counter() - started.pop()) * 1000, statement, parameters))

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(sync, "before_cursor_execute", before)
        event.remove(sync, "after_cursor_execute", after)


async def explain(url: str, statement: str, parameters: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a recorded statement (asyncpg's $n placeholders)."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        rows = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, *(parameters or ())
        )
    finally:
        await connection.close()
    return "\n".join(row[0] for row in rows)


async def measure(args: argparse.Namespace, url: str, console: Console) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        typical = await connection.fetchrow(TYPICAL_SQL)
    finally:
        await connection.close()
    subjects = [
        ("heaviest, by phone and reference", heavy_phone(HEAVY - 1), heavy_ref(HEAVY - 1)),
        ("second heaviest, by phone only", heavy_phone(HEAVY - 2), None),
        ("typical, by phone and reference", typical["customer_phone"], typical["customer_ref"]),
    ]
    engine = create_engine(load_settings(database_url=url))
    sessions = create_session_factory(engine)
    results: list[dict[str, Any]] = []
    try:
        for label, phone, ref in subjects:
            times: list[float] = []
            recorded: list[tuple[float, str, Any]] = []
            export: dict[str, Any] = {}
            for attempt in range(1 + args.repeats):
                seen: list[tuple[float, str, Any]] = []
                async with sessions() as session:
                    with statements(engine, seen):
                        started = time.perf_counter()
                        export = await build_access_export(session, phone, ref)
                        times.append(time.perf_counter() - started)
                if attempt == 0:
                    recorded = seen
            size = len(json.dumps(export, default=str).encode())
            interactions = len(export.get("interactions", ()))
            messages = sum(len(i.get("messages", ())) for i in export.get("interactions", ()))
            warm = times[1:] or times
            result = {
                "subject": label,
                "interactions": interactions,
                "messages": messages,
                "bytes": size,
                "cold s": times[0],
                "warm median s": statistics.median(warm),
                "warm max s": max(warm),
                "statements": len(recorded),
                "slowest statements ms": sorted((round(ms, 1) for ms, *_ in recorded))[-5:],
                "load": uptime(),
            }
            results.append(result)
            console.print(result)
            if args.explain and label.startswith("heaviest"):
                for ms, statement, parameters in sorted(recorded, key=lambda r: -r[0])[:3]:
                    console.print(f"\n--- {ms:.0f} ms (first call):\n{statement}\n{parameters}")
                    console.print(await explain(url, statement, parameters))
    finally:
        await engine.dispose()
    return results


async def run(args: argparse.Namespace) -> None:
    console = Console()
    url, made = await database(args.url, args.interactions, args.messages, args.admin_url, console)
    try:
        await migrate(url)
        results = await measure(args, url, console)
    finally:
        if made and not args.keep:
            await drop_database(url, args.admin_url)
            console.print("database dropped")
    console.print(f"\ncommit {short_commit()}")
    console.print("| customer | interactions | messages | JSON | first call | warm median | max |")
    console.print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        console.print(
            f"| {r['subject']} | {r['interactions']} | {r['messages']} "
            f"| {r['bytes'] / 1e6:.1f} MB | {r['cold s']:.2f} s | {r['warm median s']:.2f} s "
            f"| {r['warm max s']:.2f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--repeats", type=int, default=3, help="warm calls after the first")
    parser.add_argument("--explain", action="store_true", help="plans of the slowest statements")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
