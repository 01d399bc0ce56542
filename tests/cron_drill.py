"""The periodic-sync drill: two `worker` processes share one Redis for 11 minutes.

It runs in a background thread from the end of collection, alongside the rest of the suite (it
only needs its own database, its own redis-server and its own processes), and the test that reads
its result runs last. Run alone, that test simply waits for the drill.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.live import PrivateRedis, free_port

DURATION_SECONDS = 11 * 60
PERIOD_SECONDS = 5 * 60
CALLS = 20


@dataclass
class SyncRun:
    at: datetime
    metadata: dict[str, Any]


@dataclass
class DrillResult:
    started_at: float
    ready_at: float
    ended_at: float
    stopped_at: float
    runs: list[SyncRun]
    interactions: int
    skipped_by_claim: int
    worker_exit_codes: list[int | None]
    logs: dict[str, str] = field(default_factory=dict)


def _admin_dsn(admin_url: str) -> str:
    return admin_url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _read(database_dsn: str) -> tuple[list[SyncRun], int]:
    connection = await asyncpg.connect(database_dsn)
    try:
        rows = await connection.fetch(
            "SELECT occurred_at, metadata FROM audit_log WHERE action = 'elevenlabs.sync' "
            "ORDER BY occurred_at"
        )
        # Calls only: the satisfaction survey job sends its SMS surveys after the imported calls.
        interactions = await connection.fetchval(
            "SELECT count(*) FROM interaction WHERE channel = 'CALL'"
        )
    finally:
        await connection.close()
    import json

    runs = [
        SyncRun(
            at=row["occurred_at"],
            metadata=json.loads(row["metadata"])
            if isinstance(row["metadata"], str)
            else dict(row["metadata"] or {}),
        )
        for row in rows
    ]
    return runs, int(interactions)


class CronDrill(threading.Thread):
    def __init__(self, admin_url: str, duration: float = DURATION_SECONDS) -> None:
        super().__init__(name="cron-drill", daemon=True)
        self.admin_url = admin_url
        self.duration = duration
        self.result: DrillResult | None = None
        self.error: BaseException | None = None
        self.abort = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        try:
            self.result = self._drill()
        except BaseException as exc:  # reported by the test that reads the result
            self.error = exc

    def wait(self) -> DrillResult:
        self.join(timeout=self.duration + 300)
        if self.error is not None:
            raise self.error
        assert self.result is not None, "the cron drill did not finish"
        return self.result

    def _drill(self) -> DrillResult:
        database = f"cc_cron_{uuid.uuid4().hex[:12]}"
        base = self.admin_url.rsplit("/", 1)[0]
        database_url = f"{base}/{database}"
        directory = Path(tempfile.mkdtemp(prefix="cc-cron-drill-"))
        asyncio.run(_admin(self.admin_url, f'CREATE DATABASE "{database}"'))
        redis = PrivateRedis(str(directory))
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            redis.start()
            port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis.url,
                "APP_PORT": str(port),
                "APP_ENV": "test",
                "LOG_LEVEL": "INFO",
                "RECORDINGS_DIR": str(directory / "recordings"),
                "ELEVENLABS_SYNC_INTERVAL_MINUTES": "5",
                "ELEVENLABS_SYNC_WINDOW_HOURS": "2",
            }

            def start(name: str, *args: str) -> None:
                log = (directory / f"{name}.log").open("wb")
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "contact_center", *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )

            start("web", "serve", "--no-worker")
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).is_success:
                        break
                except httpx.TransportError:
                    pass
                assert processes["web"].poll() is None, "the web process exited"
                assert time.monotonic() < deadline, "the web process did not start"
                time.sleep(0.25)
            httpx.post(
                f"http://127.0.0.1:{port}/_emulator/elevenlabs/calls",
                json={"count": CALLS, "hours": 1, "webhook": False, "seed": 11},
                timeout=30,
            ).raise_for_status()
            started_at = time.time()
            start("worker1", "worker")
            start("worker2", "worker")
            time.sleep(5)  # both workers connected and scheduling
            ready_at = time.time()
            self.abort.wait(self.duration)
            ended_at = time.time()
            codes: list[int | None] = []
            for name in ("worker1", "worker2"):
                processes[name].send_signal(signal.SIGTERM)
            for name in ("worker1", "worker2"):
                try:
                    codes.append(processes[name].wait(timeout=60))
                except subprocess.TimeoutExpired:
                    codes.append(None)
            stopped_at = time.time()
            logs = {
                name: (directory / f"{name}.log").read_text(errors="replace")
                for name in ("worker1", "worker2")
            }
            runs, interactions = asyncio.run(_read(database_url))
            skipped = sum(text.count('"elevenlabs_sync_skipped"') for text in logs.values())
            return DrillResult(
                started_at=started_at,
                ready_at=ready_at,
                ended_at=ended_at,
                stopped_at=stopped_at,
                runs=runs,
                interactions=interactions,
                skipped_by_claim=skipped,
                worker_exit_codes=codes,
                logs={name: text[-4000:] for name, text in logs.items()},
            )
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)
            redis.stop()
            asyncio.run(
                _admin(self.admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            )
            shutil.rmtree(directory, ignore_errors=True)


_current: CronDrill | None = None


def start(admin_url: str) -> CronDrill:
    global _current
    if _current is None:
        _current = CronDrill(admin_url)
        _current.start()
    return _current


def current() -> CronDrill | None:
    return _current


def stop() -> None:
    if _current is not None and _current.is_alive():
        _current.abort.set()
        _current.join(timeout=120)
