"""The reports page in a real browser: at a laptop's 1280 px and a phone's 375 px it draws its
five charts (Apache ECharts canvases) under the Content Security Policy without a console error
or a sideways scroll; the period picker's presets reload it; the downloads answer the files.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from playwright.async_api import Browser, expect

from contact_center.models.enums import Role
from contact_center.reports import tasks
from contact_center.settings import Settings
from tests.conftest import Backend
from tests.live import Live, live_app
from tests.test_console_browser import (
    CONTEXTS,
    SHOTS,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
)
from tests.test_reports import DAYS, FIRST_DAY, _generate

pytestmark = pytest.mark.slow  # Chromium against a live app

RANGE = {
    "range": "custom",
    "from": FIRST_DAY.isoformat(),
    "to": (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat(),
}
LAYOUT = """() => ({
  sideways: document.scrollingElement.scrollWidth - window.innerWidth,
  canvases: Array.from(document.querySelectorAll("[data-chart]")).map(
    (box) => box.querySelectorAll("canvas").length),
  clipped: Array.from(document.querySelectorAll(".table-wrap"))
    .filter((box) => box.scrollWidth > box.clientWidth).length,
})"""


@pytest.fixture
async def reports_console(
    settings_factory: Callable[..., Settings], backend: Backend
) -> AsyncIterator[Live]:
    async with live_app(settings_factory) as live:
        sessions = live.app.state.session_factory
        await _generate(sessions, 5, per_day=24)
        await tasks.rebuild(sessions, live.app.state.settings, None, None)
        live.backend = backend.name  # type: ignore[attr-defined]
        try:
            yield live
        finally:
            while CONTEXTS:
                await CONTEXTS.pop().close()


@pytest.mark.parametrize(("width", "group_by"), [(1280, "team"), (375, "agent"), (1280, "handler")])
async def test_the_reports_page_draws_its_charts_and_fits(
    browser: Browser,  # noqa: F811 - the fixture imported above
    reports_console: Live,
    width: int,
    group_by: str,
) -> None:
    live = reports_console
    watched = await open_page(browser, live, width, username="jefa", role=Role.ADMIN)
    page = watched.page
    query = urlencode({**RANGE, "groupBy": group_by})
    await page.goto(f"{live.base}/reports?{query}", wait_until="networkidle")
    await expect(page.locator("main h1")).to_contain_text("Reportes")
    await expect(page.locator("[data-chart]:has(canvas)")).to_have_count(5)
    await expect(page.locator("table[data-table=report] tbody tr").first).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = getattr(live, "backend", "db")
    await page.screenshot(
        path=SHOTS / f"reports-{group_by}-es-AR-{width}-{backend}.png", full_page=True
    )
    if width < 600:  # the phone's page in parts a person can read
        await page.screenshot(path=SHOTS / f"reports-{group_by}-es-AR-{width}-top-{backend}.png")
        await page.locator(".report-charts").screenshot(
            path=SHOTS / f"reports-{group_by}-es-AR-{width}-charts-{backend}.png"
        )
    layout = await page.evaluate(LAYOUT)
    assert layout["sideways"] <= 0, layout
    assert all(n >= 1 for n in layout["canvases"]), layout
    assert layout["clipped"] == 0, layout
    assert watched.errors == []


async def test_the_presets_reload_the_page_and_the_downloads_answer_files(
    browser: Browser,  # noqa: F811 - the fixture imported above
    reports_console: Live,
) -> None:
    live = reports_console
    watched = await open_page(browser, live, 1280, username="sofia", role=Role.SUPERVISOR)
    page = watched.page
    await page.goto(f"{live.base}/reports?{urlencode(RANGE)}", wait_until="networkidle")
    # A preset picks its own dates: the custom ones are set aside.
    await expect(page.locator("input[name=from]")).to_be_enabled()
    async with page.expect_navigation():
        await page.select_option("select[name=range]", "90d")
    assert "range=90d" in page.url
    await expect(page.locator("input[name=from]")).to_be_disabled()
    # Choosing "Personalizado" opens the dates again.
    await page.select_option("select[name=range]", "custom")
    await expect(page.locator("input[name=from]")).to_be_enabled()
    for kind, media in (
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        href = await page.locator(f"[data-download={kind}]").get_attribute("href")
        assert href is not None
        answer = await page.request.get(live.base + href)
        assert answer.status == 200
        assert (answer.headers.get("content-type") or "").startswith(media)
    assert watched.errors == []
