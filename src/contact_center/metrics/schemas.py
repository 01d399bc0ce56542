"""Wire models of the metrics API (docs/api.md)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from contact_center.schemas import ApiModel


class AgentActivity(ApiModel):
    """The work people handled (interactions not handled by the AI), by assigned agent."""

    agent: str | None = Field(description="null: not assigned to anyone")
    total: int
    by_channel: dict[str, int]


class AiActivity(ApiModel):
    """What the AI handled (the voice agent's calls, the WhatsApp bot's chats): `aiHandled`."""

    total: int
    by_channel: dict[str, int]


class Kpis(ApiModel):
    abandonment_rate: float | None = Field(description="ABANDONED calls / calls")
    ai_containment_rate: float | None = Field(description="calls handled by the AI / calls")
    average_handle_time_secs: float | None = Field(description="mean duration of COMPLETED calls")
    whatsapp_first_response_secs: float | None = Field(
        description="median from the first INBOUND to the first OUTBOUND message"
    )
    otp_success_rate: float | None = Field(
        description="VERIFIED / challenges created, CANCELED excluded"
    )
    calls: int
    otp_challenges: int


class TeamFigures(ApiModel):
    """A team's queue now (not the day's): `teamId` null is the shared pool (no team)."""

    team_id: uuid.UUID | None
    name: str | None
    waiting: int = Field(description="open, unassigned, queued and not snoozed")
    open_assigned: int = Field(description="open (NEW, IN_PROGRESS) and assigned to someone")
    members_online: int = Field(description="active members who are ONLINE")


class MetricsSummary(ApiModel):
    date: dt.date
    timezone: str
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    by_direction: dict[str, int]
    by_agent: list[AgentActivity] = Field(description="people's work, AI-handled excluded")
    ai_activity: AiActivity
    kpis: Kpis
    team_id: uuid.UUID | None = Field(
        default=None, description="the `teamId` asked: the day's interaction figures are its"
    )
    teams: list[TeamFigures] = Field(
        default_factory=list, description="each team's queue now, then the shared pool"
    )
