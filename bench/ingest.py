"""Webhook ingest benchmark: sustained events/s and latency with 2 API processes on PostgreSQL.

    .venv/bin/python -m bench.ingest --seconds 30 --concurrency 32

It creates a fresh PostgreSQL database and its own `redis-server`, starts two API processes (the
production app, `--no-worker`, behind no proxy: the load generator spreads requests over both),
and runs two phases of the same length and concurrency:

  1. ceiling: the same app answering `POST /webhooks/bench-insert`, one INSERT per request —
     what the stack (uvicorn, the middlewares, a pooled asyncpg connection) can do at best;
  2. ingest: real BuilderBot inbound WhatsApp webhooks (token-checked, stored in the ledger,
     applied: interaction, message, events, committed before the 200).

It reports events/s and p50/p95/p99 latency for both, and the memory of an API process idle and
after the load.

    .venv/bin/python -m bench.ingest --seconds 30 --redaction both --sensitive 0.1

measures what redaction at ingest costs: two pairs of API processes on the same database and
Redis, one with `REDACTION_ENABLED=false` and one with `=true`, and the ingest phase run against
each in turn, `--repeats` times and in alternating order (off, on, on, off…), so both see the same
machine state. A share `--sensitive` of the messages carries a card number or a DNI. It reports
each phase, then the mean events/s of each setting and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    RawHttp,
    create_database,
    drop_database,
    free_port,
    percentile,
    redis_server_command,
)

WEBHOOK_TOKEN = "emulator-builderbot-token"  # the emulator's published credential


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


async def run_phase(
    ports: list[int],
    seconds: float,
    concurrency: int,
    request: Callable[[RawHttp, int], Awaitable[tuple[int, bytes]]],
    count: int | None = None,
    stop: Callable[[], bool] | None = None,
    rate: float | None = None,
) -> dict[str, Any]:
    """Closed loop: `concurrency` callers, each on its own keep-alive connection to one of the
    API processes, sending its next request when the last was answered; requests are numbered
    from 0, up to `count` if given (the phase then ends early when they are all answered), and
    the phase ends early too once `stop()` is true. With `rate`, request n is not sent before
    n / rate seconds into the phase (a steady offered load below the ceiling; its latency is
    counted from when it is sent)."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9 if count is None else count))
    began = time.monotonic()
    deadline = began + seconds

    async def caller(index: int) -> None:
        nonlocal errors
        client = RawHttp("127.0.0.1", ports[index % len(ports)])
        while time.monotonic() < deadline and not (stop is not None and stop()):
            n = next(counter, None)
            if n is None:
                break
            if rate is not None and (wait := began + n / rate - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            started = time.perf_counter()
            try:
                status, _ = await request(client, n)
                ok = status == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
        await client.close()

    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    elapsed = time.monotonic() - began
    return {
        "events": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
        "max": max(latencies) if latencies else float("nan"),
    }


# Valid numbers (Luhn; a DNI's length) for the share of messages that carry one.
SENSITIVE_TEXTS = (
    "Hola, me robaron la tarjeta 4509 9535 6623 3704, la quiero dar de baja",
    "Mi DNI es 38.123.456, necesito el resumen de la cuenta",
)


def sensitive_message(n: int, share: float) -> bool:
    """Whether message n carries a sensitive datum: spread evenly, `share` of them."""
    return share > 0 and int((n + 1) * share) > int(n * share)


def inbound_whatsapp(
    customers: int, sensitive: float = 0.0, tag: str | None = None
) -> Callable[[RawHttp, int], Awaitable[tuple[int, bytes]]]:
    """The ingest load's request n: a BuilderBot inbound WhatsApp webhook from one of
    `customers` numbers, a share `sensitive` of them with a card number or a DNI; bodies are
    unique by `tag` (random by default) and n."""
    run_id = tag or uuid.uuid4().hex[:6]
    json_type = {"Content-Type": "application/json"}

    async def ingest(client: RawHttp, n: int) -> tuple[int, bytes]:
        number = f"54911{40000000 + n % customers}"
        text = f"Consulta {run_id}-{n}: quiero saber el saldo de mi cuenta"
        if sensitive_message(n, sensitive):
            text = f"{SENSITIVE_TEXTS[n % len(SENSITIVE_TEXTS)]} (consulta {run_id}-{n})"
        payload = {
            "eventName": "message.incoming",
            "data": {"body": text, "name": "Cliente de prueba", "from": number, "attachment": []},
        }
        return await client.request(
            "POST",
            "/webhooks/builderbot/whatsapp",
            json.dumps(payload).encode(),
            {"X-Webhook-Token": WEBHOOK_TOKEN, **json_type},
        )

    return ingest


def server_environment(url: str, workdir: str, redis_port: int) -> dict[str, str]:
    """The API processes' environment: the database, the private Redis, quiet logs."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RECORDINGS_DIR": workdir,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
    }


def start_servers(
    base_env: dict[str, str], workdir: str, extra: dict[str, str]
) -> tuple[list[int], list[subprocess.Popen[bytes]]]:
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.ingest_app", str(port)],
            env={**base_env, **extra, "APP_PORT": str(port)},
            stdout=Path(workdir, f"serve-{port}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    return ports, servers


async def wait_ready(
    ports: list[int], servers: list[subprocess.Popen[bytes]], workdir: str
) -> None:
    for port, server in zip(ports, servers, strict=True):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await client.get("/api/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"an API process did not start; see {workdir}")
                await asyncio.sleep(0.2)


async def main(
    seconds: float,
    concurrency: int,
    customers: int,
    redaction: str = "default",
    sensitive: float = 0.0,
    repeats: int = 2,
    warmup: float = 3,
) -> None:
    url = await create_database()
    own = await asyncpg.connect(url)
    await own.execute("CREATE TABLE bench_insert (id uuid PRIMARY KEY, at timestamptz NOT NULL)")
    await own.close()
    workdir = tempfile.mkdtemp(prefix="cc-ingest-")
    redis_port = free_port()
    redis = subprocess.Popen(redis_server_command(redis_port, workdir), stdout=subprocess.DEVNULL)
    base_env = server_environment(url, workdir, redis_port)
    both = redaction == "both"
    # One pair of API processes, or (both) a pair with redaction off and a pair with it on,
    # started one pair after the other (the first one migrates the database).
    settings = {"off": {"REDACTION_ENABLED": "false"}, "on": {"REDACTION_ENABLED": "true"}}
    pairs: dict[str, tuple[list[int], list[subprocess.Popen[bytes]]]] = {}
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for name, extra in settings.items() if both else [("default", {})]:
            pairs[name] = start_servers(base_env, workdir, extra)
            servers += pairs[name][1]
            await wait_ready(*pairs[name], workdir)
        ports = next(iter(pairs.values()))[0]
        idle = [rss_kib(s.pid)[0] for s in servers]

        json_type = {"Content-Type": "application/json"}

        async def ceiling(client: RawHttp, n: int) -> tuple[int, bytes]:
            body = json.dumps({"n": n}).encode()
            return await client.request("POST", "/webhooks/bench-insert", body, json_type)

        ingest = inbound_whatsapp(customers, sensitive)

        # A warm-up of each, so connection pools and caches are filled (and, with --warmup, the
        # tables past their first rows: the first seconds on an empty database run faster).
        await run_phase(ports, 3, concurrency, ceiling)
        for pair_ports, _ in pairs.values():
            await run_phase(pair_ports, warmup, concurrency, ingest)
        top = await run_phase(ports, seconds, concurrency, ceiling)
        phases: list[tuple[str, dict[str, Any]]] = []
        if both:
            for index in range(repeats):
                for name in ("off", "on") if index % 2 == 0 else ("on", "off"):
                    result = await run_phase(pairs[name][0], seconds, concurrency, ingest)
                    phases.append((name, result))
        else:
            phases.append(("default", await run_phase(ports, seconds, concurrency, ingest)))
        loaded = [rss_kib(s.pid) for s in servers]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)
        await drop_database(url)

    print(
        f"\n{seconds:.0f} s per phase, {concurrency} concurrent callers over 2 API processes, "
        f"{customers} customers"
        + (f", {sensitive:.0%} of the messages with a card number or a DNI" if sensitive else "")
        + "\n"
    )
    print("| phase | events/s | p50 ms | p95 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = [("ceiling: one INSERT", top)] + [
        ("BuilderBot webhook ingest" + ("" if name == "default" else f", redaction {name}"), result)
        for name, result in phases
    ]
    for name, result in rows:
        print(
            f"| {name} | {result['rate']:.0f} | {result['p50']:.1f} | {result['p95']:.1f} "
            f"| {result['p99']:.1f} | {result['errors']} |"
        )
    real = phases[0][1]
    print(f"\ningest / ceiling: {real['rate'] / top['rate']:.2f}\n")
    if both:
        off = statistics.mean(r["rate"] for name, r in phases if name == "off")
        on = statistics.mean(r["rate"] for name, r in phases if name == "on")
        print(
            f"redaction off: {off:.0f} events/s, on: {on:.0f} events/s (mean of {repeats}); "
            f"on / off: {on / off:.3f}\n"
        )
    print("| API process | RSS idle | RSS after load | peak RSS |")
    print("| --- | --- | --- | --- |")
    for i, (before, (after, peak)) in enumerate(zip(idle, loaded, strict=True), start=1):
        print(
            f"| #{i} | {before / 1024:.0f} MiB | {after / 1024:.0f} MiB | {peak / 1024:.0f} MiB |"
        )
    print(f"\nlogs: {workdir}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument(
        "--redaction",
        choices=["default", "both"],
        default="default",
        help="both: the ingest phase with REDACTION_ENABLED=false and =true, alternating",
    )
    parser.add_argument(
        "--sensitive", type=float, default=0.0, help="share of messages with a card or a DNI"
    )
    parser.add_argument("--repeats", type=int, default=2, help="ingest phases per setting")
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of unmeasured ingest on each pair first"
    )
    args = parser.parse_args()
    if not 0 <= args.sensitive <= 1:
        parser.error("--sensitive is a share between 0 and 1")
    asyncio.run(
        main(
            args.seconds,
            args.concurrency,
            args.customers,
            args.redaction,
            args.sensitive,
            args.repeats,
            args.warmup,
        )
    )
