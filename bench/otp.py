"""OTP benchmark: create and verify throughput, and /api/health latency while codes are hashed.

Starts the production topology on this machine: its own redis-server on a free port, one
`contact-center serve --no-worker` (with the emulated Twilio) and one `contact-center worker`, on a
fresh PostgreSQL database (BENCH_POSTGRES_URL names the server), then:
  1. creates N challenges (distinct phones, so the rate limit does not interfere), concurrently;
  2. verifies each once with a wrong code (every verification runs Argon2id), concurrently;
  3. meanwhile polls /api/health every 20 ms and reports its latency percentiles.

    .venv/bin/python -m bench.otp --count 400 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.common import (
    api_token,
    create_database,
    drop_database,
    free_port,
    percentile,
    redis_server_command,
)


async def run(count: int, concurrency: int) -> None:
    console = Console()
    url = await create_database()
    port = free_port()
    redis_port = free_port()
    workdir = tempfile.mkdtemp()
    redis = subprocess.Popen(redis_server_command(redis_port, workdir), stdout=subprocess.DEVNULL)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "RECORDINGS_DIR": workdir,
        "OTP_RATE_LIMIT_MAX": "1000",
        "TWILIO_MAX_MPS": "1000",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "serve", "--no-worker"],
        env=env,
        stdout=Path(workdir, "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "worker"],
        env=env,
        stdout=Path(workdir, "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await http.get("/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the service did not start; see " + workdir + "/serve.log")
                await asyncio.sleep(0.2)
            http.headers["Authorization"] = f"Bearer {await api_token(env)}"
            health: dict[str, list[float]] = {"create": [], "verify": []}
            phase = "create"
            stop = asyncio.Event()

            async def poll_health() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    await http.get("/api/health")
                    health[phase].append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.02)

            gate = asyncio.Semaphore(concurrency)
            ids: list[str] = []

            async def create(i: int) -> None:
                async with gate:
                    response = await http.post(
                        "/api/otp", json={"phone": f"+54911{50000000 + i}", "purpose": "LOGIN_2FA"}
                    )
                    response.raise_for_status()
                    ids.append(response.json()["id"])

            async def verify(challenge: str) -> None:
                async with gate:
                    response = await http.post(
                        "/api/otp/verify", json={"challengeId": challenge, "code": "000000"}
                    )
                    response.raise_for_status()

            poller = asyncio.create_task(poll_health())
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("creating", total=count)
                started = time.perf_counter()
                await asyncio.gather(*(create(i) for i in range(count)))
                create_seconds = time.perf_counter() - started
                progress.update(task, completed=count)
                await asyncio.sleep(2)  # let the worker hash and send the codes
                phase = "verify"
                task = progress.add_task("verifying", total=count)
                started = time.perf_counter()
                await asyncio.gather(*(verify(c) for c in ids))
                verify_seconds = time.perf_counter() - started
                progress.update(task, completed=count)
            stop.set()
            await poller
        table = Table(
            title=f"OTP ({count} challenges, {concurrency} concurrent; PostgreSQL + Redis, "
            "1 serve + 1 worker)"
        )
        for column in ("measure", "value"):
            table.add_column(column)
        table.add_row("create throughput", f"{count / create_seconds:.0f} /s")
        table.add_row("verify throughput (Argon2id each)", f"{count / verify_seconds:.0f} /s")
        for name, values in health.items():
            p50, p99 = statistics.median(values), percentile(values, 99)
            table.add_row(
                f"/api/health p50 / p99 during {name}s",
                f"{p50:.1f} ms / {p99:.1f} ms ({len(values)} polls)",
            )
        console.print(table)
    finally:
        for process in (server, worker, redis):
            process.terminate()
            process.wait(timeout=30)
        await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency))


if __name__ == "__main__":
    main()
