from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from contact_center.app import create_app
from contact_center.db.session import create_engine
from contact_center.models.enums import Role
from contact_center.settings import Settings
from tests import auth
from tests.conftest import PRODUCTION_SETTINGS, make_settings


async def test_health_ok_with_embedded_queue(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "embedded"}}
    assert response.headers["x-request-id"]


async def test_request_id_is_echoed_when_given(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_tables_lists_the_data_model(client: httpx.AsyncClient) -> None:
    tables = (await client.get("/api/health/tables")).json()["tables"]
    for name in (
        "interaction",
        "message",
        "call_detail",
        "interaction_event",
        "otp_challenge",
        "audit_log",
    ):
        assert name in tables


async def test_in_production_only_an_admin_sees_the_tables(
    settings_factory: Callable[..., Settings],
) -> None:
    app = create_app(settings_factory(**PRODUCTION_SETTINGS), migrate=False, with_worker=False)
    async with LifespanManager(app):
        sessions = app.state.session_factory
        tokens = {
            None: None,
            "agent": await auth.token(sessions, "ana", Role.AGENT),
            "supervisor": await auth.token(sessions, "sol", Role.SUPERVISOR),
            "admin": await auth.token(sessions, "admin", Role.ADMIN),
        }
        statuses = {}
        for role, secret in tokens.items():
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://testserver",
                headers=auth.bearer(secret) if secret else {},
            ) as http:
                response = await http.get("/api/health/tables")
                statuses[role] = response.status_code
                if role is None:
                    assert response.json()["error"]["code"] == "unauthenticated"
                    # Liveness and readiness stay open for load balancers.
                    assert (await http.get("/api/health")).status_code == 200
                    assert (await http.get("/api/health/ready")).status_code == 200
        assert statuses == {None: 401, "agent": 403, "supervisor": 403, "admin": 200}
        security = app.openapi()["paths"]["/api/health/tables"]["get"].get("security")
        assert security != []  # documented as needing the token


async def test_outside_production_the_tables_stay_public(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/health/tables")
    assert response.status_code == 200
    assert "interaction" in response.json()["tables"]


async def test_whoami_reports_service_and_platform(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAILWAY_SERVICE_NAME", "contact-center-api")
    body = (await client.get("/__whoami")).json()
    assert body["service"] == "contact-center"
    assert body["port"] == 3000
    assert body["environment"] == "test"
    assert body["platform"] == {"RAILWAY_SERVICE_NAME": "contact-center-api"}


async def test_health_is_degraded_when_redis_is_down(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    http = await client_for(REDIS_URL="redis://127.0.0.1:1/0")
    response = await http.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}


async def test_health_answers_503_when_the_database_goes_away(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # The database becomes unreachable after start-up: the engine now points at a closed port.
    working = app.state.engine
    app.state.engine = create_engine(make_settings("postgresql://postgres@127.0.0.1:1/none"))
    try:
        response = await client.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {
            "status": "down",
            "checks": {"database": "down", "redis": "embedded"},
        }
        tables = await client.get("/api/health/tables")
        assert tables.status_code == 503
        assert tables.json()["error"]["code"] == "dependency_unavailable"
    finally:
        await app.state.engine.dispose()
        app.state.engine = working


async def test_docs_and_openapi(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    spec = (await client.get("/api/openapi.json")).json()
    paths = spec["paths"]
    expected = {
        "/api/health": {"get"},
        "/api/health/tables": {"get"},
        "/__whoami": {"get"},
        "/api/interactions": {"get"},
        "/api/interactions/count": {"get"},
        "/api/interactions/{interaction_id}": {"get", "patch"},
        "/api/interactions/client/{phone}": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    list_params = {p["name"] for p in paths["/api/interactions"]["get"]["parameters"]}
    assert {
        "channel",
        "direction",
        "status",
        "from",
        "to",
        "dateFrom",
        "dateTo",
        "assignedAgent",
        "provider",
        "customerRef",
        "queue",
        "outcome",
        "limit",
        "skip",
        "includeAllEvents",
        "includeAllMessages",
        "includePII",
    } <= list_params
