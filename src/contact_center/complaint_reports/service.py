"""The regulator's periodic report on complaints and the dashboard's complaint figures
(docs/complaints.md, "Regulator's report"): who may read them is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.complaint_reports import repository
from contact_center.complaint_reports.schemas import (
    ComplaintFigures,
    ComplaintReport,
    ProductFigures,
)
from contact_center.complaints import repository as complaints_repository
from contact_center.db.base import utcnow
from contact_center.errors import Forbidden
from contact_center.models.enums import Role
from contact_center.principal import Principal
from contact_center.reports.export import csv_table
from contact_center.reports.service import parse_range
from contact_center.service_levels.calendar import calendar_for
from contact_center.settings import Settings

CSV_COLUMNS = (
    "section",
    "product",
    "opened",
    "answered_in_time",
    "answered_late",
    "overdue",
    "open",
)
# The product is a word someone configured: text, never a formula.
CSV_TEXT_COLUMNS = frozenset({"product"})


def may_read_report(principal: Principal) -> bool:
    """Supervisors, admins and compliance officers."""
    return principal.allows(Role.SUPERVISOR) or principal.handles_compliance


async def report(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    raw_from: str | None,
    raw_to: str | None,
    *,
    now: datetime | None = None,
) -> ComplaintReport:
    """Complaints opened from `raw_from` to `raw_to` (YYYY-MM-DD, both included, days in the
    bank's zone; the last 30 days by default), by product and in total, with where their answer
    stands now. 403 for agents; 422 for a bad range (as the metrics report's)."""
    if not may_read_report(principal):
        raise Forbidden("The complaints report is for supervisors and compliance.")
    first, last = parse_range(settings, raw_from, raw_to)
    # The bank's calendar (its default row, else APP_TIMEZONE) says where a day begins.
    zone = (await calendar_for(session, None, default_zone=settings.app_timezone)).zone
    as_of = now or utcnow()
    counts = await repository.by_product(
        session, _midnight(first, zone), _midnight(last + timedelta(days=1), zone), as_of
    )
    products = [
        ProductFigures(
            product=c.product,
            opened=c.opened,
            answered_in_time=c.answered_in_time,
            answered_late=c.answered_late,
            overdue=c.overdue,
            open=c.open,
        )
        for c in counts
    ]
    totals = ComplaintFigures(
        opened=sum(p.opened for p in products),
        answered_in_time=sum(p.answered_in_time for p in products),
        answered_late=sum(p.answered_late for p in products),
        overdue=sum(p.overdue for p in products),
        open=sum(p.open for p in products),
    )
    return ComplaintReport(
        from_=first,
        to=last,
        timezone=zone.key,
        as_of=as_of,
        totals=totals,
        products=products,
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def to_csv(found: ComplaintReport) -> bytes:
    """The report as a CSV file: the totals' row, then a row per product."""

    def cells(section: str, product: str | None, f: ComplaintFigures) -> list[object]:
        return [
            section,
            product,
            f.opened,
            f.answered_in_time,
            f.answered_late,
            f.overdue,
            f.open,
        ]

    table = [cells("total", None, found.totals)]
    table += [cells("product", p.product, p) for p in found.products]
    return csv_table(CSV_COLUMNS, table, CSV_TEXT_COLUMNS)


def csv_name(found: ComplaintReport) -> str:
    return f"complaints-{found.from_.isoformat()}-{found.to.isoformat()}.csv"


@dataclass(frozen=True)
class ComplaintCounts:
    """The dashboard's complaint figures, within the viewer's scope."""

    open: int
    overdue: int
    drafts: int


async def open_and_overdue(
    session: AsyncSession, principal: Principal, *, now: datetime | None = None
) -> ComplaintCounts:
    """The dashboard's figures among the complaints the caller sees (an agent: their own and
    their teams'; everyone else: all): how many owe an answer, how many of those are past
    their due time, and how many drafts wait for a person to confirm them."""
    visible = complaints_repository.scope(principal.agent_scope, sorted(principal.team_ids))
    opened, overdue, drafts = await repository.open_and_overdue(
        session, visible=visible, now=now or utcnow()
    )
    return ComplaintCounts(opened, overdue, drafts)
