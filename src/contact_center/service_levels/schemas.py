"""Wire models of the business calendar, service-level policies and a conversation's clocks
(docs/service-levels.md)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StrictInt

from contact_center.models.enums import Channel, Priority, SlaAction, SlaState
from contact_center.schemas import ApiModel, RequestModel, Timestamp

# A target: a positive number of business seconds, a year at most.
MAX_TARGET_SECS = 365 * 24 * 3600
TargetSecs = Annotated[StrictInt, Field(ge=1, le=MAX_TARGET_SECS)]
PolicyName = Annotated[str, Field(min_length=1, max_length=100)]
Position = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Zone = Annotated[str, Field(min_length=1, max_length=64)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class Interval(RequestModel):
    opens: ClockTime
    closes: ClockTime


class Week(RequestModel):
    """Opening intervals per weekday (a missing day: closed; an unknown one: 422)."""

    model_config = ConfigDict(extra="forbid")

    monday: list[Interval] = Field(default_factory=list, max_length=8)
    tuesday: list[Interval] = Field(default_factory=list, max_length=8)
    wednesday: list[Interval] = Field(default_factory=list, max_length=8)
    thursday: list[Interval] = Field(default_factory=list, max_length=8)
    friday: list[Interval] = Field(default_factory=list, max_length=8)
    saturday: list[Interval] = Field(default_factory=list, max_length=8)
    sunday: list[Interval] = Field(default_factory=list, max_length=8)


class CalendarPut(RequestModel):
    zone: Zone
    hours: Week
    holiday_country: Country | None = Field(
        default="AR", description="Whose national holidays close it (null: none)."
    )


class CalendarOut(ApiModel):
    zone: str
    hours: dict[str, list[dict[str, str]]]
    holiday_country: str | None
    updated_at: Timestamp | None = None


class TeamCalendarOut(CalendarOut):
    team_id: uuid.UUID
    team_name: str


class ClosedDayIn(RequestModel):
    day: date
    name: Annotated[str, Field(min_length=1, max_length=200)]


class ClosedDayOut(ApiModel):
    day: date
    name: str


class BusinessCalendarOut(ApiModel):
    default: CalendarOut
    teams: list[TeamCalendarOut]
    closed_days: list[ClosedDayOut]


class HolidayOut(ApiModel):
    day: date
    name: str


class HolidayList(ApiModel):
    year: int
    country: str | None
    items: list[HolidayOut]


class PolicyCreate(RequestModel):
    name: PolicyName
    position: Position = 0
    team_id: uuid.UUID | None = None
    channel: Channel | None = None
    priority: Priority | None = None
    first_response_secs: TargetSecs | None = None
    next_response_secs: TargetSecs | None = None
    resolution_secs: TargetSecs | None = None
    pause_while_waiting_on_customer: StrictBool = False
    breach_action: SlaAction = SlaAction.NOTIFY
    enabled: StrictBool = True


class PolicyPatch(RequestModel):
    name: PolicyName | None = None
    position: Position | None = None
    team_id: uuid.UUID | None = None
    channel: Channel | None = None
    priority: Priority | None = None
    first_response_secs: TargetSecs | None = None
    next_response_secs: TargetSecs | None = None
    resolution_secs: TargetSecs | None = None
    pause_while_waiting_on_customer: StrictBool | None = None
    breach_action: SlaAction | None = None
    enabled: StrictBool | None = None


class PolicyOut(ApiModel):
    id: uuid.UUID
    name: str
    position: int
    team_id: uuid.UUID | None
    channel: Channel | None
    priority: Priority | None
    first_response_secs: int | None
    next_response_secs: int | None
    resolution_secs: int | None
    pause_while_waiting_on_customer: bool
    breach_action: SlaAction
    enabled: bool
    created_at: Timestamp
    updated_at: Timestamp


class PolicyList(ApiModel):
    items: list[PolicyOut]


class TargetOut(ApiModel):
    due_at: Timestamp | None
    state: SlaState | None


class ConversationSlaOut(ApiModel):
    interaction_id: uuid.UUID
    policy_id: uuid.UUID | None
    policy_name: str | None
    first_response: TargetOut
    first_response_at: Timestamp | None
    next_response: TargetOut
    next_responses: int
    next_responses_met: int
    resolution: TargetOut
    resolved_at: Timestamp | None
    paused: bool
    paused_secs: int
    paused_since: Timestamp | None
    updated_at: Timestamp | None
