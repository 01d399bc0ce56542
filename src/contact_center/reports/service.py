"""Reports over a range of days, read from the rollups; the rollups' recompute of a day and
the days the rollup job finds dirty (docs/service-levels.md, "Rollups" and "Reports")."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.errors import Forbidden, ValidationFailed
from contact_center.metrics.service import day_bounds, today
from contact_center.models.enums import Role
from contact_center.principal import Principal
from contact_center.reports import repository
from contact_center.reports.buckets import BOUNDS, METRICS, percentile
from contact_center.reports.repository import Slice
from contact_center.reports.rollups import DIMENSIONS, compute_day
from contact_center.reports.schemas import (
    Containment,
    Csat,
    DayFigures,
    Figures,
    FirstContactResolution,
    GroupBy,
    GroupFigures,
    HandleTime,
    HeatmapCell,
    Percentiles,
    Report,
    ServiceLevel,
    TargetMet,
)
from contact_center.settings import Settings

MAX_RANGE_DAYS = 400
# The years a report's days may fall in (as service levels' days).
MIN_YEAR, MAX_YEAR = 2000, 2100
DEFAULT_RANGE_DAYS = 30
WATERMARK = "rollup"
# A source row committed late (its time taken before a slower transaction committed) is still
# seen by the next run: the job looks this far behind its watermark.
OVERLAP = timedelta(minutes=2)


# --- the rollups -----------------------------------------------------------------------------


def local_day(settings: Settings, at: datetime) -> date:
    return at.astimezone(settings.zone).date()


async def recompute_day(session: AsyncSession, settings: Settings, day: date) -> int:
    """Replace the day's rollup rows with what its conversations add up to now (the caller
    commits; two recomputes of a day run one after the other). Returns the conversations."""
    await repository.lock_day(session, day)
    start, end = day_bounds(settings, day)
    conversations = await repository.day_conversations(session, start, end)
    messages = await repository.day_messages(session, start, end)
    rollup = compute_day(day, settings.zone, conversations, messages)
    await repository.replace_day(
        session,
        day,
        DIMENSIONS,
        rollup.rollup_rows(),
        rollup.histogram_rows(),
        rollup.conversations,
        utcnow(),
    )
    return rollup.conversations


@dataclass(frozen=True)
class DirtyDays:
    days: list[date]
    # What the watermark moves to once every day is recomputed.
    watermark: datetime


async def dirty_days(session: AsyncSession, settings: Settings, now: datetime) -> DirtyDays:
    """The local days whose conversations, messages, clocks, surveys or repeat contacts changed
    since the watermark (less the overlap); every day of the history on the first run."""
    since = await repository.watermark(session, WATERMARK)
    if since is None:
        span = await repository.started_range(session)
        if span is None:
            return DirtyDays([], now)
        first, last = local_day(settings, span[0]), local_day(settings, span[1])
        return DirtyDays(days_between(first, last), now)
    started = await repository.started_of_changed(session, since - OVERLAP)
    return DirtyDays(sorted({local_day(settings, at) for at in started}), now)


async def analyze(session: AsyncSession) -> None:
    await repository.analyze(session)


async def move_watermark(session: AsyncSession, to: datetime) -> None:
    await repository.move_watermark(session, WATERMARK, to, utcnow())


async def history_range(session: AsyncSession, settings: Settings) -> tuple[date, date] | None:
    """The first and last local day with a conversation (None: none)."""
    span = await repository.started_range(session)
    if span is None:
        return None
    return local_day(settings, span[0]), local_day(settings, span[1])


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- who sees what ---------------------------------------------------------------------------


async def visible_teams(session: AsyncSession, viewer: Principal) -> list[str] | None:
    """The teams whose figures `viewer` may read, as stored (None: all, the shared pool
    included): admins everything; supervisors their own teams (none when they belong to none);
    agents nothing."""
    if viewer.trusted_network or viewer.role is Role.ADMIN:
        return None
    if viewer.role is not Role.SUPERVISOR:
        raise Forbidden("Reports are for supervisors and admins.")
    if viewer.user_id is None:
        return []
    return [str(t) for t in await repository.member_team_ids(session, viewer.user_id)]


# --- the report ------------------------------------------------------------------------------


def parse_range(settings: Settings, raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    """`from` and `to` (YYYY-MM-DD, APP_TIMEZONE, both included; default the last 30 days to
    today): 422 when either is not a date or falls outside the years 2000–2100 (as service
    levels' days), `from` is after `to` or the range is over 400 days."""

    def parse(raw: str | None, name: str) -> date | None:
        if raw is None or not raw.strip():
            return None
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValidationFailed(
                f"{name} must be YYYY-MM-DD.",
                details=[{"field": f"query.{name}", "message": "not a date (YYYY-MM-DD)"}],
            ) from None
        # A day near the calendar's ends would overflow the default range around it.
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValidationFailed(
                f"{name} must fall in the years {MIN_YEAR} to {MAX_YEAR}.",
                details=[{"field": f"query.{name}", "message": f"not in {MIN_YEAR}–{MAX_YEAR}"}],
            )
        return day

    last = parse(raw_to, "to")
    first = parse(raw_from, "from")
    if last is None:
        last = today(settings) if first is None else first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first is None:
        first = last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first > last:
        raise ValidationFailed(
            "from must not be after to.",
            details=[{"field": "query.from", "message": "after `to`"}],
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"A report covers {MAX_RANGE_DAYS} days at most.",
            details=[
                {"field": "query.to", "message": f"more than {MAX_RANGE_DAYS} days after `from`"}
            ],
        )
    return first, last


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(counters: Mapping[str, int], histograms: Mapping[str, Mapping[int, int]]) -> Figures:
    """The figures of summed counters and histograms (metric → bucket → count)."""
    c = defaultdict(int, counters)

    def target(name: str) -> TargetMet:
        met, total = c[f"{name}_met"], c[f"{name}_total"]
        return TargetMet(met=met, total=total, n=total, rate=_rate(met, total))

    def spread(metric: str) -> Percentiles:
        counts = histograms.get(metric, {})
        return Percentiles(
            n=sum(counts.values()), p50=percentile(counts, 50), p90=percentile(counts, 90)
        )

    answers = c["csat_answers"]
    return Figures(
        volume=c["volume"],
        calls=c["calls"],
        sla=ServiceLevel(
            first_response=target("first_response"),
            next_response=target("next_response"),
            resolution=target("resolution"),
        ),
        first_response=spread("first_response"),
        next_response=spread("next_response"),
        resolution=spread("resolution"),
        handle_time=spread("handle"),
        aht=HandleTime(
            n=c["calls_completed"],
            mean_secs=round(c["handle_secs"] / c["calls_completed"], 1)
            if c["calls_completed"]
            else None,
        ),
        csat=Csat(
            answers=answers,
            n=answers,
            mean=round(c["csat_score_sum"] / answers, 2) if answers else None,
            satisfied=c["csat_satisfied"],
            rate=_rate(c["csat_satisfied"], answers),
        ),
        fcr=FirstContactResolution(
            resolved=c["resolved"],
            first_time=c["resolved_first_time"],
            n=c["resolved"],
            rate=_rate(c["resolved_first_time"], c["resolved"]),
        ),
        containment=Containment(
            ai_handled=c["ai_handled"],
            contained=c["contained"],
            n=c["ai_handled"],
            rate=_rate(c["contained"], c["ai_handled"]),
        ),
    )


Counters = dict[str, int]
Histograms = dict[str, dict[int, int]]


async def _sums(
    session: AsyncSession, piece: Slice, by: Sequence[str]
) -> dict[tuple[Any, ...], tuple[Counters, Histograms]]:
    """Summed counters and histograms (metric → bucket → count) per group of `by`."""
    histograms: dict[tuple[Any, ...], Histograms] = defaultdict(
        lambda: {metric: {} for metric in METRICS}
    )
    for group, metric, bucket, count in await repository.histogram_sums(session, piece, by):
        histograms[group][metric][bucket] = count
    return {
        group: (counters, histograms[group])
        for group, counters in await repository.rollup_sums(session, piece, by)
    }


def _added(parts: Sequence[tuple[Counters, Histograms]]) -> tuple[Counters, Histograms]:
    counters: Counters = defaultdict(int)
    histograms: Histograms = {metric: defaultdict(int) for metric in METRICS}
    for part_counters, part_histograms in parts:
        for name, value in part_counters.items():
            counters[name] += value
        for metric, buckets in part_histograms.items():
            for bucket, count in buckets.items():
                histograms[metric][bucket] += count
    return counters, histograms


async def report(
    session: AsyncSession,
    settings: Settings,
    first: date,
    last: date,
    group_by: GroupBy,
    *,
    viewer: Principal,
) -> Report:
    """The range's totals, one row per group, the weekday × hour heatmap and the daily series,
    as far as `viewer` sees (docs/api.md, "Reports")."""
    teams = await visible_teams(session, viewer)
    whole = Slice("all", first, last, teams)
    # The days' sums add up to the totals (one read of the `all` rows for both).
    by_day = await _sums(session, whole, ("day",))
    totals = figures(*_added(list(by_day.values())))
    empty = figures({}, {}).model_dump(by_alias=False)
    daily = [
        DayFigures(
            day=day,
            **(figures(*by_day[(day,)]).model_dump(by_alias=False) if (day,) in by_day else empty),
        )
        for day in days_between(first, last)
    ]
    if group_by is GroupBy.TEAM:
        by_group = await _sums(session, whole, ("team",))
    else:
        by_group = await _sums(session, Slice(group_by.value, first, last, teams), ("key",))
    names = await repository.team_names(session) if group_by is GroupBy.TEAM else {}
    groups = [
        GroupFigures(
            key=key or None,
            name=_group_name(group_by, key, names),
            **figures(*values).model_dump(by_alias=False),
        )
        for (key,), values in by_group.items()
    ]
    groups.sort(key=lambda g: (-g.volume, g.name or "\uffff"))
    heat: dict[tuple[int, int], int] = defaultdict(int)
    hours = await repository.rollup_sums(session, Slice("hour", first, last, teams), ("day", "key"))
    for (day, key), counters in hours:
        heat[(_as_date(day).weekday(), int(key))] += counters["volume"]
    heatmap = [
        HeatmapCell(weekday=w, hour=h, volume=heat.get((w, h), 0))
        for w in range(7)
        for h in range(24)
    ]
    computed, computed_at = await repository.computed_days(session, first, last)
    return Report(
        from_=first,
        to=last,
        timezone=settings.app_timezone,
        group_by=group_by,
        totals=totals,
        groups=groups,
        heatmap=heatmap,
        daily=daily,
        buckets=[*BOUNDS, None],
        days_computed=computed,
        computed_at=computed_at,
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _group_name(group_by: GroupBy, key: str, names: Mapping[uuid.UUID, str]) -> str | None:
    if not key:
        return None
    if group_by is GroupBy.TEAM:
        try:
            return names.get(uuid.UUID(key), key)
        except ValueError:
            return key
    return key
