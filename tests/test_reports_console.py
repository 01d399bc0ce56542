"""The reports page (docs/service-levels.md, "Reports and the metrics API"): `/reports` for
supervisors and admins, its period presets and custom range, its grouping, the figures of the
API in cards and a table with each rate's `n`, the downloads; agents refused; odd query
strings answered with the page, never a 500."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from contact_center.console.reports import preset_range
from contact_center.metrics.service import today
from contact_center.models.enums import Role
from contact_center.reports import tasks
from tests import auth
from tests.test_reports import DAYS, FIRST_DAY, _generate

RANGE = {"range": "custom", "from": FIRST_DAY.isoformat()}
RANGE["to"] = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    http = await auth.session_client(app, "jefa", Role.ADMIN)
    yield http
    await http.aclose()


async def _world(app: FastAPI) -> None:
    sessions = app.state.session_factory
    await _generate(sessions, 11)
    await tasks.rebuild(sessions, app.state.settings, None, None)


def _chart(page: str) -> dict[str, object]:
    found = re.search(r'data-report="([^"]*)"', page)
    assert found is not None
    data: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return data


@pytest.mark.parametrize("group_by", ["team", "agent", "channel", "intent", "handler"])
async def test_the_page_shows_the_apis_figures_for_each_grouping(
    app: FastAPI, admin: httpx.AsyncClient, client: httpx.AsyncClient, group_by: str
) -> None:
    await _world(app)
    page = await admin.get("/reports", params={**RANGE, "groupBy": group_by})
    assert page.status_code == 200
    api = (
        await client.get(
            "/api/metrics/report",
            params={"from": RANGE["from"], "to": RANGE["to"], "groupBy": group_by},
        )
    ).json()
    text = page.text
    assert "Reportes" in text
    assert "Descargar CSV" in text
    assert "Descargar XLSX" in text
    assert f'data-total="volume">{api["totals"]["volume"]}<' in text
    # One table row per group, and each rate with its sample.
    assert text.count("<tr data-group=") == len(api["groups"])
    assert text.count("n=") >= 6 * (len(api["groups"]) + 1)
    # The downloads ask the API for the same range and grouping.
    export = f"/api/metrics/report/export?from={RANGE['from']}&amp;to={RANGE['to']}"
    assert f"{export}&amp;groupBy={group_by}&amp;format=csv" in text
    assert f"{export}&amp;groupBy={group_by}&amp;format=xlsx" in text
    chart = _chart(text)
    assert len(chart["groups"]) == len(api["groups"])  # type: ignore[arg-type]
    assert sum(cell[2] for cell in chart["heatmap"]) == api["totals"]["volume"]  # type: ignore[attr-defined]
    series = chart["series"]
    assert sum(series["volume"]) == api["totals"]["volume"]  # type: ignore[index]
    # Names people typed are text in the page, never markup.
    if group_by == "agent":
        assert (
            "=HYPERLINK(&#34;http://x&#34;)" in text or "=HYPERLINK(&quot;http://x&quot;)" in text
        )


async def test_the_presets_cover_today_seven_days_this_month_and_ninety_days(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    day = today(app.state.settings)
    assert preset_range("today", day) == (day, day)
    assert preset_range("7d", day) == (day - timedelta(days=6), day)
    assert preset_range("month", day) == (day.replace(day=1), day)
    assert preset_range("90d", day) == (day - timedelta(days=89), day)
    for preset, (first, last) in {
        "today": (day, day),
        "90d": (day - timedelta(days=89), day),
        "month": (day.replace(day=1), day),
    }.items():
        page = (await admin.get("/reports", params={"range": preset})).text
        assert f'name="from" value="{first.isoformat()}"' in page
        assert f'name="to" value="{last.isoformat()}"' in page
        assert f'<option value="{preset}" selected>' in page
    # The default: the last 7 days, by team, by day.
    page = (await admin.get("/reports")).text
    assert '<option value="7d" selected>' in page
    assert '<option value="team" selected>' in page
    assert "No empezó ninguna conversación en este período." in page


async def test_the_week_and_month_series_add_up_the_days(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    await _world(app)
    daily = _chart((await admin.get("/reports", params=RANGE)).text)["series"]
    for every in ("week", "month"):
        summed = _chart((await admin.get("/reports", params={**RANGE, "every": every})).text)[
            "series"
        ]
        assert sum(summed["volume"]) == sum(daily["volume"])  # type: ignore[index]
        assert len(summed["labels"]) < len(daily["labels"])  # type: ignore[index]


@pytest.mark.parametrize(
    "params",
    [
        {"range": "custom", "from": "2026-13-45", "to": "2026-01-01"},
        {"range": "custom", "from": "2026-05-01", "to": "2026-01-01"},
        {"range": "custom", "from": "2020-01-01", "to": "2026-01-01"},
        {"range": "custom", "from": "x", "to": "2026-01-01"},
        # The calendar's ends: a default range around them would overflow.
        {"range": "custom", "from": "9999-12-31"},
        {"range": "custom", "to": "0001-01-01"},
        {"range": "custom", "from": "1999-12-31", "to": "2000-01-01"},
        {"range": "nonsense", "groupBy": "nonsense", "every": "year"},
        {"groupBy": "TEAM", "every": "WEEK"},
    ],
)
async def test_odd_query_strings_answer_the_page_with_a_notice_not_an_error(
    admin: httpx.AsyncClient, params: dict[str, str]
) -> None:
    page = await admin.get("/reports", params=params)
    assert page.status_code == 200, page.text
    if params.get("range") == "custom":
        assert "Esas fechas no forman un período válido" in page.text
        assert "de 2000 a 2100" in page.text


async def test_nul_bytes_and_huge_values_are_refused_with_a_4xx(admin: httpx.AsyncClient) -> None:
    for params in (
        {"range": "custom", "from": "\x00", "to": "x"},
        {"groupBy": "team\x00"},
        {"from": "9" * 5000, "range": "custom"},
        {"every": "día" * 1000},
    ):
        refused = await admin.get("/reports", params=params)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["code"] == "validation_error"


async def test_agents_are_refused_and_supervisors_see_their_teams(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    await _world(app)
    agent = await auth.session_client(app, "ana", Role.AGENT)
    try:
        refused = await agent.get("/reports", params=RANGE)
        assert refused.status_code == 403
        assert "Tarjetas" not in refused.text
        assert 'href="/reports"' not in (await agent.get("/dashboard")).text
    finally:
        await agent.aclose()
    sup = await auth.session_client(app, "sup", Role.SUPERVISOR)
    try:
        page = await sup.get("/reports", params=RANGE)
        assert page.status_code == 200
        assert 'href="/reports"' in page.text
        # In no team: zeros (the reports' rule), and no other team's name.
        assert 'data-total="volume">0<' in page.text
        assert "Tarjetas 11" not in page.text
    finally:
        await sup.aclose()
    shown = (await admin.get("/reports", params=RANGE)).text
    assert "Tarjetas 11" in shown
