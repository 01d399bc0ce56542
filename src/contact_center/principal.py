"""Who is asking: one principal per request, with a role (docs/security.md), and the context
an audited action records (who, from where)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from contact_center.models.enums import ActorType, Role

__all__ = [
    "SYSTEM",
    "SYSTEM_CONTEXT",
    "AuditContext",
    "Principal",
    "Role",
    "Via",
    "role_from_header",
]

# Compliance sits outside the ladder: it passes no agent, supervisor or admin check (its own
# routes ask for it by name, docs/data-lifecycle.md).
_RANK = {Role.COMPLIANCE: -1, Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


class Via(StrEnum):
    TOKEN = "token"  # noqa: S105 - how the caller signed in
    SESSION = "session"
    TRUSTED = "trusted"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    """The caller of a request. `actor_type`/`actor_id` are what the audit log records."""

    actor_type: ActorType
    actor_id: str
    role: Role
    # True when the caller sent `X-Role: admin`, which asks for unmasked data (never a role).
    asked_admin_view: bool = False
    # Trusted-network mode (AUTH_DISABLED, the original's behaviour): no sign-in, every route
    # open, and whoever asks for unmasked data gets it.
    trusted_network: bool = False
    via: Via = Via.SYSTEM
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    must_change_password: bool = False
    # The console language this user chose (None: the service's CONSOLE_LANGUAGE).
    language: str | None = None
    # An agent's teams (docs/workflow.md, "Who sees what"): the queues whose unassigned
    # conversations they see. Loaded at sign-in for agents only; others see everything.
    team_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def may_reveal_pii(self) -> bool:
        return self.trusted_network or self.role is Role.ADMIN

    def allows(self, role: Role) -> bool:
        """At least `role` (admin > supervisor > agent); everything in trusted mode. Not for
        compliance's routes: those ask `handles_compliance`."""
        return self.trusted_network or _RANK[self.role] >= _RANK[role]

    @property
    def handles_compliance(self) -> bool:
        """Legal holds, data-subject requests and the audit trail: compliance officers and
        admins (docs/data-lifecycle.md)."""
        return self.trusted_network or self.role in (Role.COMPLIANCE, Role.ADMIN)

    @property
    def agent_scope(self) -> str | None:
        """An agent's view is scoped (see `sees_assignment`): the name they are assigned by.
        None: the caller sees everything (supervisors, admins, the system, trusted mode)."""
        if self.trusted_network or self.role is not Role.AGENT:
            return None
        return self.actor_id

    def sees_assignment(self, assigned_agent: str | None, team_id: uuid.UUID | None) -> bool:
        """Whether the caller sees a conversation assigned to `assigned_agent` in `team_id`'s
        queue: an agent sees their own, the unassigned ones of their teams and the unassigned
        ones in no team (the shared pool); everyone else sees all."""
        scope = self.agent_scope
        if scope is None:
            return True
        if assigned_agent is not None:
            return assigned_agent == scope
        return team_id is None or team_id in self.team_ids

    def may_assign(self, agent: str | None) -> bool:
        """An agent assigns work to themselves only (or leaves it as it is); others to anyone."""
        scope = self.agent_scope
        return scope is None or (agent or "").strip() in ("", scope)


SYSTEM = Principal(actor_type=ActorType.SYSTEM, actor_id="system", role=Role.ADMIN)


def role_from_header(value: str | None) -> Role:
    """Trusted-network mode: the role is whatever `X-Role` says; absent or unknown is agent."""
    if value is None:
        return Role.AGENT
    try:
        return Role(value.strip().lower())
    except ValueError:
        return Role.AGENT


@dataclass(frozen=True)
class AuditContext:
    """Who did it and from where: built from the request, or SYSTEM for jobs."""

    principal: Principal
    ip: str | None = None
    user_agent: str | None = None


SYSTEM_CONTEXT = AuditContext(principal=SYSTEM)
