"""An older commit against this checkout, and against the raw ceiling, in one run on one machine.

    .venv/bin/python -m bench.compare --old c3fa0c0 --seconds 30 --concurrency 8,32 --rounds 2
    .venv/bin/python -m bench.compare --old c3fa0c0 --seconds 20 --rounds 0 --profile

The old commit is checked out in a temporary git worktree and run with this checkout's
interpreter and installed dependencies (its `src` first on PYTHONPATH); the run refuses to start
when the old commit's `uv.lock` pins a package at another version than this checkout's.
`--new REV` measures another commit the same way instead of this checkout (by default: this
checkout as it is, uncommitted changes included, which the
report says). Each round runs, alternating the order of the contenders from one round to the
next so that a drift of the machine's load does not favour one of them:

  ingest   BuilderBot inbound WhatsApp messages to open conversations (every customer's
           conversation is opened first, then 3 s of warm-up), 2 API processes, for each
           `--concurrency`: old, new, and the raw ceiling (bench/raw_ceiling.py: the same writes
           as the old commit's ingest, bare ASGI + asyncpg, on a database migrated by the old
           commit, whose statements it replays)
  sms      end to end as bench.sms (API, emulator, 2 workers): old and new
  status   Twilio's signed status callbacks for SENT messages, 2 API processes
           (bench.status_callbacks), for each `--concurrency`: old and new

Every run makes its own database and `redis-server` and drops and stops them at the end. The
report is markdown: every run (events/s, latency p50/p95/p99, errors, CPU per event of the
measured processes), then new/old and new/ceiling per round and their median over the rounds,
and the full commit hashes measured. For SMS, events/s is end to end (first call to last message
accepted by the emulated provider) and the latency is the API's answer to the send.

`--profile` adds, after the rounds, one ingest run of each contender with the CPU-time sampler
(bench/cpu_sampler.py) in the first API process during the measured phase (at the highest
concurrency), and one SMS run of old and new with it in the first worker, and prints where their
CPU went by package. The sampler costs a little CPU itself: the profiled runs are not counted in
the comparison. Their collapsed stacks stay in the results folder for flame graphs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench import sms, status_callbacks
from bench.common import (
    ADMIN,
    THIS_CHECKOUT,
    Checkout,
    RawHttp,
    asyncpg_url,
    cpu_seconds,
    create_database,
    drop_database,
    free_port,
    migrate_checkout,
    redis_server_command,
    stop_all,
    wait_answering,
)
from bench.cpu_sampler import breakdown
from bench.ingest import inbound_whatsapp, run_phase

WARM_UP_SECONDS = 3.0


@dataclass
class Report:
    """What the run measured, in the order it was measured."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[tuple[str, Path]] = field(default_factory=list)

    def add(self, round_: int, bench: str, contender: str, result: dict[str, Any]) -> None:
        row = {"round": round_, "bench": bench, "contender": contender, **result}
        self.rows.append(row)
        print(
            f"  round {round_} {bench:<7} {contender:<8} callers {result['concurrency']:>3}: "
            f"{result['rate']:7.1f} /s, p99 {result['p99']:7.1f} ms, errors {result['errors']}",
            flush=True,
        )


# --- the checkouts ----------------------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=THIS_CHECKOUT.root, capture_output=True, text=True, check=True
    ).stdout.strip()


def _pins(lock: str) -> dict[str, str]:
    """Each locked package's version (the project's own entry, whose declared dependencies may
    differ, aside)."""
    packages = tomllib.loads(lock).get("package", [])
    return {
        p["name"]: str(p.get("version"))
        for p in packages
        if p.get("source", {}).get("editable") is None
        and p.get("source", {}).get("virtual") is None
    }


