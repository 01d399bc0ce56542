"""The reports page (docs/service-levels.md, "Reports and the metrics API"): a range of days
(today, the last 7 days, this month, the last 90 days, or any range), one row per team, agent,
channel, intent or handler; the figures in cards, charts (Apache ECharts, static/reports.js) and
a table, with the CSV and XLSX downloads of the API. Supervisors and admins; it reads the same
service as `GET /api/metrics/report`."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date, get_day_names
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from contact_center.console.i18n import Speaker
from contact_center.console.labels import N_
from contact_center.console.pages import page, speaker_for
from contact_center.dependencies import SessionDep, SettingsDep, require
from contact_center.errors import ValidationFailed
from contact_center.metrics.service import today
from contact_center.principal import Principal, Role
from contact_center.reports import service as reports
from contact_center.reports.schemas import DayFigures, GroupBy, Report
from contact_center.settings import Settings

router = APIRouter(include_in_schema=False)
SupervisorPage = Annotated[Principal, Depends(require(Role.SUPERVISOR))]

PRESETS = {
    "today": N_("Today"),
    "7d": N_("Last 7 days"),
    "month": N_("This month"),
    "90d": N_("Last 90 days"),
    "custom": N_("Custom range"),
}
GROUPS = {
    GroupBy.TEAM: N_("Team"),
    GroupBy.AGENT: N_("Agent"),
    GroupBy.CHANNEL: N_("Channel"),
    GroupBy.INTENT: N_("Intent"),
    GroupBy.HANDLER: N_("AI or people"),
}
# How a group reads inside a sentence ("Service level by team").
GROUP_PHRASES = {
    GroupBy.TEAM: N_("by team"),
    GroupBy.AGENT: N_("by agent"),
    GroupBy.CHANNEL: N_("by channel"),
    GroupBy.INTENT: N_("by intent"),
    GroupBy.HANDLER: N_("by AI or people"),
}
CHART_WORDS = {
    "volume": N_("Conversations"),
    "slaFirst": N_("First response on time"),
    "slaNext": N_("Next response on time"),
    "slaResolution": N_("Resolved on time"),
    "firstP50": N_("First response p50"),
    "firstP90": N_("First response p90"),
    "resolutionP50": N_("Resolution p50"),
    "resolutionP90": N_("Resolution p90"),
    "csat": N_("CSAT (4 or 5)"),
    "fcr": N_("First-contact resolution"),
    "noData": N_("No data in this range."),
    "s": N_("s"),
    "min": N_("min"),
    "h": N_("h"),
    "d": N_("d"),
}
EVERY = {"day": N_("By day"), "week": N_("By week"), "month": N_("By month")}
DEFAULT_PRESET = "7d"


def preset_range(preset: str, day: date) -> tuple[date, date]:
    if preset == "today":
        return day, day
    if preset == "month":
        return day.replace(day=1), day
    if preset == "90d":
        return day - timedelta(days=89), day
    return day - timedelta(days=6), day


HANDLERS = {"AI": N_("AI agent"), "PERSON": N_("People")}
NOBODY = N_("Nobody")
NONE = {
    GroupBy.TEAM: N_("No team (shared pool)"),
    GroupBy.AGENT: N_("Unassigned"),
    GroupBy.INTENT: N_("No intent"),
    GroupBy.CHANNEL: N_("No channel"),
}


def group_label(speaker: Speaker, group_by: GroupBy, key: str | None, name: str | None) -> str:
    """What a group is called on the page."""
    if group_by is GroupBy.HANDLER:
        return speaker.gettext(HANDLERS.get(key or "", NOBODY))
    if key is None:
        return speaker.gettext(NONE.get(group_by, NOBODY))
    if group_by is GroupBy.CHANNEL:
        return speaker.label(key, "channel")
    if group_by is GroupBy.INTENT:
        return speaker.label(key, "intent")
    return name or key


def _period(day: date, every: str) -> date:
    if every == "week":
        return day - timedelta(days=day.weekday())
    if every == "month":
        return day.replace(day=1)
    return day


def series(daily: list[DayFigures], every: str, speaker: Speaker) -> dict[str, list[Any]]:
    """The daily figures summed by day, week (from Monday) or month: volume and the first
    response target met (met, total)."""
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in daily:
        total = sums[_period(d.day, every)]
        total[0] += d.volume
        total[1] += d.sla.first_response.met
        total[2] += d.sla.first_response.total
    labels = []
    for start in sums:
        if every == "month":
            labels.append(format_date(start, "MMM yyyy", locale=speaker.locale))
        else:
            labels.append(format_date(start, "dd/MM", locale=speaker.locale))
    return {
        "labels": labels,
        "volume": [v[0] for v in sums.values()],
        "sla": [round(100 * v[1] / v[2], 1) if v[2] else None for v in sums.values()],
        "slaN": [v[2] for v in sums.values()],
    }


def _rate(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def chart_data(report: Report, names: list[str], every: str, speaker: Speaker) -> dict[str, Any]:
    """What static/reports.js draws, the words included (the reader's language)."""
    groups = report.groups
    say = speaker.gettext
    days = get_day_names("abbreviated", locale=speaker.locale)
    return {
        "groups": names,
        "sla": {
            "first": [_rate(g.sla.first_response.rate) for g in groups],
            "firstN": [g.sla.first_response.n for g in groups],
            "next": [_rate(g.sla.next_response.rate) for g in groups],
            "nextN": [g.sla.next_response.n for g in groups],
            "resolution": [_rate(g.sla.resolution.rate) for g in groups],
            "resolutionN": [g.sla.resolution.n for g in groups],
        },
        "times": {
            "firstP50": [g.first_response.p50 for g in groups],
            "firstP90": [g.first_response.p90 for g in groups],
            "resolutionP50": [g.resolution.p50 for g in groups],
            "resolutionP90": [g.resolution.p90 for g in groups],
        },
        "quality": {
            "csat": [_rate(g.csat.rate) for g in groups],
            "csatN": [g.csat.n for g in groups],
            "fcr": [_rate(g.fcr.rate) for g in groups],
            "fcrN": [g.fcr.n for g in groups],
        },
        "heatmap": [[c.hour, c.weekday, c.volume] for c in report.heatmap],
        "weekdays": [days[i] for i in range(7)],
        "series": series(report.daily, every, speaker),
        "words": {key: say(message) for key, message in CHART_WORDS.items()},
    }


def _choice(value: str | None, allowed: dict[Any, str], default: Any) -> Any:
    for key in allowed:
        if value == (key.value if isinstance(key, GroupBy) else key):
            return key
    return default


async def _context(
    request: Request,
    session: SessionDep,
    settings: Settings,
    principal: Principal,
    preset: str | None,
    raw_from: str | None,
    raw_to: str | None,
    raw_group: str | None,
    raw_every: str | None,
) -> dict[str, Any]:
    speaker = speaker_for(request)
    chosen = _choice(preset, PRESETS, DEFAULT_PRESET)
    group_by: GroupBy = _choice(raw_group, GROUPS, GroupBy.TEAM)
    every = _choice(raw_every, EVERY, "day")
    now = today(settings)
    error = None
    if chosen == "custom":
        try:
            first, last = reports.parse_range(settings, raw_from, raw_to)
        except ValidationFailed:
            error = speaker.gettext(
                "Those dates are not a range the report covers: a day as YYYY-MM-DD "
                "from %(min_year)s to %(max_year)s, the first before the last, %(days)s days "
                "at most.",
                days=reports.MAX_RANGE_DAYS,
                min_year=reports.MIN_YEAR,
                max_year=reports.MAX_YEAR,
            )
            first, last = preset_range(DEFAULT_PRESET, now)
    else:
        first, last = preset_range(chosen, now)
    report = await reports.report(session, settings, first, last, group_by, viewer=principal)
    names = [group_label(speaker, group_by, g.key, g.name) for g in report.groups]
    query = {"from": first.isoformat(), "to": last.isoformat(), "groupBy": group_by.value}
    return {
        "report": report,
        "rows": list(zip(names, report.groups, strict=True)),
        "totals": report.totals,
        "presets": PRESETS,
        "preset": chosen,
        "groups": {g.value: label for g, label in GROUPS.items()},
        "group_by": group_by.value,
        "group_title": speaker.gettext(GROUPS[group_by]),
        "group_phrase": speaker.gettext(GROUP_PHRASES[group_by]),
        "everies": EVERY,
        "every": every,
        "first": first,
        "last": last,
        "range_label": _range_label(speaker, first, last),
        "error": error,
        "csv_url": "/api/metrics/report/export?" + urlencode({**query, "format": "csv"}),
        "xlsx_url": "/api/metrics/report/export?" + urlencode({**query, "format": "xlsx"}),
        "days": (last - first).days + 1,
        "chart": json.dumps(chart_data(report, names, every, speaker)),
    }


def _range_label(speaker: Speaker, first: date, last: date) -> str:
    if first == last:
        return format_date(first, "full", locale=speaker.locale)
    return speaker.gettext(
        "%(first)s to %(last)s",
        first=format_date(first, "d MMM yyyy", locale=speaker.locale),
        last=format_date(last, "d MMM yyyy", locale=speaker.locale),
    )


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: SupervisorPage,
    preset: Annotated[str | None, Query(alias="range", max_length=16)] = None,
    raw_from: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    raw_to: Annotated[str | None, Query(alias="to", max_length=32)] = None,
    group_by: Annotated[str | None, Query(alias="groupBy", max_length=16)] = None,
    every: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    context = await _context(
        request, session, settings, principal, preset, raw_from, raw_to, group_by, every
    )
    return page(request, "reports.html", active="reports", **context)
