"""The `contact-center` command."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar

import structlog
import typer
import uvicorn

from contact_center.logging import configure_logging
from contact_center.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from contact_center.demo.service import DemoAgent
    from contact_center.principal import AuditContext, Role

T = TypeVar("T")

cli = typer.Typer(
    name="contact-center",
    help="Contact center for banks: calls, WhatsApp and SMS in one model of interactions.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    configure_logging(settings.log_level, settings.log_file, settings.log_format)
    return settings


def _on_termination(stop: Callable[[], object]) -> None:
    """SIGTERM/SIGINT: the first one stops the process gracefully, later ones are ignored.

    Platforms (Heroku, Kubernetes, honcho) may signal a process and its group at once; a second
    signal must not kill it mid-shutdown, and a clean stop exits 0.
    """
    stopping = False

    def handle(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


class GracefulServer(uvicorn.Server):
    """uvicorn, except that a SIGTERM it handled ends the process with exit code 0 (uvicorn
    re-raises the signal after shutdown, which platforms read as a crash), and a second signal
    does not cut the graceful shutdown short."""

    def _stop(self) -> None:
        self.handle_exit(signal.SIGTERM, None)
        # Live console streams never end by themselves; end them so shutdown does not wait.
        runtime = getattr(getattr(self.config.app, "state", None), "runtime", None)
        if runtime is not None:
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().call_soon_threadsafe(runtime.events.close_streams)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
        _on_termination(self._stop)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            # A late duplicate signal after shutdown must not turn a clean exit into a crash.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _refuse_on_errors(settings: Settings, *, connect: bool) -> None:
    """With APP_ENV=production, `serve` and `worker` start only on a configuration that passes
    `check-config`."""
    if not settings.is_production:
        return
    from contact_center import preflight

    findings = preflight.static_findings(settings)
    if connect:
        findings += asyncio.run(preflight.connection_findings(settings))
    failed = preflight.errors(findings)
    if failed:
        typer.secho(
            "refusing to start: the configuration is not ready for production", err=True, fg="red"
        )
        typer.echo(preflight.describe(failed), err=True)
        raise typer.Exit(code=2)


@cli.command("check-config")
def check_config() -> None:
    """Check a production configuration without starting anything; exit 1 on any error."""
    settings = _settings()
    from contact_center import preflight

    findings = asyncio.run(preflight.run_checks(settings))
    colours = {"error": "red", "warning": "yellow", "ok": "green"}
    for finding in findings:
        typer.secho(preflight.describe([finding]), fg=colours[finding.level])
    failed = preflight.errors(findings)
    if failed:
        typer.secho(f"{len(failed)} error(s): fix the variables above", fg="red", err=True)
        raise typer.Exit(code=1)
    typer.secho("configuration ready for production", fg="green")


@cli.command()
def serve(
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Fill an empty database with the demo data set and keep simulated customers "
            "writing and calling through the provider emulator.",
        ),
    ] = False,
    host: Annotated[str | None, typer.Option(help="Bind address (default APP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default APP_PORT or PORT).")] = None,
    with_worker: Annotated[
        bool | None,
        typer.Option(
            "--with-worker/--no-worker",
            help="Run the job worker in this process (default: only when no Redis is configured).",
        ),
    ] = None,
) -> None:
    """Apply migrations, then serve the API and the docs."""
    settings = _settings()
    from contact_center.app import create_app
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine

    _refuse_on_errors(settings, connect=False)
    if demo:
        settings = _demo_settings(settings, host or settings.host, port)

    async def prepare() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            # The administrator first: the demo's agents are users too.
            if not settings.is_production and not settings.auth_disabled:
                await _first_admin(engine, settings, host or settings.host, port)
            if demo:
                from contact_center.demo.service import seed_if_empty

                _print_demo_agents((await seed_if_empty(engine, settings)).agents)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    _refuse_on_errors(settings, connect=True)
    app = create_app(settings, migrate=False, simulate_traffic=demo, with_worker=with_worker)
    config = uvicorn.Config(
        app,
        host=host or settings.host,
        port=port or settings.app_port,
        log_config=None,
        # The app believes forwarded headers from TRUSTED_PROXIES only (security_headers.edge);
        # uvicorn's own handling would trust any local peer's X-Forwarded-For.
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )
    GracefulServer(config).run()


@cli.command()
def worker() -> None:
    """Run the job worker: sends, retries, the reconciler and the periodic jobs."""
    settings = _settings()
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine
    from contact_center.handlers import webhook_deps
    from contact_center.runtime import start_runtime
    from contact_center.worker.build import build_worker

    _refuse_on_errors(settings, connect=False)

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            runtime = await start_runtime(settings, engine)
            try:
                # SIGTERM/SIGINT stop it gracefully: running jobs get a grace period to finish.
                job_worker = build_worker(
                    runtime.queue, runtime, webhook_deps(runtime), handle_signals=False
                )
                loop = asyncio.get_running_loop()
                _on_termination(lambda: loop.call_soon_threadsafe(job_worker.event.set))
                await job_worker.start()
            finally:
                await runtime.close()
        finally:
            await engine.dispose()

    asyncio.run(run())


@cli.command()
def migrate() -> None:
    """Apply every pending database migration and exit."""
    settings = _settings()
    from contact_center.db.migrate import current_revision, upgrade_database
    from contact_center.db.session import create_engine

    async def run() -> str | None:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    typer.echo(f"database at revision {revision}")


@cli.command("demo-data")
def demo_data(
    days: Annotated[int, typer.Option(min=1, max=30, help="Days of traffic to write.")] = 2,
    customers: Annotated[int, typer.Option(min=10, max=100_000, help="Customers.")] = 300,
    force: Annotated[
        bool, typer.Option("--force", help="Write even if the database already has interactions.")
    ] = False,
) -> None:
    """Write the deterministic demo data set (customers, calls, WhatsApp, SMS, OTPs) and the
    demo agents' console accounts."""
    settings = _demo_settings(_settings(), None, None)
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine
    from contact_center.demo.service import DemoResult, write_demo_data

    async def run() -> DemoResult:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            # The administrator first: once the agents exist, `serve` would not create one.
            if not settings.is_production and not settings.auth_disabled:
                await _first_admin(engine, settings, settings.host, None)
            return await write_demo_data(
                engine, settings, days=days, customers=customers, force=force, progress=True
            )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if result.interactions == 0:
        typer.echo("the database already has interactions; nothing written (use --force)")
    else:
        typer.echo(f"wrote {result.interactions} interactions")
    _print_demo_agents(result.agents)