@contextmanager
def worktree(rev: str, label: str) -> Iterator[Checkout]:
    """A temporary worktree of `rev`, ready to run on this checkout's interpreter; removed after.

    The console's compiled catalogs and front-end files are not in git: they are compiled and
    copied from this checkout, as scripts/bootstrap makes them."""
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    ours = _pins((THIS_CHECKOUT.root / "uv.lock").read_text())
    theirs = _pins(git("show", f"{commit}:uv.lock"))
    other = sorted(name for name, version in theirs.items() if ours.get(name) != version)
    if other:
        raise SystemExit(
            f"{rev} ({commit[:12]}) pins other versions than this checkout ({', '.join(other)}):"
            " running it on this checkout's environment would not measure it; use a checkout "
            "with its own environment instead"
        )
    root = Path(tempfile.mkdtemp(prefix=f"cc-{label}-"))
    git("worktree", "add", "--detach", str(root), commit)
    try:
        package = Path("src/contact_center/console")
        vendor = THIS_CHECKOUT.root / package / "static/vendor"
        locale = str(root / package / "locale")
        if vendor.is_dir():
            shutil.copytree(vendor, root / package / "static/vendor", dirs_exist_ok=True)
        subprocess.run(
            [str(Path(sys.executable).parent / "pybabel"), "-q", "compile", "-d", locale],
            check=True,
        )
        checkout = Checkout(root, label, commit)
        where = subprocess.run(
            [sys.executable, "-c", "import contact_center; print(contact_center.__file__)"],
            env=checkout.env(),
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not where.startswith(str(root / "src")):
            raise SystemExit(f"the worktree's code is not the one imported: {where}")
        yield checkout
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(root)],
            cwd=THIS_CHECKOUT.root,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def this_checkout() -> Checkout:
    commit = git("rev-parse", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no")
    label = "new"
    return Checkout(
        THIS_CHECKOUT.root, label, commit + (" + uncommitted changes" if changed else "")
    )


# --- webhook ingest ---------------------------------------------------------------------------


def ingest_request(tag: str, customers: int) -> Any:
    """BuilderBot's inbound text message number n (customer n mod `customers`), unique bodies."""
    request = inbound_whatsapp(customers, tag=tag)

    async def send(client: RawHttp, n: int) -> tuple[int, bytes]:
        status, answer = await request(client, n)
        if status == 200:
            ack = json.loads(answer)
            if ack.get("duplicate") or ack.get("status") != "PROCESSED":
                return 599, answer  # answered, but not stored and applied: an error
        return status, answer

    return send


async def ingest(
    contender: str,
    code: Checkout,
    schema: Checkout,
    seconds: float,
    concurrencies: list[int],
    customers: int,
    sample_to: Path | None = None,
) -> list[dict[str, Any]]:
    """One database and Redis, 2 server processes (the checkout's `serve`, or the raw ceiling),
    the customers' conversations opened, then per concurrency a warm-up and a measured phase."""
    ceiling = contender == "ceiling"
    url = await create_database()
    workdir = tempfile.mkdtemp(prefix=f"cc-compare-ingest-{contender}-")
    processes: list[subprocess.Popen[bytes]] = []
    results = []
    finished = False
    try:
        redis_port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "RECORDINGS_DIR": workdir,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
        }
        await migrate_checkout(schema, schema.env(env))
        processes.append(
            subprocess.Popen(redis_server_command(redis_port, workdir), stdout=subprocess.DEVNULL)
        )
        ports = [free_port(), free_port()]
        for index, port in enumerate(ports):
            sampled = sample_to if index == 0 else None
            if ceiling:
                command = THIS_CHECKOUT.module(
                    "uvicorn",
                    *("bench.raw_ceiling:app", "--host", "127.0.0.1", "--port", str(port)),
                    *("--no-access-log", "--log-level", "warning"),
                    sample_to=sampled,
                )
                run_env, cwd = THIS_CHECKOUT.env(env), THIS_CHECKOUT.root
            else:
                command = code.module("contact_center", "serve", "--no-worker", sample_to=sampled)
                run_env, cwd = code.env(env), code.root
            processes.append(
                subprocess.Popen(
                    command,
                    env={**run_env, "APP_PORT": str(port)},
                    cwd=cwd,
                    stdout=Path(workdir, f"serve-{port}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        servers = processes[1:]
        for port, server in zip(ports, servers, strict=True):
            ready = "/ping" if ceiling else "/api/health/ready"
            await wait_answering(port, ready, server, Path(workdir))
        run = uuid.uuid4().hex[:6]
        opened = await run_phase(
            ports, 600, max(concurrencies), ingest_request(f"{run}-open", customers), customers
        )
        if opened["events"] != customers:
            raise SystemExit(f"{contender}: opened {opened['events']} of {customers} conversations")
        for concurrency in concurrencies:
            tag = f"{run}-{concurrency}"
            await run_phase(
                ports, WARM_UP_SECONDS, concurrency, ingest_request(f"{tag}-warm", customers)
            )
            sampling = sample_to is not None
            if sampling:
                os.kill(servers[0].pid, signal.SIGUSR1)
            before = [cpu_seconds(s.pid) for s in servers]
            result = await run_phase(ports, seconds, concurrency, ingest_request(tag, customers))
            cpu = sum(cpu_seconds(s.pid) - b for s, b in zip(servers, before, strict=True))
            if sampling:
                os.kill(servers[0].pid, signal.SIGUSR2)
            results.append(
                {
                    **result,
                    "concurrency": concurrency,
                    "cpu_ms": cpu / max(result["events"], 1) * 1000,
                }
            )
        await asyncio.sleep(0.5)  # the sampler's file is written by the signal handler
        finished = True
    finally:
        stop_all(processes)
        await drop_database(url)
        if finished:  # else the servers' logs may tell why
            shutil.rmtree(workdir, ignore_errors=True)
    return results


# --- the report -------------------------------------------------------------------------------


def number(value: float, digits: int = 1) -> str:
    return "–" if value != value else f"{value:,.{digits}f}"  # NaN: not measured


def ratio(top: float, bottom: float) -> str:
    return f"{top / bottom:.2f} ×" if bottom and top == top and bottom == bottom else "–"


def print_runs(report: Report) -> None:
    print("\n### Every run\n")
    print(
        "| round | bench | callers | code | events/s | p50 ms | p95 ms | p99 ms | errors "
        "| CPU ms/event |"
    )
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in report.rows:
        print(
            f"| {row['round']} | {row['bench']} | {row['concurrency']} | {row['contender']} "
            f"| {number(row['rate'])} | {number(row['p50'])} | {number(row['p95'])} "
            f"| {number(row['p99'])} | {row['errors']} | {number(row['cpu_ms'], 2)} |"
        )


def print_ratios(report: Report) -> None:
    groups: dict[tuple[str, int], dict[int, dict[str, dict[str, Any]]]] = {}
    for row in report.rows:
        key = (row["bench"], row["concurrency"])
        groups.setdefault(key, {}).setdefault(row["round"], {})[row["contender"]] = row
    print("\n### New against old and against the ceiling, per round\n")
    print(
        "| bench | callers | round | old /s | new /s | ceiling /s | new / old | new / ceiling "
        "| old / ceiling | CPU per event old / new |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    medians: list[str] = []
    for (bench, concurrency), rounds in groups.items():
        new_old, new_ceiling = [], []
        for round_, runs in sorted(rounds.items()):
            rate = {name: run["rate"] for name, run in runs.items()}
            old, new = rate.get("old", float("nan")), rate.get("new", float("nan"))
            top = rate.get("ceiling", float("nan"))
            cpu_old = runs["old"]["cpu_ms"] if "old" in runs else float("nan")
            cpu_new = runs["new"]["cpu_ms"] if "new" in runs else float("nan")
            print(
                f"| {bench} | {concurrency} | {round_} | {number(old)} | {number(new)} "
                f"| {number(top)} | {ratio(new, old)} | {ratio(new, top)} | {ratio(old, top)} "
                f"| {ratio(cpu_old, cpu_new)} |"
            )
            if old == old and new == new and old:
                new_old.append(new / old)
            if top == top and new == new and top:
                new_ceiling.append(new / top)
        medians.append(
            f"| {bench} | {concurrency} | {len(rounds)} "
            f"| {f'{statistics.median(new_old):.2f} ×' if new_old else '–'} "
            f"| {f'{statistics.median(new_ceiling):.2f} ×' if new_ceiling else '–'} |"
        )
    print("\n### Median over the rounds\n")
    print("| bench | callers | rounds | new / old (events/s) | new / ceiling |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(medians))


def print_profiles(report: Report) -> None:
    if not report.profiles:
        return
    print("\n### Where the CPU went (CPU-time samples by the package of the innermost frame)\n")
    tables = [(name, *breakdown(path)) for name, path in report.profiles if path.exists()]
    groups = list(tables[0][2]) if tables else []
    print("| package | " + " | ".join(name for name, *_ in tables) + " |")
    print("| --- |" + " ---: |" * len(tables))
    for group in groups:
        cells = [
            f"{100 * parts[group] / total:.0f} %" if total else "–" for _, total, parts, _ in tables
        ]
        print(f"| {group} | " + " | ".join(cells) + " |")
    print("| samples (200 per CPU second) | " + " | ".join(str(t[1]) for t in tables) + " |")
    for name, total, parts, others in tables:
        summary = ", ".join(
            f"{group} {100 * count / total:.0f} %" for group, count in parts.items() if count
        )
        inside = ", ".join(f"{module} {100 * count / total:.0f} %" for module, count in others)
        print(f"\n{name}: {summary}. In other: {inside or 'nothing'}.")
    print(
        "\nC code is charged to the Python line that called it: asyncpg's protocol (Cython) "
        "called by SQLAlchemy's asyncpg dialect counts as SQLAlchemy."
    )
    print("\ncollapsed stacks: " + ", ".join(str(path) for _, path in report.profiles))


async def leftover_databases(before: set[str]) -> list[str]:
    connection = await asyncpg.connect(asyncpg_url(ADMIN))
    try:
        names = {
            row["datname"]
            for row in await connection.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'cc\\_bench\\_%'"
            )
        }
    finally:
        await connection.close()
    return sorted(names - before)


# --- the run ----------------------------------------------------------------------------------


async def compare(args: argparse.Namespace, old: Checkout, new: Checkout, results: Path) -> None:
    before = set(await leftover_databases(set()))
    report = Report()
    contenders = {"old": old, "new": new}
    started = time.monotonic()
    for round_ in range(1, args.rounds + 1):
        # Odd rounds old first, even rounds new first; the ceiling at either end.
        order = ["old", "new", "ceiling"] if round_ % 2 else ["ceiling", "new", "old"]
        print(f"round {round_}: {', '.join(order)}", flush=True)
        for name in order:
            code = contenders.get(name, old)
            for result in await ingest(
                name, code, old if name == "ceiling" else code, args.seconds,
                args.concurrency, args.customers,
            ):  # fmt: skip
                report.add(round_, "ingest", name, result)
        for name in (n for n in order if n != "ceiling"):
            result = await sms.measure(args.sms_count, args.sms_concurrency, 2, contenders[name])
            result["cpu_ms"] = result["api_cpu_ms"] + result["workers_cpu_ms"]
            if not result["exactly_once"]:
                result["errors"] = "not exactly once"
            else:
                result["errors"] = 0
            report.add(round_, "sms", name, result)
        for name in (n for n in order if n != "ceiling"):
            for result in await status_callbacks.measure(
                args.seconds, args.concurrency, contenders[name]
            ):
                result["cpu_ms"] = result.pop("api_cpu_ms")
                if result["ran_out"] or not result["delivered_ok"]:
                    result["errors"] = f"{result['errors']} (check failed)"
                report.add(round_, "status", name, result)
    if args.profile:
        top = max(args.concurrency)
        print(f"profile runs (ingest at {top} callers, SMS)", flush=True)
        for name in ("old", "new", "ceiling"):
            code = contenders.get(name, old)
            path = results / f"ingest-{name}.folded"
            await ingest(
                name, code, old if name == "ceiling" else code, args.seconds, [top],
                args.customers, sample_to=path,
            )  # fmt: skip
            report.profiles.append((f"ingest API, {name}", path))
        for name in ("old", "new"):
            path = results / f"sms-worker-{name}.folded"
            await sms.measure(
                args.sms_count, args.sms_concurrency, 2, contenders[name], sample_worker_to=path
            )
            report.profiles.append((f"SMS worker, {name}", path))
    minutes = (time.monotonic() - started) / 60

    load = os.getloadavg()
    print(f"\n## Old against new ({time.strftime('%Y-%m-%d %H:%M')}, {minutes:.0f} min)\n")
    print(f"- old: `{old.commit}`")
    print(f"- new: `{new.commit}`")
    print(
        "- ceiling: bench/raw_ceiling.py of the new checkout (the old commit's ingest "
        "statements, bare ASGI + asyncpg), on a database migrated by the old commit"
    )
    print(
        f"- machine: {os.cpu_count()} cores, load average {load[0]:.1f} at the end; "
        f"{args.seconds:.0f} s per measured phase, {args.rounds} rounds; SMS: "
        f"{args.sms_count} messages, {args.sms_concurrency} callers, 2 workers"
    )
    print_runs(report)
    print_ratios(report)
    print_profiles(report)
    left = await leftover_databases(before)
    print(f"\ndatabases left behind: {', '.join(left) if left else 'none'}")
    record = {"old": old.commit, "new": new.commit, "args": vars(args), "runs": report.rows}
    await asyncio.to_thread(
        (results / "results.json").write_text, json.dumps(record, indent=2, default=str)
    )
    print(f"results: {results}")


def concurrency_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old", required=True, help="the commit to compare against (a git rev)")
    parser.add_argument("--new", help="another commit instead of this checkout")
    parser.add_argument("--seconds", type=float, default=30, help="per measured phase")
    parser.add_argument("--concurrency", type=concurrency_list, default=[8, 32])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--customers", type=int, default=2000, help="ingest: conversations")
    parser.add_argument("--sms-count", type=int, default=2000)
    parser.add_argument("--sms-concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="add the CPU profile runs")
    parser.add_argument("--out", help="folder for results.json and the profiles")
    args = parser.parse_args()
    results = Path(args.out or tempfile.mkdtemp(prefix="cc-compare-"))
    results.mkdir(parents=True, exist_ok=True)
    with worktree(args.old, "old") as old:
        if args.new:
            with worktree(args.new, "new") as new:
                asyncio.run(compare(args, old, new, results))
        else:
            asyncio.run(compare(args, old, this_checkout(), results))


if __name__ == "__main__":
    main()
