"""The audit chain (docs/audit-chain.md) on PostgreSQL: how fast the sealer links rows and how
fast `audit verify` walks the chain.

N audit rows, each with its mac as the application writes it (`audit.service.row`), one
occurred_at per 0.5 ms (2,000 rows/s), are copied into a fresh database: the last --seal-rows
of them unsealed, the others already sealed (their links computed here, so a 10M chain is made
in minutes). The sealer seals the unsealed ones (its batches of 5,000, one transaction each);
then --steady more rows arrive and one sealing run is timed (what a 5-s run has to do at
2,000 rows/s, with a full lookback window behind it); then `verify` walks the whole chain with
each --workers count. Reported: rows/s and seconds.

    uv run python -m bench.audit_chain --rows 200000
    uv run python -m bench.audit_chain --rows 10000000 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid
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


STEP = timedelta(microseconds=500)  # 2,000 rows/s: the target's density in the lookback


def _row(n: int, start: datetime) -> dict[str, Any]:
    values: dict[str, Any] = audit.row(
        CONTEXT,
        "interaction.update",
        entity_type="interaction",
        entity_id=f"7f1c2a90-0000-4000-8000-{n:012d}",
        metadata={"field": "status", "from": "NEW", "to": "IN_PROGRESS", "n": n},
    )
    values["occurred_at"] = start + STEP * n
    values["mac"] = chain.mac(chain_key, chain.canonical_of(values))
    return values


def _part(text: str) -> bytes:
    raw = text.encode()
    return b"\x01" + len(raw).to_bytes(8, "big") + raw


# `_row`'s canonical form around its varying fields (id, occurred_at, entity_id, metadata),
# so that millions of rows are made fast; `_fast_row` checks itself against `_row`.
_MIDDLE = b"".join(_part(text) for text in ("USER", "ana", "interaction.update", "interaction"))
_TAIL = _part(str(CONTEXT.ip)) + _part(str(CONTEXT.user_agent))
_METADATA = '{"field":"status","from":"NEW","n":%r,"to":"IN_PROGRESS"}'


def _fast_row(n: int, start: datetime) -> tuple[tuple[Any, ...], bytes]:
    """`_row(n)` as a COPY record, and its canonical bytes, without the generic encoding."""
    row_id = uuid.uuid4()
    occurred_at = start + STEP * n
    entity_id = f"7f1c2a90-0000-4000-8000-{n:012d}"
    metadata = _METADATA % float(n)
    body = b"".join(
        (
            chain.VERSION,
            _part(str(row_id)),
            _part(occurred_at.isoformat(timespec="microseconds")),
            _MIDDLE,
            _part(entity_id),
            _TAIL,
            _part(metadata),
        )
    )
    row_mac = chain.mac(chain_key, body)
    record = (
        row_id,
        occurred_at,
        "USER",
        "ana",
        "interaction.update",
        "interaction",
        entity_id,
        CONTEXT.ip,
        CONTEXT.user_agent,
        metadata,
        row_mac,
    )
    if n == 0:  # the template is `_row`'s canonical form
        values = dict(zip(COLUMNS, record, strict=True))
        values["metadata"] = json.loads(metadata)
        assert chain.canonical_of(values) == body
    return record, body


def _record(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        json.dumps(values[c])
        if c == "metadata"
        else str(values[c].value)
        if c == "actor_type"
        else values[c]
        for c in COLUMNS
    )


chain_key = b""


async def fill(
    url: str, count: int, start: datetime, console: Console, *, offset: int = 0, sealed: int = 0
) -> None:
    """Rows offset… offset+count, unsealed; or, with `sealed`, rows 0…sealed already sealed
    (their links computed here as the sealer would, copied with the rows): a long chain made
    fast for verify's benchmark."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        done, head = 0, chain.GENESIS
        at = datetime.now(UTC)
        while done < sealed:
            step = min(100_000, sealed - done)
            rows, seals = [], []
            for n in range(done, done + step):
                record, body = _fast_row(n, start)
                head = chain.link(head, body, record[-1], n + 1)
                rows.append(record)
                seals.append((n + 1, record[0], head, at))
            await connection.copy_records_to_table("audit_log", records=rows, columns=COLUMNS)
            await connection.copy_records_to_table(
                "audit_seal", records=seals, columns=("seq", "audit_id", "hash", "sealed_at")
            )
            done += step
            if done % 1_000_000 == 0:
                console.print(f"{done:,} sealed rows written")
        done = 0
        while done < count:
            step = min(50_000, count - done)
            rows = [_record(_row(n, start)) for n in range(offset + done, offset + done + step)]
            await connection.copy_records_to_table("audit_log", records=rows, columns=COLUMNS)
            done += step
        await connection.execute("ANALYZE audit_log")
        await connection.execute("ANALYZE audit_seal")
    finally:
        await connection.close()


