"""Liveness checks of the dependencies."""

from __future__ import annotations

import asyncio
import os

import structlog
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.db.migrate import current_revision, head_revision
from contact_center.health.schemas import CheckState

log = structlog.get_logger(__name__)
CHECK_TIMEOUT_SECONDS = 2.0
# Variables that Railway and other platforms set; reported by /__whoami when present.
PLATFORM_VARIABLES = (
    "RAILWAY_ENVIRONMENT_NAME",
    "RAILWAY_PROJECT_NAME",
    "RAILWAY_SERVICE_NAME",
    "RAILWAY_DEPLOYMENT_ID",
    "RAILWAY_REPLICA_ID",
    "RAILWAY_REPLICA_REGION",
    "RAILWAY_GIT_COMMIT_SHA",
    "RAILWAY_GIT_BRANCH",
    "RAILWAY_PUBLIC_DOMAIN",
    "RAILWAY_PRIVATE_DOMAIN",
    "HEROKU_APP_NAME",
    "HEROKU_RELEASE_VERSION",
    "DYNO",
    "KUBERNETES_SERVICE_HOST",
    "K_SERVICE",
    "K_REVISION",
    "HOSTNAME",
)


async def check_database(engine: AsyncEngine) -> CheckState:
    async def probe() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means down
        log.warning("health_database_down", error=type(exc).__name__)
        return "down"
    return "ok"


async def table_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return sorted(names)


def platform_variables() -> dict[str, str]:
    return {name: os.environ[name] for name in PLATFORM_VARIABLES if os.environ.get(name)}


async def check_migrations(engine: AsyncEngine) -> str:
    """ "ok" when the database is at the code's head revision, else "pending"."""
    try:
        current = await asyncio.wait_for(current_revision(engine), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # unreadable counts as not ready
        log.warning("health_migrations_unknown", error=type(exc).__name__)
        return "unknown"
    return "ok" if current == head_revision() else "pending"
