"""`contact-center audit`: seal, verify and checkpoint the audit log's hash chain
(docs/audit-chain.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from contact_center.cli.context import CommandContext, command_settings, run_in_context

audit_cli = typer.Typer(
    help="The audit log's hash chain (docs/audit-chain.md).", no_args_is_help=True
)


@audit_cli.command("seal")
def seal() -> None:
    """Seal every audit row not sealed yet (the worker does it every 5 seconds)."""
    settings = command_settings()

    async def run(context: CommandContext) -> int:
        from contact_center.audit import tasks

        return await tasks.seal(context.sessions)

    sealed = run_in_context(settings, run, migrate=True)
    typer.echo(f"{sealed} audit rows sealed")


@audit_cli.command("verify")
def verify(
    from_checkpoint: Annotated[
        bool,
        typer.Option(
            "--from-checkpoint", help="Start at the latest stored checkpoint (trusting it)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON on stdout.")] = False,
    anchors: Annotated[
        Path | None,
        typer.Option(
            "--anchors",
            help="A file written by `audit checkpoint --export`, kept outside the database: "
            "the chain must match every checkpoint in it.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Processes checking ranges of the chain at once on PostgreSQL (default: one "
            "per CPU; 0: none besides this one).",
        ),
    ] = None,
) -> None:
    """Recompute every link and every row's mac; exit 1 naming the first broken link."""
    settings = command_settings()
    anchored = _read_anchors(anchors) if anchors is not None else None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)

    async def run(context: CommandContext) -> dict[str, Any]:
        from contact_center.audit import chain
        from contact_center.db.base import utcnow
        from contact_center.keys.service import load_audit_mac_key

        key = await load_audit_mac_key(context.engine, settings)
        with Progress(
            "Verifying links",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=as_json or not console.is_terminal,
        ) as bar:
            task = bar.add_task("verify", total=None)

            def show(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = await chain.verify(
                context.sessions,
                key,
                utcnow(),
                from_checkpoint=from_checkpoint,
                anchors=anchored,
                progress=show,
                workers=workers,
            )
        return report.as_dict()

    report = run_in_context(settings, run, migrate=True)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    if not report["ok"]:
        raise typer.Exit(code=1)


def _print(report: dict[str, Any]) -> None:
    typer.echo(
        f"{report['checked']} links checked (from seq {report['startedAtSeq'] + 1}), head "
        f"seq {report['head']['seq']} {report['head']['hash']}; "
        f"{report['checkpointsChecked']} checkpoints matched or checked; "
        f"{report['beforeSealing']} rows from before sealing began"
        + (f"; pruned up to seq {report['prunedTo']}" if report["prunedTo"] else "")
    )
    findings = report["findings"]
    if not findings:
        typer.secho("The audit chain is intact.", fg="green")
        return
    first = findings[0]
    typer.secho(
        f"First broken link: seq {first['seq']}, audit row {first['auditId']}: "
        f"{first['what']} ({first['detail']})",
        fg="red",
        err=True,
    )
    more = len(findings) - 1
    if more:
        typer.echo(f"{more}{'+' if report['truncated'] else ''} more findings:", err=True)
        for finding in findings[1:]:
            typer.echo(
                f"  seq {finding['seq']}, audit row {finding['auditId']}: "
                f"{finding['what']} ({finding['detail']})",
                err=True,
            )


def _read_anchors(path: Path) -> dict[int, str]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return {int(item["seq"]): str(item["hash"]) for item in items["checkpoints"]}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(
            f"not a checkpoint export ({type(exc).__name__})", param_hint="--anchors"
        ) from None


@audit_cli.command("checkpoint")
def checkpoint(
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="Write every checkpoint as JSON to this file ('-': stdout) instead of making one.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Seal what is unsealed and record the head as a checkpoint, or export the checkpoints
    for anchoring outside the database."""
    settings = command_settings()

    async def run(context: CommandContext) -> dict[str, Any]:
        from contact_center.audit import chain, tasks
        from contact_center.db.base import utcnow

        if export is None:
            await tasks.seal(context.sessions)
            async with context.transaction() as session:
                made = await chain.checkpoint(session, utcnow())
            return {"made": None if made is None else {"seq": made.seq, "hash": made.hash}}
        async with context.sessions() as session:
            return chain.export(await chain.checkpoints(session))

    result = run_in_context(settings, run, migrate=True)
    if export is None:
        made = result["made"]
        if made is None:
            typer.echo("The audit chain is empty: no checkpoint.")
        else:
            typer.echo(f"Checkpoint at seq {made['seq']}: {made['hash']}")
        return
    text = json.dumps(result, indent=2) + "\n"
    if str(export) == "-":
        sys.stdout.write(text)
    else:
        export.write_text(text, encoding="utf-8")
        typer.echo(f"{len(result['checkpoints'])} checkpoints written to {export}", err=True)
