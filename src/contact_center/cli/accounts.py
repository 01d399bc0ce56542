"""Console users and API tokens (`users …`, `tokens …`), and the first administrator."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import structlog
import typer

from contact_center.cli.context import CommandContext, command_settings, in_transaction

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from contact_center.principal import AuditContext, Role


async def first_admin(context: CommandContext, host: str, port: int | None) -> None:
    """First start of an empty database: create `admin` with a one-time password. On a terminal
    it is printed there; otherwise (a service manager, a container, output sent to a file) it
    goes to a file only its owner may read, deleted once the password is changed. Never in the
    logs. In production, create users with `users create`."""
    from contact_center.auth.service import (
        FIRST_ADMIN,
        ensure_first_admin,
        forget_first_admin_password,
        write_first_admin_password,
    )

    settings = context.settings
    async with context.transaction() as session:
        password = await ensure_first_admin(session)
    if password is None:
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    sign_in = f"http://{shown}:{port or settings.app_port}/login"
    if sys.stdout.isatty():
        forget_first_admin_password(settings)  # a file left by an earlier database
        typer.secho(
            "\nFirst start: created the administrator account.\n"
            f"  Sign in at   {sign_in}\n"
            f"  username     {FIRST_ADMIN}\n"
            f"  password     {password}   (works once: you choose your own at the first sign-in)\n",
            fg="yellow",
        )
        return
    try:
        path = write_first_admin_password(settings, password)
    except OSError as exc:
        typer.secho(
            f"First start: created the administrator account, but its one-time password could "
            f"not be written ({exc.strerror}). Set one with: contact-center users "
            f"reset-password {FIRST_ADMIN}",
            err=True,
            fg="red",
        )
        return
    typer.secho(
        "\nFirst start: created the administrator account.\n"
        f"  Sign in at   {sign_in}\n"
        f"  username     {FIRST_ADMIN}\n"
        f"  password     in {path} (readable by its owner only; it works once, and the file\n"
        "               is deleted when you choose your own password at the first sign-in)\n",
        err=True,
        fg="yellow",
    )
    # One logger name for the whole command line, whichever module writes.
    structlog.get_logger("contact_center.cli").warning(
        "first_admin_created", username=FIRST_ADMIN, one_time_login_in=str(path)
    )


users_cli = typer.Typer(help="Console users: create, list, change, reset.", no_args_is_help=True)
RoleOption = Annotated[str, typer.Option(help="agent, supervisor, admin or compliance.")]


def _role(value: str) -> Role:
    from contact_center.principal import Role

    try:
        return Role(value.strip().lower())
    except ValueError:
        typer.secho("the role is agent, supervisor, admin or compliance", err=True, fg="red")
        raise typer.Exit(code=2) from None


@users_cli.command("create")
def users_create(
    username: Annotated[
        str, typer.Argument(help="Also the agent name interactions are assigned to.")
    ],
    role: RoleOption = "agent",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from standard input (else one is generated and shown once).",
        ),
    ] = False,
) -> None:
    """Create a user. A generated password works once: the user chooses their own at sign-in."""
    from contact_center.auth import service

    settings = command_settings()
    chosen = sys.stdin.readline().rstrip("\n") if password_stdin else None

    async def work(session: AsyncSession, audit: AuditContext) -> str | None:
        _, generated = await service.create_user(
            session,
            audit,
            username=username,
            role=_role(role),
            password=chosen,
            bank_name=settings.bank_name,
            display_name=name,
        )
        return generated

    generated = in_transaction(settings, work)
    typer.echo(f"created {username.strip().lower()} ({role})")
    if generated:
        typer.secho(f"one-time password: {generated}", fg="yellow")


@users_cli.command("list")
def users_list() -> None:
    """Every user with role and state."""
    from rich.console import Console
    from rich.table import Table

    from contact_center.auth import service

    settings = command_settings()

    async def work(session: AsyncSession, _audit: AuditContext) -> list[tuple[str, ...]]:
        return [
            (
                u.username,
                u.role.value,
                "active" if u.active else "disabled",
                "locked" if u.locked_until else "",
                u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never",
            )
            for u in await service.list_users(session)
        ]

    table = Table("username", "role", "state", "lock", "last sign-in")
    for row in in_transaction(settings, work):
        table.add_row(*row)
    Console().print(table)


@users_cli.command("set")
def users_set(
    username: str,
    role: Annotated[str | None, typer.Option(help="agent, supervisor, admin or compliance.")] = (
        None
    ),
    active: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Change a user's role, display name, or enable/disable them."""
    from contact_center.auth import service

    settings = command_settings()

    async def work(session: AsyncSession, audit: AuditContext) -> None:
        user = await service.user_by_name(session, username)
        await service.update_user(
            session,
            audit,
            user.id,
            role=_role(role) if role else None,
            active=active,
            display_name=name,
        )

    in_transaction(settings, work)
    typer.echo(f"updated {username}")


