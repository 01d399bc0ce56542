"""The `contact-center` command: one Typer app, its commands grouped by what they work on.

Every command that touches the database opens it through `context.command_context`: one engine,
migrated once when the command needs it.
"""

from __future__ import annotations

import sys

import typer

from contact_center.cli import accounts, audit, data, redaction, reports, retention, serving
from contact_center.settings import ConfigError

cli = typer.Typer(
    name="contact-center",
    help="Contact center for banks: calls, WhatsApp and SMS in one model of interactions.",
    no_args_is_help=True,
    add_completion=False,
)
# The order of `--help`.
cli.command("check-config")(serving.check_config)
cli.command()(serving.serve)
cli.command()(serving.worker)
cli.command()(data.migrate)
cli.command("demo-data")(data.demo_data)
cli.command()(data.sync)
cli.command("reconcile-sms")(data.reconcile_sms)
cli.command()(serving.emulator)
cli.add_typer(accounts.users_cli, name="users")
cli.add_typer(accounts.tokens_cli, name="tokens")
cli.add_typer(data.webhooks_cli, name="webhooks")
cli.add_typer(data.whatsapp_templates_cli, name="whatsapp-templates")
cli.add_typer(reports.reports_cli, name="reports")
cli.add_typer(redaction.redaction_cli, name="redaction")
cli.add_typer(audit.audit_cli, name="audit")
cli.add_typer(retention.retention_cli, name="retention")


def main() -> None:
    try:
        cli()
    except ConfigError as exc:  # pragma: no cover - command_settings reports it already
        print(str(exc), file=sys.stderr)
        sys.exit(2)
