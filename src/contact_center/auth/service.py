"""Users, sign-in, API tokens and console sessions (issue: authentication and roles).

Every change here writes its audit row in the caller's transaction. Sign-in failures are results,
not exceptions, so the failure count and its audit row commit with the request.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contact_center.audit import service as audit
from contact_center.auth import credentials, repository
from contact_center.db.base import utcnow
from contact_center.db.fast import Transaction
from contact_center.errors import Conflict, NotFound, ValidationFailed
from contact_center.hashing import off_loop
from contact_center.languages import LANGUAGES, supported
from contact_center.models.enums import ActorType, Role
from contact_center.models.user_account import ApiToken, ConsoleSession, UserAccount
from contact_center.principal import SYSTEM_CONTEXT, AuditContext, Principal, Via
from contact_center.settings import DatabaseKind, Settings

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
FIRST_ADMIN = "admin"


def principal_for(
    user: UserAccount,
    via: Via,
    *,
    asked_admin_view: bool = False,
    session_id: uuid.UUID | None = None,
    team_ids: frozenset[uuid.UUID] = frozenset(),
) -> Principal:
    return Principal(
        actor_type=ActorType.USER,
        actor_id=user.username,
        role=user.role,
        asked_admin_view=asked_admin_view,
        via=via,
        user_id=user.id,
        session_id=session_id,
        must_change_password=user.must_change_password,
        language=user.language,
        team_ids=team_ids,
    )


def normalize_username(raw: str) -> str:
    username = raw.strip().lower()
    if not USERNAME.match(username):
        raise ValidationFailed(
            "A username has 3–64 characters: letters, digits, dots, dashes and underscores.",
            code="invalid_username",
            details=[{"field": "body.username", "message": "3–64 of a-z 0-9 . _ -"}],
        )
    return username


async def _check_password(password: str, username: str, bank_name: str) -> None:
    """Refuse a weak password (422 `weak_password`, with why). The strength estimate is CPU
    work, so it runs off the event loop."""
    problem = await off_loop(credentials.password_problem, password, username, (bank_name,))
    if problem:
        raise ValidationFailed(
            problem,
            code="weak_password",
            details=[{"field": "body.password", "message": problem}],
        )


# --- users ----------------------------------------------------------------------------------


async def create_user(
    session: AsyncSession,
    context: AuditContext,
    *,
    username: str,
    role: Role,
    password: str | None,
    bank_name: str,
    display_name: str | None = None,
) -> tuple[UserAccount, str | None]:
    """Create a user. Without a password one is generated, returned once, and must be changed
    at the first sign-in. A chosen password must not be easy to guess, also knowing the
    username and `bank_name`."""
    name = normalize_username(username)
    generated = None
    if password is None:
        generated = password = credentials.new_password()
    else:
        await _check_password(password, name, bank_name)
    if await repository.user_by_username(session, name) is not None:
        raise Conflict(f"The username {name!r} is taken.", code="username_taken")
    user = UserAccount(
        username=name,
        display_name=(display_name or "").strip() or None,
        role=role,
        password_hash=await credentials.hash_password(password),
        active=True,
        must_change_password=generated is not None,
        failed_logins=0,
    )
    await repository.add_user(session, user)
    await audit.record(
        session,
        context,
        "user.create",
        entity_type="user",
        entity_id=user.id,
        metadata={"username": name, "role": role.value},
    )
    return user, generated


async def list_users(session: AsyncSession) -> Sequence[UserAccount]:
    return await repository.list_users(session)


async def team_ids_by_user(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each user's teams (one statement), for the users list."""
    return await repository.team_ids_by_user(session, user_ids)


async def _user(
    session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = True
) -> UserAccount:
    user = await repository.get_user(session, user_id, for_update=for_update)
    if user is None:
        raise NotFound(f"No user with id {user_id}.", code="user_not_found")
    return user


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> UserAccount:
    return await _user(session, user_id, for_update=False)


async def user_by_name(session: AsyncSession, username: str) -> UserAccount:
    user = await repository.user_by_username(session, username.strip().lower(), for_update=True)
    if user is None:
        raise NotFound(f"No user named {username!r}.", code="user_not_found")
    return user


