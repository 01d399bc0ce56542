"""Teams and people (docs/workflow.md, "Teams and people"): teams and their members, routing
rules, each person's availability and capacity, and the people list the pickers show.

Every change writes its audit row in the caller's transaction; an availability change also
leaves a notice (`agent.availability`) for the routers of every process.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, NotFound, ValidationFailed
from contact_center.live.bus import note_process
from contact_center.models.enums import Availability
from contact_center.models.team import RoutingRule, Team
from contact_center.models.user_account import UserAccount
from contact_center.principal import AuditContext
from contact_center.teams import repository
from contact_center.teams.schemas import (
    AgentList,
    AgentOut,
    AvailabilityOut,
    CapacityOut,
    CapacityPut,
    ChannelCounts,
    MembersPut,
    RuleCreate,
    RuleOut,
    TeamCreate,
    TeamList,
    TeamMemberOut,
    TeamOut,
    TeamPatch,
)

AVAILABILITY_NOTICE = "agent.availability"


def _team_not_found(team_id: uuid.UUID) -> NotFound:
    return NotFound(f"No team with id {team_id}.", code="team_not_found")


def _user_not_found(user_id: uuid.UUID) -> NotFound:
    return NotFound(f"No user with id {user_id}.", code="user_not_found")


def _name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise ValidationFailed(
            "A team needs a name.",
            details=[{"field": "body.name", "message": "empty"}],
        )
    return name


def _present(team: Team, members: list[UserAccount]) -> TeamOut:
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        routing_mode=team.routing_mode,
        is_default=team.is_default,
        members=[
            TeamMemberOut(
                user_id=u.id,
                username=u.username,
                display_name=u.display_name,
                availability=u.availability,
            )
            for u in members
        ],
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


# --- reads ----------------------------------------------------------------------------------


async def list_teams(session: AsyncSession) -> TeamList:
    teams = await repository.list_teams(session)
    members = await repository.members_of(session, [t.id for t in teams])
    return TeamList(items=[_present(t, members[t.id]) for t in teams])


async def get_team(session: AsyncSession, team_id: uuid.UUID) -> TeamOut:
    team = await repository.get_team(session, team_id)
    if team is None:
        raise _team_not_found(team_id)
    members = await repository.members_of(session, [team.id])
    return _present(team, members[team.id])


async def agents(session: AsyncSession) -> AgentList:
    """Active people with their availability, teams, capacity and load: two statements."""
    rows = await repository.people(session)
    teams = await repository.teams_by_user(session)
    return AgentList(
        items=[
            AgentOut(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=user.role,
                availability=user.availability,
                teams=sorted(teams.get(user.id, []), key=str),
                capacity=_capacity(user),
                load=ChannelCounts(**load),
            )
            for user, load in rows
        ]
    )


def _capacity(user: UserAccount) -> ChannelCounts:
    return ChannelCounts(
        call=user.capacity_call, whatsapp=user.capacity_whatsapp, sms=user.capacity_sms
    )


# --- teams ----------------------------------------------------------------------------------


async def _make_default(session: AsyncSession, context: AuditContext, team: Team) -> None:
    """`team` becomes the default; the one that was stops being it (under the teams lock)."""
    team.is_default = True
    for previous in await repository.clear_default(session, team.id):
        await audit.record(
            session,
            context,
            "team.update",
            entity_type="team",
            entity_id=previous,
            metadata={"isDefault": False},
        )


async def _require_free_name(session: AsyncSession, name: str, team_id: uuid.UUID | None) -> None:
    existing = await repository.team_named(session, name)
    if existing is not None and existing.id != team_id:
        raise Conflict(f"A team named {name!r} exists.", code="team_name_taken")


async def create_team(session: AsyncSession, context: AuditContext, body: TeamCreate) -> TeamOut:
    name = _name(body.name)
    await repository.lock_teams(session)
    await _require_free_name(session, name, None)
    now = utcnow()
    team = Team(
        name=name,
        description=(body.description or "").strip() or None,
        routing_mode=body.routing_mode,
        is_default=False,
        created_at=now,
        updated_at=now,
    )
    await repository.add_team(session, team)
    if body.is_default:
        await _make_default(session, context, team)
    await audit.record(
        session,
        context,
        "team.create",
        entity_type="team",
        entity_id=team.id,
        metadata={
            "name": team.name,
            "routingMode": team.routing_mode.value,
            "isDefault": team.is_default,
        },
    )
    await session.flush()
    return _present(team, [])


async def update_team(
    session: AsyncSession, context: AuditContext, team_id: uuid.UUID, body: TeamPatch
) -> TeamOut:
    await repository.lock_teams(session)
    team = await repository.get_team(session, team_id)
    if team is None:
        raise _team_not_found(team_id)
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in given and body.name is not None:
        name = _name(body.name)
        if name != team.name:
            await _require_free_name(session, name, team.id)
            changes["name"] = {"from": team.name, "to": name}
            team.name = name
    if "description" in given:
        description = (body.description or "").strip() or None
        if description != team.description:
            changes["description"] = {"from": team.description, "to": description}
            team.description = description
    mode = body.routing_mode
    if "routing_mode" in given and mode is not None and mode != team.routing_mode:
        changes["routingMode"] = {"from": team.routing_mode.value, "to": mode.value}
        team.routing_mode = mode
    default = body.is_default
    if "is_default" in given and default is not None and default != team.is_default:
        changes["isDefault"] = {"from": team.is_default, "to": default}
        if default:
            await _make_default(session, context, team)
        else:
            team.is_default = False
    if changes:
        team.updated_at = utcnow()
        await audit.record(
            session, context, "team.update", entity_type="team", entity_id=team.id, metadata=changes
        )
        await session.flush()
    return await get_team(session, team.id)


async def delete_team(session: AsyncSession, context: AuditContext, team_id: uuid.UUID) -> None:
    """Its members and rules go with it; its waiting conversations join the shared pool."""
    await repository.lock_teams(session)
    team = await repository.get_team(session, team_id)
    if team is None:
        raise _team_not_found(team_id)
    await audit.record(
        session,
        context,
        "team.delete",
        entity_type="team",
        entity_id=team.id,
        metadata={"name": team.name},
    )
    await repository.delete_team(session, team)


async def set_members(
    session: AsyncSession, context: AuditContext, team_id: uuid.UUID, body: MembersPut
) -> TeamOut:
    """Replace a team's members. An unknown or disabled user: 422, nothing written."""
    team = await repository.get_team(session, team_id)
    if team is None:
        raise _team_not_found(team_id)
    wanted = list(dict.fromkeys(body.user_ids))
    users = await repository.users_by_ids(session, wanted)
    bad = [u for u in wanted if u not in users or not users[u].active]
    if bad:
        raise ValidationFailed(
            "Members must be existing, active users.",
            code="unknown_user",
            details=[
                {"field": f"body.userIds[{wanted.index(u)}]", "message": "unknown or disabled"}
                for u in bad
            ],
        )
    current = await repository.member_ids(session, team.id)
    removed = sorted(current - set(wanted), key=str)
    added = [u for u in wanted if u not in current]
    if removed or added:
        await repository.replace_members(session, team.id, removed, added, utcnow())
        team.updated_at = utcnow()
        await audit.record(
            session,
            context,
            "team.members",
            entity_type="team",
            entity_id=team.id,
            metadata={
                "added": [users[u].username for u in added],
                "removed": [str(u) for u in removed],
            },
        )
        await session.flush()
    return await get_team(session, team.id)


