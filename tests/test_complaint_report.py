"""The regulator's report on complaints (docs/complaints.md, "Regulator's report"): opened in a
period of days in the bank's zone, answered in time, late, overdue and open, by product and in
total, as JSON and as a formula-safe CSV; who may read it; the dashboard's open and overdue
counts in the caller's scope."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.complaint_reports import service
from contact_center.errors import Forbidden
from contact_center.models.enums import ActorType, ComplaintStatus, Role
from contact_center.models.team import Team
from contact_center.principal import Principal
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.test_errors import assert_envelope

Sessions = async_sessionmaker[AsyncSession]
BA = ZoneInfo("America/Argentina/Buenos_Aires")
# The report is looked at on Monday 7 December 2026 at noon (a bridge holiday; the 8th is one).
AS_OF = datetime(2026, 12, 7, 12, 0, tzinfo=BA)
SUPERVISOR = Principal(actor_type=ActorType.USER, actor_id="sup", role=Role.SUPERVISOR)
COMPLIANCE = Principal(actor_type=ActorType.USER, actor_id="cora", role=Role.COMPLIANCE)


@pytest.fixture
async def people(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    cora = await auth.token_client(app, "cora", Role.COMPLIANCE)
    yield {**people, "cora": cora}
    await cora.aclose()


def _sessions(app: FastAPI) -> Sessions:
    sessions: Sessions = app.state.session_factory
    return sessions


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BA)


async def _save(sessions: Sessions, *rows: Any) -> None:
    async with sessions() as session:
        await f.save(session, *rows)


def _answered(opened: datetime, at: datetime, **overrides: Any) -> Any:
    values = {"status": ComplaintStatus.ANSWERED, "answered_at": at.astimezone(UTC), **overrides}
    return f.complaint(opened, **values)


async def _known_november(sessions: Sessions) -> dict[str, Any]:
    """November 2026's complaints (and a few outside it)."""
    # Opened Friday 13 at 17:00: ten business days end on Monday 30 (Monday 23 is a national
    # holiday). Answered on Monday 30 at 10:00: in time, only because the holiday counts.
    across_holiday = _answered(_local(2026, 11, 13, 17), _local(2026, 11, 30, 10))
    # Opened Tuesday 17: due Wednesday 2 December at 18:00, answered Thursday 3: late.
    late = _answered(
        _local(2026, 11, 17, 10), _local(2026, 12, 3, 9), status=ComplaintStatus.CLOSED
    )
    # Opened Monday 16, never answered (escalated): due Monday 30, overdue on the 7th.
    overdue = f.complaint(_local(2026, 11, 16, 11), status=ComplaintStatus.ESCALATED)
    # Opened Monday 30 late at night (1 December in UTC): due after the 7th and 8th's
    # holidays, still open.
    still_open = f.complaint(_local(2026, 11, 30, 23, 30), status=ComplaintStatus.IN_PROGRESS)
    # The first minutes of the period in the bank's zone (03:10 UTC).
    first_minutes = _answered(
        _local(2026, 11, 1, 0, 10), _local(2026, 11, 3, 12), product="ACCOUNT"
    )
    # A product whose name a spreadsheet would run; due on 9 December (the 7th and 8th are
    # holidays): open.
    formula = f.complaint(_local(2026, 11, 20, 9, 30), product='=HYPERLINK("http://x","y")')
    outside = [
        f.complaint(_local(2026, 10, 31, 23, 50)),  # 1 November 02:50 UTC: October's
        f.complaint(_local(2026, 12, 1, 0, 5)),
        # A draft has no claim number and no clock: never opened.
        f.complaint(
            _local(2026, 11, 20, 9),
            number=None,
            status=ComplaintStatus.DRAFT,
            opened_at=None,
            due_at=None,
            warn_at=None,
            escalate_at=None,
        ),
    ]
    await _save(
        sessions, across_holiday, late, overdue, still_open, first_minutes, formula, *outside
    )
    return {
        "across_holiday": across_holiday,
        "late": late,
        "overdue": overdue,
        "still_open": still_open,
    }


