"""Wire models of the report API (docs/api.md, "Reports")."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from contact_center.schemas import ApiModel, Timestamp


class GroupBy(StrEnum):
    TEAM = "team"
    AGENT = "agent"
    CHANNEL = "channel"
    INTENT = "intent"
    HANDLER = "handler"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class TargetMet(ApiModel):
    """A service-level target: finished clocks MET in time ÷ finished (MET or BREACHED)."""

    met: int
    total: int
    n: int = Field(description="the sample: `total`")
    rate: float | None = Field(description="met / total (null when total is 0)")


class ServiceLevel(ApiModel):
    first_response: TargetMet
    next_response: TargetMet
    resolution: TargetMet


class Percentiles(ApiModel):
    """Durations in seconds: each percentile is the upper bound of the bucket holding the
    nearest-rank value (`buckets`); null when nothing was measured or it lies above the last
    bound."""

    n: int
    p50: int | None
    p90: int | None


class HandleTime(ApiModel):
    """Average handle time: the mean duration of COMPLETED calls."""

    n: int = Field(description="completed calls with a duration")
    mean_secs: float | None


class Csat(ApiModel):
    answers: int
    n: int = Field(description="the sample: `answers`")
    mean: float | None = Field(description="mean score, 1–5")
    satisfied: int = Field(description="answers of 4 or 5")
    rate: float | None = Field(description="satisfied / answers")


class FirstContactResolution(ApiModel):
    resolved: int
    first_time: int = Field(description="resolved without a repeat contact")
    n: int = Field(description="the sample: `resolved`")
    rate: float | None = Field(description="firstTime / resolved")


class Containment(ApiModel):
    ai_handled: int
    contained: int = Field(description="the AI agent resolved it with no person")
    n: int = Field(description="the sample: `aiHandled`")
    rate: float | None = Field(description="contained / aiHandled")


class Figures(ApiModel):
    """What a set of conversations (started in the range) adds up to."""

    volume: int = Field(description="conversations started")
    calls: int
    sla: ServiceLevel
    first_response: Percentiles
    next_response: Percentiles
    resolution: Percentiles
    handle_time: Percentiles
    aht: HandleTime
    csat: Csat
    fcr: FirstContactResolution
    containment: Containment


class GroupFigures(Figures):
    key: str | None = Field(
        description="the team id, agent, channel, intent or handler (null: none — no team, "
        "no agent, no intent, or handled by nobody)"
    )
    name: str | None = Field(description="what to show: the team's name; else the key")


class DayFigures(Figures):
    day: dt.date


class HeatmapCell(ApiModel):
    weekday: int = Field(description="0 Monday … 6 Sunday (APP_TIMEZONE)")
    hour: int = Field(description="0–23, local")
    volume: int


class Report(ApiModel):
    from_: dt.date = Field(alias="from")
    to: dt.date
    timezone: str
    group_by: GroupBy
    totals: Figures
    groups: list[GroupFigures] = Field(description="by volume, largest first")
    heatmap: list[HeatmapCell] = Field(description="168 cells: every weekday × hour")
    daily: list[DayFigures] = Field(description="every day of the range, in order")
    buckets: list[int | None] = Field(
        description="the histogram buckets' upper bounds in seconds (null: above the last)"
    )
    days_computed: int = Field(description="days of the range the rollups hold")
    computed_at: Timestamp | None = Field(
        description="the oldest recompute among those days (null: none computed)"
    )
