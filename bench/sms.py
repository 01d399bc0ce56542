"""SMS pipeline benchmark: messages/s from the API call to the provider's outbox, 2 workers.

    .venv/bin/python -m bench.sms --count 2000 --concurrency 32 --workers 2

A fresh PostgreSQL database, its own `redis-server`, the provider emulator as its own process
(`contact-center emulator`, so the API process does not also play Twilio), one API process
(`serve --no-worker`) that also receives Twilio's status callbacks, and `--workers` worker
processes. `--count` SMS are sent with `POST /api/sms/send` by `--concurrency` callers; the clock
runs from the first call until the last message is accepted by the emulated Twilio (the row is
SENT or DELIVERED; the emulator's outbox is checked to hold each exactly once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    THIS_CHECKOUT,
    Checkout,
    RawHttp,
    api_token,
    cpu_seconds,
    create_database,
    drop_database,
    free_port,
    percentile,
    redis_server_command,
    stop_all,
)
from bench.ingest import rss_kib


async def wait_ready(
    client: httpx.AsyncClient, path: str, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if (await client.get(path)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{process.args!r} did not start")
        await asyncio.sleep(0.2)


async def measure(
    count: int,
    concurrency: int,
    workers: int,
    checkout: Checkout = THIS_CHECKOUT,
    sample_worker_to: Path | None = None,
) -> dict[str, Any]:
    """One run on a fresh database and Redis (dropped and stopped at the end); the measures.

    With `sample_worker_to`, the first worker runs under the CPU-time sampler during the sends.
    """
    url = await create_database()
    workdir = tempfile.mkdtemp(prefix="cc-sms-")
    redis_port, api_port, emulator_port = free_port(), free_port(), free_port()
    api_base = f"http://127.0.0.1:{api_port}"
    emulator_base = f"http://127.0.0.1:{emulator_port}"
    env = checkout.env(
        {
            **os.environ,
            "DATABASE_URL": url,
            "APP_PORT": str(api_port),
            "LOG_LEVEL": "WARNING",
            "RECORDINGS_DIR": workdir,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "EMULATOR_URL": emulator_base,
            "PUBLIC_BASE_URL": api_base,
            "TWILIO_MAX_MPS": "10000",
            "OUTBOUND_RATE_LIMIT_MAX": "1000000",
            "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
        }
    )
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, command: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=checkout.root,
            stdout=Path(workdir, f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    start("redis", redis_server_command(redis_port, workdir))
    emulator = start(
        "emulator",
        checkout.module(
            "contact_center", "emulator", "--port", str(emulator_port), "--target", api_base
        ),
    )
    api = start("api", checkout.module("contact_center", "serve", "--no-worker"))
    worker_processes: list[subprocess.Popen[bytes]] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    try:
        async with (
            httpx.AsyncClient(base_url=api_base, timeout=60, limits=limits) as http,
            httpx.AsyncClient(base_url=emulator_base, timeout=60) as provider,
        ):
            await wait_ready(http, "/api/health/ready", api)
            await wait_ready(provider, "/twilio/outbox", emulator)
            for i in range(workers):
                sampled = sample_worker_to if i == 0 else None
                command = checkout.module("contact_center", "worker", sample_to=sampled)
                worker_processes.append(start(f"worker-{i + 1}", command))
            http.headers["Authorization"] = f"Bearer {await api_token(env)}"
            database_connection = await asyncpg.connect(url)
            # Workers are up when the queue is consumed: one warm-up message.
            warm = await http.post("/api/sms/send", json={"to": "+5491150000000", "body": "hola"})
            warm.raise_for_status()
            for _ in range(600):
                if await database_connection.fetchval(
                    "SELECT count(*) FROM message WHERE status IN ('SENT', 'DELIVERED')"
                ):
                    break
                await asyncio.sleep(0.2)
            accepted: list[float] = []
            ids: list[str] = []
            auth = {
                "Authorization": http.headers["Authorization"],
                "Content-Type": "application/json",
            }
            pending = iter(range(count))

            async def caller() -> None:
                client = RawHttp("127.0.0.1", api_port)
                for i in pending:
                    body = {"to": f"+54911{60000000 + i}", "body": f"Su clave vence hoy ({i})"}
                    started = time.perf_counter()
                    status, answer = await client.request(
                        "POST", "/api/sms/send", json.dumps(body).encode(), auth
                    )
                    if status != 202:
                        raise SystemExit(f"POST /api/sms/send answered {status}: {answer[:300]!r}")
                    accepted.append((time.perf_counter() - started) * 1000)
                    ids.append(str(json.loads(answer)["messageId"]))
                await client.close()

            measured = [api, *worker_processes]
            cpu_before = [cpu_seconds(p.pid) for p in measured]
            if sample_worker_to is not None:
                os.kill(worker_processes[0].pid, signal.SIGUSR1)
            began = time.monotonic()
            await asyncio.gather(*(caller() for _ in range(concurrency)))
            api_done = time.monotonic() - began
            deadline = time.monotonic() + 1800
            while True:
                sent = await database_connection.fetchval(
                    "SELECT count(*) FROM message WHERE id = ANY($1::uuid[]) "
                    "AND status IN ('SENT', 'DELIVERED')",
                    ids,
                )
                if sent >= count:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {sent} of {count} sent; logs in {workdir}")
                await asyncio.sleep(0.1)
            elapsed = time.monotonic() - began
            if sample_worker_to is not None:
                os.kill(worker_processes[0].pid, signal.SIGUSR2)
            cpu = [cpu_seconds(p.pid) - b for p, b in zip(measured, cpu_before, strict=True)]
            await asyncio.sleep(3)  # let the last status callbacks land
            delivered = await database_connection.fetchval(
                "SELECT count(*) FROM message WHERE id = ANY($1::uuid[]) AND status = 'DELIVERED'",
                ids,
            )
            # From the row written by the API to the provider's acceptance, as the rows say.
            to_sent = [
                float(value)
                for value in await database_connection.fetchval(
                    "SELECT array_agg(extract(epoch FROM sent_at - created_at) * 1000) "
                    "FROM message WHERE id = ANY($1::uuid[]) AND sent_at IS NOT NULL",
                    ids,
                )
                or []
            ]
            await database_connection.close()
            outbox = (await provider.get("/twilio/outbox")).json()["items"]
            bodies = [item["body"] for item in outbox if "Su clave vence hoy" in item["body"]]
            api_rss = rss_kib(api.pid)
    finally:
        stop_all(processes)
        await drop_database(url)
    return {
        "count": count,
        "concurrency": concurrency,
        "workers": workers,
        "accept_rate": count / api_done,
        "rate": count / elapsed,
        "p50": statistics.median(accepted),
        "p95": percentile(accepted, 95),
        "p99": percentile(accepted, 99),
        "sent_p50": statistics.median(to_sent) if to_sent else float("nan"),
        "sent_p95": percentile(to_sent, 95) if to_sent else float("nan"),
        "sent_p99": percentile(to_sent, 99) if to_sent else float("nan"),
        "exactly_once": len(bodies) == len(set(bodies)) == count,
        "delivered": delivered,
        "api_cpu_ms": cpu[0] / count * 1000,
        "workers_cpu_ms": sum(cpu[1:]) / count * 1000,
        "api_rss_kib": api_rss,
        "logs": workdir,
    }


async def main(count: int, concurrency: int, workers: int) -> None:
    result = await measure(count, concurrency, workers)
    rss, peak = result["api_rss_kib"]
    print(f"\n{count} SMS, {concurrency} concurrent callers, 1 API process, {workers} workers\n")
    print("| measure | result |")
    print("| --- | --- |")
    print(f"| API accept rate (202 answers) | {result['accept_rate']:.0f} /s |")
    print(f"| API accept latency p50 / p99 | {result['p50']:.1f} ms / {result['p99']:.1f} ms |")
    print(f"| end to end: first call to last message in the outbox | {result['rate']:.0f} /s |")
    print(
        f"| row written to provider acceptance p50 / p99 | {result['sent_p50']:.0f} ms / "
        f"{result['sent_p99']:.0f} ms |"
    )
    print(f"| in the outbox exactly once | {result['exactly_once']} |")
    print(
        f"| delivered (status callback applied) 3 s after the last send | {result['delivered']} |"
    )
    print(
        f"| CPU per SMS: API / the workers | {result['api_cpu_ms']:.1f} ms / "
        f"{result['workers_cpu_ms']:.1f} ms |"
    )
    print(f"| API process RSS / peak | {rss // 1024} MiB / {peak // 1024} MiB |")
    print(f"\nlogs: {result['logs']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency, args.workers))