async def test_the_report_counts_a_known_month_by_product_and_in_total(
    app: FastAPI, settings: Settings
) -> None:
    sessions = _sessions(app)
    made = await _known_november(sessions)
    assert made["across_holiday"].due_at == _local(2026, 11, 30, 18).astimezone(UTC)
    assert made["late"].due_at == _local(2026, 12, 2, 18).astimezone(UTC)
    assert made["still_open"].due_at > AS_OF
    async with sessions() as session:
        found = await service.report(
            session, settings, SUPERVISOR, "2026-11-01", "2026-11-30", now=AS_OF
        )
    body = found.model_dump(mode="json")
    assert body["from"] == "2026-11-01"
    assert body["to"] == "2026-11-30"
    assert body["timezone"] == "America/Argentina/Buenos_Aires"
    assert body["asOf"] == "2026-12-07T15:00:00.000000Z"
    assert body["totals"] == {
        "opened": 6,
        "answeredInTime": 2,
        "answeredLate": 1,
        "overdue": 1,
        "open": 2,
    }
    assert body["products"] == [
        {
            "product": '=HYPERLINK("http://x","y")',
            "opened": 1,
            "answeredInTime": 0,
            "answeredLate": 0,
            "overdue": 0,
            "open": 1,
        },
        {
            "product": "ACCOUNT",
            "opened": 1,
            "answeredInTime": 1,
            "answeredLate": 0,
            "overdue": 0,
            "open": 0,
        },
        {
            "product": "CARD",
            "opened": 4,
            "answeredInTime": 1,
            "answeredLate": 1,
            "overdue": 1,
            "open": 1,
        },
    ]
    # Looked at before the answers came, the same cases stand elsewhere.
    async with sessions() as session:
        earlier = await service.report(
            session, settings, COMPLIANCE, "2026-11-01", "2026-11-30", now=AS_OF - timedelta(days=7)
        )
    # Answers are what the rows hold (answered_at); what was past due on the 30th is overdue.
    assert earlier.totals.opened == 6
    assert (earlier.totals.overdue, earlier.totals.open) == (0, 3)


async def test_an_empty_period_has_zero_counts_and_no_products(
    app: FastAPI, settings: Settings
) -> None:
    async with _sessions(app)() as session:
        found = await service.report(session, settings, SUPERVISOR, "2026-01-01", "2026-01-31")
    assert found.products == []
    assert found.totals.model_dump(by_alias=False) == {
        "opened": 0,
        "answered_in_time": 0,
        "answered_late": 0,
        "overdue": 0,
        "open": 0,
    }


async def test_the_csv_export_is_formula_safe_and_matches_the_json(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    await _known_november(_sessions(app))
    params = {"from": "2026-11-01", "to": "2026-11-30"}
    as_json = await people["sup"].get("/api/complaints/report", params=params)
    assert as_json.status_code == 200, as_json.text
    as_csv = await people["sup"].get("/api/complaints/report", params={**params, "format": "csv"})
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        as_csv.headers["content-disposition"]
        == 'attachment; filename="complaints-2026-11-01-2026-11-30.csv"'
    )
    text = as_csv.content.decode()
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == [
        "section",
        "product",
        "opened",
        "answered_in_time",
        "answered_late",
        "overdue",
        "open",
    ]
    totals = as_json.json()["totals"]
    assert table[1] == [
        "total",
        "",
        *(str(totals[k]) for k in ("opened", "answeredInTime", "answeredLate", "overdue", "open")),
    ]
    products = [row[1] for row in table[2:]]
    # The spreadsheet shows the text; it never runs it.
    assert products == ['\'=HYPERLINK("http://x","y")', "ACCOUNT", "CARD"]
    assert all(row[0] == "product" for row in table[2:])
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)


