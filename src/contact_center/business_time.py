"""Business time: when a bank's people work, and arithmetic in that time.

A calendar is the opening hours of each weekday in one time zone, minus the country's national
holidays (the `holidays` package: Argentina's by default, including its movable and bridge days)
and the bank's own non-working days. Service-level targets ("first answer within 2 business
hours") and regulatory deadlines ("an answer within 10 business days") are computed here and
nowhere else.

All arithmetic is exact (whole microseconds, as `timedelta` keeps them) and works on aware
datetimes: opening hours are local wall-clock times, resolved in the calendar's zone day by day,
so a change of UTC offset moves the hours with the clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

ZERO = timedelta(0)
# Weekdays as `date.weekday()` numbers them: Monday is 0.
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
# How far `add` and `next_open` look for an open moment before deciding the calendar has none
# (a calendar with no hours at all is refused when built; this bounds a run of closed days).
MAX_CLOSED_DAYS = 366 * 2


Interval = tuple[time, time]


class CalendarError(ValueError):
    """A calendar that cannot be built: overlapping, reversed or missing hours."""


def _check_hours(hours: Mapping[int, Iterable[Interval]]) -> dict[int, tuple[Interval, ...]]:
    checked: dict[int, tuple[Interval, ...]] = {}
    for weekday, intervals in hours.items():
        if weekday not in range(7):
            raise CalendarError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        ordered = tuple(sorted(intervals))
        for start, end in ordered:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise CalendarError("opening hours are local wall-clock times, without a zone")
            if not start < end:
                raise CalendarError(f"opening interval {start}–{end} ends before it starts")
        for (_, end), (start, _) in itertools.pairwise(ordered):
            if start < end:
                raise CalendarError(f"opening intervals overlap on weekday {weekday}")
        if ordered:
            checked[weekday] = ordered
    if not checked:
        raise CalendarError("a calendar needs opening hours on at least one weekday")
    return checked


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours by weekday in `zone`, closed on `country`'s national holidays (None: none)
    and on `closed_days`."""

    zone: ZoneInfo
    hours: Mapping[int, tuple[Interval, ...]]
    country: str | None = "AR"
    closed_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", _check_hours(self.hours))

    @classmethod
    def weekdays(
        cls,
        zone: str = "America/Argentina/Buenos_Aires",
        opens: time = time(9),
        closes: time = time(18),
        *,
        country: str | None = "AR",
        closed_days: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Monday to Friday from `opens` to `closes`: a bank's usual hours."""
        return cls(
            ZoneInfo(zone),
            dict.fromkeys(MONDAY_TO_FRIDAY, ((opens, closes),)),
            country,
            frozenset(closed_days),
        )

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if self.country is None:
            return None
        return holidays.country_holidays(self.country)

    def holiday_name(self, day: date) -> str | None:
        """The national holiday on `day`, if any (as the `holidays` package names it)."""
        found = self._holidays
        if found is None:
            return None
        name = found.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.hours
            and day not in self.closed_days
            and self.holiday_name(day) is None
        )

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """`day`'s opening hours as aware datetimes in the calendar's zone (empty when closed)."""
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, start, tzinfo=self.zone),
                datetime.combine(day, end, tzinfo=self.zone),
            )
            for start, end in self.hours[day.weekday()]
        ]

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals that end after `moment`, in order, clipped to start no earlier."""
        _require_aware(moment)
        day = moment.astimezone(self.zone).date()
        closed_run = 0
        while True:
            found = False
            for start, end in self.open_intervals(day):
                if end <= moment:
                    continue
                found = True
                yield max(start, moment), end
            closed_run = 0 if found else closed_run + 1
            if closed_run > MAX_CLOSED_DAYS:
                raise CalendarError(f"no opening hours within {MAX_CLOSED_DAYS} days")
            day += timedelta(days=1)

    def is_open(self, moment: datetime) -> bool:
        _require_aware(moment)
        day = moment.astimezone(self.zone).date()
        return any(start <= moment < end for start, end in self.open_intervals(day))

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if open, else when the calendar next opens."""
        start, _ = next(self._intervals_from(moment))
        return start

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of business time after `start` (a due time). A zero duration
        is `start` itself; a duration that ends exactly at a closing time ends there."""
        if duration < ZERO:
            raise ValueError("a business-time duration cannot be negative")
        if duration == ZERO:
            return start
        remaining = duration
        for begin, end in self._intervals_from(start):
            available = _span(begin, end)
            if remaining <= available:
                # On the time line (UTC), not on the wall clock: a day whose offset changes is
                # an hour shorter or longer.
                return (begin.astimezone(UTC) + remaining).astimezone(begin.tzinfo)
            remaining -= available
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two moments (zero when `end` is not after `start`)."""
        _require_aware(end)
        if end <= start:
            return ZERO
        total = ZERO
        for begin, close in self._intervals_from(start):
            if begin >= end:
                break
            total += _span(begin, min(close, end))
            if close >= end:
                break
        return total

    def add_business_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself when `count` is 0): a deadline of
        "N business days" counted from the day after the event."""
        if count < 0:
            raise ValueError("a number of business days cannot be negative")
        current = day
        closed_run = 0
        while count > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
                closed_run = 0
            else:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    raise CalendarError(f"no working day within {MAX_CLOSED_DAYS} days")
        return current

    def business_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` <= `start`)."""
        days = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                days += 1
        return days


def _span(start: datetime, end: datetime) -> timedelta:
    """The time between two aware moments on the time line: Python subtracts two datetimes of
    the same zone by their wall clocks, which is off by the change on a day the offset moves."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs aware datetimes (with a time zone)")
