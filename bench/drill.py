"""Fault drill: several real processes, real faults, and the invariants checked in the database.

Starts the production topology on this machine: its own redis-server on a free port, a fresh
PostgreSQL database (BENCH_POSTGRES_URL names the server), the provider emulator as its own process
(`contact-center emulator`; every process points at it with EMULATOR_URL, so its Twilio outbox
survives the faults), two `contact-center serve --no-worker` on two ports and two
`contact-center worker`. Twilio status callbacks go to API #1 (PUBLIC_BASE_URL). Then, for about
`--duration` seconds and concurrently:

  * the same N BuilderBot inbound WhatsApp webhooks (`--whatsapp`, over `--customers` numbers)
    and M ElevenLabs post-call webhooks (`--calls`) are each delivered twice, to both APIs,
    interleaved, some copies in parallel; a copy that fails (connection error, 5xx) is delivered
    again to the other API, as a provider would;
  * K SMS (`--sms`, one recipient each) are sent through `POST /api/sms/send` on both APIs.

Faults meanwhile (seconds after the load starts): SIGKILL a worker while SMS are in flight and
start a replacement, SIGKILL API #2 (restarted later), and SIGKILL Redis and start it again on the
same port while both are happening. Then it waits (at most `--settle` seconds) for the system to
settle, checks the invariants with SQL and the emulator's outbox, prints a Markdown report and
exits 1 if any invariant fails. Process logs stay in a temporary directory whose path is printed.

    .venv/bin/python -m bench.drill --whatsapp 300 --customers 100 --calls 100 --sms 500
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import ADMIN, free_port, redis_server_command

BUILDERBOT_PATH = "/webhooks/builderbot/whatsapp"
ELEVENLABS_PATH = "/webhooks/elevenlabs/call"
FINAL_SMS = {"SENT", "DELIVERED"}
# BuilderBot sends no delivery id: the same body within this many seconds is a repeat (docs/api.md).
BUILDERBOT_WINDOW_SECONDS = 10.0
SMS_TAG = re.compile(r"sms-(\d{5})")
# The emulated providers' fixed credentials (docs/architecture.md; the drill talks to
# the processes over HTTP only, as the providers do, so it does not import the package).
EMULATOR_BUILDERBOT_TOKEN = "emulator-builderbot-token"
EMULATOR_ELEVENLABS_SECRET = "emulator-elevenlabs-secret"
EMULATOR_ELEVENLABS_AGENT_ID = "agent_emulator_banco_demo"
SIGNATURE_HEADER = "ElevenLabs-Signature"


def sign(body: bytes, secret: str) -> str:
    """ElevenLabs' webhook signature: `t=<unix>,v0=<HMAC-SHA256 of "<t>.<body>">`."""
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v0={digest}"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def digits(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit())


# --- processes --------------------------------------------------------------------------------


@dataclass
class Service:
    """One process of the drill. `wanted` says whether it should be running right now: a process
    that exits while wanted died on its own (the watcher records it and starts it again)."""

    name: str
    args: list[str]
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    wanted: bool = False
    starts: int = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"=== drill: start #{self.starts} of {self.name} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the drill reaches only the drill
            )
        self.wanted = True

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown at all."""
        self.wanted = False
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM and wait (the clean shutdown), SIGKILL after the grace period."""
        self.wanted = False
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


# --- what the load generator saw --------------------------------------------------------------


@dataclass
class Stats:
    posts: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    ack_status: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    error_types: Counter[str] = field(default_factory=Counter)
    http_5xx: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    gave_up: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    # SMS: messageId -> index of the SMS; indexes whose answer was lost (may or may not exist).
    accepted: dict[str, int] = field(default_factory=dict)
    unknown: set[int] = field(default_factory=set)
    refused: Counter[int] = field(default_factory=Counter)
    # BuilderBot: seconds between the first copy's start and the last copy's answer.
    spans: dict[int, float] = field(default_factory=dict)


