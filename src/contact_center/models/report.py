"""Report rollups (docs/service-levels.md, "Rollups"): exact counters and sums per local day,
one dimension at a time, each split by team (the supervisors' scope), and the fixed-bucket
histograms the percentiles are read from. Kept by the rollup job (contact_center.reports)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, utcnow

# The team of a rollup row: the conversation's team id as text, or NO_TEAM (the shared pool).
NO_TEAM = ""


class ReportRollup(Base):
    """One local day × one value (`key`) of one dimension × one team: what the conversations
    started that day add up to. `dimension` is `all` (key ''), `hour` (key '00'…'23', local),
    `agent`, `channel`, `intent`, `handler` (key '' when the conversation has none)."""

    __tablename__ = "report_rollup"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    team: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    calls_completed: Mapped[int] = mapped_column(Integer, default=0)
    handle_secs: Mapped[int] = mapped_column(BigInteger, default=0)
    first_response_met: Mapped[int] = mapped_column(Integer, default=0)
    first_response_total: Mapped[int] = mapped_column(Integer, default=0)
    next_response_met: Mapped[int] = mapped_column(Integer, default=0)
    next_response_total: Mapped[int] = mapped_column(Integer, default=0)
    resolution_met: Mapped[int] = mapped_column(Integer, default=0)
    resolution_total: Mapped[int] = mapped_column(Integer, default=0)
    csat_answers: Mapped[int] = mapped_column(Integer, default=0)
    csat_score_sum: Mapped[int] = mapped_column(Integer, default=0)
    csat_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_first_time: Mapped[int] = mapped_column(Integer, default=0)
    ai_handled: Mapped[int] = mapped_column(Integer, default=0)
    contained: Mapped[int] = mapped_column(Integer, default=0)


class ReportHistogram(Base):
    """How many durations of `metric` (first_response, next_response, resolution, handle)
    fell in `bucket` (an index into contact_center.reports.buckets.BOUNDS) for one day, key and
    team. No rows for the `hour` dimension (percentiles are not asked per hour)."""

    __tablename__ = "report_histogram"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    team: Mapped[str] = mapped_column(String(36), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReportDay(Base):
    """A local day the rollups hold: when it was last recomputed and how many conversations it
    counted (a day with no row was never computed)."""

    __tablename__ = "report_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportWatermark(Base):
    """How far the rollup job has looked: source rows changed at or after `changed_since`
    (less an overlap, for late commits) mark their days dirty on its next run."""

    __tablename__ = "report_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    changed_since: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
