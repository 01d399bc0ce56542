"""Real HTTP servers on free loopback ports, run inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from contact_center.app import create_app
from contact_center.settings import Settings
from tests import auth


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        proxy_headers=False,  # as `contact-center serve`: the app decides (TRUSTED_PROXIES)
        lifespan="on",
        timeout_graceful_shutdown=5,  # open event streams do not hold the test up
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


@dataclass
class Received:
    url: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]


@dataclass
class Receiver:
    """A stand-in for our app as a webhook target: it records what it is sent."""

    requests: list[Received] = field(default_factory=list)
    status: int = 200

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            body = await request.body()
            form: dict[str, Any] = {}
            if request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                form = {k: str(v) for k, v in (await request.form()).items()}
            self.requests.append(Received(str(request.url), dict(request.headers), body, form))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + seconds
        while len(self.requests) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            await asyncio.sleep(0.05)
        return self.requests


class PrivateRedis:
    """A redis-server of the test's own on a free port (never the shared one), for fault drills."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


FAST = {
    "TWILIO_MAX_MPS": "2000",
    "OUTBOUND_RATE_LIMIT_MAX": "100000",
    "SEND_RETRY_BASE_SECONDS": "0.2",
    "RECONCILE_AFTER_SECONDS": "5",
}


def number(i: int) -> str:
    return f"+54911{30000000 + i}"


@dataclass
class Live:
    base: str
    app: FastAPI
    http: httpx.AsyncClient

    async def outbox(self) -> list[dict[str, Any]]:
        return list((await self.http.get(f"{self.base}/_emulator/twilio/outbox")).json()["items"])

    async def emulator(self, path: str, payload: dict[str, Any]) -> None:
        (await self.http.post(f"{self.base}/_emulator{path}", json=payload)).raise_for_status()


@asynccontextmanager
async def live_app(
    settings_factory: Callable[..., Settings], *, with_worker: bool = True, **overrides: str
) -> AsyncIterator[Live]:
    port = int(overrides.pop("APP_PORT", 0)) or free_port()
    settings = settings_factory(APP_PORT=str(port), **{**FAST, **overrides})
    app = create_app(settings, migrate=False, with_worker=with_worker)
    async with serve(app, port) as base:
        secret = await auth.token(app.state.session_factory)
        async with httpx.AsyncClient(
            base_url=base, timeout=120, headers=auth.bearer(secret)
        ) as http:
            yield Live(base, app, http)
