"""The composition root: `create_app(settings)` builds every adapter at start-up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center import __version__
from contact_center.audit.endpoints import router as audit_router
from contact_center.auth.endpoints import admin as users_router
from contact_center.auth.endpoints import router as auth_router
from contact_center.auth.middleware import AuthenticationMiddleware, is_public
from contact_center.calls.endpoints import router as calls_router
from contact_center.canned.endpoints import router as canned_router
from contact_center.complaint_evidence.endpoints import router as complaint_evidence_router
from contact_center.complaint_reports.endpoints import router as complaint_reports_router
from contact_center.complaints.endpoints import router as complaints_router
from contact_center.console.account import router as account_router
from contact_center.console.canned import router as console_canned_router
from contact_center.console.complaints import router as console_complaints_router
from contact_center.console.csat import router as console_csat_router
from contact_center.console.error_pages import error_page
from contact_center.console.holds import router as console_holds_router
from contact_center.console.inbox import home as console_home_router
from contact_center.console.inbox import router as console_inbox_router
from contact_center.console.notifications import router as console_notifications_router
from contact_center.console.pages import STATIC_DIR as CONSOLE_STATIC
from contact_center.console.pages import router as console_router
from contact_center.console.redactions import router as console_redactions_router
from contact_center.console.reports import router as console_reports_router
from contact_center.console.service_levels import router as console_service_levels_router
from contact_center.console.subject_requests import router as console_subject_requests_router
from contact_center.console.teams import router as console_teams_router
from contact_center.console.wallboard import router as console_wallboard_router
from contact_center.console.whatsapp_templates import router as console_whatsapp_templates_router
from contact_center.console.workflow import router as console_workflow_router
from contact_center.db.base import utcnow
from contact_center.db.migrate import upgrade_database
from contact_center.db.session import create_engine
from contact_center.dependencies import WORKS_CONVERSATIONS
from contact_center.emulator.app import create_emulator_app
from contact_center.emulator.state import EmulatorState
from contact_center.emulator.traffic import SimulatedTraffic
from contact_center.errors import install_error_handlers
from contact_center.handlers import webhook_deps
from contact_center.health.endpoints import router as health_router
from contact_center.health.schemas import CheckState
from contact_center.holds.endpoints import on_interactions as holds_on_interactions_router
from contact_center.holds.endpoints import router as holds_router
from contact_center.inbox.endpoints import router as inbox_router
from contact_center.interactions import repository as interactions_repository
from contact_center.interactions import whatsapp_window
from contact_center.interactions.endpoints import router as interactions_router
from contact_center.links.endpoints import router as links_router
from contact_center.links.endpoints import sms_router as link_sms_router
from contact_center.links.landing import router as landing_router
from contact_center.messaging.endpoints import router as messaging_router
from contact_center.metrics.endpoints import router as metrics_router
from contact_center.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from contact_center.notes.endpoints import router as notes_router
from contact_center.otp.endpoints import router as otp_router
from contact_center.outcomes.endpoints import router as outcomes_router
from contact_center.providers.http import create_http_client
from contact_center.providers.registry import emulated_providers
from contact_center.reports.endpoints import router as reports_router
from contact_center.runtime import start_runtime
from contact_center.search.endpoints import router as search_router
from contact_center.security_headers import edge
from contact_center.sensitive.endpoints import router as redactions_router
from contact_center.service_levels.endpoints import manage as service_levels_manage_router
from contact_center.service_levels.endpoints import read as service_levels_read_router
from contact_center.service_levels.endpoints import router as service_levels_router
from contact_center.settings import Settings, load_settings
from contact_center.subject_requests.endpoints import router as subject_requests_router
from contact_center.teams.endpoints import manage as teams_manage_router
from contact_center.teams.endpoints import router as teams_router
from contact_center.wallboard.endpoints import router as wallboard_router
from contact_center.webhooks.endpoints import WebhookLane
from contact_center.webhooks.endpoints import router as webhooks_router
from contact_center.whatsapp_templates.endpoints import router as whatsapp_templates_router
from contact_center.worker.build import build_worker

log = structlog.get_logger(__name__)

# Swagger UI from npm (scripts/bootstrap), served by us: no CDN, and started by a script file
# (FastAPI's page starts it inline, which the Content Security Policy refuses).
SWAGGER_UI_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Contact Center API</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui.css">
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/vendor/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""

API_DESCRIPTION = """
Omnichannel contact center for banks: voice calls (ElevenLabs AI agent), WhatsApp (BuilderBot)
and SMS (Twilio) in one model of **interactions**, with OTP verification, PII masking and a complete
audit log. Errors always use one envelope: `{"error": {"code", "message", "details"}}`.
"""


def _redis_check(settings: Settings) -> tuple[Callable[[], Awaitable[CheckState]], Redis | None]:
    if not settings.redis_dsn:

        async def embedded() -> CheckState:
            return "embedded"

        return embedded, None
    client = Redis.from_url(settings.redis_dsn, socket_timeout=2, socket_connect_timeout=2)

    async def ping() -> CheckState:
        try:
            await client.ping()  # type: ignore[misc]  # redis-py types ping() as sync|async
        except Exception:  # any failure means down
            return "down"
        return "ok"

    return ping, client


async def _emulator_learns_recent_customers(
    sessions: async_sessionmaker[AsyncSession], state: EmulatorState
) -> None:
    """The emulator stands in for WhatsApp, which saw every customer message: those written
    before it started (the demo's seeded conversations, an earlier run) are read back, so its
    24-hour window agrees with the one the API shows."""
    async with sessions() as session:
        since = utcnow() - whatsapp_window.WHATSAPP_WINDOW
        for phone, at in await interactions_repository.recent_inbound_whatsapp(session, since):
            state.customer_wrote(phone, at)


def create_app(
    settings: Settings | None = None,
    *,
    migrate: bool = True,
    simulate_traffic: bool = False,
    with_worker: bool | None = None,
) -> FastAPI:
    """Build the application. Nothing connects until the lifespan starts.

    `with_worker` runs the job worker in this process; by default it does when no Redis is
    configured (the embedded default), and not otherwise (run `contact-center worker`).
    """
    settings = settings or load_settings()
    run_worker = (not settings.redis_enabled) if with_worker is None else with_worker
    emulated = emulated_providers(settings)
    emulator_state = (
        EmulatorState(
            target_url=settings.emulator_target_url or f"http://127.0.0.1:{settings.app_port}"
        )
        if emulated and not settings.is_production and not settings.emulator_url
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if migrate:
            await upgrade_database(engine)
        runtime = await start_runtime(settings, engine)
        app.state.runtime = runtime
        await runtime.events.start()
        app.state.engine = engine
        app.state.session_factory = runtime.sessions
        app.state.providers = runtime.providers
        app.state.webhooks = webhook_deps(runtime)
        app.state.redis_check, redis_client = _redis_check(settings)
        worker = (
            build_worker(runtime.queue, runtime, app.state.webhooks, handle_signals=False)
            if run_worker
            else None
        )
        worker_task = asyncio.create_task(worker.start()) if worker is not None else None
        app.state.worker = worker
        traffic = None
        if emulator_state is not None:
            emulator_state.http = create_http_client()
            await _emulator_learns_recent_customers(runtime.sessions, emulator_state)
            if simulate_traffic:
                traffic = SimulatedTraffic(emulator_state, seed=settings.demo_seed)
                traffic.start()
        log.info(
            "started",
            environment=settings.app_env.value,
            database=settings.database_kind.value,
            queue="redis" if settings.redis_enabled else "embedded",
            worker="in-process" if run_worker else "separate",
            emulated=sorted(p.value for p in emulated),
        )
        try:
            yield
        finally:
            if traffic is not None:
                await traffic.stop()
            if worker is not None and worker_task is not None:
                await worker.stop()
                worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker_task
            if emulator_state is not None:
                await emulator_state.close()
            await runtime.close()
            if redis_client is not None:
                await redis_client.aclose()
            await engine.dispose()
            log.info("stopped")

    app = FastAPI(
        title="Contact Center API",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.state.error_page = error_page
    # Outermost last: request id and access log, then authentication, then the body-size cap,
    # then the providers' deliveries, answered before routing.
    app.add_middleware(WebhookLane)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(AuthenticationMiddleware)
    app.add_middleware(RequestContextMiddleware)

    # Conversation work is for agents and up (WORKS_CONVERSATIONS): a compliance officer is
    # refused there and uses legal holds, data-subject requests and the audit trail.
    app.include_router(health_router)
    app.include_router(interactions_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(inbox_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(notes_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(redactions_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(search_router, dependencies=WORKS_CONVERSATIONS)
    # Before the complaints' own routes: `report` is not a complaint's id.
    app.include_router(complaint_reports_router)
    app.include_router(complaints_router)
    app.include_router(webhooks_router)
    app.include_router(messaging_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(whatsapp_templates_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(link_sms_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(links_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(landing_router)
    app.include_router(outcomes_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(otp_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(calls_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(metrics_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(wallboard_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(reports_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(canned_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(complaint_evidence_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(audit_router)
    app.include_router(holds_router)
    app.include_router(holds_on_interactions_router)
    app.include_router(teams_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(teams_manage_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(service_levels_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(service_levels_read_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(service_levels_manage_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(subject_requests_router)
    app.include_router(account_router)
    app.include_router(console_canned_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_csat_router)
    app.include_router(console_home_router)
    app.include_router(console_holds_router)
    app.include_router(console_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_teams_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_service_levels_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_wallboard_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_reports_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_workflow_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_whatsapp_templates_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_inbox_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_notifications_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_redactions_router, dependencies=WORKS_CONVERSATIONS)
    app.include_router(console_subject_requests_router)
    app.include_router(console_complaints_router)
    app.mount("/static", StaticFiles(directory=CONSOLE_STATIC), name="static")
    if emulator_state is not None:
        # Stand-ins for the providers without credentials; never in production.
        app.mount("/_emulator", create_emulator_app(emulator_state))
    app.state.emulator = emulator_state

    def openapi_with_security() -> dict[str, Any]:
        # Declared once for the whole document: a bearer token everywhere, except the public
        # routes (health, webhooks with their own signatures, /__whoami).
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token (`contact-center tokens create`).",
                }
            }
            schema["security"] = [{"bearerAuth": []}]
            for path, operations in schema["paths"].items():
                if is_public(path, production=settings.is_production):
                    for operation in operations.values():
                        operation["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi_with_security  # type: ignore[method-assign]

    @app.get("/api/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(SWAGGER_UI_PAGE)

    # The security headers and the trusted proxies wrap everything, Starlette's own error
    # handling included, so a 500 carries the headers too (add_middleware would sit inside it).
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: edge(build_stack(), settings)  # type: ignore[method-assign]
    return app
