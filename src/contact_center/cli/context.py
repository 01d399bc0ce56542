"""What every command shares: its settings, and one context that opens the database once.

A command that touches the database runs inside `command_context`: it creates the engine, applies
the migrations when the command asks (once), and builds the HTTP client, providers or runtime on
first use; everything it opened is closed when the block ends. Heavy modules are imported when a
command runs, not when the command line starts (`--help` stays quick).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import typer

from contact_center.logging import configure_logging
from contact_center.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from contact_center.principal import AuditContext
    from contact_center.providers.registry import Providers
    from contact_center.runtime import Runtime

T = TypeVar("T")


def command_settings() -> Settings:
    """The settings from the environment, and logging configured by them; a configuration
    error is its message and exit 2."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    configure_logging(settings.log_level, settings.log_file, settings.log_format)
    return settings


def operator() -> AuditContext:
    """Audit rows written from this command line name the operating-system user."""
    import getpass

    from contact_center.models.enums import ActorType
    from contact_center.principal import AuditContext, Principal, Role

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return AuditContext(
        principal=Principal(actor_type=ActorType.SYSTEM, actor_id=f"cli:{who}", role=Role.ADMIN)
    )


@dataclass
class CommandContext:
    """The database of one command (engine and sessions), who it acts as, and the clients it
    builds on first use."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    audit: AuditContext
    _http: httpx.AsyncClient | None = field(default=None, init=False)
    _providers: Providers | None = field(default=None, init=False)
    _runtime: Runtime | None = field(default=None, init=False)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            from contact_center.providers.http import create_http_client

            self._http = create_http_client()
        return self._http

    @property
    def providers(self) -> Providers:
        if self._providers is None:
            from contact_center.providers.registry import build_providers

            self._providers = build_providers(self.settings, self.http)
        return self._providers

    async def runtime(self) -> Runtime:
        """Everything a worker needs (queue, keys, providers, live events) on this engine."""
        if self._runtime is None:
            from contact_center.runtime import start_runtime

            self._runtime = await start_runtime(self.settings, self.engine)
        return self._runtime

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session committed when the block ends without an error (rolled back otherwise)."""
        async with self.sessions() as session:
            yield session
            await session.commit()

    async def close(self) -> None:
        try:
            if self._runtime is not None:
                await self._runtime.close()
        finally:
            if self._http is not None:
                await self._http.aclose()


@contextlib.asynccontextmanager
async def command_context(settings: Settings, *, migrate: bool) -> AsyncIterator[CommandContext]:
    """Open the command's one engine (migrated first when `migrate`); close all at the end."""
    from contact_center.db import migrate as migrations
    from contact_center.db import session as database

    engine = database.create_engine(settings)
    try:
        if migrate:
            await migrations.upgrade_database(engine)
            await _audit_mac_key(engine, settings)
        context = CommandContext(
            settings, engine, database.create_session_factory(engine), operator()
        )
        try:
            yield context
        finally:
            await context.close()
    finally:
        await engine.dispose()


async def _audit_mac_key(engine: AsyncEngine, settings: Settings) -> None:
    """The audit rows a command writes carry their mac (docs/audit-chain.md). Without
    AUDIT_MAC_KEY in production they carry none, which `audit verify` reports; `serve` and
    `worker` refuse to start without it."""
    from contact_center.keys.service import load_audit_mac_key

    try:
        await load_audit_mac_key(engine, settings)
    except ConfigError as exc:
        typer.secho(f"{exc} (audit rows are written without a mac)", err=True, fg="yellow")


def run_in_context(
    settings: Settings,
    work: Callable[[CommandContext], Awaitable[T]],
    *,
    migrate: bool,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> T:
    """Run `work` on a new event loop (asyncio's, or `loop_factory`'s), inside one command
    context."""

    async def run() -> T:
        async with command_context(settings, migrate=migrate) as context:
            return await work(context)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run())


def in_transaction(
    settings: Settings, work: Callable[[AsyncSession, AuditContext], Awaitable[T]]
) -> T:
    """Migrate, then run `work` in one transaction as the operator; an AppError becomes a clear
    exit 1."""
    from contact_center.errors import AppError

    async def run(context: CommandContext) -> T:
        async with context.transaction() as session:
            return await work(session, context.audit)

    try:
        return run_in_context(settings, run, migrate=True)
    except AppError as error:
        typer.secho(error.message, err=True, fg="red")
        raise typer.Exit(code=1) from None
