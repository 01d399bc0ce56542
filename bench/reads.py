"""Read latency at 1M interactions: each read of the API next to the SQL time it costs.

Creates a fresh PostgreSQL database `cc_bench_<random>` (on BENCH_POSTGRES_URL's server),
migrates it and fills it with bench.generate (1,000,000 interactions, 5,000,000 messages by
default), starts one `contact-center serve --no-worker` on it, creates an admin API token with the
CLI, then sends, one at a time, warm-up and measured requests of each operation with parameters
drawn from the data (existing ids, customers' phones, agents, days):

  list       GET /api/interactions?limit=50      no filter, channel, status, assignedAgent,
  count      GET /api/interactions/count          dateFrom/dateTo or from=digits, in turn
  detail     GET /api/interactions/{id}
  profile    GET /api/interactions/client/{phone}
  dashboard  GET /api/metrics/summary?date=YYYY-MM-DD

The same requests are then run in this process through the service functions the endpoints
call, while a SQLAlchemy cursor-execute listener (and a timer on asyncpg's fetch and fetchrow,
for statements below the ORM) sums the time of every statement: "SQL" is the database and
driver time of one request, "API" adds HTTP, authentication (a token lookup), validation and
serialization; the floor, `GET /api/me`, is what authentication alone costs. The API is timed
from a client that sends prepared bytes over one keep-alive connection (`--client httpx`: with
httpx, as the first measures were, about a millisecond more per request).

`--explain` runs EXPLAIN (ANALYZE, BUFFERS) on the statement that took the most time in each
operation (and each filter of list and count), at its slowest parameters, twice: planned for
those values (custom plan) and with the generic plan that asyncpg's prepared statements may
switch to after five executions, which is then what the service runs.

    .venv/bin/python -m bench.reads --keep --explain
    .venv/bin/python -m bench.reads --reuse-url postgresql://postgres@127.0.0.1:5432/cc_bench_x
    .venv/bin/python -m bench.reads --rows 20000 --only detail,floor    # a minute: detail alone
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import httpx
from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

# `mypy bench` sees contact_center as an installed package without py.typed, hence untyped
# here; `mypy src bench` checks these uses for real.
from bench.common import (
    ADMIN,
    RawHttp,
    api_token,
    asyncpg_url,
    create_database,
    drop_database,
    free_port,
    percentile,
    start_contact_center,
)
from bench.generate import generate, migrate
from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
    create_engine,
    create_session_factory,
)
from contact_center.interactions import (  # type: ignore[import-untyped, unused-ignore]
    service as interactions,
)
from contact_center.interactions.query import (  # type: ignore[import-untyped, unused-ignore]
    filters_from_query,
)
from contact_center.metrics.service import (  # type: ignore[import-untyped, unused-ignore]
    summary as metrics_summary,
)
from contact_center.models.enums import (  # type: ignore[import-untyped, unused-ignore]
    Channel,
    InteractionStatus,
)
from contact_center.phones import normalize_valid  # type: ignore[import-untyped, unused-ignore]
from contact_center.principal import SYSTEM  # type: ignore[import-untyped, unused-ignore]
from contact_center.settings import (  # type: ignore[import-untyped, unused-ignore]
    Settings,
    load_settings,
)

LIMIT = 50
OPERATIONS = ("list", "count", "detail", "profile", "dashboard", "floor")
FILTERED = ("list", "count")
FILTERS = ("none", "channel", "status", "assignedAgent", "dateFrom/dateTo", "from")
LABELS = {
    "list": f"list (`limit={LIMIT}`)",
    "count": "count",
    "detail": "detail",
    "profile": "customer profile",
    "dashboard": "dashboard (metrics summary)",
    "floor": "floor: `GET /api/me` (authentication only)",
}
TARGET_MS = {"list": 50.0, "count": 50.0, "profile": 50.0, "dashboard": 150.0}
MAX_RATIO = 3.0
PLAN_WORDS = ("Scan", "Rows Removed", "Sort Method", "Workers Launched", "Join", "Aggregate")


# --- what to ask ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """Values drawn from the data, to vary the requests."""

    ids: list[uuid.UUID]
    phones: list[str]
    agents: list[str]
    days: list[date]  # whole days of the data in APP_TIMEZONE


@dataclass(frozen=True)
class Request:
    operation: str
    kind: str  # the filter of a list or count; "-" for the other operations
    path: str
    params: dict[str, str]
    arg: str = ""  # the id, phone or day of a detail, profile or dashboard


async def draw_sample(url: str, settings: Settings, size: int, seed: int) -> Sample:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        await connection.execute(f"SELECT setseed({(seed % 1000) / 1000})")
        rows = await connection.fetch(
            "SELECT id, customer_phone FROM interaction ORDER BY random() LIMIT $1", size
        )
        agents = await connection.fetch(
            "SELECT DISTINCT assigned_agent FROM interaction WHERE assigned_agent IS NOT NULL "
            "ORDER BY 1"
        )
        first, last = await connection.fetchrow(
            "SELECT min(started_at), max(started_at) FROM interaction"
        )
    finally:
        await connection.close()
    if not rows:
        raise SystemExit("the database holds no interaction")
    start = first.astimezone(settings.zone).date() + timedelta(days=1)
    end = last.astimezone(settings.zone).date() - timedelta(days=1)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)] or [start]
    return Sample(
        ids=[row["id"] for row in rows],
        phones=[row["customer_phone"] for row in rows if row["customer_phone"]],
        agents=[row["assigned_agent"] for row in agents] or ["nobody"],
        days=days,
    )


def filter_params(kind: str, sample: Sample, rng: random.Random) -> dict[str, str]:
    """Query parameters of one list or count request with the filter `kind`."""
    if kind == "channel":
        return {"channel": rng.choice([c.value for c in Channel])}
    if kind == "status":
        return {"status": rng.choice([s.value for s in InteractionStatus])}
    if kind == "assignedAgent":
        return {"assignedAgent": rng.choice(sample.agents)}
    if kind == "dateFrom/dateTo":
        # One whole day, or a week, on startedAt.
        index = rng.randrange(len(sample.days))
        span = rng.choice((0, 0, 0, 6))
        return {
            "dateFrom": sample.days[index].isoformat(),
            "dateTo": sample.days[min(index + span, len(sample.days) - 1)].isoformat(),
        }
    if kind == "from":
        # Digits typed in the search box: the end of a customer's number, 6 digits or more.
        digits = re.sub(r"\D", "", rng.choice(sample.phones))
        return {"from": digits[-rng.randint(6, len(digits)) :]}
    return {}


def plan_requests(operation: str, count: int, sample: Sample, rng: random.Random) -> list[Request]:
    requests = []
    for n in range(count):
        if operation in FILTERED:
            kind = FILTERS[n % len(FILTERS)]
            params = filter_params(kind, sample, rng)
            if operation == "list":
                requests.append(
                    Request(operation, kind, "/api/interactions", {"limit": str(LIMIT), **params})
                )
            else:
                requests.append(Request(operation, kind, "/api/interactions/count", params))
        elif operation == "detail":
            interaction = str(rng.choice(sample.ids))
            requests.append(
                Request(operation, "-", f"/api/interactions/{interaction}", {}, interaction)
            )
        elif operation == "profile":
            phone = rng.choice(sample.phones)
            path = f"/api/interactions/client/{quote(phone, safe='')}"
            requests.append(Request(operation, "-", path, {}, phone))
        elif operation == "dashboard":
            day = rng.choice(sample.days).isoformat()
            requests.append(Request(operation, "-", "/api/metrics/summary", {"date": day}, day))
        else:  # the floor: what any API request costs (token lookup, middleware, JSON)
            requests.append(Request(operation, "-", "/api/me", {}))
    rng.shuffle(requests)
    return requests


# --- the same work in this process, with the SQL timed --------------------------------------


@dataclass
class Statement:
    """One statement shape (IN lists collapsed) of one operation and filter: its total time,
    and its slowest execution with the parameters, to EXPLAIN."""

    total: float = 0.0
    executions: int = 0
    slowest: float = 0.0
    statement: str = ""
    parameters: tuple[Any, ...] = ()


def shape(statement: str) -> str:
    numbered = re.sub(r"\$\d+", "?", statement)
    return re.sub(r"(\?(::[A-Z ]+)?, )+\?(::[A-Z ]+)?", "?…", numbered)


class SqlClock:
    """Sums the cursor executions of the engine while `key` is set (one request at a time),
    and the statements run below the ORM (`db/fast.py`), which go to asyncpg directly, past the
    cursor events: its `fetch` and `fetchrow` are timed the same way (SQLAlchemy runs its own
    statements as prepared statements, not through these two)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.key: tuple[str, str] | None = None
        self.seconds = 0.0
        self.statements = 0
        self.shapes: dict[tuple[str, str], dict[str, Statement]] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)
        for name in ("fetch", "fetchrow"):
            self._time_driver_calls(name)

    def _time_driver_calls(self, name: str) -> None:
        original = getattr(asyncpg.connection.Connection, name)
        clock = self

        async def timed(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(connection, query, *args, **kwargs)
            finally:
                clock._record(query, args, time.perf_counter() - started)

        setattr(asyncpg.connection.Connection, name, timed)

    def start(self, key: tuple[str, str]) -> None:
        self.key, self.seconds, self.statements = key, 0.0, 0

    def stop(self) -> None:
        self.key = None

    def costliest(self, key: tuple[str, str]) -> tuple[Statement, float] | None:
        """The statement that took the most time in total, and its share of the time."""
        shapes = self.shapes.get(key)
        if not shapes:
            return None
        top = max(shapes.values(), key=lambda s: s.total)
        everything = sum(s.total for s in shapes.values())
        return top, (top.total / everything if everything else 0.0)

    def _before(
        self,
        conn: Connection,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(
        self,
        conn: Connection,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        self._record(statement, tuple(parameters or ()), elapsed)

    def _record(self, statement: str, parameters: tuple[Any, ...], elapsed: float) -> None:
        if self.key is None:
            return
        self.seconds += elapsed
        self.statements += 1
        record = self.shapes.setdefault(self.key, {}).setdefault(shape(statement), Statement())
        record.total += elapsed
        record.executions += 1
        if elapsed >= record.slowest:
            record.slowest = elapsed
            record.statement = statement
            record.parameters = parameters


async def filters_for(settings: Settings, params: dict[str, str]) -> Any:
    """The InteractionFilters the endpoint builds from these query parameters."""
    filters = filters_from_query(
        settings,
        channel=Channel(params["channel"]) if "channel" in params else None,
        status=InteractionStatus(params["status"]) if "status" in params else None,
        from_=params.get("from"),
        date_from=params.get("dateFrom"),
        date_to=params.get("dateTo"),
        assigned_agent=params.get("assignedAgent"),
    )
    # A FastAPI dependency: a coroutine function since the dependencies became async.
    return await filters if inspect.isawaitable(filters) else filters


async def serve_in_process(session: AsyncSession, settings: Settings, request: Request) -> None:
    """What the endpoint of `request` does, for an admin caller who did not ask for PII."""
    if request.operation == "list":
        await interactions.list_interactions(
            session,
            await filters_for(settings, request.params),
            viewer=SYSTEM,
            limit=LIMIT,
            skip=0,
            all_messages=False,
            all_events=False,
            reveal=False,
        )
    elif request.operation == "count":
        await interactions.count_interactions(
            session, await filters_for(settings, request.params), viewer=SYSTEM
        )
    elif request.operation == "detail":
        detail = await interactions.get_interaction(
            session,
            uuid.UUID(request.arg),
            all_messages=False,
            all_events=False,
            reveal=True,
            viewer=SYSTEM,
        )
        interactions.mask_interaction(detail)
    elif request.operation == "profile":
        phone = normalize_valid(request.arg, settings.default_phone_region)
        if phone is None:
            raise SystemExit(f"not a valid phone in the data: {request.arg}")
        await interactions.customer_profile(
            session, phone, all_messages=False, all_events=False, reveal=False, viewer=SYSTEM
        )
    else:
        await metrics_summary(session, settings, date.fromisoformat(request.arg))


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Timings:
    api: list[float] = field(default_factory=list)  # the HTTP request, from this client
    size: list[int] = field(default_factory=list)  # the response body, bytes
    service: list[float] = field(default_factory=list)  # the service call in-process
    sql: list[float] = field(default_factory=list)  # its cursor executions
    statements: list[int] = field(default_factory=list)


def merged(timings: dict[tuple[str, str], Timings], operation: str) -> Timings:
    out = Timings()
    for (op, _kind), t in timings.items():
        if op == operation:
            out.api += t.api
            out.size += t.size
            out.service += t.service
            out.sql += t.sql
            out.statements += t.statements
    return out


async def wait_healthy(http: httpx.AsyncClient, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            if (await http.get("/api/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the service did not start; see {log}")
        await asyncio.sleep(0.2)


async def measure_api(
    http: httpx.AsyncClient,
    raw: RawHttp | None,
    plans: dict[str, list[Request]],
    warmup: int,
    timings: dict[tuple[str, str], Timings],
    progress: Progress,
) -> None:
    """Each request timed from this client. With `raw` (the default), prepared bytes over one
    keep-alive connection: httpx spends about a millisecond of CPU per request on the cores
    the server uses, which is no part of the API's time."""
    headers = {"Authorization": http.headers["Authorization"]}
    for operation, requests in plans.items():
        task = progress.add_task(f"API {operation}", total=len(requests))
        for n, request in enumerate(requests):
            target = request.path + (f"?{urlencode(request.params)}" if request.params else "")
            started = time.perf_counter()
            if raw is not None:
                status, body = await raw.request("GET", target, headers=headers)
            else:
                response = await http.get(target)
                status, body = response.status_code, response.content
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise SystemExit(f"GET {target}: {status} {body[:500]!r}")
            if n >= warmup:
                t = timings.setdefault((operation, request.kind), Timings())
                t.api.append(elapsed)
                t.size.append(len(body))
            progress.advance(task)


async def measure_sql(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: SqlClock,
    plans: dict[str, list[Request]],
    warmup: int,
    timings: dict[tuple[str, str], Timings],
    progress: Progress,
) -> None:
    for operation, requests in plans.items():
        if operation == "floor":
            continue  # nothing but authentication, which is not in the service call
        task = progress.add_task(f"SQL {operation}", total=len(requests))
        for n, request in enumerate(requests):
            async with factory() as session:
                if n >= warmup:
                    clock.start((operation, request.kind))
                started = time.perf_counter()
                try:
                    await serve_in_process(session, settings, request)
                    await session.commit()
                finally:
                    clock.stop()
                elapsed = (time.perf_counter() - started) * 1000
            if n >= warmup:
                t = timings.setdefault((operation, request.kind), Timings())
                t.service.append(elapsed)
                t.sql.append(clock.seconds * 1000)
                t.statements.append(clock.statements)
            progress.advance(task)


# --- reporting ------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def markdown_table(*columns: str) -> Table:
    table = Table(box=box.MARKDOWN)
    for n, column in enumerate(columns):
        table.add_column(column, justify="left" if n < 2 else "right", no_wrap=True)
    return table


def print_table(console: Console, table: Table) -> None:
    """The Markdown table without the blank lines rich puts around it."""
    with console.capture() as capture:
        console.print(table)
    lines = [line.rstrip() for line in capture.get().splitlines() if line.strip()]
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def report(console: Console, timings: dict[tuple[str, str], Timings], heading: str) -> list[str]:
    """Print the tables; return the targets missed."""
    console.print(f"\n### {heading}\n")
    table = markdown_table(
        "operation", "API p50", "API p95", "API p99", "SQL p50", "SQL p95", "ratio"
    )
    misses = []
    for operation in OPERATIONS:
        t = merged(timings, operation)
        if not t.api:
            continue
        api95 = percentile(t.api, 95)
        if not t.sql:
            table.add_row(
                LABELS[operation],
                ms(statistics.median(t.api)),
                ms(api95),
                ms(percentile(t.api, 99)),
                "-",
                "-",
                "-",
            )
            continue
        sql95 = percentile(t.sql, 95)
        ratio = api95 / sql95 if sql95 else float("inf")
        table.add_row(
            LABELS[operation],
            ms(statistics.median(t.api)),
            ms(api95),
            ms(percentile(t.api, 99)),
            ms(statistics.median(t.sql)),
            ms(sql95),
            f"{ratio:.1f}×",
        )
        target = TARGET_MS.get(operation)
        if target is not None and api95 >= target:
            misses.append(f"{operation}: API p95 {ms(api95)} ≥ {target:.0f} ms")
        if ratio > MAX_RATIO:
            misses.append(
                f"{operation}: API p95 / SQL p95 = {ratio:.1f}× > {MAX_RATIO:.0f}× "
                f"({ms(api95)} vs {ms(sql95)})"
            )
    print_table(console, table)
    console.print(
        "\n### by filter, with the in-process service time (SQL + ORM + masking + pydantic)\n"
    )
    detail = markdown_table(
        "operation",
        "filter",
        "requests",
        "response",
        "statements",
        "API p50",
        "API p95",
        "service p50",
        "service p95",
        "SQL p50",
        "SQL p95",
        "ratio",
    )
    for operation in OPERATIONS:
        kinds = FILTERS if operation in FILTERED else ("-",)
        for kind in kinds:
            k = timings.get((operation, kind))
            if k is None or not k.api or not k.sql:
                continue
            api95, sql95 = percentile(k.api, 95), percentile(k.sql, 95)
            detail.add_row(
                operation,
                kind,
                str(len(k.api)),
                f"{statistics.mean(k.size) / 1024:.1f} KB",
                f"{statistics.mean(k.statements):.1f}",
                ms(statistics.median(k.api)),
                ms(api95),
                ms(statistics.median(k.service)),
                ms(percentile(k.service, 95)),
                ms(statistics.median(k.sql)),
                ms(sql95),
                f"{api95 / sql95:.1f}×" if sql95 else "-",
            )
    print_table(console, detail)
    console.print("\n### targets\n")
    console.print(
        "list, count, profile API p95 < 50 ms; dashboard < 150 ms; API p95 ≤ 3× SQL p95\n"
    )
    for line in misses or ["all met"]:
        console.print(f"- {'MISS ' if misses else ''}{line}")
    return misses


def plan_summary(lines: list[str]) -> list[str]:
    """The top node (and its buffers), the scans, joins and aggregates, and the times."""
    keep = lines[:1]
    if len(lines) > 1 and lines[1].strip().startswith("Buffers"):
        keep.append(lines[1])
    for line in lines[1:]:
        text = line.strip()
        if any(word in text for word in PLAN_WORDS) or text.startswith(
            ("Planning Time", "Execution Time")
        ):
            keep.append(line)
    return keep


def squeeze(statement: str, width: int = 600) -> str:
    text = " ".join(statement.split())
    start = text.find(" FROM ")
    if start > 0 and text.startswith("SELECT") and start > 120:
        text = "SELECT … " + text[start + 1 :]
    return text if len(text) <= width else text[: width - 1] + "…"


def literal(value: Any) -> str:
    """A parameter as an SQL literal, for EXECUTE."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain_lines(
    connection: asyncpg.Connection, statement: str, parameters: tuple[Any, ...], *, generic: bool
) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) with a custom plan (for these values) or the generic plan
    that a prepared statement may settle on after five executions."""
    if not generic:
        # Once to warm the cache (the measured runs had it warm), then the plan shown.
        await connection.fetch("EXPLAIN (ANALYZE) " + statement, *parameters)
        rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)
        return [row[0] for row in rows]
    await connection.execute("SET plan_cache_mode = force_generic_plan")
    try:
        await connection.execute(f"PREPARE bench_generic AS {statement}")
        try:
            arguments = f"({', '.join(literal(p) for p in parameters)})" if parameters else ""
            rows = await connection.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic{arguments}"
            )
        finally:
            await connection.execute("DEALLOCATE bench_generic")
    finally:
        await connection.execute("RESET plan_cache_mode")
    return [row[0] for row in rows]


def execution_time(lines: list[str]) -> str:
    for line in lines:
        if line.startswith("Execution Time"):
            return line.split(":", 1)[1].strip()
    return "?"


async def explain(url: str, clock: SqlClock, console: Console, full: bool) -> None:
    console.print(
        "\n### EXPLAIN (ANALYZE, BUFFERS): the costliest statement of each, custom and generic "
        "plan\n"
    )
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        for operation in OPERATIONS:
            kinds = FILTERS if operation in FILTERED else ("-",)
            for kind in kinds:
                found = clock.costliest((operation, kind))
                if found is None:
                    continue
                top, share = found
                custom = await explain_lines(
                    connection, top.statement, top.parameters, generic=False
                )
                generic = await explain_lines(
                    connection, top.statement, top.parameters, generic=True
                )
                title = operation if kind == "-" else f"{operation} / {kind}"
                parameters = ", ".join(repr(p) for p in top.parameters)
                console.print(
                    f"#### {title}: {share:.0%} of its SQL time; {top.executions} executions, "
                    f"mean {ms(top.total / top.executions * 1000)}, slowest "
                    f"{ms(top.slowest * 1000)}; explained: custom plan {execution_time(custom)}, "
                    f"generic plan {execution_time(generic)}\n",
                    markup=False,
                )
                console.print(
                    f"```\n{squeeze(shape(top.statement))}\n-- parameters: {parameters[:300]}\n"
                    "-- custom plan (planned for these values):\n"
                    + "\n".join(custom if full else plan_summary(custom))
                    + "\n-- generic plan (what the prepared statement may reuse):\n"
                    + "\n".join(generic if full else plan_summary(generic))
                    + "\n```\n",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    finally:
        await connection.close()


async def dataset(url: str) -> str:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        # Planner estimates: exact counts of 5M rows would take seconds.
        rows = await connection.fetch(
            "SELECT relname, reltuples::bigint AS n FROM pg_class "
            "WHERE relname IN ('interaction', 'message', 'call_detail', 'interaction_event') "
            "AND relkind = 'r'"
        )
        version = await connection.fetchval("SHOW server_version")
        revision = await connection.fetchval("SELECT version_num FROM alembic_version")
        buffers = await connection.fetchval("SHOW shared_buffers")
    finally:
        await connection.close()
    counts = {row["relname"]: row["n"] for row in rows}
    return (
        f"~{counts.get('interaction', 0):,} interactions, ~{counts.get('message', 0):,} "
        f"messages, ~{counts.get('call_detail', 0):,} call details, "
        f"~{counts.get('interaction_event', 0):,} events (schema {revision}); "
        f"PostgreSQL {version.split()[0]} "
        f"(shared_buffers {buffers}), {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


# --- the run --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    console = Console(width=240)
    created: str | None = None
    if args.reuse_url:
        url = args.reuse_url
    else:
        url = created = await create_database(ADMIN)
        console.print(f"created {url}")
    workdir = tempfile.mkdtemp(prefix="bench_reads_")
    server: subprocess.Popen[bytes] | None = None
    engine: AsyncEngine | None = None
    finished = False
    try:
        generation = ""
        await migrate(url)  # a reused database may predate the latest migrations
        if created:
            started = time.perf_counter()
            await generate(url, args.interactions, args.messages)
            seconds = time.perf_counter() - started
            generation = f"; generated in {seconds:.0f} s"
            console.print(
                f"generated {args.interactions:,} interactions and {args.messages:,} messages "
                f"in {seconds:.0f} s"
            )
        settings = load_settings(database_url=url)
        rng = random.Random(args.seed)
        sample = await draw_sample(url, settings, 5000, args.seed)
        count = args.warmup + args.requests
        plans = {
            operation: plan_requests(operation, count, sample, rng)
            for operation in OPERATIONS
            if operation in args.operations
        }

        port = free_port()
        server, log = start_contact_center(
            ["serve", "--no-worker"], url=url, port=port, workdir=workdir, log_name="serve.log"
        )
        timings: dict[tuple[str, str], Timings] = {}
        load_before = os.getloadavg()[0]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            await wait_healthy(http, server, log)
            token = await api_token({**os.environ, "DATABASE_URL": url})
            http.headers["Authorization"] = f"Bearer {token}"
            raw = RawHttp("127.0.0.1", port) if args.client == "raw" else None
            try:
                with Progress(console=console, transient=True) as progress:
                    await measure_api(http, raw, plans, args.warmup, timings, progress)
            finally:
                if raw is not None:
                    await raw.close()
        server.terminate()
        server.wait(timeout=30)
        server = None

        engine = create_engine(settings)
        clock = SqlClock(engine)
        with Progress(console=console, transient=True) as progress:
            await measure_sql(
                create_session_factory(engine),
                settings,
                clock,
                plans,
                args.warmup,
                timings,
                progress,
            )
        heading = (
            f"Read latency: {await dataset(url)}; {args.requests} sequential requests per "
            f"operation after {args.warmup} warm-ups ({args.client} client), 1 serve "
            f"process{generation}; load average "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after the measures"
        )
        report(console, timings, heading)
        if args.explain:
            await explain(url, clock, console, full=args.explain == "full")
        finished = True
    finally:
        if engine is not None:
            await engine.dispose()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if finished:  # else its serve.log may tell why
            shutil.rmtree(workdir, ignore_errors=True)
        if created and not args.keep:
            await drop_database(created, ADMIN)
        elif created:
            console.print(f"\nkept the database: {created}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument(
        "--rows",
        type=int,
        help="a smaller data set: this many interactions and five times as many messages",
    )
    parser.add_argument("--requests", type=int, default=200, help="measured, per operation")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured, per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--operations",
        "--only",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        default=list(OPERATIONS),
        help="comma-separated subset of " + ",".join(OPERATIONS),
    )
    parser.add_argument(
        "--reuse-url", help="an existing filled database: skip creating and generating"
    )
    parser.add_argument("--keep", action="store_true", help="do not drop the created database")
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="the measuring client: prepared bytes on one keep-alive connection (raw), or httpx "
        "(as the first measures were made; about 1 ms more per request)",
    )
    parser.add_argument(
        "--explain",
        nargs="?",
        const="summary",
        choices=("summary", "full"),
        help="EXPLAIN (ANALYZE, BUFFERS) the slowest statements (`full`: whole plans)",
    )
    args = parser.parse_args()
    if args.rows:
        args.interactions, args.messages = args.rows, 5 * args.rows
    unknown = set(args.operations) - set(OPERATIONS)
    if unknown:
        parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
