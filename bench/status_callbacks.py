"""SMS status callbacks alone: Twilio's signed callbacks for sent messages, into 2 API processes.

    .venv/bin/python -m bench.status_callbacks --seconds 30 --concurrency 8,32

A fresh PostgreSQL database (migrated, then seeded server-side with SMS conversations whose
message is SENT with a provider sid, as a worker leaves them), its own `redis-server`, two API
processes (`serve --no-worker`; the load generator spreads its callers over both). Each message
then gets the two callbacks Twilio sends, `sent` and `delivered`, form-encoded and signed with
`X-Twilio-Signature` as the emulator signs them (its published auth token, checked exactly as in
production); a message's `delivered` comes a thousand callbacks after its `sent`, not at the same
instant. Each callback is verified, stored in the webhook ledger and applied (message status,
timeline event, interaction status) in one transaction before the 200.

For each concurrency: 3 s of warm-up, then the measured phase, each on messages of its own. A
callback counts when it is answered 200 with the delivery PROCESSED. The run reports callbacks/s,
p50/p95/p99 latency and the API processes' CPU per callback, and checks that every message that
got its `delivered` is DELIVERED.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg

from bench.common import (
    THIS_CHECKOUT,
    Checkout,
    RawHttp,
    cpu_seconds,
    create_database,
    drop_database,
    free_port,
    migrate_checkout,
    redis_server_command,
    stop_all,
    wait_answering,
)
from bench.ingest import run_phase
from contact_center.providers.registry import (  # type: ignore[import-untyped, unused-ignore]
    EMULATOR_TWILIO_ACCOUNT_SID,
    EMULATOR_TWILIO_AUTH_TOKEN,
)
from contact_center.providers.twilio import (  # type: ignore[import-untyped, unused-ignore]
    compute_signature,
)

PATH = "/webhooks/twilio/sms/status"
TOKEN = EMULATOR_TWILIO_AUTH_TOKEN
PUBLIC_BASE_URL = "http://bench.invalid"  # what the callbacks are signed for (PUBLIC_BASE_URL)
FROM_NUMBER = "+15005550006"
SPACING = 1000  # callbacks between a message's `sent` and its `delivered`
WARM_UP_SECONDS = 3.0
HIGHEST_RATE = 1500  # callbacks/s the seeded messages are sized for

SEED_INTERACTIONS = """
INSERT INTO interaction (id, channel, direction, status, started_at, created_at, updated_at,
                         from_number, to_number, customer_phone, provider, ai_handled,
                         last_message_at)
SELECT md5('interaction:' || n)::uuid, 'SMS', 'OUTBOUND', 'IN_PROGRESS', now(), now(), now(),
       $2, '+54911' || (70000000 + n), '+54911' || (70000000 + n), 'TWILIO', false, now()
FROM generate_series(0, $1 - 1) AS n
"""
SEED_MESSAGES = """
INSERT INTO message (id, interaction_id, direction, body, media, status, provider_message_id,
                     kind, created_at, updated_at, sent_at, attempts)
SELECT md5('message:' || n)::uuid, md5('interaction:' || n)::uuid, 'OUTBOUND',
       'Su clave vence hoy', '[]', 'SENT', 'SM' || md5('sid:' || n), 'TEXT', now(), now(), now(), 1
