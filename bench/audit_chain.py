"""The audit chain (docs/audit-chain.md) on PostgreSQL: how fast the sealer links rows and how
fast `audit verify` walks the chain.

N audit rows, each with its mac as the application writes it (`audit.service.row`), are
copied into a fresh database unsealed, one occurred_at per millisecond; then the sealer seals
them all (its batches of 5,000, one transaction each) and `verify` walks the chain. Reported:
rows/s of each and verify's time extrapolated linearly to 10M rows.

    uv run python -m bench.audit_chain --rows 200000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from rich.console import Console

from bench.common import ADMIN, asyncpg_url, create_database, drop_database
from bench.generate import migrate

# `mypy bench` sees contact_center as an installed package without py.typed, hence untyped
# here; `mypy src bench` checks these uses for real.
from contact_center.audit import chain, tasks  # type: ignore[import-untyped, unused-ignore]
from contact_center.audit import service as audit  # type: ignore[import-untyped, unused-ignore]
from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
    create_engine,
    create_session_factory,
)
from contact_center.keys.service import (  # type: ignore[import-untyped, unused-ignore]
    load_audit_mac_key,
)
from contact_center.models.enums import ActorType  # type: ignore[import-untyped, unused-ignore]
from contact_center.principal import (  # type: ignore[import-untyped, unused-ignore]
    AuditContext,
    Principal,
    Role,
)
from contact_center.settings import load_settings  # type: ignore[import-untyped, unused-ignore]

COLUMNS = (
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "entity_type",
    "entity_id",
    "ip",
    "user_agent",
    "metadata",
    "mac",
)
CONTEXT = AuditContext(
    principal=Principal(actor_type=ActorType.USER, actor_id="ana", role=Role.AGENT),
    ip="10.1.2.3",
    user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
)


def _rows(count: int, start: datetime, offset: int) -> list[tuple[Any, ...]]:
    made = []
    for n in range(offset, offset + count):
        values = audit.row(
            CONTEXT,
            "interaction.update",
            entity_type="interaction",
            entity_id=f"7f1c2a90-0000-4000-8000-{n:012d}",
            metadata={"field": "status", "from": "NEW", "to": "IN_PROGRESS", "n": n},
        )
        values["occurred_at"] = start + timedelta(milliseconds=n)
        values["mac"] = chain.mac(chain_key, chain.canonical_of(values))
        made.append(
            tuple(
                json.dumps(values[c])
                if c == "metadata"
                else str(values[c].value)
                if c == "actor_type"
                else values[c]
                for c in COLUMNS
            )
        )
    return made


chain_key = b""


async def fill(url: str, count: int, console: Console) -> None:
    connection = await asyncpg.connect(asyncpg_url(url))
    start = datetime.now(UTC) - timedelta(milliseconds=count)
    try:
        done = 0
        while done < count:
            step = min(50_000, count - done)
            await connection.copy_records_to_table(
                "audit_log", records=_rows(step, start, done), columns=COLUMNS
            )
            done += step
        console.print(f"{count:,} audit rows written")
    finally:
        await connection.close()


async def measure(url: str, count: int, console: Console) -> dict[str, Any]:
    global chain_key
    settings = load_settings(database_url=url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    results: dict[str, Any] = {}
    try:
        chain_key = await load_audit_mac_key(engine, settings)
        await fill(url, count, console)
        started = time.perf_counter()
        sealed = await tasks.seal(sessions)
        elapsed = time.perf_counter() - started
        assert sealed == count, sealed
        results["seal: rows/s"] = f"{count / elapsed:,.0f} ({count:,} rows in {elapsed:.1f} s)"
        console.print(results["seal: rows/s"])
        started = time.perf_counter()
        report = await chain.verify(sessions, chain_key, datetime.now(UTC))
        elapsed = time.perf_counter() - started
        if not report.ok or report.checked != count:
            raise SystemExit(f"verify failed: {report.as_dict()}")
        rate = count / elapsed
        results["verify: rows/s"] = f"{rate:,.0f} ({count:,} links in {elapsed:.1f} s)"
        results["verify: 10M rows, extrapolated"] = f"{10_000_000 / rate:.0f} s"
        console.print(results)
    finally:
        await engine.dispose()
    return results


async def run(args: argparse.Namespace) -> None:
    console = Console()
    url = await create_database(args.admin_url)
    try:
        await migrate(url)
        results = await measure(url, args.rows, console)
    finally:
        if not args.keep:
            await drop_database(url, args.admin_url)
    for key, value in results.items():
        console.print(f"| {key} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--admin-url", default=ADMIN)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