def _demo_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """Without FRONTEND_URL, the demo's link SMS open on this service's own landing page."""
    if settings.frontend_url:
        return settings
    from contact_center.links.landing import own_frontend_url

    url = own_frontend_url(settings, host or settings.host, port)
    return settings.model_copy(update={"frontend_url": url})


def _print_demo_agents(agents: Sequence[DemoAgent]) -> None:
    """The demo agents' passwords, once, on the terminal (never through the logs)."""
    if not agents:
        return
    lines = [
        "\nDemo agents: console users with the agent role; each sees their own work and the "
        "unassigned one.",
        f"  {'username':<18} {'name':<18} {'queue':<22} password",
    ]
    lines += [f"  {a.username:<18} {a.name:<18} {a.queue:<22} {a.password}" for a in agents]
    typer.secho("\n".join(lines) + "\n", err=True, fg="yellow")


@cli.command()
def sync(
    hours: Annotated[
        int, typer.Option(min=1, max=168, help="Conversations started this many hours back.")
    ] = 24,
    limit: Annotated[
        int, typer.Option(min=1, max=5000, help="At most this many, newest first.")
    ] = 500,
    details: Annotated[
        bool,
        typer.Option(
            "--details/--metadata-only",
            help="Fetch each conversation (transcript, numbers) or only the list's metadata.",
        ),
    ] = True,
) -> None:
    """Sync ElevenLabs calls into the contact center, with a progress bar."""
    import getpass

    settings = _settings()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from contact_center.calls.sync import (
        SyncDeps,
        SyncFailed,
        SyncProgress,
        SyncRequest,
        SyncResult,
    )
    from contact_center.calls.sync import sync as run_sync
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine, create_session_factory
    from contact_center.models.enums import ActorType
    from contact_center.principal import AuditContext, Principal, Role
    from contact_center.providers.http import create_http_client
    from contact_center.providers.registry import build_providers

    console = Console(stderr=True)
    context = AuditContext(
        principal=Principal(
            actor_type=ActorType.SYSTEM, actor_id=f"cli:{getpass.getuser()}", role=Role.ADMIN
        )
    )

    async def run() -> SyncResult:
        engine = create_engine(settings)
        http = create_http_client()
        try:
            await upgrade_database(engine)
            deps = SyncDeps(
                settings=settings,
                sessions=create_session_factory(engine),
                conversations=build_providers(settings, http).conversations,
            )
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as bar:
                task = bar.add_task("Listing conversations", total=None, counts="")

                def show(state: SyncProgress) -> None:
                    r = state.result
                    counts = (
                        f"created {r.created} · updated {r.updated} · unchanged {r.unchanged}"
                        f" · failed {r.failed}"
                    )
                    if state.phase == "listing":
                        bar.update(task, completed=state.done, counts=f"{state.done} found")
                    else:
                        bar.update(
                            task,
                            description="Applying calls",
                            total=state.total,
                            completed=state.done,
                            counts=counts,
                        )

                request = SyncRequest(
                    hours=hours, limit=limit, include_details=details, trigger="cli"
                )
                return await run_sync(deps, request, context, progress=show)
        finally:
            await http.aclose()
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except SyncFailed as failed:
        typer.secho(f"sync failed: {failed.error}", err=True, fg="red")
        raise typer.Exit(code=1) from None
    table = Table(title=f"ElevenLabs sync · last {hours} h · limit {limit}")
    for column in ("seen", "created", "updated", "unchanged", "failed", "missing webhooks"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(n)
            for n in (
                result.seen,
                result.created,
                result.updated,
                result.unchanged,
                result.failed,
                result.missing_webhooks,
            )
        )
    )
    Console().print(table)
    if result.missing_webhooks:
        typer.secho(
            f"{result.missing_webhooks} finished calls never arrived by webhook "
            f"(for example {', '.join(result.missing_webhook_ids[:5])}): check the post-call "
            "webhook URL and ELEVENLABS_WEBHOOK_SECRET in the agent's settings.",
            fg="yellow",
        )
    if result.failed:
        raise typer.Exit(code=1)