FROM generate_series(0, $1 - 1) AS n
"""


def sid(message: int) -> str:
    """The provider sid seeded for message number `message` (as SEED_MESSAGES writes it)."""
    return "SM" + hashlib.md5(f"sid:{message}".encode(), usedforsecurity=False).hexdigest()


def callback(n: int, first: int) -> tuple[int, str]:
    """The n-th callback of a phase whose messages start at `first`: (message, status)."""
    block, offset = divmod(n, 2 * SPACING)
    status = "sent" if offset < SPACING else "delivered"
    return first + block * SPACING + offset % SPACING, status


def signed_request(message: int, status: str) -> tuple[bytes, dict[str, str]]:
    form = {
        "AccountSid": EMULATOR_TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": FROM_NUMBER,
        "MessageSid": sid(message),
        "MessageStatus": status,
        "SmsSid": sid(message),
        "SmsStatus": status,
        "To": f"+54911{70000000 + message}",
    }
    if status == "delivered":
        form["RawDlrDoneDate"] = time.strftime("%y%m%d%H%M", time.gmtime())
    signature = compute_signature(EMULATOR_TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + PATH, form)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return urlencode(form).encode(), headers


def messages_per_phase(seconds: float) -> int:
    """Messages enough for a phase at HIGHEST_RATE callbacks/s, whole blocks of SPACING."""
    blocks = int(seconds * HIGHEST_RATE / 2 / SPACING) + 1
    return blocks * SPACING


async def measure(
    seconds: float,
    concurrencies: list[int],
    checkout: Checkout = THIS_CHECKOUT,
    sample_api_to: Path | None = None,
    ceiling: bool = False,
) -> list[dict[str, Any]]:
    """One run on a fresh database and Redis (dropped and stopped at the end): a warm-up and a
    measured phase per concurrency. With `sample_api_to`, the first API process runs under the
    CPU-time sampler during the measured phase of the first concurrency. With `ceiling`, the two
    processes are bench/raw_ceiling.py's bare app (the same statements on asyncpg) instead of
    the product's."""
    url = await create_database()
    workdir = tempfile.mkdtemp(prefix="cc-status-")
    processes: list[subprocess.Popen[bytes]] = []
    results: list[dict[str, Any]] = []
    try:
        redis_port = free_port()
        env = checkout.env(
            {
                **os.environ,
                "DATABASE_URL": url,
                "LOG_LEVEL": "WARNING",
                "RECORDINGS_DIR": workdir,
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
            }
        )
        await migrate_checkout(checkout, env)
        per_phase = [
            (messages_per_phase(WARM_UP_SECONDS), messages_per_phase(seconds))
            for _ in concurrencies
        ]
        total = sum(warm + measured for warm, measured in per_phase)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(SEED_INTERACTIONS, total, FROM_NUMBER)
            await connection.execute(SEED_MESSAGES, total)
            await connection.execute("ANALYZE interaction, message")
        finally:
            await connection.close()
        processes.append(
            subprocess.Popen(
                redis_server_command(redis_port, workdir),
                stdout=subprocess.DEVNULL,
            )
        )
        ports = [free_port(), free_port()]
        for index, port in enumerate(ports):
            log = Path(workdir, f"serve-{port}.log")
            sampled = sample_api_to if index == 0 else None
            command = checkout.module("contact_center", "serve", "--no-worker", sample_to=sampled)
            if ceiling:
                command = checkout.module(
                    "uvicorn",
                    *("bench.raw_ceiling:app", "--host", "127.0.0.1", "--port", str(port)),
                    *("--no-access-log", "--log-level", "warning"),
                    sample_to=sampled,
                )
            processes.append(
                subprocess.Popen(
                    command,
                    env={
                        **env,
                        "APP_PORT": str(port),
                        **({"TWILIO_AUTH_TOKEN": TOKEN} if ceiling else {}),
                    },
                    cwd=checkout.root,
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        servers = processes[1:]
        for port, server in zip(ports, servers, strict=True):
            await wait_answering(
                port, "/ping" if ceiling else "/api/health/ready", server, Path(workdir)
            )

        first = 0
        for concurrency, (warm, measured) in zip(concurrencies, per_phase, strict=True):

            def sender(first_message: int) -> Any:
                async def send(client: RawHttp, number: int) -> tuple[int, bytes]:
                    body, headers = signed_request(*callback(number, first_message))
                    status, answer = await client.request("POST", PATH, body, headers)
                    if status == 200 and json.loads(answer).get("status") != "PROCESSED":
                        return 599, answer  # answered, but not applied: counts as an error
                    return status, answer

                return send

            await run_phase(ports, WARM_UP_SECONDS, concurrency, sender(first), count=2 * warm)
            first += warm
            sampling = sample_api_to is not None and not results
            if sampling:
                os.kill(servers[0].pid, signal.SIGUSR1)
            before = [cpu_seconds(s.pid) for s in servers]
            result = await run_phase(ports, seconds, concurrency, sender(first), count=2 * measured)
            cpu = sum(cpu_seconds(s.pid) - b for s, b in zip(servers, before, strict=True))
            if sampling:
                os.kill(servers[0].pid, signal.SIGUSR2)
            answered = result["events"] + result["errors"]
            delivered_sent = sum(1 for n in range(answered) if callback(n, first)[1] == "delivered")
            connection = await asyncpg.connect(url)
            try:
                delivered = await connection.fetchval(
                    "SELECT count(*) FROM message WHERE status = 'DELIVERED' "
                    "AND provider_message_id = ANY($1::text[])",
                    [sid(callback(n, first)[0]) for n in range(answered)],
                )
            finally:
                await connection.close()
            results.append(
                {
                    **result,
                    "concurrency": concurrency,
                    "api_cpu_ms": cpu / max(result["events"], 1) * 1000,
                    "ran_out": answered >= 2 * measured,
                    "delivered_ok": delivered == delivered_sent,
                }
            )
            first += measured
    finally:
        stop_all(processes)
        await drop_database(url)
    return results


async def main(seconds: float, concurrencies: list[int], ceiling: bool) -> None:
    runs = [("product", await measure(seconds, concurrencies))]
    if ceiling:
        runs.append(("raw ceiling", await measure(seconds, concurrencies, ceiling=True)))
    print(f"\n{seconds:.0f} s per phase, 2 API processes\n")
    print(
        "| server | callers | callbacks/s | p50 ms | p95 ms | p99 ms | errors "
        "| API CPU ms/callback |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for server, results in runs:
        for r in results:
            print(
                f"| {server} | {r['concurrency']} | {r['rate']:.0f} | {r['p50']:.1f} "
                f"| {r['p95']:.1f} | {r['p99']:.1f} | {r['errors']} | {r['api_cpu_ms']:.2f} |"
            )
    for r in (r for _, results in runs for r in results):
        if r["ran_out"]:
            print(f"\n{r['concurrency']} callers: the seeded messages ran out before the end")
        if not r["delivered_ok"]:
            print(
                f"\n{r['concurrency']} callers: a delivered callback left its message not DELIVERED"
            )


def concurrency_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=concurrency_list, default=[8, 32])
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="then the same load on bench/raw_ceiling.py's bare app (its status callback route)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.ceiling))
