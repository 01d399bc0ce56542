"""The pool after the database dropped its connections (a restart or a failover), and a
database that refuses connections.

Pooled connections idle for more than PING_AFTER_IDLE_SECONDS are checked before use, so after a
quiet moment nobody notices a restart. A connection found dead while a request uses it answers
503 `dependency_unavailable` with Retry-After (nothing was saved), never a 500, and the next
request gets a new connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import struct

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contact_center.db import session as db_session
from contact_center.db.session import create_engine, create_session_factory
from contact_center.models.webhook_delivery import WebhookDelivery
from tests import auth, deliveries
from tests.conftest import BACKENDS, PG_ADMIN_URL, Backend, make_settings
from tests.live import free_port

POSTGRESQL = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="connections dropped by a PostgreSQL server"
)


async def _drop_connections(database_url: str) -> int:
    """What a restart does to the app's pooled connections: the server ends them all."""
    database = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        ended = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    return len(ended)


async def _ledger_size(app: FastAPI) -> int:
    async with app.state.session_factory() as session:
        return int((await session.execute(select(func.count(WebhookDelivery.id)))).scalar_one())


@POSTGRESQL
async def test_idle_connections_are_checked_and_replaced_after_a_restart(
    app: FastAPI,
    client: httpx.AsyncClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
) -> None:
    if backend.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert (await client.get("/api/interactions")).status_code == 200
    assert await _drop_connections(database_url) >= 1
    # Every pooled connection now counts as idle: each is pinged, found dead and replaced.
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
    for _ in range(3):
        assert (await client.get("/api/interactions")).status_code == 200


@POSTGRESQL
async def test_a_connection_lost_under_a_request_answers_503_and_saves_nothing(
    app: FastAPI,
    anonymous: httpx.AsyncClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
) -> None:
    if backend.name != "postgresql":
        pytest.skip("PostgreSQL only")
    first = await deliveries.post_builderbot(
        anonymous, deliveries.incoming("5491155551234", "hola")
    )
    assert first.status_code == 200
    # A busy process does not ping (its connections were used a moment ago).
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 3600.0)
    assert await _drop_connections(database_url) >= 1
    lost = await deliveries.post_builderbot(
        anonymous, deliveries.incoming("5491155551234", "¿siguen ahí?")
    )
    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "1"
    assert lost.json()["error"]["code"] == "dependency_unavailable"
    # The provider retries; the pool has replaced the dead connection by then.
    retried = await deliveries.post_builderbot(
        anonymous, deliveries.incoming("5491155551234", "¿siguen ahí?")
    )
    assert retried.status_code == 200
    assert retried.json()["duplicate"] is False
    assert await _ledger_size(app) == 2


@POSTGRESQL
async def test_a_connection_lost_under_the_token_check_answers_503_and_is_not_reused(
    client: httpx.AsyncClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
) -> None:
    if backend.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert (await client.get("/api/me")).status_code == 200
    # A busy process does not ping: the token check meets the dead connection.
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 3600.0)
    ended = await _drop_connections(database_url)
    assert ended >= 1
    lost = await client.get("/api/me")
    assert lost.status_code == 503
    assert lost.json()["error"]["code"] == "dependency_unavailable"
    # A connection that failed is discarded, not pooled again: once each dead one has been met,
    # every request succeeds.
    answers = [(await client.get("/api/me")).status_code for _ in range(ended + 5)]
    assert answers.count(503) < ended
    assert answers[-5:] == [200] * 5


async def test_a_database_that_refuses_connections_answers_503_not_500(
    app: FastAPI, anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    # The app's sessions now lead to a PostgreSQL port where nothing listens (a database down).
    dead = create_engine(make_settings(f"postgresql://postgres@127.0.0.1:{free_port()}/down"))
    dead_sessions = create_session_factory(dead)
    working = app.state.engine
    try:
        app.state.webhooks = dataclasses.replace(app.state.webhooks, sessions=dead_sessions)
        app.state.session_factory = dead_sessions
        app.state.engine = dead  # the token check reads through the engine
        webhook = await deliveries.post_builderbot(
            anonymous, deliveries.incoming("5491155551234", "hola")
        )
        assert webhook.status_code == 503
        assert webhook.headers["Retry-After"] == "1"
        assert webhook.json()["error"]["code"] == "dependency_unavailable"
        api = await client.get("/api/interactions")
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "dependency_unavailable"
    finally:
        app.state.engine = working
        await dead.dispose()


class StartingUpServer:
    """A PostgreSQL that is starting up, as clients see it: every connection attempt gets
    FATAL 57P03 "the database system is starting up" (asyncpg's CannotConnectNowError)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.attempts = 0
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> StartingUpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        try:
            while True:
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                body = await reader.readexactly(length - 4)
                if body[:4] in (struct.pack("!I", 80877103), struct.pack("!I", 80877104)):
                    writer.write(b"N")  # no SSL, no GSS: go on in plain text
                    await writer.drain()
                    continue
                fields = b"".join(
                    kind + text.encode() + b"\0"
                    for kind, text in (
                        (b"S", "FATAL"),
                        (b"V", "FATAL"),
                        (b"C", "57P03"),
                        (b"M", "the database system is starting up"),
                    )
                )
                writer.write(b"E" + struct.pack("!I", len(fields) + 5) + fields + b"\0")
                await writer.drain()
                return
        except asyncio.IncompleteReadError:
            return
        finally:
            writer.close()


async def test_a_database_starting_up_answers_503_with_retry_after(
    app: FastAPI, anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    async with StartingUpServer() as server:
        starting = create_engine(
            make_settings(f"postgresql://postgres@127.0.0.1:{server.port}/starting")
        )
        sessions = create_session_factory(starting)
        working = app.state.engine
        try:
            app.state.webhooks = dataclasses.replace(app.state.webhooks, sessions=sessions)
            app.state.session_factory = sessions
            app.state.engine = starting  # the token check reads through the engine
            webhook = await deliveries.post_builderbot(
                anonymous, deliveries.incoming("5491155551234", "hola")
            )
            assert webhook.status_code == 503, webhook.text
            assert webhook.headers["Retry-After"] == "1"
            assert webhook.json()["error"]["code"] == "dependency_unavailable"
            api = await client.get("/api/interactions")
            assert api.status_code == 503, api.text  # refused by the token check, with its wait
            assert int(api.headers["Retry-After"]) >= 1
            assert server.attempts >= 1
        finally:
            app.state.engine = working
            await starting.dispose()


async def test_the_starting_up_error_raised_unwrapped_answers_503(app: FastAPI) -> None:
    # asyncpg's own exception, as code that talks to asyncpg directly would let it escape.
    async def starting() -> None:
        raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")

    app.add_api_route("/api/test-only/starting", starting)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = auth.bearer(await auth.token(app.state.session_factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        response = await http.get("/api/test-only/starting")
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "dependency_unavailable"
