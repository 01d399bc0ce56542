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
) -> dict[str, Any]:
    """Closed loop: `concurrency` callers, each on its own keep-alive connection to one of the
    API processes, sending its next request when the last was answered; requests are numbered
    from 0, up to `count` if given (the phase then ends early when they are all answered)."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9 if count is None else count))
    deadline = time.monotonic() + seconds

    async def caller(index: int) -> None:
        nonlocal errors
        client = RawHttp("127.0.0.1", ports[index % len(ports)])
        while time.monotonic() < deadline:
            n = next(counter, None)
            if n is None:
                break
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

    began = time.monotonic()
    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    elapsed = time.monotonic() - began
    return {
        "events": len(latencies),
        "errors": errors,
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
    }


async def main(seconds: float, concurrency: int, customers: int) -> None:
    url = await create_database()
    own = await asyncpg.connect(url)
    await own.execute("CREATE TABLE bench_insert (id uuid PRIMARY KEY, at timestamptz NOT NULL)")
    await own.close()
    workdir = tempfile.mkdtemp(prefix="cc-ingest-")
    redis_port = free_port()
    redis = subprocess.Popen(redis_server_command(redis_port, workdir), stdout=subprocess.DEVNULL)
    ports = [free_port(), free_port()]
    base_env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RECORDINGS_DIR": workdir,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
    }
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.ingest_app", str(port)],
            env={**base_env, "APP_PORT": str(port)},
            stdout=Path(workdir, f"serve-{port}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) for port in ports]
    try:
        for client, server in zip(clients, servers, strict=True):
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
        idle = [rss_kib(s.pid)[0] for s in servers]

        json_type = {"Content-Type": "application/json"}

        async def ceiling(client: RawHttp, n: int) -> tuple[int, bytes]:
            body = json.dumps({"n": n}).encode()
            return await client.request("POST", "/webhooks/bench-insert", body, json_type)

        run_id = uuid.uuid4().hex[:6]

        async def ingest(client: RawHttp, n: int) -> tuple[int, bytes]:
            number = f"54911{40000000 + n % customers}"
            payload = {
                "eventName": "message.incoming",
                "data": {
                    "body": f"Consulta {run_id}-{n}: quiero saber el saldo de mi cuenta",
                    "name": "Cliente de prueba",
                    "from": number,
                    "attachment": [],
                },
            }
            return await client.request(
                "POST",
                "/webhooks/builderbot/whatsapp",
                json.dumps(payload).encode(),
                {"X-Webhook-Token": WEBHOOK_TOKEN, **json_type},
            )

        # A short warm-up of each, so connection pools and caches are filled.
        await run_phase(ports, 3, concurrency, ceiling)
        await run_phase(ports, 3, concurrency, ingest)
        top = await run_phase(ports, seconds, concurrency, ceiling)
        real = await run_phase(ports, seconds, concurrency, ingest)
        loaded = [rss_kib(s.pid) for s in servers]
    finally:
        for client in clients:
            await client.aclose()
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)
        await drop_database(url)

    print(
        f"\n{seconds:.0f} s per phase, {concurrency} concurrent callers over 2 API processes, "
        f"{customers} customers\n"
    )
    print("| phase | events/s | p50 ms | p95 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, result in (("ceiling: one INSERT", top), ("BuilderBot webhook ingest", real)):
        print(
            f"| {name} | {result['rate']:.0f} | {result['p50']:.1f} | {result['p95']:.1f} "
            f"| {result['p99']:.1f} | {result['errors']} |"
        )
    print(f"\ningest / ceiling: {real['rate'] / top['rate']:.2f}\n")
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
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.customers))
