"""Test fixtures: every database test runs on SQLite and on a real PostgreSQL.

A fresh PostgreSQL database is created per run (migrated with Alembic, so migrations are tested)
and dropped at the end. Each test starts from empty tables: SQLite tests get a copy of a migrated
template file, PostgreSQL tests truncate the tables first.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.db.base import Base
from contact_center.db.migrate import upgrade_database
from contact_center.db.session import create_engine, create_session_factory
from contact_center.logging import configure_logging
from contact_center.models.enums import Role
from contact_center.redaction.vault import new_key
from contact_center.settings import Settings, load_settings
from tests import auth

BACKENDS = [
    b.strip()
    for b in os.environ.get("CC_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# Variables of the developer's shell must not change what the tests see.
for _name in list(os.environ):
    if (
        _name in Settings.model_fields
        or any(_name == (f.alias or "") for f in Settings.model_fields.values())
        or _name in {"PORT", "APP_PORT", "REDIS_URL", "REDIS_HOST"}
    ):
        del os.environ[_name]

configure_logging("INFO")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    # The periodic ElevenLabs sync, SMS status reconciliation and WhatsApp template sync are off
    # unless a test turns them on: a boundary crossed during a test would otherwise run them
    # behind its back.
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "APP_ENV": "test",
        "ELEVENLABS_SYNC_INTERVAL_MINUTES": "0",
        "SMS_STATUS_RECONCILE_INTERVAL_MINUTES": "0",
        "WHATSAPP_TEMPLATE_SYNC_MINUTES": "0",
        # The retention purge's pace between batches: tests that look at it set it.
        "RETENTION_BATCH_PAUSE_MS": "0",
    }
    values.update(overrides)
    return load_settings(**values)


# What a production app needs to start in a test: real-looking secrets and provider credentials
# (nothing is emulated in production). Pass to settings_factory or client_for.
PRODUCTION_SETTINGS = {
    "APP_ENV": "production",
    "OTP_PEPPER": uuid.uuid4().hex * 2,
    "LINK_SIGNING_KEY": uuid.uuid4().hex * 2,
    "REDACTION_VAULT_KEYS": f"v1:{new_key()}",
    "REDACTION_PROOF_KEYS": f"p1:{new_key()}",
    "AUDIT_MAC_KEY": uuid.uuid4().hex * 2,
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": uuid.uuid4().hex,
    "TWILIO_FROM_NUMBER": "+5491152500000",
    "ELEVENLABS_API_KEY": "sk_" + uuid.uuid4().hex,
    "BUILDERBOT_API_KEY": "bb-" + uuid.uuid4().hex,
    "BUILDERBOT_BOT_ID": str(uuid.uuid4()),
}


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(
        PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class Backend:
    """One migrated database for the whole run, and a way to get a clean one per test."""

    def __init__(self, name: str, url: str, template: Path | None = None) -> None:
        self.name = name
        self.url = url
        self.template = template

    def fresh_url(self, tmp_path: Path) -> str:
        if self.template is not None:
            target = tmp_path / "contact_center.db"
            shutil.copyfile(self.template, target)
            return f"sqlite+aiosqlite:///{target}"
        return self.url


@pytest.fixture(scope="session", params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backend]:
    name = request.param
    if name == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.db"
        url = f"sqlite+aiosqlite:///{template}"
        engine = create_engine(make_settings(url))
        await upgrade_database(engine)
        await engine.dispose()
        yield Backend(name, url, template)
        return
    database = f"cc_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{database}"')
    url = _pg_url(database)
    engine = create_engine(make_settings(url))
    try:
        await upgrade_database(engine)
        await engine.dispose()
        yield Backend(name, url)
    finally:
        await engine.dispose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _truncate(url: str) -> None:
    engine = create_engine(make_settings(url))
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {tables} CASCADE")
    await engine.dispose()


@pytest.fixture
async def database_url(backend: Backend, tmp_path: Path) -> str:
    url = backend.fresh_url(tmp_path)
    if backend.name == "postgresql":
        await _truncate(url)
    return url


@pytest.fixture
def settings_factory(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return make_settings(
            database_url,
            **{
                "RECORDINGS_DIR": str(tmp_path / "recordings"),
                "MEDIA_DIR": str(tmp_path / "media"),
                **overrides,
            },
        )

    return build


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The API without its job worker: tests that send messages start one (worker_app)."""
    application = create_app(settings, migrate=False, with_worker=False)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that authenticates as an admin with an API token (masked data unless it asks)."""
    transport = httpx.ASGITransport(app=app)
    secret = await auth.token(app.state.session_factory)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=auth.bearer(secret)
    ) as http:
        yield http


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Signed-in clients (API tokens): agents `ana` and `bruno`, supervisor `sup`."""
    made = {
        "ana": await auth.token_client(app, "ana", Role.AGENT),
        "bruno": await auth.token_client(app, "bruno", Role.AGENT),
        "sup": await auth.token_client(app, "sup", Role.SUPERVISOR),
    }
    yield made
    for http in made.values():
        await http.aclose()


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without credentials."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def client_for(
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """An app and client built with other settings, for tests of configuration switches."""
    opened: list[tuple[LifespanManager, httpx.AsyncClient]] = []

    async def build(**overrides: Any) -> httpx.AsyncClient:
        with_worker = overrides.pop("with_worker", False)
        application = create_app(
            settings_factory(**overrides), migrate=False, with_worker=with_worker
        )
        manager = LifespanManager(application)
        await manager.__aenter__()
        secret = await auth.token(application.state.session_factory)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application),
            base_url="http://testserver",
            headers=auth.bearer(secret),
        )
        opened.append((manager, http))
        return http

    yield build
    for manager, http in reversed(opened):
        await http.aclose()
        await manager.__aexit__(None, None, None)


# --- the background drill -------------------------------------------------------------------
# Tests marked `background_drill` read the result of a long multi-process drill (tests/
# cron_drill.py). It starts when collection ends and runs beside the other tests; those tests
# run last.


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("background_drill") is not None)


def pytest_collection_finish(session: pytest.Session) -> None:
    from tests import cron_drill

    wanted = any(item.get_closest_marker("background_drill") for item in session.items)
    if wanted and "postgresql" in BACKENDS and not session.config.option.collectonly:
        cron_drill.start(PG_ADMIN_URL)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests import cron_drill

    cron_drill.stop()
