"""Migrations run on both databases, concurrently from several processes, and back down."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, Integer, String, Uuid, column, insert, inspect, table, text

from contact_center.db.migrate import current_revision, head_revision, upgrade_database
from contact_center.db.session import create_engine
from tests.conftest import BACKENDS, _pg_admin, _pg_url, make_settings


async def _run_migrate_processes(url: str, count: int) -> list[tuple[int, str]]:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}

    async def one() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "contact_center",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        return process.returncode or 0, (out + err).decode()

    return await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.slow
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not selected")
async def test_three_processes_migrate_one_postgres_database_at_once() -> None:
    database = f"cc_migrate_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{database}"')
    try:
        results = await _run_migrate_processes(_pg_url(database), 3)
        assert [code for code, _ in results] == [0, 0, 0], results
        engine = create_engine(make_settings(_pg_url(database)))
        assert await current_revision(engine) == head_revision()
        await engine.dispose()
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.mark.slow
async def test_three_processes_migrate_one_sqlite_file_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cc.db'}"
    results = await _run_migrate_processes(url, 3)
    assert [code for code, _ in results] == [0, 0, 0], results
    engine = create_engine(make_settings(url))
    assert await current_revision(engine) == head_revision()
    await engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not selected")
async def test_downgrade_to_base_and_up_again_on_postgres() -> None:
    database = f"cc_down_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{database}"')
    engine = create_engine(make_settings(_pg_url(database)))
    try:
        await upgrade_database(engine)
        from contact_center.db import migrate

        async with engine.connect() as connection:

            def down(sync: object) -> None:
                from alembic import command

                config = migrate.alembic_config()
                config.attributes["connection"] = sync
                command.downgrade(config, "base")

            await connection.run_sync(down)
            await connection.commit()
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await upgrade_database(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def test_serving_applies_migrations_at_start(tmp_path: Path) -> None:
    from asgi_lifespan import LifespanManager

    from contact_center.app import create_app

    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(make_settings(url))
    async with LifespanManager(app):
        assert await current_revision(app.state.engine) == head_revision()


async def _upgrade_to(engine: Any, revision: str) -> None:
    from alembic import command

    from contact_center.db import migrate

    async with engine.connect() as connection:

        def up(sync: object) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = sync
            command.upgrade(config, revision)

        await connection.run_sync(up)
        await connection.commit()


# The ledger's columns as revision 0006 left them (the model has more).
LEDGER_AT_0006 = table(
    "webhook_delivery",
    column("id", Uuid()),
    column("provider", String()),
    column("event_key", String()),
    column("received_at", DateTime(timezone=True)),
    column("raw_body", String()),
    column("status", String()),
    column("attempts", Integer()),
)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_0007_fills_the_family_of_existing_builderbot_deliveries(
    tmp_path: Path, backend: str
) -> None:
    database = f"cc_family_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        await _pg_admin(f'CREATE DATABASE "{database}"')
        url = _pg_url(database)
    else:
        url = f"sqlite:///{tmp_path / 'family.db'}"
    engine = create_engine(make_settings(url))
    digest = "a" * 64
    try:
        await _upgrade_to(engine, "0006")
        async with engine.begin() as connection:
            for key, provider, status in [
                (digest, "BUILDERBOT", "PROCESSED"),
                (f"{digest}:2", "BUILDERBOT", "PROCESSED"),
                (f"invalid:{digest}", "BUILDERBOT", "INVALID"),
                ("b" * 64, "BUILDERBOT", "INVALID"),  # a stored body that failed on a replay
                ("SM123:delivered", "TWILIO", "PROCESSED"),
            ]:
                await connection.execute(
                    insert(LEDGER_AT_0006).values(
                        id=uuid.uuid4(),
                        provider=provider,
                        event_key=key,
                        received_at=datetime.now(UTC),
                        raw_body="{}",
                        status=status,
                        attempts=1,
                    )
                )
        await upgrade_database(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT event_key, event_family FROM webhook_delivery ORDER BY event_key")
                )
            ).all()
        assert sorted((key, family) for key, family in rows) == sorted(
            [
                (digest, digest),
                (f"{digest}:2", digest),
                (f"invalid:{digest}", None),
                ("b" * 64, "b" * 64),
                ("SM123:delivered", None),
            ]
        )
    finally:
        await engine.dispose()
        if backend == "postgresql":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.mark.parametrize("backend", BACKENDS)
async def test_0010_keeps_existing_deliveries_as_text(tmp_path: Path, backend: str) -> None:
    database = f"cc_encoding_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        await _pg_admin(f'CREATE DATABASE "{database}"')
        url = _pg_url(database)
    else:
        url = f"sqlite:///{tmp_path / 'encoding.db'}"
    engine = create_engine(make_settings(url))
    try:
        await _upgrade_to(engine, "0009")
        async with engine.begin() as connection:
            await connection.execute(
                insert(LEDGER_AT_0006).values(
                    id=uuid.uuid4(),
                    provider="BUILDERBOT",
                    event_key="k",
                    received_at=datetime.now(UTC),
                    raw_body='{"eventName": "message.incoming"}',
                    status="PROCESSED",
                    attempts=1,
                )
            )
        await upgrade_database(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT raw_body, raw_body_encoding FROM webhook_delivery")
                )
            ).all()
        assert [tuple(row) for row in rows] == [('{"eventName": "message.incoming"}', None)]
    finally:
        await engine.dispose()
        if backend == "postgresql":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
