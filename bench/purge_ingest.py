"""The retention purge under ingest load, and what monthly partitions would change
(docs/data-lifecycle.md, "Partitioning decision").

On `bench.lifecycle_data`'s database (1,000,000 interactions and 5,000,000 messages over 24
months; made here and dropped after, or `--url`), two API processes take BuilderBot inbound
WhatsApp webhooks (`bench.ingest`'s load generator, paced at a steady `--rate` below the
ceiling) while:

  (a) nothing else runs (before and after the purge: the baseline is their mean);
  (b) the purge removes the oldest full month of expired data in its batches, each batch in
      its own short transaction, `--pause` seconds apart. `--mode service` (the product's
      purge): `contact_center.retention.service.run` itself, every class's retention set so
      that its cutoff is the month's end (the older partial month goes too), in batches of
      `--batch` rows (RETENTION_BATCH_SIZE) and `--pause` (RETENTION_BATCH_PAUSE_MS); `erase`:
      the erase primitive called directly on the month's conversations; `delete`: the month's
      interactions not under a legal hold deleted (their messages, events, call details and
      the rest by ON DELETE CASCADE), then the month's webhook-ledger rows and OTP challenges;
  (c) with `--partitioned`: a copy of `message` partitioned by month (`bench_message_part`,
      built before the load) loses the same month by DETACH PARTITION + DROP TABLE while a
      side connection keeps inserting into it (its insert latencies are reported too).

Reported: ingest p50/p99 of each phase and the p99 change against the baseline, the purge's
rows/s and the month's purge time; with `--partitioned`, what the partitioned copy costs to
insert into and to read a conversation from, against `message`.

    .venv/bin/python -m bench.purge_ingest --partitioned
    .venv/bin/python -m bench.purge_ingest --url postgresql://…/bench_lifecycle_x --batch 500
    .venv/bin/python -m bench.purge_ingest --url … --mode service --batch 1000 --pause 0.5 \
        --alternate 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import asyncpg_url, drop_database, free_port, percentile, redis_server_command
from bench.ingest import (
    inbound_whatsapp,
    run_phase,
    server_environment,
    start_servers,
    wait_ready,
)
from bench.lifecycle_data import add_arguments, database

# `mypy bench` sees contact_center as an installed package without py.typed, hence untyped
# here; `mypy src bench` checks these uses for real.
from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
    create_engine,
    create_session_factory,
)
from contact_center.holds.repository import (  # type: ignore[import-untyped, unused-ignore]
    not_held,
)
from contact_center.models.interaction import (  # type: ignore[import-untyped, unused-ignore]
    Interaction,
)
from contact_center.models.otp_challenge import (  # type: ignore[import-untyped, unused-ignore]
    OtpChallenge,
)
from contact_center.models.webhook_delivery import (  # type: ignore[import-untyped, unused-ignore]
    WebhookDelivery,
)
from contact_center.retention import (  # type: ignore[import-untyped, unused-ignore]
    service as retention,
)
from contact_center.retention.erase import (  # type: ignore[import-untyped, unused-ignore]
    StoredFiles,
    erase_interactions,
)
from contact_center.settings import load_settings  # type: ignore[import-untyped, unused-ignore]

Sessions = Callable[[], AsyncSession]

# What one month holds, by table (the interactions' children counted through them).
MONTH_SQL = """
WITH i AS (SELECT id FROM interaction WHERE started_at >= $1 AND started_at < $2)
SELECT (SELECT count(*) FROM i) AS interaction,
       (SELECT count(*) FROM message WHERE interaction_id IN (SELECT id FROM i)) AS message,
       (SELECT count(*) FROM interaction_event WHERE interaction_id IN (SELECT id FROM i))
           AS interaction_event,
       (SELECT count(*) FROM call_detail WHERE interaction_id IN (SELECT id FROM i))
           AS call_detail,
       (SELECT count(*) FROM webhook_delivery WHERE received_at >= $1 AND received_at < $2)
           AS webhook_delivery,
       (SELECT count(*) FROM otp_challenge WHERE created_at >= $1 AND created_at < $2)
           AS otp_challenge