async def update_user(
    session: AsyncSession,
    context: AuditContext,
    user_id: uuid.UUID,
    *,
    role: Role | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> UserAccount:
    """Change role, active flag or display name. Nobody demotes or disables themselves, and the
    last active admin stays: the service can never be left without one."""
    user = await _user(session, user_id)
    changes: dict[str, object] = {}
    if role is not None and role is not user.role:
        changes["role"] = [user.role.value, role.value]
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
    if display_name is not None and (display_name.strip() or None) != user.display_name:
        changes["displayName"] = True
    if not changes:
        return user
    losing_admin = (
        user.role is Role.ADMIN
        and user.active
        and ((role is not None and role is not Role.ADMIN) or active is False)
    )
    if losing_admin:
        if context.principal.user_id == user.id:
            raise Conflict(
                "You cannot remove your own admin role or disable yourself.", code="self_lockout"
            )
        if await repository.count_active_admins(session) <= 1:
            raise Conflict("This is the last active admin.", code="last_admin")
    if role is not None:
        user.role = role
    if display_name is not None:
        user.display_name = display_name.strip() or None
    if active is not None:
        user.active = active
        if not active:
            await repository.end_user_sessions(session, user.id, utcnow())
    await session.flush()
    await audit.record(
        session,
        context,
        "user.update",
        entity_type="user",
        entity_id=user.id,
        metadata={"username": user.username, "changes": changes},
    )
    return user


async def reset_password(
    session: AsyncSession, context: AuditContext, user_id: uuid.UUID
) -> tuple[UserAccount, str]:
    """An admin's reset: a generated password, shown once, to change at the next sign-in.
    Every session of the user ends."""
    user = await _user(session, user_id)
    password = credentials.new_password()
    now = utcnow()
    user.password_hash = await credentials.hash_password(password)
    user.must_change_password = True
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    await repository.end_user_sessions(session, user.id, now)
    await session.flush()
    await audit.record(
        session, context, "user.password_reset", entity_type="user", entity_id=user.id
    )
    return user, password


async def set_language(session: AsyncSession, context: AuditContext, language: str) -> None:
    """The signed-in user's console language (one of LANGUAGES)."""
    chosen = supported(language)
    if chosen is None or chosen != language:
        raise ValidationFailed(
            "Unknown language.",
            code="unknown_language",
            details=[{"field": "body.language", "message": "one of " + ", ".join(LANGUAGES)}],
        )
    user_id = context.principal.user_id
    if user_id is None:
        raise ValidationFailed("Only a signed-in user has a language.", code="no_user")
    user = await _user(session, user_id)
    user.language = chosen


async def change_own_password(
    session: AsyncSession, settings: Settings, context: AuditContext, current: str, new: str
) -> UserAccount:
    """The signed-in user changes their password; their other sessions end. The new one must
    not be easy to guess, also knowing the username and the bank's name. The first admin's
    one-time password file, if any, is deleted once the change commits."""
    user_id = context.principal.user_id
    if user_id is None:
        raise ValidationFailed("Only a signed-in user has a password.", code="no_user")
    user = await _user(session, user_id)
    if not await credentials.password_matches(current, user.password_hash):
        raise ValidationFailed(
            "The current password is wrong.",
            code="wrong_password",
            details=[{"field": "body.currentPassword", "message": "does not match"}],
        )
    await _check_password(new, user.username, settings.bank_name)
    if await credentials.password_matches(new, user.password_hash):
        raise ValidationFailed(
            "Choose a password different from the current one.", code="weak_password"
        )
    now = utcnow()
    user.password_hash = await credentials.hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    await repository.end_user_sessions(session, user.id, now, keep=context.principal.session_id)
    await session.flush()
    await audit.record(
        session, context, "user.password_change", entity_type="user", entity_id=user.id
    )
    if user.username == FIRST_ADMIN:
        path = first_admin_password_path(settings)

        def forget(_session: Session) -> None:
            path.unlink(missing_ok=True)

        event.listen(session.sync_session, "after_commit", forget, once=True)
    return user


async def unlock_user(
    session: AsyncSession, context: AuditContext, user_id: uuid.UUID
) -> UserAccount:
    user = await _user(session, user_id)
    user.failed_logins = 0
    user.locked_until = None
    await session.flush()
    await audit.record(session, context, "user.unlock", entity_type="user", entity_id=user.id)
    return user


async def ensure_first_admin(session: AsyncSession) -> str | None:
    """On a database without users, create `admin` with a generated one-time password and
    return it (to print once); None when users exist. Safe when processes start together."""
    if await repository.count_users(session) > 0:
        return None
    password = credentials.new_password()
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "username": FIRST_ADMIN,
        "display_name": "Administrator",
        "role": Role.ADMIN,
        "password_hash": await credentials.hash_password(password),
        "active": True,
        "must_change_password": True,
        "failed_logins": 0,
        "password_changed_at": now,
        "created_at": now,
        "updated_at": now,
    }
    if not await repository.insert_user_if_absent(session, values):
        return None
    await audit.record(
        session,
        SYSTEM_CONTEXT,
        "user.create",
        entity_type="user",
        entity_id=values["id"],
        metadata={"username": FIRST_ADMIN, "role": Role.ADMIN.value, "firstAdmin": True},
    )
    return password