@cli.command("reconcile-sms")
def reconcile_sms(
    limit: Annotated[
        int | None,
        typer.Option(min=1, max=10000, help="At most this many (SMS_STATUS_RECONCILE_BATCH)."),
    ] = None,
) -> None:
    """Read once from the provider the status of SMS still SENT after
    SMS_STATUS_RECONCILE_AFTER_SECONDS (their callbacks were lost) and apply it; exit 1 when
    some could not be read."""
    import getpass
    from functools import partial

    settings = _settings()
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine, create_session_factory
    from contact_center.keys.service import load_keys
    from contact_center.messaging.tasks import (
        StatusCheckDeps,
        StatusCheckResult,
        check_sms_statuses,
    )
    from contact_center.models.enums import ActorType
    from contact_center.principal import AuditContext, Principal, Role
    from contact_center.providers.http import create_http_client
    from contact_center.providers.registry import build_providers
    from contact_center.ratelimits import RateLimits

    context = AuditContext(
        principal=Principal(
            actor_type=ActorType.SYSTEM, actor_id=f"cli:{getpass.getuser()}", role=Role.ADMIN
        )
    )

    async def run() -> StatusCheckResult:
        engine = create_engine(settings)
        http = create_http_client()
        try:
            await upgrade_database(engine)
            keys = await load_keys(engine, settings)
            limits = RateLimits(settings, keys.pseudonym_key)
            deps = StatusCheckDeps(
                settings=settings,
                sessions=create_session_factory(engine),
                source=build_providers(settings, http).sms_status,
                provider_slot=partial(limits.provider_slot, "twilio"),
            )
            return await check_sms_statuses(deps, context, limit=limit)
        finally:
            await http.aclose()
            await engine.dispose()

    result = asyncio.run(run())
    typer.echo(" · ".join(f"{name.replace('_', ' ')} {n}" for name, n in result.counts().items()))
    if result.failed or result.skipped:
        raise typer.Exit(code=1)


