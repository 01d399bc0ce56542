"""Each team's business calendar, built from `business_hours` and `closed_day`
(docs/service-levels.md, "The business calendar").

Hours are stored as `{"0": [["09:00", "18:00"]], …, "6": []}` (weekday, Monday 0 → local
intervals); the API names weekdays (`monday` …) and intervals `{opens, closes}`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.business_time import MONDAY_TO_FRIDAY, BusinessCalendar, Interval
from contact_center.models.service_levels import BusinessHours
from contact_center.service_levels import repository

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_ZONE = "America/Argentina/Buenos_Aires"
DEFAULT_COUNTRY = "AR"
DEFAULT_OPENS, DEFAULT_CLOSES = time(9), time(18)


def national_holidays(country: str, years: Sequence[int], language: str) -> dict[date, str]:
    """A country's national holidays in `years`, named in `language` where the package has it."""
    try:
        found = holidays.country_holidays(country, years=list(years), language=language)
    except NotImplementedError:
        return {}
    return {day: str(name) for day, name in found.items()}


def default_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday 09:00–18:00, as stored."""
    return {str(day): ([["09:00", "18:00"]] if day in MONDAY_TO_FRIDAY else []) for day in range(7)}


def parse_time(raw: str) -> time:
    """`HH:MM` (00:00–23:59, or 24:00 for the end of the day as 23:59:59.999999)."""
    if raw == "24:00":
        return time.max
    parsed = time.fromisoformat(raw)
    if len(raw) != 5 or parsed.second or parsed.microsecond:
        raise ValueError(f"{raw!r} is not HH:MM")
    return parsed


def format_time(value: time) -> str:
    return "24:00" if value == time.max else value.strftime("%H:%M")


def stored_intervals(hours: Mapping[str, Any]) -> dict[int, tuple[Interval, ...]]:
    """Stored hours → weekday → intervals (raises ValueError on anything malformed)."""
    found: dict[int, tuple[Interval, ...]] = {}
    for key, intervals in hours.items():
        weekday = int(key)
        found[weekday] = tuple((parse_time(str(a)), parse_time(str(b))) for a, b in intervals)
    return found


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def build(
    zone: str,
    hours: Mapping[str, Any],
    country: str | None,
    closed: Sequence[Any] = (),
) -> BusinessCalendar:
    """A calendar from stored values (CalendarError / ValueError when they make none)."""
    return BusinessCalendar(zone_of(zone), stored_intervals(hours), country, frozenset(closed))


def from_row(
    row: BusinessHours | None, default_zone: str, closed: Sequence[Any]
) -> BusinessCalendar:
    if row is None:
        return BusinessCalendar.weekdays(
            default_zone, DEFAULT_OPENS, DEFAULT_CLOSES, country=DEFAULT_COUNTRY, closed_days=closed
        )
    return build(row.zone, row.hours, row.holiday_country, closed)


async def calendar_for(
    session: AsyncSession, team_id: uuid.UUID | None, *, default_zone: str = DEFAULT_ZONE
) -> BusinessCalendar:
    """The team's calendar: its own hours, else the bank's default row, else Monday to Friday
    09:00–18:00 in `default_zone` (APP_TIMEZONE) closed on Argentina's holidays; the bank's
    closed days always."""
    rows = await repository.business_hours_for(session, team_id)
    row = rows.get(team_id) if team_id is not None else None
    if row is None:
        row = rows.get(None)
    closed = [day.day for day in await repository.closed_days(session)]
    return from_row(row, default_zone, closed)


class Calendars:
    """Calendars of one job run, each team's built once."""

    def __init__(self, session: AsyncSession, default_zone: str) -> None:
        self._session = session
        self._zone = default_zone
        self._built: dict[uuid.UUID | None, BusinessCalendar] = {}

    async def of(self, team_id: uuid.UUID | None) -> BusinessCalendar:
        if team_id not in self._built:
            self._built[team_id] = await calendar_for(
                self._session, team_id, default_zone=self._zone
            )
        return self._built[team_id]
