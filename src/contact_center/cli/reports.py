"""`contact-center reports rebuild`: recompute the report rollups of a range of days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from contact_center.cli.context import CommandContext, command_settings, run_in_context

reports_cli = typer.Typer(
    help='Report rollups (docs/service-levels.md, "Rollups").', no_args_is_help=True
)


def _day(raw: str | None, name: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {raw!r}", param_hint=name) from None


@reports_cli.command("rebuild")
def rebuild(
    from_: Annotated[
        str | None,
        typer.Option("--from", help="First local day (YYYY-MM-DD; the first conversation's)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Last local day, included (YYYY-MM-DD; the last conversation's)."
        ),
    ] = None,
) -> None:
    """Recompute the rollups of every day of a range from the source tables, one transaction
    per day, with a progress bar (the rollup job keeps them current afterwards)."""
    first, last = _day(from_, "--from"), _day(to, "--to")
    if first is not None and last is not None and first > last:
        raise typer.BadParameter("--from is after --to", param_hint="--from")
    settings = command_settings()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from contact_center.reports import tasks

    console = Console(stderr=True)

    async def run(context: CommandContext) -> tuple[int, int]:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[day]} · {task.fields[conversations]} conversations"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("Recomputing days", total=None, day="", conversations=0)
            counted = 0

            def show(day: date, n: int) -> None:
                nonlocal counted
                counted += n
                bar.update(task, advance=1, day=day.isoformat(), conversations=counted)

            return await tasks.rebuild(
                context.sessions,
                settings,
                first,
                last,
                on_start=lambda total: bar.update(task, total=total),
                progress=show,
            )

    days, conversations = run_in_context(settings, run, migrate=True)
    typer.echo(f"recomputed {days} days, {conversations} conversations")
