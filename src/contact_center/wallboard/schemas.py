"""Wire models of `GET /api/metrics/wallboard` (docs/service-levels.md, "The wallboard")."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from contact_center.models.enums import Availability
from contact_center.schemas import ApiModel, Timestamp


class AgentsByAvailability(ApiModel):
    online: int = 0
    busy: int = 0
    away: int = 0
    offline: int = 0


class SlaToday(ApiModel):
    """First-response and resolution targets decided today (local day, APP_TIMEZONE): met on
    the day they were met, breached on the day they fell due."""

    met: int
    breached: int
    total: int = Field(description="met + breached: the `n` of the rate")
    rate: float | None = Field(description="met / total (null: no target decided today)")


class WallboardTeam(ApiModel):
    """One team now; `teamId` null is the shared pool (conversations in no team)."""

    team_id: uuid.UUID | None
    name: str | None
    waiting: int = Field(description="waiting for a person: queued, unassigned, not snoozed")
    oldest_waiting_since: Timestamp | None = Field(
        description="when the longest-waiting conversation entered the queue (`queuedAt`)"
    )
    oldest_waiting_secs: int | None = Field(description="how long it has waited, in seconds")
    open_assigned: int = Field(description="open conversations a person holds")
    active_calls: int = Field(description="calls in progress")
    breaches_now: int = Field(description="open conversations with a breached target")
    sla_today: SlaToday
    agents: AgentsByAvailability = Field(description="active members by availability")


class WallboardAgent(ApiModel):
    """A person of the teams shown: availability and load (open conversations they hold)."""

    username: str
    display_name: str | None
    availability: Availability
    availability_since: Timestamp | None
    load: int = Field(description="open conversations assigned to them")
    capacity: int = Field(description="open conversations they take at most, all channels")
    team_ids: list[uuid.UUID]


class WallboardTotals(ApiModel):
    waiting: int
    oldest_waiting_since: Timestamp | None
    oldest_waiting_secs: int | None
    open_assigned: int
    active_calls: int
    breaches_now: int
    sla_today: SlaToday
    agents: AgentsByAvailability = Field(description="the people listed, each once")


class Wallboard(ApiModel):
    generated_at: Timestamp
    day: dt.date = Field(description="today in APP_TIMEZONE (the day of `slaToday`)")
    timezone: str
    totals: WallboardTotals
    teams: list[WallboardTeam] = Field(
        description="the caller's teams by name, then (admins) the shared pool"
    )
    agents: list[WallboardAgent]