async def test_supervisors_admins_and_compliance_read_it_agents_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    people: dict[str, httpx.AsyncClient],
    anonymous: httpx.AsyncClient,
) -> None:
    for who in ("sup", "cora"):
        for fmt in ("json", "csv"):
            response = await people[who].get("/api/complaints/report", params={"format": fmt})
            assert response.status_code == 200, (who, fmt, response.text)
    assert (await client.get("/api/complaints/report")).status_code == 200
    for fmt in ("json", "csv"):
        refused = await people["ana"].get("/api/complaints/report", params={"format": fmt})
        assert_envelope(refused, 403, "forbidden")
    assert_envelope(await anonymous.get("/api/complaints/report"), 401)
    agent = Principal(actor_type=ActorType.USER, actor_id="ana", role=Role.AGENT)
    async with _sessions(app)() as session:
        with pytest.raises(Forbidden):
            await service.report(session, app.state.settings, agent, None, None)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"to": "not-a-date"},
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"from": "9999-12-31"},
        {"from": "0001-01-01"},
        {"from": "2026-11-01\x00"},
        {"to": "2" * 5000},
        {"format": "xlsx"},
        {"format": "\x00"},
        {"from": ["2026-11-01", "2026-11-02"]},
    ],
    ids=lambda p: ",".join(f"{k}={str(v)[:12]!r}" for k, v in p.items()),
)
async def test_hostile_query_parameters_answer_422_with_the_envelope(
    people: dict[str, httpx.AsyncClient], params: dict[str, Any]
) -> None:
    response = await people["sup"].get("/api/complaints/report", params=params)
    if isinstance(params.get("from"), list):
        # A repeated parameter: the last one counts (as everywhere in the API).
        assert response.status_code == 200, response.text
        return
    assert_envelope(response, 422, "validation_error")


async def test_the_dashboard_counts_open_and_overdue_complaints_in_the_callers_scope(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    now = datetime.now(UTC)
    team, other_team = Team(id=uuid.uuid4(), name="Tarjetas"), Team(id=uuid.uuid4(), name="Otros")
    past, future = now - timedelta(hours=1), now + timedelta(days=3)
    opened = now - timedelta(days=20)

    def open_case(due: datetime, **overrides: Any) -> Any:
        return f.complaint(opened, due_at=due, warn_at=due, escalate_at=due, **overrides)

    rows = [
        open_case(past, owner="ana"),  # ana's, overdue
        open_case(future, owner="ana", status=ComplaintStatus.IN_PROGRESS),  # ana's
        open_case(past, team_id=team.id, status=ComplaintStatus.ESCALATED),  # her team's, overdue
        open_case(future, owner="bruno", team_id=other_team.id),  # someone else's
        open_case(past, owner="bruno"),  # someone else's, overdue
        # Not open: answered, closed, reported, a draft, discarded.
        open_case(past, owner="ana", status=ComplaintStatus.ANSWERED, answered_at=now),
        open_case(past, owner="ana", status=ComplaintStatus.CLOSED, answered_at=now),
        open_case(past, owner="ana", status=ComplaintStatus.REPORTED),
        open_case(past, owner="ana", status=ComplaintStatus.DRAFT, number=None),
        open_case(past, owner="ana", status=ComplaintStatus.DISCARDED, number=None),
    ]
    await _save(sessions, team, other_team, *rows)
    ana = Principal(
        actor_type=ActorType.USER, actor_id="ana", role=Role.AGENT, team_ids=frozenset({team.id})
    )
    lone = Principal(actor_type=ActorType.USER, actor_id="carla", role=Role.AGENT)
    async with sessions() as session:
        counts = await service.open_and_overdue(session, ana, now=now)
        assert (counts.open, counts.overdue) == (3, 2)
        counts = await service.open_and_overdue(session, lone, now=now)
        assert (counts.open, counts.overdue) == (0, 0)
        counts = await service.open_and_overdue(session, SUPERVISOR, now=now)
        assert (counts.open, counts.overdue) == (5, 3)
        counts = await service.open_and_overdue(session, COMPLIANCE)
        assert (counts.open, counts.overdue) == (5, 3)