async def measure(url: str, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    global chain_key
    settings = load_settings(database_url=url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    results: dict[str, Any] = {}
    count = min(args.rows, args.seal_rows)
    prefilled = args.rows - count
    # The rows end about now: the newest ones are inside the sealer's lookback, as live.
    start = datetime.now(UTC) - STEP * (args.rows + args.steady + 1)
    try:
        chain_key = await load_audit_mac_key(engine, settings)
        started = time.perf_counter()
        await fill(url, count, start, console, offset=prefilled, sealed=prefilled)
        console.print(f"{args.rows:,} audit rows written in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        sealed = await tasks.seal(sessions)
        elapsed = time.perf_counter() - started
        assert sealed == count, sealed
        results["seal: rows/s"] = f"{count / elapsed:,.0f} ({count:,} rows in {elapsed:.1f} s)"
        console.print(results["seal: rows/s"])
        if args.steady:
            # One 5-s run's worth at 2,000 rows/s, behind a lookback window full of sealed rows.
            await fill(url, args.steady, start, console, offset=args.rows)
            started = time.perf_counter()
            sealed = await tasks.seal(sessions)
            elapsed = time.perf_counter() - started
            assert sealed == args.steady, sealed
            results[f"seal: one run of {args.steady:,} new rows"] = (
                f"{elapsed:.2f} s ({args.steady / elapsed:,.0f} rows/s)"
            )
            console.print(results)
        results.update(await verify_only(engine, args, console))
    finally:
        await engine.dispose()
    return results


async def steady(engine: Any, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """On a kept database: --steady new rows after its newest, then one sealing run timed."""
    global chain_key
    url = engine.url.render_as_string(hide_password=False)
    chain_key = await load_audit_mac_key(engine, load_settings(database_url=url))
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        newest = await connection.fetchval("SELECT max(occurred_at) FROM audit_log")
    finally:
        await connection.close()
    await fill(url, args.steady, newest + STEP, console)
    started = time.perf_counter()
    sealed = await tasks.seal(create_session_factory(engine))
    elapsed = time.perf_counter() - started
    assert sealed == args.steady, sealed
    return {
        f"seal: one run of {args.steady:,} new rows": (
            f"{elapsed:.2f} s ({args.steady / elapsed:,.0f} rows/s)"
        )
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (verify's worker processes)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def verify_only(engine: Any, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """`verify` of the whole chain with each --workers count."""
    key = await load_audit_mac_key(
        engine, load_settings(database_url=engine.url.render_as_string(hide_password=False))
    )
    sessions = create_session_factory(engine)
    results: dict[str, Any] = {}
    for workers in args.workers:
        started, cpu = time.perf_counter(), _cpu()
        report = await chain.verify(
            sessions, key, datetime.now(UTC), workers=workers, span=args.span
        )
        elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
        if not report.ok:
            raise SystemExit(f"verify failed: {report.as_dict()}")
        total = report.checked
        rate = total / elapsed
        results[f"verify, {workers} processes: links/s"] = (
            f"{rate:,.0f} ({total:,} links in {elapsed:.1f} s; Python CPU {cpu:.0f} s, "
            f"{cpu / total * 1e6:.1f} µs a link)"
        )
        if total < 10_000_000:
            results[f"verify, {workers} processes: 10M extrapolated"] = f"{10_000_000 / rate:.0f} s"
        console.print(results)
    return results


async def run(args: argparse.Namespace) -> None:
    console = Console()
    if args.database:  # a database kept by --keep: verify it again
        settings = load_settings(database_url=args.database)
        engine = create_engine(settings)
        try:
            results = await steady(engine, args, console) if args.steady else {}
            results.update(await verify_only(engine, args, console))
        finally:
            await engine.dispose()
        for key, value in results.items():
            console.print(f"| {key} | {value} |")
        return
    url = await create_database(args.admin_url)
    try:
        await migrate(url)
        results = await measure(url, args, console)
    finally:
        if not args.keep:
            await drop_database(url, args.admin_url)
    for key, value in results.items():
        console.print(f"| {key} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the chain")
    parser.add_argument(
        "--seal-rows",
        type=int,
        default=200_000,
        help="of --rows, how many the sealer seals (the others are written sealed, fast)",
    )
    parser.add_argument(
        "--steady",
        type=int,
        default=10_000,
        help="then time one sealing run of this many new rows (5 s at 2,000 rows/s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[2],
        help="verify with each of these process counts (0: in the bench's process)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--span", type=int, default=250_000, help="links per range of the parallel verify"
    )
    parser.add_argument("--admin-url", default=ADMIN)
    parser.add_argument(
        "--database", help="verify this database (one kept by --keep) instead of making one"
    )
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
