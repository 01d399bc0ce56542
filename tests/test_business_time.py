"""Business-time arithmetic: exact around weekends, holidays and the ends of days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_center.business_time import BusinessCalendar, CalendarError

BA = ZoneInfo("America/Argentina/Buenos_Aires")
CAL = BusinessCalendar.weekdays()  # Monday to Friday 9–18, Argentina's holidays


def ba(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BA)


def test_national_holidays_come_from_the_holidays_package() -> None:
    # 2026-12-07 is a bridge day and 2026-12-08 the Immaculate Conception: both closed.
    assert CAL.holiday_name(date(2026, 12, 8)) is not None
    assert not CAL.is_working_day(date(2026, 12, 7))
    assert not CAL.is_working_day(date(2026, 12, 8))
    assert CAL.is_working_day(date(2026, 12, 9))
    assert not CAL.is_working_day(date(2026, 12, 25))  # Christmas, a Friday
    assert not CAL.is_working_day(date(2026, 12, 26))  # Saturday


def test_the_banks_own_closed_days() -> None:
    cal = BusinessCalendar.weekdays(closed_days=[date(2026, 12, 24)])
    assert not cal.is_working_day(date(2026, 12, 24))
    assert CAL.is_working_day(date(2026, 12, 24))


def test_add_across_the_end_of_a_day_and_a_weekend() -> None:
    friday_late = ba(2026, 11, 27, 17, 30)
    # 30 minutes on Friday, then 1 h 30 on Monday from 9:00.
    assert CAL.add(friday_late, timedelta(hours=2)) == ba(2026, 11, 30, 10, 30)
    # Exactly to the closing time ends there, not at the next opening.
    assert CAL.add(friday_late, timedelta(minutes=30)) == ba(2026, 11, 27, 18)
    # A second more goes to Monday.
    assert CAL.add(friday_late, timedelta(minutes=30, seconds=1)) == ba(2026, 11, 30, 9, 0, 1)


def test_add_skips_holidays() -> None:
    # Friday 2026-12-04 at 17:00 + 2 h: Monday 7 and Tuesday 8 are holidays → Wednesday 10:00.
    assert CAL.add(ba(2026, 12, 4, 17), timedelta(hours=2)) == ba(2026, 12, 9, 10)


def test_add_from_a_closed_moment_starts_at_the_next_opening() -> None:
    assert CAL.add(ba(2026, 11, 28, 12), timedelta(minutes=1)) == ba(2026, 11, 30, 9, 1)
    assert CAL.add(ba(2026, 11, 30, 7), timedelta(0)) == ba(2026, 11, 30, 7)
    assert CAL.next_open(ba(2026, 11, 30, 7)) == ba(2026, 11, 30, 9)
    assert CAL.next_open(ba(2026, 11, 30, 12)) == ba(2026, 11, 30, 12)


def test_elapsed() -> None:
    assert CAL.elapsed(ba(2026, 11, 27, 17), ba(2026, 11, 30, 10)) == timedelta(hours=2)
    assert CAL.elapsed(ba(2026, 11, 28, 10), ba(2026, 11, 29, 10)) == timedelta(0)
    assert CAL.elapsed(ba(2026, 11, 30, 10), ba(2026, 11, 30, 9)) == timedelta(0)
    assert CAL.elapsed(ba(2026, 11, 30, 8), ba(2026, 11, 30, 8, 30)) == timedelta(0)


def test_business_days_for_regulatory_deadlines() -> None:
    # Ten business days from Friday 2026-12-04: 9, 10, 11, 14, 15, 16, 17, 18, 21, 22.
    assert CAL.add_business_days(date(2026, 12, 4), 10) == date(2026, 12, 22)
    assert CAL.add_business_days(date(2026, 12, 4), 0) == date(2026, 12, 4)
    assert CAL.business_days_between(date(2026, 12, 4), date(2026, 12, 22)) == 10


def test_split_hours_and_a_half_day() -> None:
    cal = BusinessCalendar(
        BA,
        {0: ((time(9), time(13)), (time(14), time(18))), 5: ((time(9), time(12)),)},
        country=None,
    )
    monday = ba(2026, 11, 30, 12)
    assert cal.add(monday, timedelta(hours=2)) == ba(2026, 11, 30, 15)
    assert not cal.is_open(ba(2026, 11, 30, 13, 30))
    # Monday 17:00 + 2 h: one hour on Monday, one on Saturday.
    assert cal.add(ba(2026, 11, 30, 17), timedelta(hours=2)) == ba(2026, 12, 5, 10)


@pytest.mark.parametrize(
    "hours",
    [
        {},
        {0: ((time(10), time(9)),)},
        {0: ((time(9), time(12)), (time(11), time(13)))},
        {7: ((time(9), time(12)),)},
    ],
)
def test_bad_calendars_are_refused(hours: dict[int, tuple[tuple[time, time], ...]]) -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar(BA, hours)


def test_naive_and_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.add(datetime(2026, 11, 30, 10), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        CAL.add(ba(2026, 11, 30, 10), timedelta(hours=-1))
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_days(date(2026, 11, 30), -1)


def test_a_day_whose_offset_changes_is_counted_on_the_time_line() -> None:
    # A team in a zone with daylight saving time (as in some of the region's countries): on
    # 8 March 2026 New York's clocks jump from 02:00 to 03:00, so Sunday's 00:00–12:00 lasts 11
    # hours, and on 1 November 2026 (01:00 twice) 00:00–12:00 lasts 13.
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar(ny, {6: ((time(0), time(12)),)}, country=None)
    spring_open, spring_close = (
        datetime(2026, 3, 8, 0, tzinfo=ny),
        datetime(2026, 3, 8, 12, tzinfo=ny),
    )
    assert cal.elapsed(spring_open, spring_close) == timedelta(hours=11)
    assert cal.add(spring_open, timedelta(hours=11)) == spring_close
    assert cal.add(spring_open, timedelta(hours=4)) == datetime(2026, 3, 8, 5, tzinfo=ny)
    fall_open, fall_close = (
        datetime(2026, 11, 1, 0, tzinfo=ny),
        datetime(2026, 11, 1, 12, tzinfo=ny),
    )
    assert cal.elapsed(fall_open, fall_close) == timedelta(hours=13)
    assert cal.add(fall_open, timedelta(hours=13)) == fall_close
    # What is left after Sunday's 11 hours goes on the next Sunday.
    assert cal.add(spring_open, timedelta(hours=12)) == datetime(2026, 3, 15, 1, tzinfo=ny)


DST_ZONE = BusinessCalendar(
    ZoneInfo("America/Santiago"), {d: ((time(0), time(23, 30)),) for d in range(7)}, country=None
)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 3, 25), max_value=datetime(2026, 4, 10), timezones=st.just(UTC)
    ),
    duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_add_then_elapsed_round_trips_across_an_offset_change(
    start: datetime, duration: timedelta
) -> None:
    # Santiago leaves daylight saving time on the night of 4–5 April 2026.
    due = DST_ZONE.add(start, duration)
    assert DST_ZONE.elapsed(start, due) == duration


moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.just(UTC),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))


@settings(max_examples=300, deadline=None)
@given(start=moments, duration=durations)
def test_add_then_elapsed_gives_the_duration_back(start: datetime, duration: timedelta) -> None:
    due = CAL.add(start, duration)
    assert due >= start
    assert CAL.elapsed(start, due) == duration


@settings(max_examples=300, deadline=None)
@given(start=moments, a=durations, b=durations)
def test_add_is_monotonic_and_composes(start: datetime, a: timedelta, b: timedelta) -> None:
    small, large = sorted((a, b))
    assert CAL.add(start, small) <= CAL.add(start, large)
    if a > timedelta(0):
        # Adding in two steps is adding once.
        assert CAL.add(CAL.add(start, a), b) == CAL.add(start, a + b)


@settings(max_examples=300, deadline=None)
@given(
    start=moments,
    duration=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=30)),
)
def test_a_due_time_is_inside_opening_hours(start: datetime, duration: timedelta) -> None:
    due = CAL.add(start, duration)
    # Just before the due time the calendar is open (the due time itself may be a closing time).
    assert CAL.is_open(due - timedelta(microseconds=1))
    assert CAL.is_working_day(due.astimezone(BA).date())


@settings(max_examples=200, deadline=None)
@given(start=moments, end=moments)
def test_elapsed_is_additive(start: datetime, end: datetime) -> None:
    lo, hi = sorted((start, end))
    middle = lo + (hi - lo) / 2
    assert CAL.elapsed(lo, hi) == CAL.elapsed(lo, middle) + CAL.elapsed(middle, hi)
    assert CAL.elapsed(lo, hi) <= hi - lo


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)), n=st.integers(0, 40))
def test_business_days_count_back(day: date, n: int) -> None:
    deadline = CAL.add_business_days(day, n)
    assert CAL.business_days_between(day, deadline) == n
    if n:
        assert CAL.is_working_day(deadline)