"""


def month_bounds(oldest: datetime, offset: int = 0) -> tuple[datetime, datetime]:
    """The first full calendar month after `oldest` (UTC), or `offset` months after it."""
    start = oldest.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(1 + offset):
        start = (start + timedelta(days=32)).replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


async def month_to_purge(url: str, offset: int) -> tuple[datetime, datetime, dict[str, int]]:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        oldest = await connection.fetchval("SELECT min(started_at) FROM interaction")
        start, end = month_bounds(oldest, offset)
        row = await connection.fetchrow(MONTH_SQL, start, end)
    finally:
        await connection.close()
    return start, end, dict(row)


class Purge:
    """The month's purge in batches of `batch` conversations (or rows), one short transaction
    each, `pause` seconds between them; `done` counts what went, `batches` each batch's
    seconds.

    `erase` (what the product's retention does: `retention.erase.erase_interactions`): the
    month's conversations not under a hold lose their message bodies, transcripts, event
    payloads, ledger bodies and OTP challenges, their rows kept for the reports. `delete`: the
    same conversations deleted (their children by ON DELETE CASCADE), then the month's ledger
    rows and OTP challenges: what a partition drop would be compared with."""

    def __init__(
        self,
        sessions: Sessions,
        settings: Any,
        start: datetime,
        end: datetime,
        batch: int,
        pause: float,
    ) -> None:
        self.sessions, self.start, self.end = sessions, start, end
        self.files = StoredFiles.of(settings)
        self.batch, self.pause = batch, pause
        self.done: dict[str, int] = {}
        self.batches: list[float] = []
        self.gate = asyncio.Event()  # cleared: the purge waits before its next batch
        self.gate.set()
        self.settings = settings
        self.planned = 0  # --mode service: the rows its run has to erase
        self.process: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()

    def service_settings(self) -> Any:
        """The product's settings with every class's cutoff at (just before) the month's end,
        the audit rows kept, and the benchmark's batch size and pause."""
        days = math.ceil((datetime.now(self.end.tzinfo) - self.end) / timedelta(days=1))
        values: dict[str, Any] = {
            c.setting: days
            for c in retention.data_classes(self.settings)
            if c.setting not in {"retention_console_sessions_days", "retention_audit_rows_days"}
        }
        return self.settings.model_copy(
            update={
                **values,
                "retention_audit_rows_days": 0,
                "retention_batch_size": self.batch,
                "retention_batch_pause_ms": round(self.pause * 1000),
            }
        )

    async def plan(self, sessions: Any) -> dict[str, int | None]:
        counts = await retention.plan(sessions, self.service_settings())
        self.planned = sum(c or 0 for c in counts.values())
        return counts

    async def service(self, url: str) -> None:
        """`retention.service.run` as the daily job runs it, in a process of its own (as the
        worker is: the load generator's loop here is not slowed by it); SIGUSR1/SIGUSR2 open
        and close its gate (checked after each batch's pause), each batch reported on its
        stdout."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.purge_ingest",
            "--purge-worker",
            "--url",
            url,
            "--batch",
            str(self.batch),
            "--pause",
            str(self.pause),
            "--month-end",
            self.end.isoformat(),
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        self.process = process
        try:
            async for line in process.stdout:
                if line.startswith(b"READY"):
                    self.ready.set()
                if not line.startswith(b"BATCH "):
                    continue
                batch = json.loads(line[6:])
                self.done[batch["name"]] = self.done.get(batch["name"], 0) + batch["erased"]
                self.batches.append(batch["seconds"])
            if await process.wait() != 0:
                raise RuntimeError(f"the purge process ended with {process.returncode}")
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()

    async def switch(self, on: bool) -> None:
        """Open or close the gate (of the purge process with --mode service)."""
        if on:
            self.gate.set()
        else:
            self.gate.clear()
        if self.process is not None:
            await self.ready.wait()
            if self.process.returncode is None:
                self.process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    async def erase(self) -> None:
        now = datetime.now(self.start.tzinfo)
        after: tuple[datetime, uuid.UUID] = (self.start, uuid.UUID(int=0))
        while True:
            await self.gate.wait()
            started = time.perf_counter()
            async with self.sessions() as session:
                rows = (
                    await session.execute(
                        select(Interaction.started_at, Interaction.id)
                        .where(
                            tuple_(Interaction.started_at, Interaction.id) > after,
                            Interaction.started_at < self.end,
                            not_held(now),
                        )
                        .order_by(Interaction.started_at, Interaction.id)
                        .limit(self.batch)
                    )
                ).all()
                if not rows:
                    return
                counts = await erase_interactions(
                    session, [row.id for row in rows], now=now, files=self.files
                )
                await session.commit()
            after = (rows[-1].started_at, rows[-1].id)
            self.batches.append(time.perf_counter() - started)
            self.done["interaction"] = self.done.get("interaction", 0) + len(rows)
            for name, count in counts.items():
                self.done[name] = self.done.get(name, 0) + count
            await asyncio.sleep(self.pause)

    async def delete(self) -> None:
        now = datetime.now(self.start.tzinfo)
        expired = (Interaction.started_at >= self.start, Interaction.started_at < self.end)
        await self._loop(
            "interaction",
            select(Interaction.id).where(*expired, not_held(now)),
            lambda ids: delete(Interaction).where(Interaction.id.in_(ids)),
        )
        ledger = WebhookDelivery.received_at
        received = (ledger >= self.start, ledger < self.end)
        await self._loop(
            "webhook_delivery",
            select(WebhookDelivery.id).where(*received),
            lambda ids: delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)),
        )
        created = (OtpChallenge.created_at >= self.start, OtpChallenge.created_at < self.end)
        await self._loop(
            "otp_challenge",
            select(OtpChallenge.id).where(*created),
            lambda ids: delete(OtpChallenge).where(OtpChallenge.id.in_(ids)),
        )

    async def _loop(self, table: str, pick: Any, remove: Callable[[list[Any]], Any]) -> None:
        while True:
            await self.gate.wait()
            started = time.perf_counter()
            async with self.sessions() as session:
                ids = list(await session.scalars(pick.limit(self.batch)))
                if not ids:
                    return
                await session.execute(remove(ids))
                await session.commit()
            self.batches.append(time.perf_counter() - started)
            self.done[table] = self.done.get(table, 0) + len(ids)
            await asyncio.sleep(self.pause)


# A copy of `message` partitioned by month on created_at: the primary key must hold the
# partition key, and so must every unique index (provider_message_id is unique per month only).
PARTITIONED_SQL = """
DROP TABLE IF EXISTS bench_message_part;
CREATE TABLE bench_message_part (LIKE message INCLUDING DEFAULTS INCLUDING GENERATED)
    PARTITION BY RANGE (created_at);
ALTER TABLE bench_message_part ADD PRIMARY KEY (id, created_at);
ALTER TABLE bench_message_part ADD FOREIGN KEY (interaction_id)
    REFERENCES interaction (id) ON DELETE CASCADE;
"""
PARTITION_INDEXES_SQL = """
CREATE INDEX ON bench_message_part (interaction_id, created_at, id);
CREATE UNIQUE INDEX ON bench_message_part (provider_message_id, created_at);
CREATE INDEX ON bench_message_part (status, created_at);
CREATE INDEX ON bench_message_part (created_at, id);
CREATE INDEX ON bench_message_part USING gin (search_vector);
"""


def partition_name(month: datetime) -> str:
    return f"bench_message_part_{month:%Y%m}"


async def build_partitioned(url: str, console: Console) -> float:
    """The partitioned copy of `message`, one partition per month; seconds it took."""
    connection = await asyncpg.connect(asyncpg_url(url))
    started = time.perf_counter()
    try:
        await connection.execute("SET maintenance_work_mem = '512MB'")
        await connection.execute("SET synchronous_commit = off")
        await connection.execute(PARTITIONED_SQL)
        first, last = await connection.fetchrow("SELECT min(created_at), now() FROM message")
        month = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month <= last + timedelta(days=31):
            following = (month + timedelta(days=32)).replace(day=1)
            await connection.execute(
                f"CREATE TABLE {partition_name(month)} PARTITION OF bench_message_part "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
            )
            month = following
        columns = await connection.fetchval(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = 'message'::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = ''"
        )
        await connection.execute(
            f"INSERT INTO bench_message_part ({columns}) SELECT {columns} FROM message"
        )
        await connection.execute(PARTITION_INDEXES_SQL)
        await connection.execute("VACUUM (ANALYZE) bench_message_part")
    finally:
        await connection.close()
    seconds = time.perf_counter() - started
    console.print(f"partitioned copy of message built in {seconds:.0f} s")
    return seconds


async def compare_tables(url: str, samples: int) -> dict[str, dict[str, float]]:
    """Single-row INSERT latency and one conversation's newest 50 messages, `message` against
    `bench_message_part` (alternating, same rows), in ms."""
    connection = await asyncpg.connect(asyncpg_url(url))
    results: dict[str, dict[str, list[float]]] = {
        t: {"insert": [], "read": []} for t in ("message", "bench_message_part")
    }
    try:
        targets = await connection.fetch(
            "SELECT id FROM interaction TABLESAMPLE SYSTEM (1) WHERE channel <> 'CALL' LIMIT $1",
            samples,
        )
        for row in targets:
            for table, times in results.items():
                started = time.perf_counter()
                await connection.execute(
                    f"INSERT INTO {table} (id, interaction_id, direction, body, media, status,"
                    " provider_message_id, kind, created_at, updated_at, attempts)"
                    " VALUES ($1, $2, 'INBOUND', 'Hola, consulto por mi saldo', '[]', 'RECEIVED',"
                    " $3, 'TEXT', now(), now(), 0)",
                    uuid.uuid4(),
                    row["id"],
                    f"wamid.bench{uuid.uuid4().hex}",
                )
                times["insert"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await connection.fetch(
                    f"SELECT * FROM {table} WHERE interaction_id = $1"
                    " ORDER BY created_at DESC, id DESC LIMIT 50",
                    row["id"],
                )
                times["read"].append((time.perf_counter() - started) * 1000)
        await connection.execute(
            "DELETE FROM message WHERE provider_message_id LIKE 'wamid.bench%'"
        )
    finally:
        await connection.close()
    return {
        f"{table} {what}": {
            "p50": statistics.median(values),
            "p99": percentile(values, 99),
        }
        for table, kinds in results.items()
        for what, values in kinds.items()
    }


async def drop_partition(url: str, month: datetime) -> dict[str, float]:
    """DETACH and DROP the month's partition while a side connection inserts into the
    partitioned table; the drop's seconds and the side inserts' latencies (ms)."""
    name = partition_name(month)
    side = await asyncpg.connect(asyncpg_url(url))
    stop = asyncio.Event()
    latencies: list[float] = []
    target = await side.fetchval("SELECT id FROM interaction ORDER BY started_at DESC LIMIT 1")

    async def insert_loop() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await side.execute(
                "INSERT INTO bench_message_part (id, interaction_id, direction, body, media,"
                " status, provider_message_id, kind, created_at, updated_at, attempts)"
                " VALUES ($1, $2, 'INBOUND', 'Hola', '[]', 'RECEIVED', $3, 'TEXT', now(), now(),"
                " 0)",
                uuid.uuid4(),
                target,
                f"wamid.side{uuid.uuid4().hex}",
            )
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)

    connection = await asyncpg.connect(asyncpg_url(url))
    inserting = asyncio.create_task(insert_loop())
    try:
        await asyncio.sleep(2)
        started = time.perf_counter()
        await connection.execute(f"ALTER TABLE bench_message_part DETACH PARTITION {name}")
        await connection.execute(f"DROP TABLE {name}")
        seconds = time.perf_counter() - started
        await asyncio.sleep(2)
    finally:
        stop.set()
        await inserting
        await side.close()
        await connection.close()
    return {
        "drop seconds": seconds,
        "side insert p50": statistics.median(latencies),
        "side insert max": max(latencies),
    }


async def measure(args: argparse.Namespace, url: str, console: Console) -> dict[str, Any]:
    results: dict[str, Any] = {"load": uptime()}
    start, end, month = await month_to_purge(url, args.month_offset)
    results["month"] = (start.date().isoformat(), month)
    console.print(f"month to purge: {start:%Y-%m}: {month}")
    if args.partitioned:
        results["partitioned build seconds"] = await build_partitioned(url, console)
        results["tables"] = await compare_tables(url, args.samples)
        console.print(results["tables"])
    workdir = tempfile.mkdtemp(prefix="cc-purge-")
    redis_port = free_port()
    redis = subprocess.Popen(redis_server_command(redis_port, workdir), stdout=subprocess.DEVNULL)
    ports, servers = start_servers(server_environment(url, workdir, redis_port), workdir, {})
    settings = load_settings(database_url=url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    try:
        await wait_ready(ports, servers, workdir)
        ingest = inbound_whatsapp(args.customers)
        ceiling = await run_phase(ports, args.warmup, args.concurrency, ingest)
        rate = args.rate or round(ceiling["rate"] * 0.5)
        results["ceiling events/s"] = ceiling["rate"]
        results["offered events/s"] = rate
        console.print(f"closed-loop ingest {ceiling['rate']:.0f} events/s; offering {rate}/s")

        async def phase(
            label: str, stop: Callable[[], bool] | None = None, seconds: float = 0
        ) -> None:
            result = await run_phase(
                ports, seconds or args.seconds, args.concurrency, ingest, stop=stop, rate=rate
            )
            result["load"] = uptime()
            results[label] = result
            console.print(f"{label}: {fmt(result)}")

        purge = Purge(sessions, settings, start, end, args.batch, args.pause)
        if args.mode == "service":
            results["planned"] = await purge.plan(sessions)
            console.print(f"the service's purge will erase: {results['planned']}")
        if args.alternate:
            await purge.switch(False)
        else:
            await phase("(a) baseline before")
        work = {
            "service": lambda: purge.service(url),
            "erase": purge.erase,
            "delete": purge.delete,
        }[args.mode]
        purging = asyncio.create_task(work())
        if args.mode == "service":  # its process up, and told whether to start
            ready = asyncio.create_task(purge.ready.wait())
            await asyncio.wait([ready, purging], return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            await purge.switch(purge.gate.is_set())
        began = time.perf_counter()
        purging_seconds = 0.0
        if args.alternate:
            # Windows with the purge paused and running, in alternating order (off, on, on,
            # off…): both see the same machine, whatever else it runs meanwhile.
            for index in range(args.alternate):
                for state in ("off", "on") if index % 2 == 0 else ("on", "off"):
                    await purge.switch(state == "on")
                    window = time.perf_counter()
                    await phase(f"round {index + 1}, purge {state}", stop=purging.done)
                    if state == "on":
                        purging_seconds += time.perf_counter() - window
            await purge.switch(False)
        else:
            await phase("(b) during the purge", stop=purging.done, seconds=args.max_purge_seconds)
            purging_seconds = time.perf_counter() - began
        finished = purging.done()
        if not finished:
            purging.cancel()
        await asyncio.gather(purging, return_exceptions=not finished)
        rows = sum(purge.done.values())
        if args.mode == "delete":  # the interactions' children went by cascade: estimated
            rows += round(
                sum(month[t] for t in ("message", "interaction_event", "call_detail"))
                * purge.done.get("interaction", 0)
                / max(1, month["interaction"])
            )
        if args.mode == "service":
            share = rows / max(1, purge.planned)
        else:
            share = purge.done.get("interaction", 0) / max(1, month["interaction"])
        results["purge"] = {
            "mode": args.mode,
            "finished": finished,
            "seconds running": purging_seconds,
            "rows": purge.done,
            "rows/s": rows / purging_seconds,
            "share done": share,
            "whole month, s (extrapolated)": purging_seconds / max(share, 1e-9),
            "batches": len(purge.batches),
            "batch p50 ms": statistics.median(purge.batches) * 1000 if purge.batches else 0,
            "batch max ms": max(purge.batches, default=0) * 1000,
        }
        console.print(results["purge"])
        if not args.alternate:
            await phase("(a) baseline after")
        if args.partitioned:
            dropping = asyncio.create_task(drop_partition(url, start))
            await phase("(c) during the partition drop", stop=dropping.done, seconds=60)
            results["partition drop"] = await dropping
            console.print(results["partition drop"])
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)
        await engine.dispose()
        if args.partitioned:
            connection = await asyncpg.connect(asyncpg_url(url))
            await connection.execute("DROP TABLE IF EXISTS bench_message_part")
            await connection.close()
    return results


async def purge_worker(args: argparse.Namespace) -> None:
    """--purge-worker: the product's purge (`retention.service.run`) with the month's cutoffs,
    gated by SIGUSR1 (go on) / SIGUSR2 (wait after the current batch); one BATCH line each."""
    settings = load_settings(database_url=args.url)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    end = datetime.fromisoformat(args.month_end)
    purge = Purge(sessions, settings, end, end, args.batch, args.pause)
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, gate.set)
    loop.add_signal_handler(signal.SIGUSR2, gate.clear)
    print("READY", flush=True)
    await gate.wait()
    mark = time.perf_counter()

    async def paced(pause: float) -> None:
        nonlocal mark
        await asyncio.sleep(pause)
        await gate.wait()
        mark = time.perf_counter()

    def shown(name: str, _done: int, erased: int) -> None:
        line = {"name": name, "erased": erased, "seconds": time.perf_counter() - mark}
        print("BATCH " + json.dumps(line), flush=True)

    try:
        report = await retention.run(
            sessions, engine, purge.service_settings(), trigger="cli", shown=shown, sleep=paced
        )
    finally:
        await engine.dispose()
    if report is None:
        print("another retention purge holds the lock", file=sys.stderr)
        os._exit(4)


def uptime() -> str:
    """The load average (1, 5, 15 minutes): the machine is shared."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fmt(result: dict[str, Any]) -> str:
    return (
        f"{result['events']} events in {result['seconds']:.0f} s ({result['rate']:.0f}/s), "
        f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.0f} ms, "
        f"{result['errors']} errors, load {result['load']}"
    )