@users_cli.command("reset-password")
def users_reset_password(username: str) -> None:
    """A new one-time password (shown once); the user's sessions end."""
    from contact_center.auth import service

    settings = command_settings()

    async def work(session: AsyncSession, audit: AuditContext) -> str:
        user = await service.user_by_name(session, username)
        _, password = await service.reset_password(session, audit, user.id)
        return password

    password = in_transaction(settings, work)
    typer.secho(f"one-time password: {password}", fg="yellow")


@users_cli.command("unlock")
def users_unlock(username: str) -> None:
    """Lift a lockout after failed sign-ins."""
    from contact_center.auth import service

    settings = command_settings()

    async def work(session: AsyncSession, audit: AuditContext) -> None:
        user = await service.user_by_name(session, username)
        await service.unlock_user(session, audit, user.id)

    in_transaction(settings, work)
    typer.echo(f"unlocked {username}")


tokens_cli = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)


@tokens_cli.command("create")
def tokens_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    expires_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it expires (default never).")
    ] = None,
) -> None:
    """Create a personal access token. It is printed once, on standard output; only its hash is
    kept."""
    from contact_center.auth import service

    settings = command_settings()

    async def work(session: AsyncSession, audit: AuditContext) -> tuple[str, str]:
        user = await service.user_by_name(session, username)
        token, secret = await service.create_token(
            session, audit, user.id, name=name, expires_in_days=expires_days
        )
        return str(token.id), secret

    token_id, secret = in_transaction(settings, work)
    typer.secho(f"token {token_id} for {username} (shown once):", err=True, fg="yellow")
    typer.echo(secret)


@tokens_cli.command("list")
def tokens_list(username: Annotated[str | None, typer.Argument()] = None) -> None:
    """Tokens (their first characters, never the token)."""
    from rich.console import Console
    from rich.table import Table

    from contact_center.auth import service

    settings = command_settings()

    async def work(session: AsyncSession, _audit: AuditContext) -> list[tuple[str, ...]]:
        owner = (await service.user_by_name(session, username)).id if username else None
        return [
            (
                str(t.id),
                t.prefix + "…",
                user,
                t.name,
                "revoked" if t.revoked_at else "active",
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never",
            )
            for t, user in await service.list_tokens(session, owner)
        ]

    table = Table("id", "token", "user", "name", "state", "last used")
    for row in in_transaction(settings, work):
        table.add_row(*row)
    Console().print(table)


@tokens_cli.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token at once."""
    import uuid

    from contact_center.auth import service

    settings = command_settings()
    try:
        identifier = uuid.UUID(token_id)
    except ValueError:
        typer.secho("give the token's id (see `tokens list`)", err=True, fg="red")
        raise typer.Exit(code=2) from None

    async def work(session: AsyncSession, audit: AuditContext) -> None:
        await service.revoke_token(session, audit, identifier)

    in_transaction(settings, work)
    typer.echo(f"revoked {token_id}")
