"""Users and API tokens for tests, made through the same service the API uses."""

from __future__ import annotations

import functools
import subprocess
import sys

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.auth import credentials, repository
from contact_center.models.enums import Role
from contact_center.models.user_account import ApiToken, UserAccount

PASSWORD = "correct horse battery staple"


@functools.cache
def _password_hash() -> str:
    # Hashed once per run: Argon2id costs ~50 ms, and most tests only need a token.
    from contact_center.hashing import HASHER

    return HASHER.hash(PASSWORD)


async def user(
    sessions: async_sessionmaker[AsyncSession], username: str, role: Role = Role.ADMIN
) -> UserAccount:
    """A user whose password is PASSWORD (or the existing one of that name)."""
    async with sessions() as session:
        existing = await repository.user_by_username(session, username)
        if existing is not None:
            return existing
        account = UserAccount(
            username=username,
            role=role,
            password_hash=_password_hash(),
            active=True,
            must_change_password=False,
            failed_logins=0,
        )
        await repository.add_user(session, account)
        await session.commit()
        return account


async def token(
    sessions: async_sessionmaker[AsyncSession], username: str = "admin", role: Role = Role.ADMIN
) -> str:
    """A new API token of `username` (created with `role` if the user does not exist).

    Written directly, without the audit row the service adds, so tests that count audit rows
    count only what they did."""
    account = await user(sessions, username, role)
    secret = credentials.new_api_token()
    async with sessions() as session:
        await repository.add_token(
            session,
            ApiToken(
                user_id=account.id,
                name="tests",
                prefix=credentials.display_prefix(secret),
                token_hash=credentials.digest(secret),
            ),
        )
        await session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def token_client(app: FastAPI, username: str, role: Role) -> httpx.AsyncClient:
    """A client of `app` calling with a new API token of `username` (made with `role`)."""
    secret = await token(app.state.session_factory, username, role)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers=bearer(secret),
    )


async def session_client(
    app: FastAPI, username: str, role: Role, *, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """A client of `app` signed in to the console as `username` (a browser's cookie session);
    app exceptions come back as answers, as a browser would see them."""
    await user(app.state.session_factory, username, role)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        headers=headers,
    )
    await sign_in(http, username)
    return http


def cli_user(env: dict[str, str], username: str = "operator", role: Role = Role.ADMIN) -> None:
    """Create a user with PASSWORD through the CLI (as an operator does); an existing one stays."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "contact_center",
            "users",
            "create",
            username,
            "--role",
            role.value,
            "--password-stdin",
        ],
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_token(env: dict[str, str], username: str = "operator") -> str:
    """An API token made with the CLI for `username` (created as an admin if missing)."""
    cli_user(env, username)
    made = subprocess.run(
        [sys.executable, "-m", "contact_center", "tokens", "create", username, "--name", "tests"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return made.stdout.strip()


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    """Sign a cookie-keeping client in through the console's form."""
    form = await http.get("/login")
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = await http.post(
        "/login", data={"username": username, "password": password, "csrf": csrf}
    )
    assert answer.status_code == 303, answer.text
