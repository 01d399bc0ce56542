from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field, model_validator

from contact_center.models.enums import Availability, Role
from contact_center.schemas import ApiModel, RequestModel, Timestamp


class UserCapacity(ApiModel):
    """Open conversations of each channel the person holds at most (docs/workflow.md)."""

    call: int
    whatsapp: int
    sms: int


class UserOut(ApiModel):
    id: uuid.UUID
    username: str
    display_name: str | None
    role: Role
    active: bool
    must_change_password: bool
    failed_logins: int
    locked_until: Timestamp | None
    last_login_at: Timestamp | None
    created_at: Timestamp
    availability: Availability
    capacity: UserCapacity
    teams: list[uuid.UUID] = Field(default_factory=list, description="the teams' ids")

    @model_validator(mode="before")
    @classmethod
    def _capacity_of_account(cls, data: Any) -> Any:
        """From a user account: its three capacity columns make `capacity`."""
        if isinstance(data, dict) or not hasattr(data, "capacity_call"):
            return data
        fields = {name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)}
        fields["capacity"] = UserCapacity(
            call=data.capacity_call, whatsapp=data.capacity_whatsapp, sms=data.capacity_sms
        )
        return fields


class UserCreated(UserOut):
    # Only when the password was generated; shown once.
    password: str | None = None


class UserCreate(RequestModel):
    username: str = Field(min_length=3, max_length=64)
    role: Role
    display_name: str | None = Field(default=None, max_length=128)
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Omit to generate one, shown once and changed at the first sign-in.",
    )


class UserPatch(RequestModel):
    role: Role | None = None
    active: bool | None = None
    display_name: str | None = Field(default=None, max_length=128)


class PasswordReset(ApiModel):
    user: UserOut
    password: str = Field(description="Generated; shown once, changed at the next sign-in.")


class MeOut(ApiModel):
    username: str
    role: Role
    via: str
    may_reveal_pii: bool


class TokenOut(ApiModel):
    id: uuid.UUID
    user_id: uuid.UUID
    username: str
    name: str
    prefix: str
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class TokenCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    user_id: uuid.UUID | None = Field(default=None, description="Default: the caller.")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself: shown once, never stored.")


class TokenList(ApiModel):
    items: list[TokenOut]


class UserList(ApiModel):
    items: list[UserOut]