@dataclass
class Invariant:
    name: str
    passed: bool
    detail: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """When each fault happens, in seconds after the load starts."""

    worker_kill: float = 12.0
    api_kill: float = 16.0
    redis_kill: float = 18.0
    worker_replacement: float = 19.0
    redis_start: float = 24.0
    api_restart: float = 30.0


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_id = uuid.uuid4().hex[:6]
        self.database = f"cc_drill_{uuid.uuid4().hex[:10]}"
        self.workdir = Path(tempfile.mkdtemp(prefix="cc_drill_"))
        (self.workdir / "recordings").mkdir()
        self.redis_port = free_port()
        self.emulator_port = free_port()
        self.ports = [free_port(), free_port()]
        self.bases = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.emulator = f"http://127.0.0.1:{self.emulator_port}"
        self.database_url = ADMIN.rsplit("/", 1)[0] + f"/{self.database}"
        self.up = [False, False]
        # Requests in flight per API and kind: the API kill waits for some, so that it cuts
        # requests mid-way (an SMS whose answer is lost, a webhook stored but not answered).
        self.inflight: list[Counter[str]] = [Counter(), Counter()]
        self.services: dict[str, Service] = {}
        self.timeline: list[tuple[float, str]] = []
        self.unexpected_exits: list[str] = []
        self.stats = Stats()
        self.plan = Plan()
        self.started = time.monotonic()
        self.load_started: float | None = None
        self.load_seconds = 0.0
        self.settle_seconds: float | None = None
        self.at_worker_kill: dict[str, int] = {}
        self.sending_at_kill: set[str] = set()
        self.token = ""
        self.applied_twice: dict[str, int] = {}
        self.admin: Any = None
        self.db: Any = None
        self.http: httpx.AsyncClient | None = None
        self.gate = asyncio.Semaphore(args.concurrency)

    # --- bookkeeping ---

    def now(self) -> float:
        origin = self.load_started if self.load_started is not None else self.started
        return time.monotonic() - origin

    def note(self, what: str) -> None:
        self.timeline.append((time.monotonic(), what))
        print(f"[{self.now():7.1f} s] {what}", file=sys.stderr, flush=True)

    def env(self, port: int) -> dict[str, str]:
        env = {
            **os.environ,
            "APP_ENV": "development",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "APP_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "RECORDINGS_DIR": str(self.workdir / "recordings"),
            "TWILIO_MAX_MPS": "200",
            "OUTBOUND_RATE_LIMIT_MAX": "100000",
            "PUBLIC_BASE_URL": self.bases[0],
            "EMULATOR_URL": self.emulator,
            "DATABASE_POOL_SIZE": str(self.args.pool_size),
        }
        if self.args.reconcile_after:
            env["RECONCILE_AFTER_SECONDS"] = str(self.args.reconcile_after)
        return env

    def service(self, name: str, args: list[str], env: dict[str, str]) -> Service:
        service = Service(name, args, env, self.workdir)
        self.services[name] = service
        return service

    def contact_center(self, name: str, command: list[str], port: int) -> Service:
        env = self.env(port)
        if command == ["worker"]:
            env["LOG_LEVEL"] = self.args.worker_log_level
        return self.service(name, [sys.executable, "-m", "contact_center", *command], env)

    # --- infrastructure ---

    async def start_redis(self) -> None:
        redis = self.services.get("redis") or self.service(
            "redis",
            redis_server_command(self.redis_port, str(self.workdir)),
            dict(os.environ),
        )
        redis.start()
        deadline = time.monotonic() + 15
        while not port_open(self.redis_port):
            if time.monotonic() > deadline or not redis.running():
                raise RuntimeError(f"redis-server did not start; see {redis.log}")
            await asyncio.sleep(0.05)

    async def wait_ready(self, index: int, seconds: float = 180.0, *, setup: bool = False) -> float:
        """Until GET /api/health/ready answers 200 (database, migrations and queue). During the
        setup an exit is fatal; later the watcher starts a process that died again."""
        assert self.http is not None
        service = self.services[f"api-{index + 1}"]
        started = time.monotonic()
        while True:
            try:
                response = await self.http.get(f"{self.bases[index]}/api/health/ready", timeout=5)
                if response.status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            if not service.running() and (setup or not service.wanted):
                raise RuntimeError(f"{service.name} is not running; see {service.log}")
            if time.monotonic() - started > seconds:
                raise RuntimeError(f"{service.name} not ready after {seconds:.0f} s")
            await asyncio.sleep(0.25)

    async def make_token(self) -> str:
        made = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "contact_center",
                "tokens",
                "create",
                "admin",
                "--name",
                "drill",
            ],
            env=self.env(self.ports[0]),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        token = made.stdout.strip().splitlines()[-1].strip()
        if not token.startswith("cc_pat_"):
            raise RuntimeError(f"tokens create printed no token: {made.stdout!r} {made.stderr!r}")
        return token

    async def setup(self) -> None:
        self.admin = await asyncpg.connect(ADMIN)
        await self.admin.execute(f'CREATE DATABASE "{self.database}"')
        self.note(f"created database {self.database}")
        await self.start_redis()
        self.note(f"redis-server up on port {self.redis_port}")
        emulator = self.service(
            "emulator",
            [
                sys.executable,
                "-m",
                "contact_center",
                "emulator",
                "--port",
                str(self.emulator_port),
                "--target",
                self.bases[0],
            ],
            self.env(self.ports[0]),
        )
        emulator.start()
        self.contact_center("api-1", ["serve", "--no-worker"], self.ports[0]).start()
        ready = await self.wait_ready(0, setup=True)
        self.up[0] = True
        self.note(f"api-1 ready on port {self.ports[0]} ({ready:.1f} s; created user admin)")
        self.token = await self.make_token()
        self.note("API token made with `contact-center tokens create admin --name drill`")
        self.contact_center("api-2", ["serve", "--no-worker"], self.ports[1]).start()
        for name in ("worker-1", "worker-2"):
            self.contact_center(name, ["worker"], self.ports[0]).start()
        ready = await self.wait_ready(1, setup=True)
        self.up[1] = True
        self.note(f"api-2 ready on port {self.ports[1]} ({ready:.1f} s); worker-1, worker-2 up")
        deadline = time.monotonic() + 60
        while not port_open(self.emulator_port):
            if time.monotonic() > deadline or not emulator.running():
                raise RuntimeError(f"the emulator did not start; see {emulator.log}")
            await asyncio.sleep(0.1)
        self.db = await asyncpg.connect(self.database_url)

    async def teardown(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL), then drop the database; each step runs
        even when an earlier one failed."""
        for service in self.services.values():
            try:
                await asyncio.to_thread(service.stop, 10.0 if service.name == "redis" else 30.0)
            except Exception as exc:
                print(f"could not stop {service.name}: {exc!r}", file=sys.stderr)
        try:
            if self.http is not None:
                await self.http.aclose()
            if self.db is not None:
                await self.db.close()
        except Exception as exc:
            print(f"could not close a connection: {exc!r}", file=sys.stderr)
        if self.admin is not None:
            try:
                if self.args.keep_database:
                    print(f"kept database {self.database_url}", file=sys.stderr)
                else:
                    await self.admin.execute(
                        f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'
                    )
            finally:
                await self.admin.close()

    async def watch(self) -> None:
        """A process that exits while wanted died on its own: record it, start it again (as a
        platform would)."""
        while True:
            await asyncio.sleep(0.5)
            for service in list(self.services.values()):
                if service.wanted and service.process is not None:
                    code = service.process.poll()
                    if code is None:
                        continue
                    message = f"UNEXPECTED: {service.name} exited by itself (code {code})"
                    self.unexpected_exits.append(message)
                    self.note(message + "; starting it again in 2 s")
                    service.wanted = False
                    if service.name.startswith("api-"):
                        self.up[int(service.name[-1]) - 1] = False
                    await asyncio.sleep(2)
                    if service.name == "redis":
                        await self.start_redis()
                    else:
                        service.start()
                    if service.name.startswith("api-"):
                        index = int(service.name[-1]) - 1
                        await self.wait_ready(index)
                        self.up[index] = True
                    self.note(f"{service.name} started again")

    # --- the load ---

    async def slot(self, offset: float) -> None:
        assert self.load_started is not None
        delay = self.load_started + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def webhook_headers(self, kind: str, body: bytes) -> dict[str, str]:
        if kind == "builderbot":
            return {
                "X-Webhook-Token": EMULATOR_BUILDERBOT_TOKEN,
                "Content-Type": "application/json",
            }
        return {
            SIGNATURE_HEADER: sign(body, EMULATOR_ELEVENLABS_SECRET),
            "Content-Type": "application/json",
        }

    async def post(self, target: int, kind: str, path: str, **options: Any) -> httpx.Response:
        assert self.http is not None
        self.inflight[target][kind] += 1
        try:
            return await self.http.post(self.bases[target] + path, **options)
        finally:
            self.inflight[target][kind] -= 1

    async def deliver(self, kind: str, body: bytes, target: int) -> bool:
        """One copy of a webhook, as a provider delivers it: retried on a connection error or
        a 5xx, on the other API when that one is up."""
        assert self.http is not None
        path = BUILDERBOT_PATH if kind == "builderbot" else ELEVENLABS_PATH
        for attempt in range(1, 11):
            self.stats.posts[kind] += 1
            try:
                response = await self.post(
                    target, kind, path, content=body, headers=self.webhook_headers(kind, body)
                )
            except httpx.TransportError as exc:
                self.stats.transport_errors[kind] += 1
                self.stats.error_types[f"{kind}: {type(exc).__name__}"] += 1
            else:
                if response.status_code == 200:
                    ack = response.json()
                    self.stats.answered[kind] += 1
                    if ack.get("duplicate"):
                        self.stats.duplicates[kind] += 1
                    else:
                        self.stats.ack_status[f"{kind}: {ack.get('status')}"] += 1
                    return True
                if response.status_code < 500 and response.status_code != 429:
                    self.stats.unexpected.append(
                        f"{kind} answered {response.status_code}: {response.text[:200]}"
                    )
                    return False
                self.stats.http_5xx[kind] += 1
                self.stats.error_types[f"{kind}: HTTP {response.status_code}"] += 1
            self.stats.retries[kind] += 1
            other = 1 - target
            if self.up[other] or not self.up[target]:
                target = other
            await asyncio.sleep(min(2.0, 0.2 * attempt))
        self.stats.gave_up[kind] += 1
        return False

    def whatsapp_body(self, index: int) -> bytes:
        customer = index % self.args.customers
        payload = {
            "eventName": "message.incoming",
            "data": {
                "body": f"Drill {self.run_id} wa-{index:05d}: hola, quiero consultar mi saldo",
                "name": "Cliente Drill",
                "from": self.customer_number(customer),
                "attachment": [],
            },
        }
        return json.dumps(payload).encode()

    def customer_number(self, customer: int) -> str:
        return f"549351{5500000 + customer}"

    def call_body(self, index: int) -> bytes:
        """A finished inbound call, in the shape of ElevenLabs' post-call transcription."""
        started = int(time.time()) - 300
        duration = 40 + index % 60
        turns = [
            ("agent", "Hola, gracias por llamar a Banco Demo. ¿En qué puedo ayudarle?"),
            ("user", "Quiero saber el saldo de mi caja de ahorro."),
            ("agent", "Con gusto. Le confirmo el saldo por mensaje de texto."),
            ("user", "Perfecto, muchas gracias."),
        ]
        data = {
            "agent_id": EMULATOR_ELEVENLABS_AGENT_ID,
            "agent_name": "Agente Virtual Banco",
            "conversation_id": self.conversation_id(index),
            "status": "done",
            "has_audio": False,
            "transcript": [
                {
                    "role": role,
                    "message": text,
                    "tool_calls": [],
                    "tool_results": [],
                    "feedback": None,
                    "time_in_call_secs": turn * 8,
                    "interrupted": False,
                }
                for turn, (role, text) in enumerate(turns)
            ],
            "metadata": {
                "start_time_unix_secs": started,
                "accepted_time_unix_secs": started,
                "call_duration_secs": duration,
                "termination_reason": "Call ended by remote party",
                "phone_call": {
                    "type": "twilio",
                    "direction": "inbound",
                    "agent_number": "+541152500000",
                    "external_number": f"+549351{5600000 + index}",
                    "call_sid": f"CA{hashlib.md5(str(index).encode()).hexdigest()}",
                },
            },
            "analysis": {
                "call_successful": "success",
                "transcript_summary": "El cliente consultó el saldo; se le envió por SMS.",
                "call_summary_title": "Consulta de saldo",
                "data_collection_results": {},
                "evaluation_criteria_results": {},
            },
        }
        envelope = {
            "type": "post_call_transcription",
            "event_timestamp": started + duration,
            "data": data,
        }
        return json.dumps(envelope).encode()

    def conversation_id(self, index: int) -> str:
        return f"conv_drill_{self.run_id}_{index:05d}"

    async def twice(self, kind: str, index: int, body: bytes) -> None:
        """Both copies of one delivery, to different APIs: in parallel for every third one,
        else one after the other (the second as soon as the first was answered)."""
        first = index % 2
        started = time.monotonic()
        if index % 3 == 0:
            await asyncio.gather(
                self.deliver(kind, body, first), self.deliver(kind, body, 1 - first)
            )
        else:
            await self.deliver(kind, body, first)
            await self.deliver(kind, body, 1 - first)
        if kind == "builderbot":
            self.stats.spans[index] = time.monotonic() - started

    async def whatsapp(self, index: int) -> None:
        await self.slot(index * self.args.duration / self.args.whatsapp)
        async with self.gate:
            await self.twice("builderbot", index, self.whatsapp_body(index))

    async def call(self, index: int) -> None:
        await self.slot((index + 0.5) * self.args.duration / self.args.calls)
        async with self.gate:
            await self.twice("elevenlabs", index, self.call_body(index))

    def sms_number(self, index: int) -> str:
        return f"+54911{40000000 + index}"

    async def sms(self, index: int) -> None:
        assert self.http is not None
        await self.slot((index + 0.25) * self.args.duration / self.args.sms)
        target = index % 2 if self.up[index % 2] else 1 - index % 2
        payload = {
            "to": self.sms_number(index),
            "body": f"Banco Demo: drill {self.run_id} sms-{index:05d}, su tarjeta fue despachada.",
        }
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.gate:
            for _attempt in range(10):
                self.stats.posts["sms"] += 1
                try:
                    response = await self.post(
                        target, "sms", "/api/sms/send", json=payload, headers=headers
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    # Never reached the server: safe to send again, to the other API.
                    self.stats.transport_errors["sms"] += 1
                    self.stats.error_types[f"sms: {type(exc).__name__}"] += 1
                    self.stats.retries["sms"] += 1
                    target = 1 - target if self.up[1 - target] or not self.up[target] else target
                    await asyncio.sleep(0.2)
                    continue
                except httpx.TransportError as exc:
                    # The request may have been committed: sending again could send twice.
                    self.stats.transport_errors["sms"] += 1
                    self.stats.error_types[f"sms: {type(exc).__name__}"] += 1
                    self.stats.unknown.add(index)
                    return
                if response.status_code == 202:
                    self.stats.answered["sms"] += 1
                    self.stats.accepted[str(response.json()["messageId"])] = index
                    return
                if response.status_code >= 500:
                    self.stats.http_5xx["sms"] += 1
                    self.stats.error_types[f"sms: HTTP {response.status_code}"] += 1
                    self.stats.unknown.add(index)
                    return
                self.stats.refused[response.status_code] += 1
                self.stats.unexpected.append(
                    f"sms answered {response.status_code}: {response.text[:200]}"
                )
                return
            self.stats.gave_up["sms"] += 1

    # --- the faults ---

    async def at(self, offset: float) -> None:
        await self.slot(offset)

    async def sms_statuses(self) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT m.status, count(*) AS n FROM message m JOIN interaction i"
            " ON i.id = m.interaction_id WHERE i.channel = 'SMS' GROUP BY m.status"
        )
        return {str(row["status"]): int(row["n"]) for row in rows}

    async def faults(self) -> None:
        plan = self.plan
        await self.at(plan.worker_kill)
        # Kill it while SMS are in flight: messages in SENDING (taken by a worker, not recorded);
        # two or more make it likely that one is the killed worker's.
        started = time.monotonic()
        while time.monotonic() - started < 8:
            sending = (await self.sms_statuses()).get("SENDING", 0)
            if sending >= 2 or (sending and time.monotonic() - started > 4):
                break
            await asyncio.sleep(0.01)
        self.services["worker-1"].kill()
        self.at_worker_kill = await self.sms_statuses()
        self.sending_at_kill = {
            str(row["id"])
            for row in await self.db.fetch(
                "SELECT id::text AS id FROM message WHERE status = 'SENDING'"
            )
        }
        self.note(f"SIGKILL worker-1 (SMS by status right after: {fmt(self.at_worker_kill)})")
        await self.at(plan.api_kill)
        # Kill it mid-request: wait (a little) for an SMS in flight, else for any request.
        if not await until(lambda: self.inflight[1]["sms"] > 0, 4):
            await until(lambda: sum(self.inflight[1].values()) > 0, 2)
        cut = {k: n for k, n in self.inflight[1].items() if n}
        self.up[1] = False
        self.services["api-2"].kill()
        self.note(
            f"SIGKILL api-2 with requests in flight: {fmt(cut) or 'none'} (from now on its "
            "webhook copies fail over to api-1, SMS go to api-1)"
        )
        await self.at(plan.redis_kill)
        self.services["redis"].kill()
        self.note("SIGKILL redis-server")
        await self.at(plan.worker_replacement)
        self.contact_center("worker-3", ["worker"], self.ports[0]).start()
        self.note("started worker-3 (replacement of worker-1) while Redis is down")
        await self.at(plan.redis_start)
        await self.start_redis()
        self.note(f"redis-server started again on port {self.redis_port} (empty: no AOF/RDB)")
        await self.at(plan.api_restart)
        self.services["api-2"].start()
        self.note("api-2 starting again")
        ready = await self.wait_ready(1)
        self.up[1] = True
        self.note(f"api-2 ready again ({ready:.1f} s after its start)")

    # --- settle and check ---

    async def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        ledger = await self.db.fetch(
            "SELECT status, count(*) AS n FROM webhook_delivery GROUP BY status"
        )
        return await self.sms_statuses(), {str(r["status"]): int(r["n"]) for r in ledger}

    async def settle(self) -> bool:
        """Until nothing is QUEUED or SENDING, no delivery waits to be applied, and the SENT
        count (waiting for a receipt) has not changed for 10 s, or the bound passes."""
        started = time.monotonic()
        last_sent, stable_since = -1, time.monotonic()
        while time.monotonic() - started < self.args.settle:
            sms, ledger = await self.snapshot()
            busy = sms.get("QUEUED", 0) + sms.get("SENDING", 0)
            busy += ledger.get("RECEIVED", 0) + ledger.get("FAILED", 0)
            sent = sms.get("SENT", 0)
            if sent != last_sent:
                last_sent, stable_since = sent, time.monotonic()
            if busy == 0 and (sent == 0 or time.monotonic() - stable_since >= 10):
                self.settle_seconds = time.monotonic() - started
                if sent:
                    self.settle_seconds -= 10
                self.note(f"settled: SMS {fmt(sms)}; ledger {fmt(ledger)}")
                return True
            await asyncio.sleep(1)
        sms, ledger = await self.snapshot()
        self.note(
            f"NOT settled after {self.args.settle:.0f} s: SMS {fmt(sms)}; ledger {fmt(ledger)}"
        )
        return False

    async def check(self, settled: bool) -> list[Invariant]:
        results: list[Invariant] = []
        db = self.db
        n_wa, n_calls, n_customers = self.args.whatsapp, self.args.calls, self.args.customers

        results.append(
            Invariant(
                "no process died by itself",
                not self.unexpected_exits,
                "none" if not self.unexpected_exits else f"{len(self.unexpected_exits)} exits",
                self.unexpected_exits,
            )
        )
        results.append(
            Invariant(
                f"the system settled within {self.args.settle:.0f} s",
                settled,
                f"{self.settle_seconds:.1f} s" if self.settle_seconds is not None else "no",
            )
        )
        lost = sum(self.stats.gave_up.values())
        results.append(
            Invariant(
                "every webhook copy and SMS request got an answer (retries included)",
                lost == 0 and not self.stats.unexpected,
                f"gave up {dict(self.stats.gave_up) or 0}; unexpected answers "
                f"{len(self.stats.unexpected)}",
                self.stats.unexpected[:10],
            )
        )

        # BuilderBot: one ledger row per distinct delivery, processed.
        sent_digests = {hashlib.sha256(self.whatsapp_body(i)).hexdigest(): i for i in range(n_wa)}
        rows = await db.fetch(
            "SELECT id, event_key, status, attempts, received_at, processed_at, error"
            " FROM webhook_delivery WHERE provider = 'BUILDERBOT' ORDER BY received_at"
        )
        by_digest: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_digest[str(row["event_key"]).split(":", 1)[0]].append(row)
        stored_twice = {d: r for d, r in by_digest.items() if len(r) > 1}
        missing = [i for d, i in sent_digests.items() if d not in by_digest]
        foreign = [d for d in by_digest if d not in sent_digests]
        unprocessed = [r for rs in by_digest.values() for r in rs if r["status"] != "PROCESSED"]
        evidence = [
            f"wa-{sent_digests.get(d, -1):05d}: "
            + "; ".join(
                f"key …{str(r['event_key'])[-8:]} {r['status']} attempts={r['attempts']}"
                f" received {r['received_at']:%H:%M:%S.%f}"
                for r in rs
            )
            + f" (copies spanned {self.stats.spans.get(sent_digests.get(d, -1), 0):.1f} s)"
            for d, rs in list(stored_twice.items())[:10]
        ]
        evidence += [
            f"unprocessed: {r['event_key'][:16]}… {r['status']} {r['error']}"
            for r in unprocessed[:5]
        ]
        results.append(
            Invariant(
                f"BuilderBot: each of the {n_wa} deliveries is in the ledger exactly once,"
                " PROCESSED",
                not stored_twice and not missing and not foreign and not unprocessed,
                f"{len(rows)} rows; stored more than once {len(stored_twice)}, missing "
                f"{len(missing)}, unknown {len(foreign)}, not PROCESSED {len(unprocessed)}",
                evidence,
            )
        )

        # ElevenLabs: one ledger row per conversation, processed.
        rows = await db.fetch(
            "SELECT event_key, status, attempts FROM webhook_delivery WHERE provider = 'ELEVENLABS'"
        )
        keys = Counter(str(r["event_key"]) for r in rows)
        expected = {f"post_call_transcription:{self.conversation_id(i)}" for i in range(n_calls)}
        not_processed = [r for r in rows if r["status"] != "PROCESSED"]
        results.append(
            Invariant(
                f"ElevenLabs: each of the {n_calls} deliveries is in the ledger exactly once,"
                " PROCESSED",
                set(keys) == expected and all(n == 1 for n in keys.values()) and not not_processed,
                f"{len(rows)} rows for {len(expected)} conversations; missing "
                f"{len(expected - set(keys))}, not PROCESSED {len(not_processed)}",
                [f"{r['event_key']} {r['status']}" for r in not_processed[:5]],
            )
        )

        # WhatsApp: one interaction per customer number.
        rows = await db.fetch(
            "SELECT customer_phone, count(*) AS n FROM interaction WHERE channel = 'WHATSAPP'"
            " GROUP BY customer_phone"
        )
        per_customer = {digits(r["customer_phone"]): int(r["n"]) for r in rows}
        wanted = {self.customer_number(c) for c in range(n_customers)}
        results.append(
            Invariant(
                f"WhatsApp: exactly one interaction per customer number ({n_customers})",
                set(per_customer) == wanted and all(n == 1 for n in per_customer.values()),
                f"{sum(per_customer.values())} interactions for {len(per_customer)} numbers; "
                f"numbers with more than one: "
                f"{sum(1 for n in per_customer.values() if n > 1)}",
                [f"{k[:6]}…{k[-2:]}: {n}" for k, n in per_customer.items() if n != 1][:10],
            )
        )

        # WhatsApp: one message per inbound webhook.
        rows = await db.fetch(
            "SELECT m.body, m.id, m.created_at, m.interaction_id FROM message m"
            " JOIN interaction i ON i.id = m.interaction_id"
            " WHERE i.channel = 'WHATSAPP' AND m.direction = 'INBOUND' ORDER BY m.created_at"
        )
        bodies: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            bodies[str(row["body"])].append(row)
        wanted_bodies = {json.loads(self.whatsapp_body(i))["data"]["body"] for i in range(n_wa)}
        repeated = {b: rs for b, rs in bodies.items() if len(rs) > 1}
        within_window = [
            b for b in repeated if self.stats.spans.get(wa_index(b), 0) <= BUILDERBOT_WINDOW_SECONDS
        ]
        evidence = []
        for body, messages_of in list(repeated.items())[:10]:
            index = wa_index(body)
            digest = hashlib.sha256(self.whatsapp_body(index)).hexdigest()
            for delivery in by_digest.get(digest, []):
                events = await db.fetch(
                    "SELECT normalized->>'messageId' AS m FROM interaction_event"
                    " WHERE idempotency_key = $1",
                    f"webhook:{delivery['id']}:message",
                )
                evidence.append(
                    f"wa-{index:05d}: ledger row {delivery['id']} received "
                    f"{delivery['received_at']:%H:%M:%S.%f}, processed "
                    f"{delivery['processed_at']:%H:%M:%S.%f}, attempts={delivery['attempts']}, "
                    f"{delivery['status']}; messages "
                    + ", ".join(
                        f"{str(r['id'])[:8]} at {r['created_at']:%H:%M:%S.%f}" for r in messages_of
                    )
                    + f"; message.received events: {len(events)} (for "
                    + ", ".join(str(e["m"])[:8] for e in events)
                    + f"); copies spanned {self.stats.spans.get(index, 0):.1f} s"
                )
        results.append(
            Invariant(
                f"WhatsApp: exactly one message per inbound webhook ({n_wa})",
                set(bodies) == wanted_bodies and not repeated,
                f"{len(rows)} messages for {len(bodies)} webhooks; stored twice {len(repeated)}"
                f" ({len(within_window)} of them with both copies sent within"
                f" {BUILDERBOT_WINDOW_SECONDS:.0f} s); missing {len(wanted_bodies - set(bodies))}",
                evidence,
            )
        )

        # Calls: one CALL interaction per conversation.
        rows = await db.fetch(
            "SELECT provider_conversation_id AS c, count(*) AS n,"
            " count(d.id) AS details FROM interaction i LEFT JOIN call_detail d"
            " ON d.interaction_id = i.id WHERE i.channel = 'CALL' GROUP BY 1"
        )
        calls = {str(r["c"]): int(r["n"]) for r in rows}
        details = sum(int(r["details"]) for r in rows)
        expected_calls = {self.conversation_id(i) for i in range(n_calls)}
        results.append(
            Invariant(
                "calls: exactly one CALL interaction (with its detail) per conversation"
                f" ({n_calls})",
                set(calls) == expected_calls
                and all(n == 1 for n in calls.values())
                and details == n_calls,
                f"{sum(calls.values())} interactions for {len(calls)} conversations; "
                f"{details} call details",
                [f"{c}: {n}" for c, n in calls.items() if n != 1][:10],
            )
        )

        # SMS.
        rows = await db.fetch(
            "SELECT m.id::text AS id, m.body, m.status, m.provider_message_id AS sid, m.attempts,"
            " i.customer_phone FROM message m JOIN interaction i ON i.id = m.interaction_id"
            " WHERE i.channel = 'SMS'"
        )
        messages = {str(r["id"]): r for r in rows}
        outbox = (await self.http_get(f"{self.emulator}/twilio/outbox"))["items"]
        sends_by_tag: dict[int, list[dict[str, Any]]] = defaultdict(list)
        foreign_sends = []
        for item in outbox:
            match = SMS_TAG.search(str(item.get("body")))
            if match is None or self.run_id not in str(item.get("body")):
                foreign_sends.append(item)
            else:
                sends_by_tag[int(match.group(1))].append(item)
        per_recipient = Counter(digits(str(item.get("to"))) for item in outbox)

        accepted = self.stats.accepted
        not_final = [
            (mid, messages[mid]["status"] if mid in messages else "MISSING")
            for mid in accepted
            if mid not in messages or messages[mid]["status"] not in FINAL_SMS
        ]
        results.append(
            Invariant(
                f"SMS: every accepted message ({len(accepted)}) is SENT or DELIVERED",
                not not_final,
                f"not final: {len(not_final)} {dict(Counter(s for _, s in not_final))}",
                [f"{mid}: {status}" for mid, status in not_final[:10]],
            )
        )
        wrong, resent, unsent = [], set(), []
        for mid, index in accepted.items():
            items = sends_by_tag.get(index, [])
            sid = messages[mid]["sid"] if mid in messages else None
            if len(items) > 1:
                resent.add(mid)
            if not items or sid not in {i["sid"] for i in items}:
                unsent.append(mid)
            if len(items) != 1 or items[0]["sid"] != sid:
                in_flight = " (SENDING at the worker kill)" if mid in self.sending_at_kill else ""
                wrong.append(
                    f"{mid} (sms-{index:05d}, attempts "
                    f"{messages[mid]['attempts'] if mid in messages else '?'}){in_flight}: "
                    f"{len(items)} provider sends {[i['sid'] for i in items]}, recorded {sid}"
                )
        # docs/architecture.md: a worker killed after the provider accepted a message but before
        # it recorded that can send that one message twice. Strict by default (the drill's
        # brief); --allow-kill-window-duplicates accepts exactly those.
        explained = resent <= self.sending_at_kill
        tolerated = self.args.allow_kill_window_duplicates and explained
        note = ""
        if resent:
            note = (
                f"; all {len(resent)} were SENDING at the worker kill (the documented window)"
                if explained
                else f"; {len(resent - self.sending_at_kill)} were NOT in flight at the kill"
            )
        results.append(
            Invariant(
                "SMS: every accepted message is in the provider's outbox exactly once, under the"
                " sid we recorded"
                + (
                    " (kill-window duplicates allowed)"
                    if self.args.allow_kill_window_duplicates
                    else ""
                ),
                not unsent and (not wrong or tolerated),
                f"{len(outbox)} provider sends; accepted messages not sent exactly once: "
                f"{len(wrong)}{note}",
                wrong[:10],
            )
        )
        twice = {to: n for to, n in per_recipient.items() if n > 1}
        our_numbers = {digits(self.sms_number(i)) for i in range(self.args.sms)}
        strangers = [to for to in per_recipient if to not in our_numbers]
        results.append(
            Invariant(
                "SMS: no recipient got more than one SMS, and the provider got nothing else"
                + (
                    " (kill-window duplicates allowed)"
                    if self.args.allow_kill_window_duplicates
                    else ""
                ),
                (not twice or (tolerated and len(twice) == len(resent)))
                and not strangers
                and not foreign_sends,
                f"recipients sent to twice: {len(twice)}; sends to unknown numbers: "
                f"{len(strangers)}",
                [f"{to[:6]}…{to[-2:]}: {n} sends" for to, n in list(twice.items())[:10]],
            )
        )
        results.append(
            Invariant(
                "SMS: a message is sent twice only if it was in flight on the SIGKILLed worker"
                " (the bound docs/architecture.md 'The job queue' documents)",
                explained,
                f"sent twice {len(resent)}, of them SENDING at the kill "
                f"{len(resent & self.sending_at_kill)} (SENDING at the kill: "
                f"{len(self.sending_at_kill)})",
            )
        )
        # Requests whose answer was lost: stored at most once, and then delivered like the rest.
        known_tags = {
            int(m.group(1)): mid
            for mid, r in messages.items()
            if (m := SMS_TAG.search(str(r["body"]))) is not None
        }
        tag_counts = Counter(
            int(m.group(1))
            for r in messages.values()
            if (m := SMS_TAG.search(str(r["body"]))) is not None
        )
        accepted_tags = set(accepted.values())
        phantom = [t for t in tag_counts if t not in accepted_tags and t not in self.stats.unknown]
        lost_answers = sorted(self.stats.unknown)
        stored_lost = [t for t in lost_answers if t in known_tags]
        bad_lost = [
            t
            for t in stored_lost
            if tag_counts[t] != 1
            or messages[known_tags[t]]["status"] not in FINAL_SMS
            or len(sends_by_tag.get(t, [])) != 1
        ]
        results.append(
            Invariant(
                "SMS: a request whose answer was lost is stored at most once and, if stored, "
                "sent once; nothing is stored that was not requested",
                not phantom and not bad_lost and all(n == 1 for n in tag_counts.values()),
                f"answers lost {len(lost_answers)} (stored {len(stored_lost)}); phantom "
                f"{len(phantom)}; stored twice {sum(1 for n in tag_counts.values() if n > 1)}",
                [f"sms-{t:05d}" for t in (phantom + bad_lost)[:10]],
            )
        )
        statuses = Counter(str(r["status"]) for r in rows)
        results.append(
            Invariant(
                "SMS: nothing left QUEUED or SENDING",
                statuses["QUEUED"] == 0 and statuses["SENDING"] == 0,
                fmt(dict(statuses)),
            )
        )
        ledger = await db.fetch(
            "SELECT provider, status, count(*) AS n FROM webhook_delivery"
            " GROUP BY 1, 2 ORDER BY 1, 2"
        )
        stuck = [r for r in ledger if r["status"] in ("RECEIVED", "FAILED")]
        deferred = await db.fetch(
            "SELECT waiting_for, event_type FROM webhook_delivery WHERE status = 'DEFERRED'"
        )
        unrecorded = {str(i["sid"]) for i in outbox} - {str(r["sid"]) for r in messages.values()}
        deferred_notes = [
            f"DEFERRED {r['event_type']} waits for {r['waiting_for']}: "
            + (
                "a provider send never recorded (its message was sent again)"
                if r["waiting_for"] in unrecorded
                else "?"
            )
            for r in deferred
        ]
        twice = await db.fetch(
            "SELECT provider, count(*) AS n FROM webhook_delivery WHERE attempts > 1"
            " GROUP BY 1 ORDER BY 1"
        )
        self.applied_twice = {str(r["provider"]): int(r["n"]) for r in twice}
        results.append(
            Invariant(
                "ledger: no delivery left RECEIVED or FAILED (any provider)",
                not stuck,
                "; ".join(f"{r['provider']} {r['status']} {r['n']}" for r in ledger),
                deferred_notes[:10],
            )
        )
        return results

    async def http_get(self, url: str) -> Any:
        assert self.http is not None
        response = await self.http.get(url, timeout=60)
        response.raise_for_status()
        return response.json()

    # --- the whole drill ---

    async def run(self) -> int:
        print(f"drill logs and report: {self.workdir}", file=sys.stderr, flush=True)
        results: list[Invariant] = []
        watcher: asyncio.Task[None] | None = None
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        try:
            await self.setup()
            watcher = asyncio.create_task(self.watch())
            self.load_started = time.monotonic()
            self.note(
                f"load starts: {self.args.whatsapp} WhatsApp + {self.args.calls} call webhooks "
                f"(each twice), {self.args.sms} SMS over {self.args.duration:.0f} s"
            )
            load: list[Awaitable[None]] = [self.whatsapp(i) for i in range(self.args.whatsapp)]
            load += [self.call(i) for i in range(self.args.calls)]
            load += [self.sms(i) for i in range(self.args.sms)]
            fault_task = asyncio.create_task(self.faults())
            await asyncio.gather(*load)
            self.load_seconds = self.now()
            self.note(f"load done ({self.load_seconds:.1f} s)")
            await fault_task
            settled = await self.settle()
            watcher.cancel()
            results = await self.check(settled)
        finally:
            if watcher is not None:
                watcher.cancel()
            await self.teardown()
            self.note(
                "every process stopped" + ("" if self.args.keep_database else ", database dropped")
            )
        report = self.report(results)
        (self.workdir / "report.md").write_text(report)
        print(report)
        return 0 if results and all(r.passed for r in results) else 1

    def reconciler_runs(self) -> list[str]:
        """`reconciled` lines of the workers (LOG_LEVEL=INFO only): when the reconciler
        re-applied webhook deliveries."""
        runs = []
        for log in sorted(self.workdir.glob("worker-*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if '"reconciled"' not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("webhooks"):
                    runs.append(
                        f"{log.stem} {entry.get('ts')}: messages {entry.get('messages')}, "
                        f"webhooks re-applied {entry.get('webhooks')}"
                    )
        return runs

    def log_summary(self) -> list[tuple[str, int, int]]:
        summary = []
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace")
            errors = len(re.findall(r'"level":\s*"(?:error|critical)"', text))
            summary.append((log.name, errors, text.count("Traceback")))
        return summary

    def report(self, results: list[Invariant]) -> str:
        a, s = self.args, self.stats
        lines = [
            f"# Fault drill {self.run_id}",
            "",
            f"2 × `serve --no-worker` + 2 × `worker` (+1 replacement) + `emulator`, PostgreSQL "
            f"`{self.database}`, private redis-server on port {self.redis_port}. Load: "
            f"{a.whatsapp} BuilderBot webhooks over {a.customers} customers and {a.calls} "
            f"ElevenLabs webhooks, each delivered twice (once to each API), and {a.sms} SMS, "
            f"over {a.duration:.0f} s at most {a.concurrency} at a time. Logs: `{self.workdir}`.",
            "",
            "## Timeline",
            "",
            "| t (s, from load start) | event |",
            "| ---: | --- |",
        ]
        origin = self.load_started if self.load_started is not None else self.started
        lines += [f"| {t - origin:.1f} | {what.replace('|', '/')} |" for t, what in self.timeline]
        kinds = ("builderbot", "elevenlabs", "sms")
        lines += [
            "",
            "## Counts",
            "",
            "| measure | BuilderBot | ElevenLabs | SMS |",
            "| --- | ---: | ---: | ---: |",
            f"| distinct items | {a.whatsapp} | {a.calls} | {a.sms} |",
            "| HTTP requests made (copies and retries) | "
            + " | ".join(str(s.posts[k]) for k in kinds)
            + " |",
            "| answered 200 / 202 | " + " | ".join(str(s.answered[k]) for k in kinds) + " |",
            "| duplicates refused (200, `duplicate: true`) | "
            f"{s.duplicates['builderbot']} | {s.duplicates['elevenlabs']} | – |",
            "| connection errors seen | "
            + " | ".join(str(s.transport_errors[k]) for k in kinds)
            + " |",
            "| 5xx answers seen | " + " | ".join(str(s.http_5xx[k]) for k in kinds) + " |",
            "| requests retried (on the other API) | "
            + " | ".join(str(s.retries[k]) for k in kinds)
            + " |",
            "| given up | " + " | ".join(str(s.gave_up[k]) for k in kinds) + " |",
            f"| SMS accepted (202) / answer lost / refused | – | – | {len(s.accepted)} / "
            f"{len(s.unknown)} / {sum(s.refused.values())} |",
            "",
            f"- First-copy answers by status: {fmt(dict(s.ack_status))}.",
            f"- Errors by kind: {fmt(dict(s.error_types)) or 'none'}.",
            f"- BuilderBot copies of one delivery: longest span "
            f"{max(s.spans.values(), default=0):.1f} s; over {BUILDERBOT_WINDOW_SECONDS:.0f} s: "
            f"{sum(1 for v in s.spans.values() if v > BUILDERBOT_WINDOW_SECONDS)}.",
            "- Ledger rows applied more than once (`attempts > 1`; none failed in between "
            "unless the logs show `webhook_processing_failed`): "
            f"{fmt(self.applied_twice) or 'none'}.",
            f"- Load lasted {self.load_seconds:.1f} s; time to settle after it: "
            + (f"{self.settle_seconds:.1f} s." if self.settle_seconds is not None else "did not.")
            + f" SMS by status at the worker kill: {fmt(self.at_worker_kill)}.",
            "",
            "## Invariants",
            "",
            "| invariant | result | detail |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| {r.name} | {'PASS' if r.passed else '**FAIL**'} | {r.detail.replace('|', '/')} |"
            for r in results
        ]
        evidence = [r for r in results if r.evidence]
        if evidence:
            lines += ["", "## Evidence", ""]
            for r in evidence:
                lines.append(f"**{r.name}**")
                lines.append("")
                lines += [f"- {e}" for e in r.evidence]
                lines.append("")
        runs = self.reconciler_runs()
        if runs:
            lines += ["", "## Reconciler runs that applied webhook deliveries", ""]
            lines += [f"- {run}" for run in runs]
        lines += [
            "",
            "## Process logs",
            "",
            "| log | error lines | tracebacks |",
            "| --- | ---: | ---: |",
        ]
        lines += [
            f"| {name} | {errors} | {tracebacks} |"
            for name, errors, tracebacks in self.log_summary()
        ]
        verdict = "PASS" if results and all(r.passed for r in results) else "FAIL"
        lines += ["", f"**Verdict: {verdict}** (report also in `{self.workdir}/report.md`)"]
        return "\n".join(lines) + "\n"


async def until(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll a condition of this process's own state (every 5 ms) for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)


def wa_index(body: str) -> int:
    match = re.search(r"wa-(\d{5})", body)
    return int(match.group(1)) if match else -1


def fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--whatsapp", type=int, default=300, help="distinct BuilderBot webhooks")
    parser.add_argument("--customers", type=int, default=100, help="WhatsApp customer numbers")
    parser.add_argument("--calls", type=int, default=100, help="distinct ElevenLabs webhooks")
    parser.add_argument("--sms", type=int, default=500, help="SMS sends")
    parser.add_argument("--duration", type=float, default=75.0, help="seconds of load (≥ 40)")
    parser.add_argument("--settle", type=float, default=180.0, help="seconds to wait after it")
    parser.add_argument("--concurrency", type=int, default=12, help="load requests at once")
    parser.add_argument("--pool-size", type=int, default=10, help="DATABASE_POOL_SIZE each")
    parser.add_argument(
        "--reconcile-after",
        type=int,
        default=None,
        help="RECONCILE_AFTER_SECONDS for the processes (default: the product's 30)",
    )
    parser.add_argument(
        "--allow-kill-window-duplicates",
        action="store_true",
        help="accept SMS sent twice when they were in flight on the SIGKILLed worker (the "
        "at-least-once window docs/architecture.md documents); strict by default",
    )
    parser.add_argument(
        "--worker-log-level",
        default="WARNING",
        help="LOG_LEVEL of the workers (INFO shows each reconciler run and send)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="do not drop the database (to investigate)"
    )
    args = parser.parse_args()
    if args.duration < 40:
        parser.error("--duration must be at least 40 s (the faults happen from 12 s to 30 s)")
    if min(args.whatsapp, args.customers, args.calls, args.sms) < 1:
        parser.error("every count must be at least 1")
    sys.exit(asyncio.run(Drill(args).run()))


if __name__ == "__main__":
    main()
