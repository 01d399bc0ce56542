"""Deployment: the Procfile under a Procfile runner, the container files (linted), the
configuration check and readiness (issue: production deployment)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.migrate import upgrade_database
from contact_center.db.session import create_engine
from contact_center.health.service import check_migrations
from contact_center.models import Message
from contact_center.redaction.vault import new_key
from tests import auth
from tests.conftest import BACKENDS, PG_ADMIN_URL, Backend, _pg_admin, _pg_url
from tests.live import PrivateRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "k" + uuid.uuid4().hex + uuid.uuid4().hex  # 65 characters, not a placeholder


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_builds_assets_and_wheels_then_runs_slim_and_not_as_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, flags=re.MULTILINE)
    assert [name for _, name in stages] == ["assets", "build", ""]
    runtime = text.split("FROM python:3.11-slim-bookworm\n", 1)[1]
    assert "npm" not in runtime
    assert "apt-get" not in runtime  # no compilers in the runtime image
    assert re.search(r"^USER 10001", runtime, flags=re.MULTILINE)
    assert 'CMD ["contact-center", "serve"]' in runtime


def test_compose_has_postgres_redis_one_web_and_one_worker() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker"}
    assert services["web"]["command"] == ["contact-center", "serve"]
    assert services["worker"]["command"] == ["contact-center", "worker"]
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    assert "--maxmemory-policy noeviction" in redis_command
    for name in ("web", "worker"):
        service = services[name]
        assert service["environment"]["APP_ENV"] == "production"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_the_procfile_runs_serve_and_worker() -> None:
    lines = (ROOT / "Procfile").read_text().strip().splitlines()
    # `exec`: the shell a runner starts (dash, for honcho) becomes the process, so SIGTERM
    # reaches it directly and its exit code is the process's own.
    assert lines == ["web: exec contact-center serve", "worker: exec contact-center worker"]


# --- check-config ---------------------------------------------------------------------------


def production_env(database_url: str, redis_url: str, **changes: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("APP_", "DATABASE", "REDIS", "TWILIO", "ELEVENLABS", "BUILDERBOT", "WHATSAPP")
        )
    }
    env.update(
        {
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PUBLIC_BASE_URL": "https://contact.banco.example",
            "FRONTEND_URL": "https://www.banco.example",
            "OTP_PEPPER": SECRET,
            "LINK_SIGNING_KEY": SECRET[::-1],
            "REDACTION_VAULT_KEYS": f"v1:{new_key()}",
            "REDACTION_PROOF_KEYS": f"p1:{new_key()}",
            "AUDIT_MAC_KEY": SECRET.upper(),
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": uuid.uuid4().hex,
            "TWILIO_FROM_NUMBER": "+5491152500000",
            "ELEVENLABS_API_KEY": "sk_" + uuid.uuid4().hex,
            "ELEVENLABS_WEBHOOK_SECRET": "wsec_" + uuid.uuid4().hex,
            "BUILDERBOT_API_KEY": "bb-" + uuid.uuid4().hex,
            "BUILDERBOT_BOT_ID": str(uuid.uuid4()),
            "BUILDERBOT_WEBHOOK_TOKEN": uuid.uuid4().hex,
        }
    )
    env.update(changes)
    return env


def check_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "contact-center"), "check-config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(str(tmp_path))
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def postgres_only(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("production runs on PostgreSQL")


@pytest.mark.usefixtures("postgres_only")
def test_check_config_passes_a_complete_production_configuration(
    database_url: str, private_redis: PrivateRedis
) -> None:
    result = check_config(production_env(database_url, private_redis.url))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ DATABASE_URL: reachable, migrations at" in result.stdout
    assert "✓ REDIS_URL: reachable" in result.stdout
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.usefixtures("postgres_only")
@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"OTP_PEPPER": "changeme"}, "OTP_PEPPER"),
        ({"LINK_SIGNING_KEY": "short-key"}, "LINK_SIGNING_KEY"),
        ({"AUTH_DISABLED": "true"}, "AUTH_DISABLED"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({"ELEVENLABS_API_KEY": ""}, "ELEVENLABS_API_KEY"),
        ({"BUILDERBOT_WEBHOOK_TOKEN": "xxx"}, "BUILDERBOT_WEBHOOK_TOKEN"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
        ({"EMULATOR_URL": "http://127.0.0.1:9/_emulator"}, "EMULATOR_URL"),
        # The emulator's published secrets, and a token too easy to guess.
        ({"ELEVENLABS_WEBHOOK_SECRET": "emulator-elevenlabs-secret"}, "ELEVENLABS_WEBHOOK_SECRET"),
        ({"BUILDERBOT_WEBHOOK_TOKEN": "emulator-builderbot-token"}, "BUILDERBOT_WEBHOOK_TOKEN"),
        ({"TWILIO_AUTH_TOKEN": "emulator-twilio-token"}, "TWILIO_AUTH_TOKEN"),
        ({"OTP_PEPPER": "abcdefghijklmnopqrstuvwxyz0123456789"}, "OTP_PEPPER"),
        # Sending through the Cloud API without its token; the emulator's verify token.
        ({"WHATSAPP_PROVIDER": "cloud"}, "WHATSAPP_CLOUD_ACCESS_TOKEN"),
        (
            {"WHATSAPP_CLOUD_VERIFY_TOKEN": "emulator-whatsapp-cloud-verify-token"},
            "WHATSAPP_CLOUD_VERIFY_TOKEN",
        ),
    ],
)
def test_check_config_names_the_variable_to_fix(
    database_url: str, private_redis: PrivateRedis, changes: dict[str, str], variable: str
) -> None:
    result = check_config(production_env(database_url, private_redis.url, **changes))
    assert result.returncode == 1
    assert re.search(rf"^✗ [^\n]*{variable}", result.stdout, flags=re.MULTILINE), result.stdout
    for value in changes.values():
        if len(value) > 8:
            assert value not in result.stdout


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs the local PostgreSQL")
async def test_check_config_reports_pending_migrations_and_an_unreachable_database(
    private_redis: PrivateRedis,
) -> None:
    database = f"cc_cfg_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{database}"')
    try:
        empty = check_config(production_env(_pg_url(database), private_redis.url))
        assert empty.returncode == 1
        assert "migrations are not current" in empty.stdout
        assert "contact-center migrate" in empty.stdout
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    down = check_config(production_env("postgresql://postgres@127.0.0.1:1/none", private_redis.url))
    assert down.returncode == 1
    assert "✗ DATABASE_URL: the database is unreachable" in down.stdout
    assert PG_ADMIN_URL  # the admin URL is only used to create and drop the database


@pytest.mark.slow
def test_serve_refuses_to_start_in_production_with_a_placeholder_secret(tmp_path: Path) -> None:
    env = production_env(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "redis://127.0.0.1:1/0", OTP_PEPPER="changeme"
    )
    result = subprocess.run(
        [str(BIN / "contact-center"), "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "OTP_PEPPER" in result.stderr
    assert not (tmp_path / "x.db").exists()  # nothing was started or created


# --- readiness ------------------------------------------------------------------------------


async def test_ready_answers_200_when_migrated_and_the_queue_is_connected(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "queue": "embedded"},
    }


async def test_ready_answers_503_while_the_queue_is_unreachable(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    client = await client_for(REDIS_URL="redis://127.0.0.1:1/0")
    response = await client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "down"
    live = await client.get("/api/health")
    assert live.status_code == 200  # liveness keeps its meaning: degraded, not dead
    assert live.json()["status"] == "degraded"


async def test_migrations_behind_the_code_are_pending(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    engine = create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"))
    try:
        await upgrade_database(engine, "0002")
        assert await check_migrations(engine) == "pending"
        await upgrade_database(engine)
        assert await check_migrations(engine) == "ok"
    finally:
        await engine.dispose()


# --- the Procfile under honcho --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("postgres_only")
async def test_honcho_runs_the_procfile_delivers_an_sms_and_stops_cleanly_on_sigterm(
    database_url: str,
    private_redis: PrivateRedis,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PORT"))},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "REDIS_URL": private_redis.url,
        # The worker's emulated providers answer inside the web process (as in the embedded
        # default); honcho gives the worker a PORT of its own, so name the web's.
        "APP_PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "honcho.log").open("wb")
    # honcho gives each process PORT = base + 100 × index: web gets `port`.
    honcho = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
        [str(BIN / "honcho"), "start", "-f", str(ROOT / "Procfile"), "-p", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if (await http.get("/api/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert honcho.poll() is None, (tmp_path / "honcho.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text()
                await asyncio.sleep(0.3)
            http.headers.update(auth.bearer(await asyncio.to_thread(auth.cli_token, env)))
            sent = await http.post("/api/sms/send", json={"to": "+5491155550901", "body": "Hola"})
            assert sent.status_code == 202
            message_id = sent.json()["messageId"]
            while True:
                outbox = (await http.get("/_emulator/twilio/outbox")).json()["items"]
                if any(item["body"] == "Hola" for item in outbox):
                    break
                assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text()
                await asyncio.sleep(0.2)
            # Ten more in flight, then SIGTERM to the process group.
            for i in range(10):
                more = await http.post(
                    "/api/sms/send", json={"to": f"+549115555{i:04d}", "body": f"Aviso {i}"}
                )
                assert more.status_code == 202
        began = time.monotonic()
        os.killpg(honcho.pid, signal.SIGTERM)
        code = await asyncio.to_thread(honcho.wait, 30)
        stopped_in = time.monotonic() - began
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=10)
    output = (tmp_path / "honcho.log").read_text(errors="replace")
    # Both processes exit 0 (honcho itself reports 143: it was signalled, as a platform's
    # process manager would be).
    assert "web.1 stopped (rc=0)" in output, output
    assert "worker.1 stopped (rc=0)" in output, output
    assert code is not None
    assert stopped_in < 30
    async with session_factory() as session:
        total = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
        rows = await session.execute(select(Message.status, func.count()).group_by(Message.status))
        statuses = {status: int(n) for status, n in rows.all()}
        first = await session.get(Message, uuid.UUID(message_id))
    assert total == 11  # every accepted message is in the database
    assert first is not None
    assert first.status.value in {"SENT", "DELIVERED"}
    # None stuck mid-send: each is queued for the next start, or was handed to the provider.
    assert not any(status.value == "SENDING" for status in statuses), statuses


@pytest.mark.slow
async def test_sigterm_stops_serve_at_once_even_with_a_live_console_stream_open(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PORT"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}",
        "APP_PORT": str(port),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
        [str(BIN / "contact-center"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/api/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            await asyncio.to_thread(auth.cli_user, env, "operator")
            await auth.sign_in(http, "operator")
            async with http.stream("GET", "/console/stream") as stream:
                lines = stream.aiter_lines()
                assert await anext(lines) == "retry: 2000"
                began = time.monotonic()
                server.send_signal(signal.SIGTERM)
                server.send_signal(signal.SIGTERM)  # a platform may signal twice
                with contextlib.suppress(httpx.HTTPError, StopAsyncIteration):
                    async for _ in lines:
                        pass
        code = await asyncio.to_thread(server.wait, 15)
        assert code == 0
        assert time.monotonic() - began < 5
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
