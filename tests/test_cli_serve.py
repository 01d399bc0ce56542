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
    terminal = (tmp_path / "serve.err").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "serve", "--demo"],
        env=env,
        stdout=log,
        stderr=terminal,
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
        terminal.close()


def _cli(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cc.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "contact_center", *args],
        env=env,
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_demo_brings_up_a_populated_masked_api(served: str, tmp_path: Path) -> None:
    assert httpx.get(f"{served}/api/health").json()["status"] == "ok"
    assert "swagger-ui" in httpx.get(f"{served}/api/docs").text
    # The API needs a token: without one, 401; the operator makes one with the CLI.
    assert httpx.get(f"{served}/api/interactions").status_code == 401
    made = _cli(tmp_path, "tokens", "create", "admin", "--name", "readme check")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("cc_pat_")
    headers = {"Authorization": f"Bearer {token}"}
    page = httpx.get(f"{served}/api/interactions?limit=50", headers=headers).json()
    assert len(page["items"]) == 50
    channels = {item["channel"] for item in page["items"]}
    assert channels <= {"CALL", "WHATSAPP", "SMS"}
    for item in page["items"]:
        phone = item["customerPhone"]
        assert phone is None or "******" in phone
    logs = (tmp_path / "serve.log").read_text().splitlines()
    assert logs
    assert all(line.startswith("{") for line in logs)
    # The first start printed a one-time admin password on the terminal, never in the logs.
    banner = (tmp_path / "serve.err").read_text()
    password = banner.split("password", 1)[1].split()[0]
    assert len(password) >= 16
    assert password not in "\n".join(logs)
    assert token not in "\n".join(logs)


def test_first_admin_signs_in_once_then_chooses_a_password(served: str, tmp_path: Path) -> None:
    banner = (tmp_path / "serve.err").read_text()
    password = banner.split("password", 1)[1].split()[0]
    with httpx.Client(base_url=served, follow_redirects=False) as browser:
        assert browser.get("/").headers["location"].startswith("/login")
        form = browser.get("/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed_in = browser.post(
            "/login", data={"username": "admin", "password": password, "csrf": csrf, "next": "/"}
        )
        assert signed_in.status_code == 303
        # The printed password works once: the console insists on a new one first.
        assert signed_in.headers["location"] == "/account/password"
        assert browser.get("/calls").headers["location"] == "/account/password"
        page = browser.get("/account/password")
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        new = "a much longer passphrase 42"
        changed = browser.post(
            "/account/password",
            data={"currentPassword": password, "newPassword": new, "repeatPassword": new},
            headers={"X-CSRF-Token": token},
        )
        assert changed.status_code == 204, changed.text
        assert browser.get("/calls").status_code == 200
    # The one-time password no longer works.
    with httpx.Client(base_url=served, follow_redirects=False) as other:
        csrf = other.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        again = other.post("/login", data={"username": "admin", "password": password, "csrf": csrf})
        assert again.status_code == 401
