"""Health, table list and service identity (docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from contact_center import __version__
from contact_center.dependencies import SettingsDep, require
from contact_center.errors import DependencyUnavailable
from contact_center.health import service
from contact_center.health.schemas import (
    Health,
    HealthChecks,
    Readiness,
    ReadinessChecks,
    Tables,
    WhoAmI,
)
from contact_center.principal import Role
from contact_center.schemas import ErrorEnvelope

router = APIRouter(tags=["health"])


@router.get(
    "/api/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database is unreachable"}},
    summary="Service health",
)
async def health(request: Request, settings: SettingsDep) -> JSONResponse:
    """200 `ok`, 200 `degraded` when only Redis or a provider is down, 503 without a database."""
    database = await service.check_database(request.app.state.engine)
    redis = "embedded" if not settings.redis_enabled else await request.app.state.redis_check()
    checks = HealthChecks(database=database, redis=redis)
    if database == "down":
        body = Health(status="down", checks=checks)
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    status = "degraded" if redis == "down" else "ok"
    return JSONResponse(Health(status=status, checks=checks).model_dump(mode="json"))


@router.get(
    "/api/health/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready to take traffic"}},
    summary="Readiness: database reachable, migrations applied, queue connected",
)
async def ready(request: Request, settings: SettingsDep) -> JSONResponse:
    """For load balancers and Kubernetes readiness probes; `/api/health` stays the liveness
    view. 503 until migrations are applied and the queue answers."""
    engine = request.app.state.engine
    database = await service.check_database(engine)
    migrations = "unknown"
    if database == "ok":
        migrations = await service.check_migrations(engine)
    queue = "embedded" if not settings.redis_enabled else await request.app.state.redis_check()
    checks = ReadinessChecks(database=database, migrations=migrations, queue=queue)
    is_ready = database == "ok" and migrations == "ok" and queue in ("ok", "embedded")
    body = Readiness(status="ready" if is_ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if is_ready else 503)


@router.get(
    "/api/health/tables",
    response_model=Tables,
    summary="Tables in the database",
    responses={
        401: {"model": ErrorEnvelope, "description": "In production: no credentials"},
        403: {"model": ErrorEnvelope, "description": "In production: not an admin"},
    },
)
async def tables(request: Request, settings: SettingsDep) -> Tables:
    """Public in development, as in the original; in production only an admin sees it (the
    table names describe the database, which no one else needs)."""
    if settings.is_production:
        await require(Role.ADMIN)(request)
    try:
        names = await service.table_names(request.app.state.engine)
    except (SQLAlchemyError, OSError) as exc:
        raise DependencyUnavailable("The database is unreachable.") from exc
    return Tables(tables=names)


@router.get("/__whoami", response_model=WhoAmI, summary="Service identity")
async def whoami(settings: SettingsDep) -> WhoAmI:
    return WhoAmI(
        service="contact-center",
        version=__version__,
        port=settings.app_port,
        environment=settings.app_env.value,
        database=settings.database_kind.value,
        queue="redis" if settings.redis_enabled else "embedded",
        platform=service.platform_variables(),
    )
