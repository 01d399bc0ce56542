"""Wire models of teams, routing rules, availability, capacity and the people list
(docs/workflow.md, "Teams and people")."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from contact_center.models.enums import Availability, Channel, Role, RoutingMode
from contact_center.schemas import ApiModel, RequestModel, Timestamp

TeamName = Annotated[str, Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=300)]
Capacity = Annotated[StrictInt, Field(ge=0, le=100)]
Criterion = Annotated[str, Field(min_length=1, max_length=128)]


class TeamMemberOut(ApiModel):
    user_id: uuid.UUID
    username: str
    display_name: str | None
    availability: Availability


class TeamOut(ApiModel):
    id: uuid.UUID
    name: str
    description: str | None
    routing_mode: RoutingMode
    is_default: bool
    members: list[TeamMemberOut]
    created_at: Timestamp
    updated_at: Timestamp


class TeamList(ApiModel):
    items: list[TeamOut]


class TeamCreate(RequestModel):
    name: TeamName
    description: Description | None = None
    routing_mode: RoutingMode = RoutingMode.ROUND_ROBIN
    is_default: StrictBool = Field(
        default=False, description="Making a team the default clears the flag on the other."
    )


class TeamPatch(RequestModel):
    name: TeamName | None = None
    description: Description | None = None
    routing_mode: RoutingMode | None = None
    is_default: StrictBool | None = None


class MembersPut(RequestModel):
    user_ids: list[uuid.UUID] = Field(max_length=1000, description="The team's members, replaced")


class RuleOut(ApiModel):
    id: uuid.UUID
    team_id: uuid.UUID
    channel: Channel | None
    intent: str | None
    queue: str | None
    position: int
    created_at: Timestamp


class RuleList(ApiModel):
    items: list[RuleOut]


class RuleCreate(RequestModel):
    team_id: uuid.UUID
    channel: Channel | None = None
    intent: Criterion | None = None
    queue: Criterion | None = None
    position: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = Field(
        default=None, description="Rules are tried by position (default: after the last)."
    )


class AvailabilityPut(RequestModel):
    availability: Availability


class AvailabilityOut(ApiModel):
    user_id: uuid.UUID
    username: str
    availability: Availability
    availability_changed_at: Timestamp | None


class ChannelCounts(ApiModel):
    """One number per channel."""

    call: int
    whatsapp: int
    sms: int


class CapacityPut(RequestModel):
    """How many open conversations of each channel the person holds at most (0: none)."""

    call: Capacity
    whatsapp: Capacity
    sms: Capacity


class CapacityOut(ApiModel):
    user_id: uuid.UUID
    username: str
    capacity: ChannelCounts


class AgentOut(ApiModel):
    id: uuid.UUID
    username: str
    display_name: str | None
    role: Role
    availability: Availability
    teams: list[uuid.UUID]
    capacity: ChannelCounts
    load: ChannelCounts = Field(
        description="open (NEW, IN_PROGRESS) conversations assigned to them, by channel"
    )


class AgentList(ApiModel):
    items: list[AgentOut]
