"""Canned replies (docs/workflow.md): supervisors manage them, agents use the global ones and
their teams'. Their variables are filled when a message is created, on the server."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.auth.reveal import RevealAsk, reveal_for
from contact_center.canned import repository, variables
from contact_center.canned.schemas import (
    CannedReplyIn,
    CannedReplyList,
    CannedReplyOut,
    CannedReplyPatch,
    PreviewOut,
)
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, Forbidden, NotFound, ValidationFailed
from contact_center.interactions.service import visible_interaction
from contact_center.models.canned_reply import CannedReply
from contact_center.pii import mask_name
from contact_center.principal import AuditContext, Principal, Role
from contact_center.settings import Settings

GLOBAL_SCOPE = "global"


def _not_found(reply_id: uuid.UUID) -> NotFound:
    return NotFound(f"No canned reply with id {reply_id}.", code="canned_reply_not_found")


def _require_manager(principal: Principal) -> None:
    if not principal.allows(Role.SUPERVISOR):
        raise Forbidden("Supervisors and admins manage canned replies.")


async def _teams_seen(session: AsyncSession, principal: Principal) -> list[uuid.UUID] | None:
    """The teams whose replies `principal` sees besides the global ones (None: every team)."""
    if principal.allows(Role.SUPERVISOR):
        return None
    return await repository.team_ids_of(session, principal.user_id)


def _scope_key(team_id: uuid.UUID | None) -> str:
    return GLOBAL_SCOPE if team_id is None else str(team_id)


def _check_body(body: str) -> None:
    unknown = variables.unknown(body)
    if unknown:
        known = ", ".join("{{" + name + "}}" for name in variables.VARIABLES)
        raise ValidationFailed(
            f"Unknown variable {unknown[0][:40]}; the known ones are {known}.",
            details=[{"field": "body.body", "message": f"unknown variables: {len(unknown)}"}],
        )


async def _check_team(session: AsyncSession, team_id: uuid.UUID | None) -> None:
    if team_id is not None and not await repository.team_exists(session, team_id):
        raise ValidationFailed(
            f"No team with id {team_id}.",
            details=[{"field": "body.teamId", "message": "unknown team"}],
        )


def _taken(shortcut: str) -> Conflict:
    return Conflict(
        f"The shortcut /{shortcut} is already used in this scope.", code="shortcut_taken"
    )


def _out(reply: CannedReply) -> CannedReplyOut:
    return CannedReplyOut.model_validate(reply)


async def list_replies(
    session: AsyncSession, principal: Principal, *, q: str | None, team_id: uuid.UUID | None
) -> CannedReplyList:
    """The replies the caller may use, by shortcut: agents see the global ones and their
    teams'; supervisors and admins see all."""
    found = await repository.listed(
        session, teams=await _teams_seen(session, principal), q=q, team_id=team_id
    )
    return CannedReplyList(items=[_out(r) for r in found])


async def _visible(
    session: AsyncSession, principal: Principal, reply_id: uuid.UUID, *, for_update: bool = False
) -> CannedReply:
    reply = await repository.get(session, reply_id, for_update=for_update)
    if reply is None:
        raise _not_found(reply_id)
    teams = await _teams_seen(session, principal)
    if teams is not None and reply.team_id is not None and reply.team_id not in teams:
        raise _not_found(reply_id)  # another team's: as if it did not exist
    return reply


async def get_reply(
    session: AsyncSession, principal: Principal, reply_id: uuid.UUID
) -> CannedReplyOut:
    return _out(await _visible(session, principal, reply_id))


def _audit_fields(reply: CannedReply) -> dict[str, Any]:
    # The body is the bank's own wording, not personal data; its length is enough here.
    return {
        "shortcut": reply.shortcut,
        "teamId": str(reply.team_id) if reply.team_id else None,
        "bodyLength": len(reply.body),
    }