FIRST_ADMIN_FILE = "first-admin-password"


def first_admin_password_path(settings: Settings) -> Path:
    """Where the first admin's one-time password waits when no terminal can show it: in the
    server's data directory, beside the SQLite database, or in RECORDINGS_DIR on PostgreSQL."""
    if settings.database_kind is DatabaseKind.SQLITE:
        database = make_url(settings.database_url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            return Path(database).absolute().parent / FIRST_ADMIN_FILE
    return Path(settings.recordings_dir).absolute() / FIRST_ADMIN_FILE


def write_first_admin_password(settings: Settings, password: str) -> Path:
    """Write the one-time password to a new file that only its owner may read (0600), as other
    servers do with their first-run secrets; it is deleted once the password is changed."""
    path = first_admin_password_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a stale file of an earlier database
    # O_EXCL: never through a file or a link planted there meanwhile.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        handle.write(password + "\n")
    return path


def forget_first_admin_password(settings: Settings) -> None:
    first_admin_password_path(settings).unlink(missing_ok=True)


# --- sign-in --------------------------------------------------------------------------------


class LoginOutcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: UserAccount | None = None
    retry_after: int = 0


async def authenticate(
    session: AsyncSession, settings: Settings, context: AuditContext, username: str, password: str
) -> LoginResult:
    """Check a username and password. Unknown users, disabled users and wrong passwords answer
    alike (and as slowly); LOGIN_MAX_FAILURES failures lock the account for a while."""
    name = username.strip().lower()[:64]
    user = await repository.user_by_username(session, name) if name else None
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        await credentials.password_matches(password, None)  # same cost as any attempt
        await audit.record(
            session,
            context,
            "auth.login_locked",
            entity_type="user",
            entity_id=user.id,
            metadata={"username": name},
        )
        return LoginResult(
            LoginOutcome.LOCKED, retry_after=int((user.locked_until - now).total_seconds()) + 1
        )
    matches = await credentials.password_matches(password, user.password_hash if user else None)
    if user is None or not matches or not user.active:
        metadata: dict[str, object] = {"username": name}
        if user is not None and not matches:
            failures, locked_until = await repository.record_failed_login(
                session,
                user.id,
                max_failures=settings.login_max_failures,
                lock_until=now + timedelta(seconds=settings.login_lockout_seconds),
            )
            metadata["failures"] = failures
            if locked_until is not None and locked_until > now:
                metadata["locked"] = True
        await audit.record(
            session,
            context,
            "auth.login_failed",
            entity_type="user" if user else None,
            entity_id=user.id if user else None,
            metadata=metadata,
        )
        return LoginResult(LoginOutcome.INVALID)
    await repository.clear_failures(session, user.id, now)
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = await credentials.hash_password(password)
    await audit.record(
        session,
        context,
        "auth.login",
        entity_type="user",
        entity_id=user.id,
        metadata={"username": user.username},
    )
    return LoginResult(LoginOutcome.OK, user=user)


async def start_session(
    session: AsyncSession, settings: Settings, user: UserAccount, context: AuditContext
) -> str:
    """A new console session; the returned token goes into the cookie and nowhere else."""
    token = credentials.new_session_token()
    now = utcnow()
    await repository.add_session(
        session,
        ConsoleSession(
            user_id=user.id,
            token_hash=credentials.digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.session_ttl_seconds),
            ip=context.ip,
            user_agent=context.user_agent[:512] if context.user_agent else None,
        ),
    )
    return token


