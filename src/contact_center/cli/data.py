"""Commands that work on the data: `migrate`, `demo-data`, `sync`, `reconcile-sms`, the
webhook ledger's `webhooks replay` and `whatsapp-templates sync`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from contact_center.cli.accounts import first_admin
from contact_center.cli.context import CommandContext, command_settings, run_in_context
from contact_center.settings import Settings

if TYPE_CHECKING:
    from contact_center.calls.sync import SyncResult
    from contact_center.demo.service import DemoAgent, DemoResult
    from contact_center.messaging.tasks import StatusCheckResult
    from contact_center.whatsapp_templates.service import SyncResult as TemplateSyncResult


def migrate() -> None:
    """Apply every pending database migration and exit."""
    settings = command_settings()
    from contact_center.db.migrate import current_revision

    async def run(context: CommandContext) -> str | None:
        return await current_revision(context.engine)

    revision = run_in_context(settings, run, migrate=True)
    typer.echo(f"database at revision {revision}")


def demo_data(
    days: Annotated[int, typer.Option(min=1, max=30, help="Days of traffic to write.")] = 2,
    customers: Annotated[int, typer.Option(min=10, max=100_000, help="Customers.")] = 300,
    force: Annotated[
        bool, typer.Option("--force", help="Write even if the database already has interactions.")
    ] = False,
) -> None:
    """Write the deterministic demo data set (customers, calls, WhatsApp, SMS, OTPs) and the
    demo agents' console accounts."""
    settings = demo_settings(command_settings(), None, None)
    from contact_center.demo.service import write_demo_data

    async def run(context: CommandContext) -> DemoResult:
        # The administrator first: once the agents exist, `serve` would not create one.
        if not settings.is_production and not settings.auth_disabled:
            await first_admin(context, settings.host, None)
        return await write_demo_data(
            context.engine, settings, days=days, customers=customers, force=force, progress=True
        )

    result = run_in_context(settings, run, migrate=True)
    if result.interactions == 0:
        typer.echo("the database already has interactions; nothing written (use --force)")
    else:
        typer.echo(f"wrote {result.interactions} interactions")
    print_demo_agents(result.agents)


def demo_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """Without FRONTEND_URL, the demo's link SMS open on this service's own landing page."""
    if settings.frontend_url:
        return settings
    from contact_center.links.landing import own_frontend_url

    url = own_frontend_url(settings, host or settings.host, port)
    return settings.model_copy(update={"frontend_url": url})


def print_demo_agents(agents: Sequence[DemoAgent]) -> None:
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
    settings = command_settings()
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

    from contact_center.calls.sync import SyncDeps, SyncFailed, SyncProgress, SyncRequest
    from contact_center.calls.sync import sync as run_sync

    console = Console(stderr=True)

    async def run(context: CommandContext) -> SyncResult:
        from contact_center.keys.service import load_keys

        deps = SyncDeps(
            settings=settings,
            sessions=context.sessions,
            conversations=context.providers.conversations,
            redaction=(await load_keys(context.engine, settings)).redaction,
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

            request = SyncRequest(hours=hours, limit=limit, include_details=details, trigger="cli")
            return await run_sync(deps, request, context.audit, progress=show)

    try:
        result = run_in_context(settings, run, migrate=True)
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


def reconcile_sms(
    limit: Annotated[
        int | None,
        typer.Option(min=1, max=10000, help="At most this many (SMS_STATUS_RECONCILE_BATCH)."),
    ] = None,
) -> None:
    """Read once from the provider the status of SMS still SENT after
    SMS_STATUS_RECONCILE_AFTER_SECONDS (their callbacks were lost) and apply it; exit 1 when
    some could not be read."""
    from functools import partial

    settings = command_settings()
    from contact_center.keys.service import load_keys
    from contact_center.messaging.tasks import StatusCheckDeps, check_sms_statuses
    from contact_center.ratelimits import RateLimits

    async def run(context: CommandContext) -> StatusCheckResult:
        keys = await load_keys(context.engine, settings)
        limits = RateLimits(settings, keys.pseudonym_key)
        deps = StatusCheckDeps(
            settings=settings,
            sessions=context.sessions,
            source=context.providers.sms_status,
            provider_slot=partial(limits.provider_slot, "twilio"),
        )
        return await check_sms_statuses(deps, context.audit, limit=limit)

    result = run_in_context(settings, run, migrate=True)
    typer.echo(" · ".join(f"{name.replace('_', ' ')} {n}" for name, n in result.counts().items()))
    if result.failed or result.skipped:
        raise typer.Exit(code=1)


webhooks_cli = typer.Typer(
    help="The webhook ledger: list and replay stored deliveries.", no_args_is_help=True
)


@webhooks_cli.command("replay")
def webhooks_replay(
    delivery_id: Annotated[str | None, typer.Argument(help="The delivery to replay.")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Replay every FAILED (and stuck RECEIVED) delivery.")
    ] = False,
) -> None:
    """Apply stored deliveries again, after the cause of their failure was fixed."""
    import uuid

    settings = command_settings()
    from contact_center.handlers import webhook_handlers
    from contact_center.recordings import RecordingStore
    from contact_center.webhooks.ingest import WebhookDeps, replay, replay_pending

    if (delivery_id is None) == (not failed):
        typer.secho("give a delivery id or --failed", err=True, fg="red")
        raise typer.Exit(code=2)

    async def run(context: CommandContext) -> list[tuple[str, str]]:
        deps = WebhookDeps(
            settings,
            context.sessions,
            webhook_handlers(RecordingStore(settings.recordings_dir)),
        )
        if failed:
            results = await replay_pending(deps)
        else:
            results = [await replay(deps, uuid.UUID(str(delivery_id)))]
        return [(str(r.delivery_id), r.status) for r in results]

    try:
        outcomes = run_in_context(settings, run, migrate=True)
    except (LookupError, ValueError):
        typer.secho(f"no webhook delivery {delivery_id}", err=True, fg="red")
        raise typer.Exit(code=1) from None
    for identifier, status in outcomes:
        typer.echo(f"{identifier} {status}")
    if any(status == "FAILED" for _, status in outcomes):
        raise typer.Exit(code=1)


whatsapp_templates_cli = typer.Typer(
    help="The WhatsApp template registry (docs/whatsapp-cloud.md).", no_args_is_help=True
)


@whatsapp_templates_cli.command("sync")
def whatsapp_templates_sync() -> None:
    """Bring the template registry to the WhatsApp Business Account's list now; exit 1 when
    the list could not be read."""
    settings = command_settings()
    from contact_center.whatsapp_templates.service import SyncFailed, sync

    async def run(context: CommandContext) -> TemplateSyncResult | None:
        source = context.providers.whatsapp_template_source
        if source is None:
            return None
        try:
            return await sync(context.sessions, source, context.audit, trigger="cli")
        except SyncFailed as exc:
            typer.secho(f"the templates could not be listed: {exc}", err=True, fg="red")
            raise typer.Exit(code=1) from None

    result = run_in_context(settings, run, migrate=True)
    if result is None:
        typer.secho(
            "no WhatsApp Cloud API account to sync templates from (WHATSAPP_CLOUD_WABA_ID)",
            err=True,
            fg="red",
        )
        raise typer.Exit(code=1)
    typer.echo(" · ".join(f"{name} {n}" for name, n in result.counts().items()))