async def _first_admin(
    engine: AsyncEngine, settings: Settings, host: str, port: int | None
) -> None:
    """First start of an empty database: create `admin` with a one-time password. On a terminal
    it is printed there; otherwise (a service manager, a container, output sent to a file) it
    goes to a file only its owner may read, deleted once the password is changed. Never in the
    logs. In production, create users with `users create`."""
    from contact_center.auth.service import (
        FIRST_ADMIN,
        ensure_first_admin,
        forget_first_admin_password,
        write_first_admin_password,
    )
    from contact_center.db.session import create_session_factory

    async with create_session_factory(engine)() as session:
        password = await ensure_first_admin(session)
        await session.commit()
    if password is None:
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    sign_in = f"http://{shown}:{port or settings.app_port}/login"
    if sys.stdout.isatty():
        forget_first_admin_password(settings)  # a file left by an earlier database
        typer.secho(
            "\nFirst start: created the administrator account.\n"
            f"  Sign in at   {sign_in}\n"
            f"  username     {FIRST_ADMIN}\n"
            f"  password     {password}   (works once: you choose your own at the first sign-in)\n",
            fg="yellow",
        )
        return
    try:
        path = write_first_admin_password(settings, password)
    except OSError as exc:
        typer.secho(
            f"First start: created the administrator account, but its one-time password could "
            f"not be written ({exc.strerror}). Set one with: contact-center users "
            f"reset-password {FIRST_ADMIN}",
            err=True,
            fg="red",
        )
        return
    typer.secho(
        "\nFirst start: created the administrator account.\n"
        f"  Sign in at   {sign_in}\n"
        f"  username     {FIRST_ADMIN}\n"
        f"  password     in {path} (readable by its owner only; it works once, and the file\n"
        "               is deleted when you choose your own password at the first sign-in)\n",
        err=True,
        fg="yellow",
    )
    structlog.get_logger(__name__).warning(
        "first_admin_created", username=FIRST_ADMIN, one_time_login_in=str(path)
    )


