"""Who is asking: one principal per request, with a role (SPEC §9.3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contact_center.models.enums import ActorType


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller of a request. `actor_type`/`actor_id` are what the audit log records."""

    actor_type: ActorType
    actor_id: str
    role: Role
    # True when the caller sent `X-Role: admin`, which asks for unmasked data.
    asked_admin_view: bool = False
    # Trusted-network mode (the original's behaviour): whoever asks for unmasked data gets it.
    trusted_network: bool = False

    @property
    def may_reveal_pii(self) -> bool:
        return self.trusted_network or self.role is Role.ADMIN


SYSTEM = Principal(actor_type=ActorType.SYSTEM, actor_id="system", role=Role.ADMIN)


def role_from_header(value: str | None) -> Role:
    """Trusted-network mode: the role is whatever `X-Role` says; absent or unknown is agent."""
    if value is None:
        return Role.AGENT
    try:
        return Role(value.strip().lower())
    except ValueError:
        return Role.AGENT