async def create_reply(
    session: AsyncSession, context: AuditContext, payload: CannedReplyIn
) -> CannedReplyOut:
    """A new reply (409 `shortcut_taken` when its scope has the shortcut: the unique
    constraint decides, so two concurrent creates give one reply)."""
    _require_manager(context.principal)
    _check_body(payload.body)
    await _check_team(session, payload.team_id)
    now = utcnow()
    reply = CannedReply(
        id=uuid.uuid4(),
        team_id=payload.team_id,
        scope_key=_scope_key(payload.team_id),
        shortcut=payload.shortcut,
        title=payload.title,
        body=payload.body,
        created_by=context.principal.actor_id[:64],
        created_at=now,
        updated_at=now,
    )
    if not await repository.saved_unless_taken(session, reply):
        raise _taken(payload.shortcut)
    await audit.record(
        session,
        context,
        "canned_reply.create",
        entity_type="canned_reply",
        entity_id=reply.id,
        metadata=_audit_fields(reply),
    )
    return _out(reply)


async def update_reply(
    session: AsyncSession, context: AuditContext, reply_id: uuid.UUID, patch: CannedReplyPatch
) -> CannedReplyOut:
    _require_manager(context.principal)
    given = patch.model_fields_set
    for field in ("shortcut", "title", "body"):
        if field in given and getattr(patch, field) is None:
            raise ValidationFailed(
                f"{field} cannot be null.",
                details=[{"field": f"body.{field}", "message": "cannot be null"}],
            )
    if patch.body is not None:
        _check_body(patch.body)
    if "team_id" in given:
        await _check_team(session, patch.team_id)
    reply = await _visible(session, context.principal, reply_id, for_update=True)
    before = _audit_fields(reply)
    if patch.shortcut is not None:
        reply.shortcut = patch.shortcut
    if patch.title is not None:
        reply.title = patch.title
    if patch.body is not None:
        reply.body = patch.body
    if "team_id" in given:
        reply.team_id = patch.team_id
        reply.scope_key = _scope_key(patch.team_id)
    reply.updated_at = utcnow()
    shortcut = reply.shortcut
    if not await repository.saved_unless_taken(session, reply):
        raise _taken(shortcut)
    await audit.record(
        session,
        context,
        "canned_reply.update",
        entity_type="canned_reply",
        entity_id=reply.id,
        metadata={"before": before, "after": _audit_fields(reply)},
    )
    return _out(reply)


async def delete_reply(session: AsyncSession, context: AuditContext, reply_id: uuid.UUID) -> None:
    _require_manager(context.principal)
    reply = await _visible(session, context.principal, reply_id, for_update=True)
    fields = _audit_fields(reply)
    await repository.delete(session, reply)
    await audit.record(
        session,
        context,
        "canned_reply.delete",
        entity_type="canned_reply",
        entity_id=reply_id,
        metadata=fields,
    )


# --- the variables ----------------------------------------------------------------------------


async def agent_name(session: AsyncSession, principal: Principal) -> str:
    """How the sender signs: their display name, else their username (or the caller's id)."""
    if principal.user_id is not None:
        name = await repository.display_name(session, principal.user_id)
        if name:
            return name
    return principal.actor_id


async def filled(
    session: AsyncSession,
    principal: Principal,
    body: str,
    *,
    customer_name: str | None = None,
    phone: str | None = None,
) -> str:
    """`body` as it is sent: its variables filled for the customer (by `customer_name`, else
    by the name the customer's latest interaction on `phone` gives) and the sender. Bodies
    without variables cost nothing."""
    if not variables.holds_variables(body):
        return body
    if customer_name is None and phone:
        customer_name = await repository.customer_name_of(session, phone)
    values = variables.Values(
        customer_first_name=variables.first_name(customer_name),
        agent_name=await agent_name(session, principal),
    )
    return variables.fill(body, values)


async def preview(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    reply_id: uuid.UUID,
    interaction_id: uuid.UUID,
    ask: RevealAsk,
) -> PreviewOut:
    """The reply as it would be sent into the interaction, with the customer's name masked
    unless revealed (which records its audit row)."""
    principal = context.principal
    reply = await _visible(session, principal, reply_id)
    interaction = await visible_interaction(session, interaction_id, principal)
    revealed = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="canned_reply.preview",
        entity_type="interaction",
        entity_id=interaction_id,
    )
    first = variables.first_name(interaction.customer_name)
    values = variables.Values(
        customer_first_name=first if revealed else (mask_name(first) or ""),
        agent_name=await agent_name(session, principal),
    )
    return PreviewOut(text=variables.fill(reply.body, values))


async def teams_to_choose(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    """(id, name) of the teams a reply may belong to, for the supervisors' page."""
    _require_manager(principal)
    return [(str(team.id), team.name) for team in await repository.teams(session)]
