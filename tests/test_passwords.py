"""Passwords people choose: 12+ characters and not easy to guess (NIST SP 800-63B: refuse common,
repetitive and context-specific passwords), checked with zxcvbn wherever one is set: the users
API, the console's password page and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.auth import credentials
from contact_center.auth.credentials import PASSWORD_MAX, new_password, password_problem
from contact_center.models.enums import Role
from tests import auth

STRONG = "velvet tractor orbits quietly"
AGENT_STDIN = ("--role", "agent", "--password-stdin")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaaaa", "repeats"),
        ("password1234", "common password"),
        ("qwertyuiop123", "common password"),
        ("abcdefghijklmnop", "too easy to guess"),
        ("123456789012", "too easy to guess"),
        ("ana.perez2024!", "too easy to guess"),  # the username and a year
        ("bancodemo2024", "too easy to guess"),  # the bank's name and a year
    ],
)
def test_easy_passwords_are_refused_and_the_answer_says_why(password: str, why: str) -> None:
    problem = password_problem(password, "ana.perez", ["Banco Demo"])
    assert problem is not None
    assert problem.startswith("This password is too easy to guess")
    assert why in problem.lower()
    assert password not in problem


def test_the_bank_name_and_the_username_count_as_known_words() -> None:
    # Strong for anyone else; easy for an attacker who knows the bank and the user.
    assert password_problem("bancogalicia2024", "carla", ["Banco Demo"]) is None
    assert password_problem("bancogalicia2024", "carla", ["Banco Galicia"])
    assert password_problem("carlamontero1985", "ana", ["Banco Demo"]) is None
    assert password_problem("carlamontero1985", "carla.montero", ["Banco Demo"])


def test_strong_passwords_generated_ones_and_the_test_password_pass() -> None:
    for password in (STRONG, auth.PASSWORD, "Tr0ub4dor&3-kayak-7"):
        assert password_problem(password, "ana", ["Banco Demo"]) is None, password
    # The first admin's and every reset's generated password passes the same rule.
    for _ in range(200):
        assert password_problem(new_password(), "admin", ["Banco Demo"]) is None


def test_a_long_password_is_scored_quickly_on_its_start() -> None:
    started = time.perf_counter()
    assert password_problem("a" * PASSWORD_MAX, "ana") is not None
    assert password_problem(STRONG + "a" * (PASSWORD_MAX - len(STRONG)), "ana") is None
    assert time.perf_counter() - started < 1.0
    assert credentials.SCORED_LENGTH == 72  # zxcvbn's own cap: the rest is not scored


async def test_the_users_api_refuses_a_weak_password_with_a_clear_422(
    client: httpx.AsyncClient,
) -> None:
    weak = await client.post(
        "/api/users", json={"username": "carla", "role": "agent", "password": "aaaaaaaaaaaa"}
    )
    assert weak.status_code == 422
    error = weak.json()["error"]
    assert error["code"] == "weak_password"
    assert error["message"].startswith("This password is too easy to guess: repeats")
    assert error["details"][0]["field"] == "body.password"
    bank = await client.post(
        "/api/users", json={"username": "carla", "role": "agent", "password": "Banco Demo 1234"}
    )
    assert bank.status_code == 422, bank.text
    made = await client.post(
        "/api/users", json={"username": "carla", "role": "agent", "password": STRONG}
    )
    assert made.status_code == 201, made.text


async def test_the_console_password_page_refuses_a_weak_new_password(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    http = await client_for()
    http.headers.pop("Authorization")
    await auth.user(session_factory, "ana", Role.AGENT)
    await auth.sign_in(http, "ana")
    page = await http.get("/account/password")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]

    async def change(new: str) -> httpx.Response:
        return await http.post(
            "/account/password",
            data={"currentPassword": auth.PASSWORD, "newPassword": new, "repeatPassword": new},
            headers={"X-CSRF-Token": token},
        )

    weak = await change("aaaaaaaaaaaa")
    assert weak.status_code == 422
    assert "demasiado fácil de adivinar" in weak.text
    assert 'role="alert"' in weak.text
    assert (await change("password1234")).status_code == 422
    changed = await change(STRONG)
    assert changed.status_code == 204, changed.text


@pytest.mark.slow
def test_the_cli_refuses_a_weak_password(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cc.db'}"}

    def create(username: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "contact_center",
                "users",
                "create",
                username,
                "--role",
                "agent",
                "--password-stdin",
            ],
            env=env,
            cwd=tmp_path,
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    weak = create("carla", "aaaaaaaaaaaa")
    assert weak.returncode == 1
    assert "too easy to guess" in weak.stderr
    made = create("carla", STRONG)
    assert made.returncode == 0, made.stderr
