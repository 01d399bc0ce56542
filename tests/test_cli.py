"""The command line opens the database once per command: one engine, migrated once where the
command needs it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from contact_center.cli import cli
from contact_center.db import migrate as db_migrate
from contact_center.db import session as db_session
from contact_center.emulator.app import create_emulator_app
from contact_center.emulator.state import EmulatorState
from contact_center.logging import configure_logging
from contact_center.settings import Settings
from tests.auth import PASSWORD
from tests.live import serve

CLI_PACKAGE = Path(__file__).parent.parent / "src" / "contact_center" / "cli"


@dataclass
class Opened:
    """What the command line opened: engines created, migrations run."""

    engines: int = 0
    migrations: int = 0


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Opened]:
    """Counts calls to the real engine factory and migrator (they still do their work)."""
    counts = Opened()
    create_engine = db_session.create_engine
    upgrade_database = db_migrate.upgrade_database

    def counting_create_engine(settings: Settings) -> AsyncEngine:
        counts.engines += 1
        return create_engine(settings)

    async def counting_upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
        counts.migrations += 1
        await upgrade_database(engine, revision)

    monkeypatch.setattr(db_session, "create_engine", counting_create_engine)
    monkeypatch.setattr(db_migrate, "upgrade_database", counting_upgrade_database)
    yield counts
    # A command configures logging onto the runner's captured output, closed by now.
    configure_logging("INFO")


# Every command that opens the database; `{token}` is the id of a token made beforehand.
COMMANDS = [
    ("migrate",),
    ("users", "create", "carol", "--role", "supervisor"),
    ("users", "list"),
    ("users", "set", "operator", "--name", "Operator"),
    ("users", "reset-password", "operator"),
    ("users", "unlock", "operator"),
    ("tokens", "create", "operator"),
    ("tokens", "list"),
    ("tokens", "revoke", "{token}"),
    ("webhooks", "replay", "--failed"),
    ("reconcile-sms",),
    ("demo-data", "--days", "1", "--customers", "10"),
    ("sync", "--hours", "1", "--metadata-only"),
    ("check-config",),
    ("reports", "rebuild"),
    ("reports", "rebuild", "--from", "2026-11-01", "--to", "2026-11-03"),
    ("audit", "seal"),
    ("audit", "verify"),
    ("audit", "checkpoint"),
    ("audit", "checkpoint", "--export", "-"),
    ("retention", "plan"),
    ("retention", "run"),
]
NOT_MIGRATING = {("check-config",)}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
async def test_each_command_creates_one_engine_and_migrates_at_most_once(
    command: tuple[str, ...], database_url: str, tmp_path: Path, opened: Opened
) -> None:
    async with serve(create_emulator_app(EmulatorState(target_url="http://127.0.0.1:9"))) as url:
        env = {
            "DATABASE_URL": database_url,
            "APP_ENV": "test",
            "RECORDINGS_DIR": str(tmp_path / "recordings"),
            "EMULATOR_URL": url,
        }

        async def invoke(*args: str, stdin: str | None = None) -> Result:
            # On a thread: a command runs its own event loop, as it does from a shell.
            return await asyncio.to_thread(
                CliRunner().invoke, cli, list(args), input=stdin, env=env
            )

        made_user = await invoke("users", "create", "operator", "--password-stdin", stdin=PASSWORD)
        assert made_user.exit_code == 0, made_user.output
        made_token = await invoke("tokens", "create", "operator")
        assert made_token.exit_code == 0, made_token.output
        found = re.search(r"token (\S+) for operator", made_token.stderr)
        assert found is not None, made_token.stderr
        opened.engines = opened.migrations = 0

        result = await invoke(*(part.format(token=found.group(1)) for part in command))

    assert result.exit_code == 0, result.output
    assert opened.engines == 1
    assert opened.migrations == (0 if command in NOT_MIGRATING else 1)


def test_only_the_command_context_opens_the_database() -> None:
    """The commands get their engine from cli/context.py, which creates and migrates it once."""
    for path in sorted(CLI_PACKAGE.glob("*.py")):
        if path.name == "context.py":
            continue
        text = path.read_text()
        for name in ("create_engine", "create_session_factory", "upgrade_database"):
            assert name not in text, f"{path.name} calls {name}"