def short_commit() -> str:
    """The commit measured."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()


def report(results: dict[str, Any], console: Console) -> None:
    phases = {k: v for k, v in results.items() if isinstance(v, dict) and "p99" in v}
    off = [v for k, v in phases.items() if k.startswith("(a)") or k.endswith("purge off")]
    on = [v for k, v in phases.items() if k.startswith("(b)") or k.endswith("purge on")]
    p99 = statistics.mean(r["p99"] for r in off)
    console.print(f"\ncommit {short_commit()}; month {results['month']}")
    console.print("| phase | events/s | p50 ms | p99 ms | p99 vs baseline | max ms | load |")
    console.print("| --- | --- | --- | --- | --- | --- | --- |")
    for key, r in phases.items():
        console.print(
            f"| {key} | {r['rate']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} "
            f"| {(r['p99'] / p99 - 1):+.0%} | {r['max']:.0f} | {r['load']} |"
        )
    on_p99 = statistics.mean(r["p99"] for r in on)
    console.print(
        f"purge off: p50 {statistics.mean(r['p50'] for r in off):.1f} ms, p99 {p99:.1f} ms; "
        f"purge on: p50 {statistics.mean(r['p50'] for r in on):.1f} ms, p99 {on_p99:.1f} ms "
        f"({on_p99 / p99 - 1:+.0%})"
    )
    for key in ("purge", "partition drop", "tables", "partitioned build seconds"):
        if key in results:
            console.print(f"{key}: {results[key]}")


async def run(args: argparse.Namespace) -> None:
    console = Console()
    url, made = await database(args.url, args.interactions, args.messages, args.admin_url, console)
    try:
        results = await measure(args, url, console)
    finally:
        if made and not args.keep:
            await drop_database(url, args.admin_url)
            console.print("database dropped")
    report(results, console)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--seconds", type=float, default=60, help="each baseline phase")
    parser.add_argument("--warmup", type=float, default=15, help="closed-loop ingest first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rate", type=float, help="offered events/s (default: half the ceiling)")
    parser.add_argument(
        "--mode",
        choices=["service", "erase", "delete"],
        default="erase",
        help="service: the product's purge (retention.service.run); erase: its erasure called "
        "directly on the month's conversations (rows kept); delete: the rows deleted",
    )
    parser.add_argument(
        "--batch", type=int, default=500, help="rows (erase: conversations) per purge transaction"
    )
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between batches")
    parser.add_argument("--max-purge-seconds", type=float, default=480)
    parser.add_argument("--partitioned", action="store_true", help="also phase (c)")
    parser.add_argument(
        "--alternate",
        type=int,
        default=0,
        help="instead of (a)/(b)/(a): this many rounds of a window with the purge paused and "
        "one with it running (--seconds each), in alternating order",
    )
    parser.add_argument(
        "--month-offset", type=int, default=0, help="purge the n-th full month (0: the oldest)"
    )
    parser.add_argument("--samples", type=int, default=500, help="rows for the table compare")
    parser.add_argument("--purge-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--month-end", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(purge_worker(args) if args.purge_worker else run(args))


if __name__ == "__main__":
    main()