def _cli_context() -> AuditContext:
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


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Migrate, then run `work` in one transaction; an AppError becomes a clear exit 1."""
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine, create_session_factory
    from contact_center.errors import AppError

    async def run() -> T:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            async with create_session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AppError as error:
        typer.secho(error.message, err=True, fg="red")
        raise typer.Exit(code=1) from None


users_cli = typer.Typer(help="Console users: create, list, change, reset.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
RoleOption = Annotated[str, typer.Option(help="agent, supervisor or admin.")]


def _role(value: str) -> Role:
    from contact_center.principal import Role

    try:
        return Role(value.strip().lower())
    except ValueError:
        typer.secho("the role is agent, supervisor or admin", err=True, fg="red")
        raise typer.Exit(code=2) from None


@users_cli.command("create")
def users_create(
    username: Annotated[
        str, typer.Argument(help="Also the agent name interactions are assigned to.")
    ],
    role: RoleOption = "agent",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from standard input (else one is generated and shown once).",
        ),
    ] = False,
) -> None:
    """Create a user. A generated password works once: the user chooses their own at sign-in."""
    from contact_center.auth import service

    settings = _settings()
    chosen = sys.stdin.readline().rstrip("\n") if password_stdin else None

    async def work(session: AsyncSession) -> str | None:
        _, generated = await service.create_user(
            session,
            _cli_context(),
            username=username,
            role=_role(role),
            password=chosen,
            bank_name=settings.bank_name,
            display_name=name,
        )
        return generated

    generated = _in_transaction(settings, work)
    typer.echo(f"created {username.strip().lower()} ({role})")
    if generated:
        typer.secho(f"one-time password: {generated}", fg="yellow")


@users_cli.command("list")
def users_list() -> None:
    """Every user with role and state."""
    from rich.console import Console
    from rich.table import Table

    from contact_center.auth import service

    settings = _settings()

    async def work(session: AsyncSession) -> list[tuple[str, ...]]:
        return [
            (
                u.username,
                u.role.value,
                "active" if u.active else "disabled",
                "locked" if u.locked_until else "",
                u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never",
            )
            for u in await service.list_users(session)
        ]

    table = Table("username", "role", "state", "lock", "last sign-in")
    for row in _in_transaction(settings, work):
        table.add_row(*row)
    Console().print(table)


@users_cli.command("set")
def users_set(
    username: str,
    role: Annotated[str | None, typer.Option(help="agent, supervisor or admin.")] = None,
    active: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Change a user's role, display name, or enable/disable them."""
    from contact_center.auth import service

    settings = _settings()

    async def work(session: AsyncSession) -> None:
        user = await service.user_by_name(session, username)
        await service.update_user(
            session,
            _cli_context(),
            user.id,
            role=_role(role) if role else None,
            active=active,
            display_name=name,
        )

    _in_transaction(settings, work)
    typer.echo(f"updated {username}")


@users_cli.command("reset-password")
def users_reset_password(username: str) -> None:
    """A new one-time password (shown once); the user's sessions end."""
    from contact_center.auth import service

    settings = _settings()

    async def work(session: AsyncSession) -> str:
        user = await service.user_by_name(session, username)
        _, password = await service.reset_password(session, _cli_context(), user.id)
        return password

    password = _in_transaction(settings, work)
    typer.secho(f"one-time password: {password}", fg="yellow")


@users_cli.command("unlock")
def users_unlock(username: str) -> None:
    """Lift a lockout after failed sign-ins."""
    from contact_center.auth import service

    settings = _settings()

    async def work(session: AsyncSession) -> None:
        user = await service.user_by_name(session, username)
        await service.unlock_user(session, _cli_context(), user.id)

    _in_transaction(settings, work)
    typer.echo(f"unlocked {username}")


tokens_cli = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
cli.add_typer(tokens_cli, name="tokens")


@tokens_cli.command("create")
def tokens_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    expires_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it expires (default never).")
    ] = None,
) -> None:
    """Create a personal access token. It is printed once, on standard output; only its hash is
    kept."""
    from contact_center.auth import service

    settings = _settings()

    async def work(session: AsyncSession) -> tuple[str, str]:
        user = await service.user_by_name(session, username)
        token, secret = await service.create_token(
            session, _cli_context(), user.id, name=name, expires_in_days=expires_days
        )
        return str(token.id), secret

    token_id, secret = _in_transaction(settings, work)
    typer.secho(f"token {token_id} for {username} (shown once):", err=True, fg="yellow")
    typer.echo(secret)


