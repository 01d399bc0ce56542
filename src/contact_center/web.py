"""The web kit: request parsing and dependencies that endpoint modules share (dates, digits,
phone numbers, the runtime). Endpoint modules import this module, never another endpoint module;
it imports no domain, so any domain's endpoints may use it."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Request

from contact_center.errors import ValidationFailed
from contact_center.phones import digits_only, normalize_valid
from contact_center.runtime import Runtime
from contact_center.settings import Settings

# --- the runtime ------------------------------------------------------------------------------


async def get_runtime(request: Request) -> Runtime:
    """What the process built at start-up: providers, the queue, rate limits, keys, stores."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

# --- dates ------------------------------------------------------------------------------------


def parse_moment(name: str, raw: str, settings: Settings, *, end: bool) -> datetime:
    """A date means the day in APP_TIMEZONE; a datetime without offset is UTC."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day = day + timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=settings.zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an ISO-8601 date or datetime.",
            details=[
                {"field": f"query.{name}", "message": f"not an ISO-8601 date or datetime: {raw!r}"}
            ],
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def date_range(
    settings: Settings, date_from: str | None, date_to: str | None
) -> tuple[datetime | None, datetime | None]:
    """`dateFrom` (inclusive) and `dateTo` (exclusive; a whole day when a date) as UTC moments;
    422 when dateFrom is after dateTo."""
    start = parse_moment("dateFrom", date_from, settings, end=False) if date_from else None
    before = parse_moment("dateTo", date_to, settings, end=True) if date_to else None
    if (
        start is not None
        and date_to
        and start > parse_moment("dateTo", date_to, settings, end=False)
    ):
        raise ValidationFailed(
            "dateFrom is after dateTo.",
            details=[{"field": "query.dateFrom", "message": "must not be after dateTo"}],
        )
    return start, before


def digits_query(name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = digits_only(raw)
    if not digits:
        raise ValidationFailed(
            f"{name} must contain digits.",
            details=[{"field": f"query.{name}", "message": "no digits to match"}],
        )
    return digits


def parse_day(raw: str | None, settings_zone_today: dt.date) -> dt.date:
    if raw is None or not raw.strip():
        return settings_zone_today
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(
            "date must be YYYY-MM-DD.",
            details=[{"field": "query.date", "message": f"not a date: {raw!r}"}],
        ) from None


# --- phone numbers -----------------------------------------------------------------------


def valid_phone(settings: Settings, raw: str, field: str = "body.to") -> str:
    """The number in E.164, or 422 `invalid_phone` naming `field` (`body.to`, `path.phone`)."""
    phone = normalize_valid(raw, settings.default_phone_region)
    if phone is None:
        raise ValidationFailed(
            "The phone number is not valid.",
            code="invalid_phone",
            details=[{"field": field, "message": "not a valid phone number"}],
        )
    return phone
