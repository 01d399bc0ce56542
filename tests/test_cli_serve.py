"""The README's run command, as a new user runs it: a real process, a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cc.db'}",
        "APP_PORT": str(port),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
    }
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "serve", "--demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        else:
            pytest.fail(
                "the service did not come up: " + (tmp_path / "serve.log").read_text()[-2000:]
            )
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_serve_demo_brings_up_a_populated_masked_api(served: str, tmp_path: Path) -> None:
    assert httpx.get(f"{served}/api/health").json()["status"] == "ok"
    assert "swagger-ui" in httpx.get(f"{served}/api/docs").text
    page = httpx.get(f"{served}/api/interactions?limit=50").json()
    assert len(page["items"]) == 50
    channels = {item["channel"] for item in page["items"]}
    assert channels <= {"CALL", "WHATSAPP", "SMS"}
    for item in page["items"]:
        phone = item["customerPhone"]
        assert phone is None or "******" in phone
    logs = (tmp_path / "serve.log").read_text().splitlines()
    assert logs
    assert all(line.startswith("{") for line in logs)
