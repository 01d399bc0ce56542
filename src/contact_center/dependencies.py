"""Request-scoped dependencies: the settings, the transaction, the principal, the audit context.

They are `async def` even where nothing is awaited: FastAPI runs a plain `def` dependency on a
worker thread, a thread hop per dependency per request that costs more than the work itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.errors import Forbidden, Unauthenticated
from contact_center.principal import AuditContext, Principal, Role
from contact_center.settings import Settings


async def get_settings(request: Request) -> Settings:
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


def principal_of(request: Request) -> Principal:
    """Every "who is asking" decision goes through here. The authentication middleware has
    resolved the caller (or refused the request) before any route runs."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthenticated("Authentication required.")
    return principal


async def get_principal(request: Request) -> Principal:
    return principal_of(request)


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that admits `role` or higher (every caller in trusted mode)."""

    async def check(request: Request) -> Principal:
        principal = principal_of(request)
        if not principal.allows(role):
            raise Forbidden(f"This needs the {role.value} role.", code="forbidden")
        return principal

    return check


async def require_compliance(request: Request) -> Principal:
    """Compliance officers and admins (every caller in trusted mode): legal holds, data-subject
    requests and the audit trail (docs/data-lifecycle.md)."""
    principal = principal_of(request)
    if not principal.handles_compliance:
        raise Forbidden("This needs the compliance or admin role.", code="forbidden")
    return principal


async def get_audit_context(
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
SupervisorDep = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
SUPERVISOR_ONLY = [Depends(require(Role.SUPERVISOR))]
ADMIN_ONLY = [Depends(require(Role.ADMIN))]
ComplianceDep = Annotated[Principal, Depends(require_compliance)]
COMPLIANCE_ONLY = [Depends(require_compliance)]
# Conversation work (interactions, the inbox, sending, reports…): agents and up. A compliance
# officer passes no agent check (docs/data-lifecycle.md), so these routes refuse them.
WORKS_CONVERSATIONS = [Depends(require(Role.AGENT))]
