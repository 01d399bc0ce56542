"""A complaint's deadlines on the business calendar (docs/complaints.md, "Deadlines"): pure
functions of when it was opened, the calendar and the settings, so anyone who recomputes them
gets the same answer.

Business days are counted from the day after the complaint was opened (in the calendar's zone),
working days only (weekends, national holidays and the bank's closed days are skipped):

- `due_at`: the end of the Nth business day (COMPLAINT_ANSWER_BUSINESS_DAYS), i.e. midnight that
  starts the next calendar day in the calendar's zone: the answer is on time during that day.
- `warn_at`: the opening of the business day W business days before the due day
  (COMPLAINT_WARN_BUSINESS_DAYS; 0 warns on the due day itself, when it opens).
- `escalate_at`: the end of the Eth business day (COMPLAINT_ESCALATE_AFTER_BUSINESS_DAYS), or
  None when E is 0 (no automatic escalation) or not before the due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from contact_center.business_time import BusinessCalendar


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime
    warn_at: datetime
    escalate_at: datetime | None


def _end_of(calendar: BusinessCalendar, day: date) -> datetime:
    """The end of `day` in the calendar's zone (the start of the next day), in UTC."""
    following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.zone)
    return following.astimezone(UTC)


def _opening_of(calendar: BusinessCalendar, day: date) -> datetime:
    """When `day` opens (its first opening interval; a working day always has one), in UTC."""
    start = datetime.combine(day, time(0), tzinfo=calendar.zone)
    return calendar.next_open(start).astimezone(UTC)


def deadlines(
    opened_at: datetime,
    calendar: BusinessCalendar,
    *,
    answer_days: int,
    warn_days: int,
    escalate_after_days: int,
) -> Deadlines:
    """The due date, the warning and the escalation point of a complaint opened at
    `opened_at` (an aware moment)."""
    if opened_at.tzinfo is None:
        raise ValueError("opened_at must be an aware datetime")
    if answer_days < 1 or warn_days < 0 or escalate_after_days < 0:
        raise ValueError("deadlines need a positive answer period and no negative day counts")
    opened_day = opened_at.astimezone(calendar.zone).date()
    due_day = calendar.add_business_days(opened_day, answer_days)
    warn_day = calendar.add_business_days(opened_day, max(answer_days - warn_days, 0))
    if warn_day <= opened_day:
        warn_day = calendar.add_business_days(opened_day, 1)
    escalate_at = None
    if 0 < escalate_after_days < answer_days:
        escalate_at = _end_of(calendar, calendar.add_business_days(opened_day, escalate_after_days))
    return Deadlines(
        due_at=_end_of(calendar, due_day),
        warn_at=_opening_of(calendar, warn_day),
        escalate_at=escalate_at,
    )
