"""SQL of users, API tokens and console sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.fast import Sql, Transaction
from contact_center.db.statements import insert_ignore
from contact_center.models.enums import Role
from contact_center.models.team import TeamMember
from contact_center.models.user_account import ApiToken, ConsoleSession, UserAccount

# last_used_at / last_seen_at are written at most this often: not one UPDATE per request.
TOUCH_EVERY = timedelta(seconds=60)


# --- users ----------------------------------------------------------------------------------


async def add_user(session: AsyncSession, user: UserAccount) -> None:
    session.add(user)
    await session.flush()


async def insert_user_if_absent(session: AsyncSession, values: dict[str, Any]) -> bool:
    """True when this call created the row (two processes starting at once create one)."""
    return await insert_ignore(session, UserAccount, values, ["username"])


async def user_by_username(
    session: AsyncSession, username: str, *, for_update: bool = False
) -> UserAccount | None:
    stmt = select(UserAccount).where(UserAccount.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def get_user(
    session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False
) -> UserAccount | None:
    stmt = select(UserAccount).where(UserAccount.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def list_users(session: AsyncSession) -> Sequence[UserAccount]:
    stmt = select(UserAccount).order_by(UserAccount.username)
    return (await session.scalars(stmt)).all()


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(UserAccount)) or 0)


async def count_active_admins(session: AsyncSession) -> int:
    stmt = (
        select(func.count())
        .select_from(UserAccount)
        .where(UserAccount.role == Role.ADMIN, UserAccount.active.is_(True))
    )
    return int(await session.scalar(stmt) or 0)


async def record_failed_login(
    session: AsyncSession, user_id: uuid.UUID, *, max_failures: int, lock_until: datetime
) -> tuple[int, datetime | None]:
    """Count one failure in one statement (parallel attempts all count) and lock the account
    when the count reaches `max_failures`. Returns (failures, locked_until)."""
    failures = UserAccount.failed_logins + 1
    stmt = (
        update(UserAccount)
        .where(UserAccount.id == user_id)
        .values(
            failed_logins=failures,
            locked_until=case(
                (failures >= max_failures, lock_until), else_=UserAccount.locked_until
            ),
        )
        .returning(UserAccount.failed_logins, UserAccount.locked_until)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).one()
    return int(row[0]), row[1]


async def clear_failures(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    stmt = (
        update(UserAccount)
        .where(UserAccount.id == user_id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


# --- API tokens -----------------------------------------------------------------------------


async def add_token(session: AsyncSession, token: ApiToken) -> None:
    session.add(token)
    await session.flush()


# Every API request runs these, below the ORM (db/fast.py): compiled once, one round trip each,
# outside a transaction (`autocommit`); the touch runs at most once a minute per token.
_TOKEN_WITH_USER = Sql(
    select(
        ApiToken.id,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
        UserAccount.id.label("user_id"),
        UserAccount.username,
        UserAccount.role,
        UserAccount.active,
        UserAccount.must_change_password,
        UserAccount.language,
    )
    .join(UserAccount, UserAccount.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
_TOUCH_TOKEN = Sql(
    update(ApiToken)
    .where(
        ApiToken.id == bindparam("token_id"),
        (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < bindparam("stale_before")),
    )
    .values(last_used_at=bindparam("now", type_=ApiToken.last_used_at.type))
)


async def token_with_user(tx: Transaction, token_hash: str) -> dict[str, Any] | None:
    """The token's id, expiry, last use and revocation, with its user's id, username, role,
    `active`, `must_change_password` and language."""
    return await tx.one(_TOKEN_WITH_USER, token_hash=token_hash)


async def get_token(session: AsyncSession, token_id: uuid.UUID) -> ApiToken | None:
    stmt = select(ApiToken).where(ApiToken.id == token_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def list_tokens(
    session: AsyncSession, user_id: uuid.UUID | None = None
) -> Sequence[tuple[ApiToken, str]]:
    """Tokens with their owner's username, newest first."""
    stmt = (
        select(ApiToken, UserAccount.username)
        .join(UserAccount, UserAccount.id == ApiToken.user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def touch_token(tx: Transaction, token_id: uuid.UUID, now: datetime) -> None:
    await tx.run(_TOUCH_TOKEN, token_id=token_id, stale_before=now - TOUCH_EVERY, now=now)


# --- console sessions -----------------------------------------------------------------------


async def add_session(session: AsyncSession, console_session: ConsoleSession) -> None:
    session.add(console_session)
    await session.flush()


async def session_with_user(
    session: AsyncSession, token_hash: str
) -> tuple[ConsoleSession, UserAccount] | None:
    stmt = (
        select(ConsoleSession, UserAccount)
        .join(UserAccount, UserAccount.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == token_hash)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def touch_session(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    stmt = (
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.last_seen_at < now - TOUCH_EVERY)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def end_session(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    stmt = (
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def end_user_sessions(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> None:
    stmt = update(ConsoleSession).where(
        ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(ConsoleSession.id != keep)
    await session.execute(stmt.values(ended_at=now).execution_options(synchronize_session=False))


# --- an agent's teams (their view: docs/workflow.md, "Who sees what") ----------------------

_TEAM_IDS = Sql(select(TeamMember.team_id).where(TeamMember.user_id == bindparam("user_id")))


async def team_ids_of(session: AsyncSession, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    return frozenset((await session.scalars(stmt)).all())


async def team_ids_fast(tx: Transaction, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """`team_ids_of` below the ORM, for the token's path (every API request of an agent)."""
    return frozenset(row["team_id"] for row in await tx.all(_TEAM_IDS, user_id=user_id))


async def team_ids_by_user(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each user's teams, in one statement (the users list)."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return found
    stmt = select(TeamMember.user_id, TeamMember.team_id).where(
        TeamMember.user_id.in_(list(user_ids))
    )
    for user_id, team_id in (await session.execute(stmt)).all():
        found.setdefault(user_id, []).append(team_id)
    return found
