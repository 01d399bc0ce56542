"""`contact-center redaction …`: redact the stored history, reseal the vault after a key
rotation, make a new key (docs/redaction.md, "Existing data" and "Rotating the keys")."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contact_center.cli.context import CommandContext, command_settings, run_in_context
from contact_center.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from contact_center.redaction.history import HistoryReport, ResealReport
    from contact_center.redaction.service import RedactionKeys

redaction_cli = typer.Typer(
    help='Redaction of stored data and its keys (docs/redaction.md, "Existing data").',
    no_args_is_help=True,
)

Batch = Annotated[
    int, typer.Option(min=1, max=10_000, help="Rows per batch (one transaction each).")
]
Restart = Annotated[
    bool,
    typer.Option(
        "--restart", help="Start over instead of going on from where the last run stopped."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]


def _enabled_settings() -> Settings:
    settings = command_settings()
    if not settings.redaction_enabled:
        typer.secho(
            "REDACTION_ENABLED is false: nothing is redacted and no keyring is loaded. "
            "Turn redaction on (with REDACTION_VAULT_KEYS and REDACTION_PROOF_KEYS) first.",
            err=True,
            fg="red",
        )
        raise typer.Exit(code=2)
    return settings


async def _keys(context: CommandContext) -> RedactionKeys:
    """The keyrings as the app loads them (settings first, else the database outside
    production)."""
    from contact_center.keys.service import load_keys

    keys = (await load_keys(context.engine, context.settings)).redaction
    if keys is None:  # pragma: no cover - REDACTION_ENABLED was checked before
        raise typer.Exit(code=2)
    return keys


class _Shown:
    """A progress bar per table on a terminal (rows/s and time left); plain lines otherwise."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.bar: Progress | None = None
        if console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description:<18}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[changed]} changed · {task.fields[rate]} rows/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
            )
        self.tasks: dict[str, TaskID] = {}
        self.began: dict[str, float] = {}
        self.said: dict[str, float] = {}

    def __enter__(self) -> _Shown:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start(self, name: str, total: int) -> None:
        self.began[name] = self.said[name] = time.monotonic()
        if self.bar is not None:
            self.tasks[name] = self.bar.add_task(name, total=total, changed=0, rate="–")
        else:
            self.console.print(f"{name}: {total} rows to go through", highlight=False)

    def advance(self, name: str, scanned: int, changed: int) -> None:
        now = time.monotonic()
        rate = scanned / max(now - self.began[name], 1e-6)
        if self.bar is not None:
            self.bar.update(
                self.tasks[name], completed=scanned, changed=changed, rate=f"{rate:,.0f}"
            )
        elif now - self.said[name] >= 2:
            self.said[name] = now
            self.console.print(
                f"{name}: {scanned} rows, {changed} changed, {rate:,.0f} rows/s", highlight=False
            )

    def finish(self, name: str) -> None:
        if self.bar is None:
            seconds = time.monotonic() - self.began[name]
            self.console.print(f"{name}: done in {seconds:.1f} s", highlight=False)


@redaction_cli.command("history")
def history(
    batch: Batch = 500,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Only this table (message, call_detail, interaction_event, webhook_delivery, "
            "csat_survey); repeat for several.",
        ),
    ] = None,
    restart: Restart = False,
    as_json: AsJson = False,
) -> None:
    """Redact the stored history: every text a customer wrote or said, table by table, in
    primary-key order, one transaction per batch. Resumable: a run that stopped goes on from
    its last batch; running it again changes nothing already redacted."""
    from contact_center.redaction.history import TABLES, redact_history

    for name in only or ():
        if name not in TABLES:
            raise typer.BadParameter(
                f"unknown table {name!r}: one of {', '.join(TABLES)}", param_hint="--only"
            )
    settings = _enabled_settings()
    from rich.console import Console

    console = Console(stderr=True)

    async def run(context: CommandContext) -> HistoryReport:
        keys = await _keys(context)
        with _Shown(console) as shown:
            return await redact_history(
                context.sessions, keys, batch=batch, only=only, restart=restart, progress=shown
            )

    report = run_in_context(settings, run, migrate=True)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_history(console, report)


