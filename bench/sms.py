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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from bench.common import (
    RawHttp,
    api_token,
    create_database,
    drop_database,
    free_port,
    percentile,
    redis_server_command,
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


async def main(count: int, concurrency: int, workers: int) -> None:
    url = await create_database()
    workdir = tempfile.mkdtemp(prefix="cc-sms-")
    redis_port, api_port, emulator_port = free_port(), free_port(), free_port()
    api_base = f"http://127.0.0.1:{api_port}"
    emulator_base = f"http://127.0.0.1:{emulator_port}"
    env = {
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
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*args],
            env=env,
            stdout=Path(workdir, f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    start("redis", *redis_server_command(redis_port, workdir))
    emulator = start(
        "emulator",
        sys.executable,
        *("-m", "contact_center", "emulator", "--port", str(emulator_port), "--target", api_base),
    )
    api = start("api", sys.executable, "-m", "contact_center", "serve", "--no-worker")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    try:
        async with (
            httpx.AsyncClient(base_url=api_base, timeout=60, limits=limits) as http,
            httpx.AsyncClient(base_url=emulator_base, timeout=60) as provider,
        ):
            await wait_ready(http, "/api/health/ready", api)
            await wait_ready(provider, "/twilio/outbox", emulator)
            for i in range(workers):
                start(f"worker-{i + 1}", sys.executable, "-m", "contact_center", "worker")
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
            await asyncio.sleep(3)  # let the last status callbacks land
            delivered = await database_connection.fetchval(
                "SELECT count(*) FROM message WHERE id = ANY($1::uuid[]) AND status = 'DELIVERED'",
                ids,
            )
            await database_connection.close()
            outbox = (await provider.get("/twilio/outbox")).json()["items"]
            bodies = [item["body"] for item in outbox if "Su clave vence hoy" in item["body"]]
            api_rss = rss_kib(api.pid)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        await drop_database(url)

    print(f"\n{count} SMS, {concurrency} concurrent callers, 1 API process, {workers} workers\n")
    print("| measure | result |")
    print("| --- | --- |")
    print(f"| API accept rate (202 answers) | {count / api_done:.0f} /s |")
    print(
        f"| API accept latency p50 / p99 | {statistics.median(accepted):.1f} ms / "
        f"{percentile(accepted, 99):.1f} ms |"
    )
    print(f"| end to end: first call to last message in the outbox | {count / elapsed:.0f} /s |")
    print(f"| in the outbox exactly once | {len(bodies) == len(set(bodies)) == count} |")
    print(f"| delivered (status callback applied) 3 s after the last send | {delivered} |")
    print(f"| API process RSS / peak | {api_rss[0] // 1024} MiB / {api_rss[1] // 1024} MiB |")
    print(f"\nlogs: {workdir}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency, args.workers))
