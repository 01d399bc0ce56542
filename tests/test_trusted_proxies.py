"""Forwarded headers count only from the proxies in TRUSTED_PROXIES: otherwise any client could
choose the address that the sign-in limit per address and the audit log see."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.models import AuditLog
from contact_center.settings import Settings, load_settings
from tests.live import free_port

PROXY = "10.0.0.1"
CLIENT = "203.0.113.7"


@asynccontextmanager
async def browser_at(
    settings: Settings, address: str
) -> AsyncIterator[tuple[httpx.AsyncClient, async_sessionmaker[AsyncSession]]]:
    """The app through its whole ASGI stack, reached from `address`."""
    app = create_app(settings, migrate=False, with_worker=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 5000)),
            base_url="http://testserver",
        ) as http,
    ):
        yield http, app.state.session_factory


async def sign_in_as(http: httpx.AsyncClient, username: str, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    form = await http.get("/login", headers=headers)
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = await http.post(
        "/login",
        data={"username": username, "password": "not the password", "csrf": csrf},
        headers=headers,
    )
    return answer.status_code


async def audited_addresses(sessions: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "auth.login_failed")
            .order_by(AuditLog.occurred_at, AuditLog.id)
        )
        return [row.ip for row in rows]


async def test_without_trusted_proxies_rotating_forwarded_addresses_are_still_limited(
    settings_factory: Callable[..., Settings],
) -> None:
    async with browser_at(settings_factory(LOGIN_RATE_LIMIT_MAX="3"), CLIENT) as (http, db):
        statuses = [await sign_in_as(http, f"user{i}", f"198.51.100.{i}") for i in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        assert set(await audited_addresses(db)) == {CLIENT}


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(LOGIN_RATE_LIMIT_MAX="3", TRUSTED_PROXIES=f"{PROXY},10.1.0.0/16")
    async with browser_at(settings, PROXY) as (http, db):
        # Each customer behind the proxy has their own limit…
        rotating = [await sign_in_as(http, f"user{i}", f"198.51.100.{i}") for i in range(5)]
        assert rotating == [401] * 5
        # …and one customer is limited by their own address, whatever else the chain says: the
        # rightmost address the proxy did not add is the client's.
        same = [await sign_in_as(http, "ana", f"192.0.2.{i}, {CLIENT}") for i in range(4)]
        assert same == [401, 401, 401, 429]
        addresses = await audited_addresses(db)
        assert sorted(a or "" for a in addresses[:5]) == [f"198.51.100.{i}" for i in range(5)]
        assert addresses[5:] == [CLIENT] * 3  # the fourth was refused before any check
    # A peer that is not the proxy cannot speak for others.
    async with browser_at(settings, CLIENT) as (http, db):
        statuses = [await sign_in_as(http, f"user{i}", f"198.51.100.{i}") for i in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    from contact_center.settings import ConfigError

    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings(TRUSTED_PROXIES="proxy.internal")
    assert load_settings(TRUSTED_PROXIES=" 10.0.0.0/8, ::1 ").trusted_proxy_list == [
        "10.0.0.0/8",
        "::1",
    ]
    assert load_settings().trusted_proxy_list == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`contact-center serve` as deployed, on loopback, with a limit of 2 sign-ins."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cc.db'}",
        "APP_PORT": str(port),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "LOGIN_RATE_LIMIT_MAX": "2",
        "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
    }
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "contact_center", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
            else:
                pytest.fail("serve did not come up: " + (tmp_path / "serve.log").read_text())
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.slow
def test_serve_does_not_believe_a_local_client_forwarding_other_addresses(served: str) -> None:
    # uvicorn trusts forwarded headers from loopback by default; the client here is on loopback.
    statuses = []
    with httpx.Client(base_url=served) as http:
        for i in range(4):
            headers = {"X-Forwarded-For": f"198.51.100.{i}"}
            form = http.get("/login", headers=headers)
            csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            answer = http.post(
                "/login",
                data={"username": f"user{i}", "password": "not the password", "csrf": csrf},
                headers=headers,
            )
            statuses.append(answer.status_code)
    assert statuses == [401, 401, 429, 429]