def _print_history(console: Console, report: HistoryReport) -> None:
    from rich.table import Table

    table = Table(title="Redaction of the stored history")
    for column in ("table", "scanned", "changed", "findings", "unreadable", "seconds", "rows/s"):
        table.add_column(column, justify="left" if column in ("table", "findings") else "right")
    for part in report.tables:
        found = ", ".join(f"{entity} {n}" for entity, n in sorted(part.findings.items()))
        table.add_row(
            part.table + (" (resumed)" if part.resumed_from else ""),
            str(part.scanned),
            str(part.changed),
            found or "–",
            str(part.unreadable),
            f"{part.seconds:.1f}",
            f"{part.rows_per_second:,.0f}",
        )
    console.print(table)
    for part in report.tables:
        if part.unreadable_keys:
            listed = ", ".join(part.unreadable_keys)
            console.print(
                f"{part.table}: {part.unreadable} rows not wholly read (left as they are): "
                f"{listed}",
                highlight=False,
            )
    summary: dict[str, Any] = report.as_dict()
    typer.echo(
        f"scanned {summary['scanned']} rows, changed {summary['changed']}, "
        f"{summary['findings']} redactions, {summary['unreadable']} not wholly read"
    )


@redaction_cli.command("reseal")
def reseal(batch: Batch = 500, restart: Restart = False, as_json: AsJson = False) -> None:
    """Reseal with the current vault key (the first of REDACTION_VAULT_KEYS) every vault row
    sealed with an older key, one transaction per batch. Then the old key can be removed."""
    settings = _enabled_settings()
    from rich.console import Console

    from contact_center.redaction.history import reseal_vault

    console = Console(stderr=True)

    async def run(context: CommandContext) -> ResealReport:
        keys = await _keys(context)
        with _Shown(console) as shown:
            return await reseal_vault(
                context.sessions, keys, batch=batch, restart=restart, progress=shown
            )

    report = run_in_context(settings, run, migrate=True)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    held = ", ".join(f"{key} {n}" for key, n in sorted(report.keys.items())) or "none"
    typer.echo(
        f"resealed {report.resealed} of {report.scanned} vault rows with key "
        f"{report.current_key!r} in {report.seconds:.1f} s; {report.failed} failed; "
        f"rows per key now: {held}"
    )
    if report.failed_tokens:
        typer.secho(
            "not resealed (an old key missing from the keyring, or an altered row): "
            + ", ".join(report.failed_tokens),
            err=True,
            fg="red",
        )
    old = [key for key in report.keys if key != report.current_key]
    if not old:
        typer.echo("no row needs an older key: it can be removed from REDACTION_VAULT_KEYS")


@redaction_cli.command("new-key")
def new_key(
    proof: Annotated[
        bool,
        typer.Option("--proof", help="For REDACTION_PROOF_KEYS instead of REDACTION_VAULT_KEYS."),
    ] = False,
) -> None:
    """Print a new keyring entry (`id:base64 key`) to put first in REDACTION_VAULT_KEYS (or
    REDACTION_PROOF_KEYS). It is a secret: it is printed on stdout only, never logged."""
    from contact_center.redaction.history import next_key_id
    from contact_center.redaction.vault import Keyring, KeyringError
    from contact_center.redaction.vault import new_key as fresh_key

    settings = command_settings()
    name = "REDACTION_PROOF_KEYS" if proof else "REDACTION_VAULT_KEYS"
    configured = settings.redaction_proof_keys if proof else settings.redaction_vault_keys
    # Unset: the keyring generated outside production, `k1`.
    ids: tuple[str, ...] = ("k1",)
    if configured is not None:
        try:
            ids = Keyring.parse(configured.get_secret_value()).ids
        except KeyringError as exc:
            typer.secho(f"{name}: {exc}", err=True, fg="red")
            raise typer.Exit(code=2) from None
    entry = f"{next_key_id(ids)}:{fresh_key()}"
    typer.echo(entry)
    typer.secho(
        f"Put it first in {name} and keep the old entries ({', '.join(ids)}) after it; "
        + (
            "then run `contact-center redaction reseal` and remove the old ones."
            if not proof
            else "older proofs name their key and are still confirmed with it."
        ),
        err=True,
        fg="yellow",
    )