# --- routing rules --------------------------------------------------------------------------


async def list_rules(session: AsyncSession) -> list[RuleOut]:
    return [RuleOut.model_validate(r) for r in await repository.list_rules(session)]


async def create_rule(session: AsyncSession, context: AuditContext, body: RuleCreate) -> RuleOut:
    """An unknown team: 422 (the body names it), nothing written."""
    if await repository.get_team(session, body.team_id) is None:
        raise ValidationFailed(
            f"No team with id {body.team_id}.",
            code="unknown_team",
            details=[{"field": "body.teamId", "message": "unknown team"}],
        )
    position = body.position
    if position is None:
        position = await repository.next_position(session)
    rule = RoutingRule(
        team_id=body.team_id,
        channel=body.channel,
        intent=(body.intent or "").strip() or None,
        queue=(body.queue or "").strip() or None,
        position=position,
        created_at=utcnow(),
    )
    await repository.add_rule(session, rule)
    await audit.record(
        session,
        context,
        "routing_rule.create",
        entity_type="routing_rule",
        entity_id=rule.id,
        metadata={
            "teamId": str(rule.team_id),
            "channel": rule.channel.value if rule.channel else None,
            "intent": rule.intent,
            "queue": rule.queue,
            "position": rule.position,
        },
    )
    return RuleOut.model_validate(rule)