async def end_session(session: AsyncSession, context: AuditContext) -> None:
    if context.principal.session_id is None:
        return
    await repository.end_session(session, context.principal.session_id, utcnow())
    await audit.record(
        session,
        context,
        "auth.logout",
        entity_type="user",
        entity_id=context.principal.user_id,
    )


async def principal_from_session(
    session: AsyncSession, settings: Settings, token: str
) -> Principal | None:
    found = await repository.session_with_user(session, credentials.digest(token))
    if found is None:
        return None
    console_session, user = found
    now = utcnow()
    idle_limit = console_session.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
    if (
        console_session.ended_at is not None
        or console_session.expires_at <= now
        or idle_limit <= now
        or not user.active
    ):
        return None
    if console_session.last_seen_at < now - repository.TOUCH_EVERY:
        await repository.touch_session(session, console_session.id, now)
    # Only an agent's view depends on their teams: nobody else pays for the read.
    teams = await repository.team_ids_of(session, user.id) if user.role is Role.AGENT else None
    return principal_for(
        user, Via.SESSION, session_id=console_session.id, team_ids=teams or frozenset()
    )


# --- API tokens -----------------------------------------------------------------------------


async def create_token(
    session: AsyncSession,
    context: AuditContext,
    user_id: uuid.UUID,
    *,
    name: str,
    expires_in_days: int | None,
) -> tuple[ApiToken, str]:
    """A personal access token for a user; the token itself is returned once, never stored."""
    user = await _user(session, user_id)
    if not user.active:
        raise Conflict("The user is disabled.", code="user_disabled")
    secret = credentials.new_api_token()
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name.strip()[:100] or "token",
        prefix=credentials.display_prefix(secret),
        token_hash=credentials.digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    await repository.add_token(session, token)
    await audit.record(
        session,
        context,
        "token.create",
        entity_type="api_token",
        entity_id=token.id,
        metadata={"username": user.username, "name": token.name, "prefix": token.prefix},
    )
    return token, secret


async def list_tokens(
    session: AsyncSession, user_id: uuid.UUID | None = None
) -> Sequence[tuple[ApiToken, str]]:
    return await repository.list_tokens(session, user_id)


async def revoke_token(
    session: AsyncSession, context: AuditContext, token_id: uuid.UUID
) -> ApiToken:
    token = await repository.get_token(session, token_id)
    if token is None:
        raise NotFound(f"No API token with id {token_id}.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()
        await audit.record(
            session,
            context,
            "token.revoke",
            entity_type="api_token",
            entity_id=token.id,
            metadata={"prefix": token.prefix},
        )
    return token


async def principal_from_token(
    tx: Transaction, token: str, *, asked_admin_view: bool
) -> Principal | None:
    """Who an API token speaks for (None: unknown, revoked, expired, or its user disabled).

    Every API request runs this, on a connection outside a transaction (`db.fast.autocommit`):
    one read by the token's digest, and once a minute at most the token's last use."""
    found = await repository.token_with_user(tx, credentials.digest(token))
    if found is None:
        return None
    now = utcnow()
    expires_at, last_used_at = found["expires_at"], found["last_used_at"]
    if (
        found["revoked_at"] is not None
        or (expires_at is not None and expires_at <= now)
        or not found["active"]
    ):
        return None
    if last_used_at is None or last_used_at < now - repository.TOUCH_EVERY:
        await repository.touch_token(tx, found["id"], now)
    # Only an agent's view depends on their teams: nobody else pays for the read.
    teams = (
        await repository.team_ids_fast(tx, found["user_id"])
        if found["role"] is Role.AGENT
        else frozenset[uuid.UUID]()
    )
    return Principal(
        actor_type=ActorType.USER,
        actor_id=found["username"],
        role=found["role"],
        asked_admin_view=asked_admin_view,
        via=Via.TOKEN,
        user_id=found["user_id"],
        must_change_password=found["must_change_password"],
        language=found["language"],
        team_ids=teams,
    )
