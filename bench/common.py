"""What every benchmark needs: a database of its own, a private Redis, a free port, a
percentile, an admin API token, a lean HTTP client, and the checkout whose code it runs."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

# The server where benchmarks create (and drop) their databases.
ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def asyncpg_url(url: str) -> str:
    """`postgresql+asyncpg://…` (SQLAlchemy's spelling) as asyncpg wants it."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def database_url(admin: str, database: str) -> str:
    return admin.rsplit("/", 1)[0] + f"/{database}"


async def create_database(admin_url: str = ADMIN, prefix: str = "cc_bench") -> str:
    """Create a fresh `<prefix>_<random>` database beside `admin_url`'s; return its URL."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_url(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    return database_url(admin_url, database)


async def drop_database(url: str, admin_url: str = ADMIN) -> None:
    database = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin = await asyncpg.connect(asyncpg_url(admin_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


def redis_server_command(port: int, workdir: str) -> list[str]:
    """A private redis-server on 127.0.0.1 that keeps nothing on disk."""
    return [
        "redis-server",
        *("--port", str(port), "--bind", "127.0.0.1", "--save", ""),
        *("--appendonly", "no", "--dir", workdir),
    ]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) of a non-empty list, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def api_token(env: dict[str, str]) -> str:
    """An admin API token made with the CLI (the first `serve` start created `admin`)."""
    made = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "contact_center", "tokens", "create", "admin", "--name", "bench"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await made.communicate()
    token = out.decode().strip()
    if made.returncode != 0 or not token:
        raise SystemExit(f"could not make an API token: {err.decode()[-500:]}")
    return token


class RawHttp:
    """One keep-alive HTTP/1.1 connection on asyncio streams, for load generators.

    httpx spends about a millisecond of CPU per request; on a 2-core machine that the load
    generator shares with the servers it measures, that alone caps what a benchmark can show.
    This client writes prepared bytes and reads the answer, nothing more.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """(status, body); reconnects once if the connection was closed under it."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        data = head.encode() + b"\r\n" + body
        for attempt in (1, 2):
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            try:
                self._writer.write(data)
                return await self._read(self._reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = 0, False
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await reader.readexactly(length)
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        return status, body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None


SAMPLER = Path(__file__).resolve().parent / "cpu_sampler.py"


@dataclass(frozen=True)
class Checkout:
    """The code a benchmark runs: this checkout, or a worktree of another commit.

    Every checkout runs on this checkout's interpreter and installed dependencies: `PYTHONPATH`
    puts the checkout's `src` (and its root, for `bench`) before the installed package, and its
    processes start in its root, so `python -m contact_center …` and `python -m bench.…` are
    the checkout's own code.
    """

    root: Path
    label: str = "current"
    commit: str = ""

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        paths = [str(self.root / "src"), str(self.root)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def module(self, module: str, *args: str, sample_to: Path | None = None) -> list[str]:
        """`python -m module args`, under the CPU-time sampler (bench/cpu_sampler.py) writing
        its collapsed stacks to `sample_to` when given (SIGUSR1 starts it, SIGUSR2 writes)."""
        if sample_to is None:
            return [sys.executable, "-m", module, *args]
        return [sys.executable, str(SAMPLER), str(sample_to), "-m", module, *args]


THIS_CHECKOUT = Checkout(Path(__file__).resolve().parent.parent)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def migrate_checkout(checkout: Checkout, env: dict[str, str]) -> None:
    """`contact-center migrate` of the checkout, on the database `env` names."""
    migrating = await asyncio.create_subprocess_exec(
        *checkout.module("contact_center", "migrate"),
        env=env,
        cwd=checkout.root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await migrating.communicate()
    if migrating.returncode != 0:
        raise SystemExit(f"migrate failed: {out.decode()[-800:]}")


def start_contact_center(
    command: list[str], *, url: str, port: int, workdir: str, log_name: str, **extra: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """`contact-center <command>` on `url`, answering on `port` (for `serve`), its recordings in
    `workdir`, its output in `workdir/log_name`; `extra` adds variables. Returns the process and
    its log."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "RECORDINGS_DIR": workdir,
        **extra,
    }
    log = Path(workdir, log_name)
    process = subprocess.Popen(
        [sys.executable, "-m", "contact_center", *command],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, log


async def wait_answering(port: int, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until `GET path` answers 200 on 127.0.0.1:`port` (2 minutes at most)."""
    deadline = time.monotonic() + 120
    while True:
        client = RawHttp("127.0.0.1", port)
        try:
            status, _ = await client.request("GET", path)
            if status == 200:
                return
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            await client.close()
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{process.args!r} did not start; see {log}")
        await asyncio.sleep(0.2)


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each (last started first), then SIGKILL what is still running after 30 s."""
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def person_api_tokens(
    url: str, people: Sequence[tuple[str, str, Sequence[str]]]
) -> dict[str, str]:
    """API tokens for `people` — (username, role, the names of the teams they join) — made as
    the service makes them; each person is created, with their teams, the first time."""
    from sqlalchemy import select

    from contact_center.auth import (  # type: ignore[import-untyped, unused-ignore]
        credentials,
        repository,
    )
    from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
        create_engine,
        create_session_factory,
    )
    from contact_center.hashing import HASHER  # type: ignore[import-untyped, unused-ignore]
    from contact_center.models.enums import Role  # type: ignore[import-untyped, unused-ignore]
    from contact_center.models.team import (  # type: ignore[import-untyped, unused-ignore]
        Team,
        TeamMember,
    )
    from contact_center.models.user_account import (  # type: ignore[import-untyped, unused-ignore]
        ApiToken,
        UserAccount,
    )
    from contact_center.settings import (  # type: ignore[import-untyped, unused-ignore]
        load_settings,
    )

    engine = create_engine(load_settings(database_url=url))
    sessions = create_session_factory(engine)
    tokens: dict[str, str] = {}
    try:
        for username, role, teams in people:
            async with sessions() as session:
                account = await repository.user_by_username(session, username)
                if account is None:
                    account = UserAccount(
                        username=username,
                        role=Role(role),
                        password_hash=HASHER.hash(f"{username}-bench-password"),
                        active=True,
                        must_change_password=False,
                        failed_logins=0,
                    )
                    await repository.add_user(session, account)
                    for team in teams:
                        found = await session.scalar(select(Team.id).where(Team.name == team))
                        session.add(TeamMember(team_id=found, user_id=account.id))
                secret = credentials.new_api_token()
                await repository.add_token(
                    session,
                    ApiToken(
                        user_id=account.id,
                        name="bench",
                        prefix=credentials.display_prefix(secret),
                        token_hash=credentials.digest(secret),
                    ),
                )
                await session.commit()
                tokens[username] = secret
    finally:
        await engine.dispose()
    return tokens
