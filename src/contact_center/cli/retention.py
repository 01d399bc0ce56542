"""`contact-center retention …`: the retention purge by hand, and what its next run would do
(docs/data-lifecycle.md, "Retention")."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from contact_center.cli.context import CommandContext, command_settings, run_in_context

retention_cli = typer.Typer(
    help='Retention of data by class (docs/data-lifecycle.md, "Retention").',
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout.")]


def _table(title: str, counts: dict[str, Any], settings: Any, column: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from contact_center.retention.service import data_classes

    days = {c.name: int(getattr(settings, c.setting)) for c in data_classes(settings)}
    table = Table(title=title)
    table.add_column("class")
    table.add_column("kept (days)", justify="right")
    table.add_column(column, justify="right")
    for name, count in counts.items():
        kept = days.get(name, 0)
        table.add_row(name, str(kept) if kept else "forever", "–" if count is None else str(count))
    Console().print(table)


@retention_cli.command("plan")
def plan(as_json: AsJson = False) -> None:
    """What the next run would erase or delete, by data class (held data left out); nothing
    is written."""
    from contact_center.retention import service

    settings = command_settings()

    async def work(context: CommandContext) -> dict[str, int | None]:
        return await service.plan(context.sessions, settings)

    counts = run_in_context(settings, work, migrate=True)
    if as_json:
        typer.echo(json.dumps(counts, indent=2))
        return
    _table("Next retention run", counts, settings, "to erase")


@retention_cli.command("run")
def run(
    as_json: AsJson = False,
    pause_ms: Annotated[
        int | None,
        typer.Option(
            "--pause-ms",
            min=0,
            max=60000,
            help="Milliseconds between batches (default: RETENTION_BATCH_PAUSE_MS; 0: none).",
        ),
    ] = None,
) -> None:
    """Run the purge now: each class's expired data not under a legal hold, in batches of
    RETENTION_BATCH_SIZE (one transaction each), RETENTION_BATCH_PAUSE_MS apart. A run that was
    killed is resumed. Exit 3 when another purge is running."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from contact_center.retention import service

    settings = command_settings()
    console = Console(stderr=True)

    async def work(context: CommandContext) -> service.RunReport | None:
        totals = await service.plan(context.sessions, settings)
        bar = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        tasks: dict[str, TaskID] = {
            name: bar.add_task(name, total=total or 0) for name, total in totals.items()
        }

        def shown(name: str, done: int, _batch: int) -> None:
            if name in tasks:
                bar.update(tasks[name], completed=done)

        with bar:
            return await service.run(
                context.sessions,
                context.engine,
                settings,
                trigger="cli",
                context=context.audit,
                shown=shown,
                pause_ms=pause_ms,
            )

    report = run_in_context(settings, work, migrate=True)
    if report is None:
        typer.secho("another retention purge is running: nothing done", err=True, fg="yellow")
        raise typer.Exit(code=3)
    if as_json:
        typer.echo(json.dumps({"run": str(report.id), "counts": report.counts}, indent=2))
        return
    _table(
        f"Retention run {report.id}" + (" (resumed)" if report.resumed else ""),
        report.counts,
        settings,
        "erased",
    )
