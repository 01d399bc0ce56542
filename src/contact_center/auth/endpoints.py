"""Users and API tokens (admin), and who the caller is."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body

from contact_center.auth import service
from contact_center.auth.schemas import (
    MeOut,
    PasswordReset,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
    UserCreate,
    UserCreated,
    UserList,
    UserOut,
    UserPatch,
)
from contact_center.dependencies import (
    ADMIN_ONLY,
    AuditContextDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from contact_center.errors import ValidationFailed
from contact_center.models.user_account import ApiToken
from contact_center.schemas import ERROR_RESPONSES, ErrorEnvelope

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorEnvelope, "description": "Taken username, self-lockout, last admin"}
}
router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)
admin = APIRouter(tags=["auth"], responses=ERROR_RESPONSES | CONFLICT, dependencies=ADMIN_ONLY)


@router.get("/api/me", response_model=MeOut, summary="Who the caller is")
async def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        username=principal.actor_id,
        role=principal.role,
        via=principal.via.value,
        may_reveal_pii=principal.may_reveal_pii,
    )


@admin.get("/api/users", response_model=UserList, summary="Console users")
async def list_users(session: SessionDep) -> UserList:
    users = await service.list_users(session)
    teams = await service.team_ids_by_user(session, [u.id for u in users])
    return UserList(
        items=[
            UserOut.model_validate(u).model_copy(update={"teams": teams.get(u.id, [])})
            for u in users
        ]
    )


@admin.post("/api/users", status_code=201, response_model=UserCreated, summary="Create a user")
async def create_user(
    body: Annotated[UserCreate, Body()],
    session: SessionDep,
    context: AuditContextDep,
    settings: SettingsDep,
) -> UserCreated:
    """Without a password, one is generated and shown once. A chosen one needs 12+ characters
    and must not be easy to guess (422 `weak_password` says why)."""
    user, generated = await service.create_user(
        session,
        context,
        username=body.username,
        role=body.role,
        password=body.password,
        bank_name=settings.bank_name,
        display_name=body.display_name,
    )
    return UserCreated.model_validate(user).model_copy(update={"password": generated})


@admin.patch("/api/users/{user_id}", response_model=UserOut, summary="Change a user")
async def update_user(
    user_id: uuid.UUID,
    body: Annotated[UserPatch, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> UserOut:
    """Role, active flag, display name. Nobody disables or demotes themselves; the last admin
    stays an admin (409)."""
    user = await service.update_user(
        session,
        context,
        user_id,
        role=body.role,
        active=body.active,
        display_name=body.display_name,
    )
    return UserOut.model_validate(user)


@admin.post(
    "/api/users/{user_id}/password-reset",
    response_model=PasswordReset,
    summary="Reset a user's password",
)
async def reset_password(
    user_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> PasswordReset:
    """A generated password, shown once; the user changes it at the next sign-in."""
    user, password = await service.reset_password(session, context, user_id)
    return PasswordReset(user=UserOut.model_validate(user), password=password)


@admin.post("/api/users/{user_id}/unlock", response_model=UserOut, summary="Unlock a user")
async def unlock_user(user_id: uuid.UUID, session: SessionDep, context: AuditContextDep) -> UserOut:
    return UserOut.model_validate(await service.unlock_user(session, context, user_id))


def _token_fields(token: ApiToken, username: str) -> dict[str, object]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "username": username,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@admin.get("/api/tokens", response_model=TokenList, summary="API tokens")
async def list_tokens(session: SessionDep, user_id: uuid.UUID | None = None) -> TokenList:
    """Every token (never the token itself: its first characters identify it)."""
    rows = await service.list_tokens(session, user_id)
    return TokenList(items=[TokenOut.model_validate(_token_fields(t, u)) for t, u in rows])


@admin.post(
    "/api/tokens", status_code=201, response_model=TokenCreated, summary="Create an API token"
)
async def create_token(
    body: Annotated[TokenCreate, Body()], session: SessionDep, context: AuditContextDep
) -> TokenCreated:
    """The answer carries the token once; store it now, it cannot be shown again."""
    owner = body.user_id or context.principal.user_id
    if owner is None:
        raise ValidationFailed("Name the token's user: userId.", code="user_required")
    token, secret = await service.create_token(
        session, context, owner, name=body.name, expires_in_days=body.expires_in_days
    )
    user = await service.user_by_id(session, owner)
    return TokenCreated.model_validate({**_token_fields(token, user.username), "token": secret})


@admin.delete("/api/tokens/{token_id}", response_model=TokenOut, summary="Revoke an API token")
async def revoke_token(
    token_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> TokenOut:
    token = await service.revoke_token(session, context, token_id)
    user = await service.user_by_id(session, token.user_id)
    return TokenOut.model_validate(_token_fields(token, user.username))
