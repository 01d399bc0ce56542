"""Retention's settings and commands (docs/data-lifecycle.md, "Retention"): a value below its
legal floor stops `check-config` naming the variable; `retention plan` writes nothing and
`retention run` does what it said; a run killed midway (SIGKILL) is resumed by the next."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from contact_center.cli import cli
from contact_center.logging import configure_logging
from contact_center.models import Message
from contact_center.models.enums import PurgeStatus
from contact_center.models.lifecycle import PurgeRun
from contact_center.retention import classes
from contact_center.settings import RETENTION_FLOORS, ConfigError, Settings, load_settings
from tests import factories

BIN = Path(sys.executable).parent
OLD = timedelta(days=4000)


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].alias
    assert alias is not None
    return alias


@pytest.mark.parametrize("field", sorted(RETENTION_FLOORS))
def test_each_floor_is_enforced_naming_the_variable(field: str) -> None:
    floor, forever = RETENTION_FLOORS[field]
    name = env_name(field)
    assert getattr(load_settings(**{name: str(floor)}), field) == floor
    with pytest.raises(ConfigError, match=rf"{name}: .*at least {floor} days"):
        load_settings(**{name: str(floor - 1)} if floor > 1 else {name: "0"})
    if forever:
        assert getattr(load_settings(**{name: "0"}), field) == 0
    else:
        with pytest.raises(ConfigError, match=name):
            load_settings(**{name: "0"})


def test_audit_rows_are_kept_at_least_twelve_months() -> None:
    """PCI DSS v4.0 10.5.1."""
    assert RETENTION_FLOORS["retention_audit_rows_days"] == (365, True)
    assert load_settings().retention_audit_rows_days >= 365


def test_check_config_fails_on_a_value_below_the_floor(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite",
        "RETENTION_AUDIT_ROWS_DAYS": "90",
    }
    result = subprocess.run(
        [str(BIN / "contact-center"), "check-config"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "RETENTION_AUDIT_ROWS_DAYS" in result.stderr
    assert "365" in result.stderr


async def old_messages(session: AsyncSession, count: int) -> None:
    at = factories.BASE_TIME - OLD
    for _ in range(count):
        chat = factories.interaction(started_at=at)
        session.add(chat)
        session.add(factories.message(chat, created_at=at))
    await session.commit()


async def unerased(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Message).where(Message.purged_at.is_(None))
        return int(await session.scalar(query) or 0)


def printed(output: str) -> Any:
    """The JSON document a command printed (log lines may come before it)."""
    return json.loads(output[output.index("{\n") :])


async def invoke(env: dict[str, str], *args: str) -> Any:
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
    configure_logging("INFO")
    return result


async def test_plan_writes_nothing_and_run_does_what_it_planned(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    async with session_factory() as session:
        await old_messages(session, 3)
    env = {"DATABASE_URL": database_url, "APP_ENV": "test", "MEDIA_DIR": str(tmp_path)}
    planned = await invoke(env, "retention", "plan", "--json")
    assert planned.exit_code == 0, planned.output
    counts = printed(planned.stdout)
    assert counts[classes.MESSAGE_BODIES] == 3
    assert await unerased(session_factory) == 3
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(PurgeRun)) == 0

    refused = await invoke(env, "retention", "run", "--pause-ms", "-1")
    assert refused.exit_code == 2
    ran = await invoke(env, "retention", "run", "--json", "--pause-ms", "0")
    assert ran.exit_code == 0, ran.output
    assert printed(ran.stdout)["counts"] == counts
    assert await unerased(session_factory) == 0

    shown = await invoke(env, "retention", "plan")
    assert shown.exit_code == 0, shown.output
    assert "message_bodies" in shown.stdout


async def test_a_killed_run_is_resumed_by_the_next(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    total = 400
    async with session_factory() as session:
        await old_messages(session, total)
    env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}},
        "DATABASE_URL": database_url,
        "APP_ENV": "test",
        "MEDIA_DIR": str(tmp_path / "media"),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "RETENTION_BATCH_SIZE": "1",
        "RETENTION_BATCH_PAUSE_MS": "0",
    }
    command = [str(BIN / "contact-center"), "retention", "run", "--json"]
    process = subprocess.Popen(  # noqa: ASYNC220 - killed from this test on purpose
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            left = await unerased(session_factory)
            if left < total - 5 or process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    left = await unerased(session_factory)
    assert 0 < left < total, "the run was not killed midway"
    async with session_factory() as session:
        run = (await session.scalars(select(PurgeRun))).one()
        assert run.status is PurgeStatus.RUNNING
        assert run.counts[classes.MESSAGE_BODIES] == total - left

    # The next run resumes the same run, in batches of any size (large ones here: a slow
    # machine need not commit hundreds of one-row batches again).
    env["RETENTION_BATCH_SIZE"] = "1000"
    resumed = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert printed(resumed.stdout)["run"] == str(run.id)
    assert printed(resumed.stdout)["counts"][classes.MESSAGE_BODIES] == total
    assert await unerased(session_factory) == 0
