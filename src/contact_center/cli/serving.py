"""The long-running processes (`serve`, `worker`, `emulator`) and `check-config`, which tells
whether a production configuration would let them start."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from contact_center.cli.accounts import first_admin
from contact_center.cli.context import CommandContext, command_settings, run_in_context
from contact_center.cli.data import demo_settings, print_demo_agents
from contact_center.settings import Settings

if TYPE_CHECKING:
    from contact_center.preflight import Finding


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


def _refuse_on_errors(findings: list[Finding]) -> None:
    """With APP_ENV=production, `serve` and `worker` start only on a configuration that passes
    `check-config`."""
    from contact_center import preflight

    failed = preflight.errors(findings)
    if failed:
        typer.secho(
            "refusing to start: the configuration is not ready for production", err=True, fg="red"
        )
        typer.echo(preflight.describe(failed), err=True)
        raise typer.Exit(code=2)


def _refuse_on_static_errors(settings: Settings) -> None:
    """The checks that need no connection, before anything is opened."""
    if not settings.is_production:
        return
    from contact_center import preflight

    _refuse_on_errors(preflight.static_findings(settings))


def check_config() -> None:
    """Check a production configuration without starting anything; exit 1 on any error."""
    settings = command_settings()
    from contact_center import preflight

    async def run(context: CommandContext) -> list[Finding]:
        return await preflight.run_checks(settings, context.engine)

    findings = run_in_context(settings, run, migrate=False)
    colours = {"error": "red", "warning": "yellow", "ok": "green"}
    for finding in findings:
        typer.secho(preflight.describe([finding]), fg=colours[finding.level])
    failed = preflight.errors(findings)
    if failed:
        typer.secho(f"{len(failed)} error(s): fix the variables above", fg="red", err=True)
        raise typer.Exit(code=1)
    typer.secho("configuration ready for production", fg="green")


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
    settings = command_settings()
    from contact_center.app import create_app

    _refuse_on_static_errors(settings)
    if demo:
        settings = demo_settings(settings, host or settings.host, port)

    async def prepare(context: CommandContext) -> list[Finding]:
        # The administrator first: the demo's agents are users too.
        if not settings.is_production and not settings.auth_disabled:
            await first_admin(context, host or settings.host, port)
        if demo:
            from contact_center.demo.service import seed_if_empty

            print_demo_agents((await seed_if_empty(context.engine, settings)).agents)
        if not settings.is_production:
            return []
        from contact_center import preflight

        return await preflight.connection_findings(settings, context.engine)

    _refuse_on_errors(run_in_context(settings, prepare, migrate=True))
    # The app opens its own engine: it lives on the server's event loop, not this one.
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


def worker() -> None:
    """Run the job worker: sends, retries, the reconciler and the periodic jobs."""
    settings = command_settings()
    from contact_center.handlers import webhook_deps
    from contact_center.worker.build import build_worker

    _refuse_on_static_errors(settings)

    async def run(context: CommandContext) -> None:
        runtime = await context.runtime()
        # SIGTERM/SIGINT stop it gracefully: running jobs get a grace period to finish.
        job_worker = build_worker(
            runtime.queue, runtime, webhook_deps(runtime), handle_signals=False
        )
        loop = asyncio.get_running_loop()
        _on_termination(lambda: loop.call_soon_threadsafe(job_worker.event.set))
        await job_worker.start()

    run_in_context(settings, run, migrate=True, loop_factory=_worker_loop())


def _worker_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the worker process: its jobs spend much of their time in the event loop
    (provider calls, the database driver, Redis), which uvloop runs in C. Where uvloop is not
    installed (Windows), asyncio's own loop. (An embedded worker runs on the web server's loop,
    which uvicorn makes uvloop already.)"""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return None
    return uvloop.new_event_loop


def emulator(
    port: Annotated[int, typer.Option(help="Port of the emulator.")] = 8090,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    target: Annotated[
        str, typer.Option(help="The app that receives the providers' webhooks.")
    ] = "http://127.0.0.1:3000",
) -> None:
    """Run the provider emulator alone (point the app at it with EMULATOR_URL)."""
    settings = command_settings()
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
