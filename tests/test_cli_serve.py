"""The README's run command, as a new user runs it: a real process, a real port."""

from __future__ import annotations

import os
import pty
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # a real `serve` process per test

PASSWORD_FILE = "first-admin-password"  # beside the SQLite database


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
        _wait_until_up(base, process, lambda: (tmp_path / "serve.log").read_text())
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        terminal.close()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], output: Callable[[], str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, output()
        time.sleep(0.3)
    pytest.fail("the service did not come up: " + output()[-2000:])


def _sign_in(browser: httpx.Client, password: str) -> httpx.Response:
    csrf = browser.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return browser.post(
        "/login", data={"username": "admin", "password": password, "csrf": csrf, "next": "/"}
    )


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
    # No terminal: the one-time admin password went to a file only its owner may read, and the
    # output says where; it is in neither the logs nor the output.
    password_file = tmp_path / PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 16
    banner = (tmp_path / "serve.err").read_text()
    assert str(password_file) in banner
    for output in ("\n".join(logs), banner):
        assert password not in output
        assert token not in output
    assert any(str(password_file) in line and "first_admin_created" in line for line in logs)


def test_first_admin_signs_in_once_then_chooses_a_password(served: str, tmp_path: Path) -> None:
    password_file = tmp_path / PASSWORD_FILE
    password = password_file.read_text().strip()
    with httpx.Client(base_url=served, follow_redirects=False) as browser:
        assert browser.get("/").headers["location"].startswith("/login")
        signed_in = _sign_in(browser, password)
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
    # The file of a password that no longer works is gone.
    assert not password_file.exists()
    # The one-time password no longer works.
    with httpx.Client(base_url=served, follow_redirects=False) as other:
        csrf = other.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        again = other.post("/login", data={"username": "admin", "password": password, "csrf": csrf})
        assert again.status_code == 401


def test_on_a_terminal_the_first_admin_password_is_printed_and_no_file_written(
    tmp_path: Path,
) -> None:
    stale = tmp_path / PASSWORD_FILE
    stale.write_text("left by an earlier database\n")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cc.db'}",
        "APP_PORT": str(port),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
    }
    env.pop("NO_COLOR", None)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "contact_center", "serve"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
    )
    os.close(terminal)
    seen = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, lambda: seen.decode(errors="replace"))
        printed = re.search(r"password\s+(\S+)\s+\(works once", seen.decode(errors="replace"))
        assert printed is not None, seen.decode(errors="replace")
        password = printed.group(1)
        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            assert _sign_in(browser, password).headers["location"] == "/account/password"
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=5)
        os.close(controller)
    assert not stale.exists()
    assert not list(tmp_path.rglob(PASSWORD_FILE))
    # The logs on a terminal are readable coloured lines, not JSON.
    lines = seen.decode(errors="replace").splitlines()
    assert any("Application startup complete" in line for line in lines)
    assert not any(line.lstrip().startswith('{"') for line in lines)
    assert "\x1b[" in seen.decode(errors="replace")