async def delete_rule(session: AsyncSession, context: AuditContext, rule_id: uuid.UUID) -> None:
    rule = await repository.get_rule(session, rule_id)
    if rule is None:
        raise NotFound(f"No routing rule with id {rule_id}.", code="routing_rule_not_found")
    await audit.record(
        session,
        context,
        "routing_rule.delete",
        entity_type="routing_rule",
        entity_id=rule.id,
        metadata={"teamId": str(rule.team_id), "position": rule.position},
    )
    await repository.delete_rule(session, rule)


# --- availability and capacity --------------------------------------------------------------


async def set_availability(
    session: AsyncSession,
    context: AuditContext,
    user_id: uuid.UUID | None,
    availability: Availability,
) -> AvailabilityOut:
    """A person's availability. Changed: the audit row, and the `agent.availability` notice
    for the routers published with the commit."""
    if user_id is None:  # a caller who is no user (trusted-network mode)
        raise NotFound("The caller is not a console user.", code="user_not_found")
    user = await repository.user_for_update(session, user_id)
    if user is None:
        raise _user_not_found(user_id)
    if user.availability != availability:
        previous = user.availability
        user.availability = availability
        user.availability_changed_at = utcnow()
        await audit.record(
            session,
            context,
            "user.availability",
            entity_type="user",
            entity_id=user.id,
            metadata={"from": previous.value, "to": availability.value},
        )
        note_process(
            session.info,
            {
                "type": AVAILABILITY_NOTICE,
                "userId": str(user.id),
                "availability": availability.value,
            },
        )
        await session.flush()
    return AvailabilityOut(
        user_id=user.id,
        username=user.username,
        availability=user.availability,
        availability_changed_at=user.availability_changed_at,
    )


async def set_capacity(
    session: AsyncSession, context: AuditContext, user_id: uuid.UUID, body: CapacityPut
) -> CapacityOut:
    user = await repository.user_for_update(session, user_id)
    if user is None:
        raise _user_not_found(user_id)
    before = _capacity(user)
    after = ChannelCounts(call=body.call, whatsapp=body.whatsapp, sms=body.sms)
    if before != after:
        user.capacity_call = body.call
        user.capacity_whatsapp = body.whatsapp
        user.capacity_sms = body.sms
        await audit.record(
            session,
            context,
            "user.capacity",
            entity_type="user",
            entity_id=user.id,
            metadata={"from": before.model_dump(), "to": after.model_dump()},
        )
        await session.flush()
    return CapacityOut(user_id=user.id, username=user.username, capacity=after)


async def availability_of(session: AsyncSession, user_id: uuid.UUID | None) -> Availability | None:
    """A user's availability (None: the caller is no user)."""
    if user_id is None:
        return None
    found = await repository.users_by_ids(session, [user_id])
    user = found.get(user_id)
    return None if user is None else user.availability