@tokens_cli.command("list")
def tokens_list(username: Annotated[str | None, typer.Argument()] = None) -> None:
    """Tokens (their first characters, never the token)."""
    from rich.console import Console
    from rich.table import Table

    from contact_center.auth import service

    settings = _settings()

    async def work(session: AsyncSession) -> list[tuple[str, ...]]:
        owner = (await service.user_by_name(session, username)).id if username else None
        return [
            (
                str(t.id),
                t.prefix + "…",
                user,
                t.name,
                "revoked" if t.revoked_at else "active",
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never",
            )
            for t, user in await service.list_tokens(session, owner)
        ]

    table = Table("id", "token", "user", "name", "state", "last used")
    for row in _in_transaction(settings, work):
        table.add_row(*row)
    Console().print(table)


@tokens_cli.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token at once."""
    import uuid

    from contact_center.auth import service

    settings = _settings()
    try:
        identifier = uuid.UUID(token_id)
    except ValueError:
        typer.secho("give the token's id (see `tokens list`)", err=True, fg="red")
        raise typer.Exit(code=2) from None

    async def work(session: AsyncSession) -> None:
        await service.revoke_token(session, _cli_context(), identifier)

    _in_transaction(settings, work)
    typer.echo(f"revoked {token_id}")


webhooks_cli = typer.Typer(
    help="The webhook ledger: list and replay stored deliveries.", no_args_is_help=True
)
cli.add_typer(webhooks_cli, name="webhooks")


@webhooks_cli.command("replay")
def webhooks_replay(
    delivery_id: Annotated[str | None, typer.Argument(help="The delivery to replay.")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Replay every FAILED (and stuck RECEIVED) delivery.")
    ] = False,
) -> None:
    """Apply stored deliveries again, after the cause of their failure was fixed."""
    import uuid

    settings = _settings()
    from contact_center.db.migrate import upgrade_database
    from contact_center.db.session import create_engine, create_session_factory
    from contact_center.handlers import webhook_handlers
    from contact_center.recordings import RecordingStore
    from contact_center.webhooks.ingest import WebhookDeps, replay, replay_pending

    if (delivery_id is None) == (not failed):
        typer.secho("give a delivery id or --failed", err=True, fg="red")
        raise typer.Exit(code=2)

    async def run() -> list[tuple[str, str]]:
        engine = create_engine(settings)
        try:
            await upgrade_database(engine)
            deps = WebhookDeps(
                settings,
                create_session_factory(engine),
                webhook_handlers(RecordingStore(settings.recordings_dir)),
            )
            if failed:
                results = await replay_pending(deps)
            else:
                results = [await replay(deps, uuid.UUID(str(delivery_id)))]
            return [(str(r.delivery_id), r.status) for r in results]
        finally:
            await engine.dispose()

    try:
        outcomes = asyncio.run(run())
    except (LookupError, ValueError):
        typer.secho(f"no webhook delivery {delivery_id}", err=True, fg="red")
        raise typer.Exit(code=1) from None
    for identifier, status in outcomes:
        typer.echo(f"{identifier} {status}")
    if any(status == "FAILED" for _, status in outcomes):
        raise typer.Exit(code=1)


@cli.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port of the emulator.")] = 8090,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    target: Annotated[
        str, typer.Option(help="The app that receives the providers' webhooks.")
    ] = "http://127.0.0.1:3000",
) -> None:
    """Run the provider emulator alone (point the app at it with EMULATOR_URL)."""
    settings = _settings()
    if settings.is_production:
        typer.secho("the emulator does not run with APP_ENV=production", err=True, fg="red")
        raise typer.Exit(code=2)
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from contact_center.emulator.app import create_emulator_app
    from contact_center.emulator.state import EmulatorState
    from contact_center.providers.http import create_http_client

    state = EmulatorState(target_url=target)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.http = create_http_client()
        yield
        await state.close()

    app = create_emulator_app(state)
    app.router.lifespan_context = lifespan
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=False)


def main() -> None:
    try:
        cli()
    except ConfigError as exc:  # pragma: no cover - _settings reports it already
        print(str(exc), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
