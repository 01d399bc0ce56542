"""What every benchmark needs: a free port, a percentile, an admin API token."""

from __future__ import annotations

import asyncio
import socket
import sys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
