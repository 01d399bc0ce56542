"""The pool after the database dropped its connections (a restart or a failover), and a
database that refuses connections.

Pooled connections idle for more than PING_AFTER_IDLE_SECONDS are checked before use, so after a
quiet moment nobody notices a restart. A connection found dead while a request uses it answers
503 `dependency_unavailable` with Retry-After (nothing was saved), never a 500, and the next
request gets a new connection.
"""

from __future__ import annotations

import dataclasses

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contact_center.db import session as db_session
from contact_center.db.session import create_engine, create_session_factory
from contact_center.models.webhook_delivery import WebhookDelivery
from tests import deliveries
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


async def test_a_database_that_refuses_connections_answers_503_not_500(
    app: FastAPI, anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    # The app's sessions now lead to a PostgreSQL port where nothing listens (a database down).
    dead = create_engine(make_settings(f"postgresql://postgres@127.0.0.1:{free_port()}/down"))
    dead_sessions = create_session_factory(dead)
    try:
        app.state.webhooks = dataclasses.replace(app.state.webhooks, sessions=dead_sessions)
        app.state.session_factory = dead_sessions
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
        await dead.dispose()
