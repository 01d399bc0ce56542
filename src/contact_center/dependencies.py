"""Request-scoped dependencies: the settings, the transaction, the principal, the audit context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit.service import AuditContext
from contact_center.auth.principal import Principal, role_from_header
from contact_center.models.enums import ActorType
from contact_center.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the endpoint returns, else roll back."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def get_principal(request: Request) -> Principal:
    """Every "who is asking" decision goes through here.

    Until console users and API tokens exist, callers are trusted as in the original: the role
    is `X-Role` (absent = agent).
    """
    header = request.headers.get("x-role")
    role = role_from_header(header)
    return Principal(
        actor_type=ActorType.USER,
        actor_id=f"anonymous:{role.value}",
        role=role,
        asked_admin_view=header is not None and header.strip().lower() == "admin",
        trusted_network=True,
    )


def get_audit_context(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> AuditContext:
    return AuditContext(
        principal=principal,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
AuditContextDep = Annotated[AuditContext, Depends(get_audit_context)]
