"""The complaints pages in a real browser (docs/complaints.md, "Console"): the cases by due date
with the clock's colours and one case's page, at 1280 and 375 px, without a console error or a
page wider than the screen; an agent starts work on a case from its page. The screenshots go
to artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, expect

from contact_center.models.enums import Role
from contact_center.settings import Settings
from tests.live import Live
from tests.test_complaint_evidence import seed_case
from tests.test_complaints_console import seed_clocks
from tests.test_console_browser import (
    SHOTS,
    browsed_app,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
)

pytestmark = pytest.mark.slow  # Chromium against a live app


@pytest.fixture
async def console(settings_factory: Callable[..., Settings]) -> AsyncIterator[Live]:
    async with browsed_app(settings_factory) as live:
        yield live


async def _fits(page: object) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    viewport = await page.evaluate("window.innerWidth")  # type: ignore[attr-defined]
    assert width <= viewport, (width, viewport)


@pytest.mark.parametrize("width", [1280, 375])
async def test_the_cases_and_a_case_page_at_each_width(
    browser: Browser,  # noqa: F811 - the fixture imported above
    console: Live,
    width: int,
) -> None:
    case = await seed_case(console.app)
    await seed_clocks(console.app, case)
    watched = await open_page(browser, console, width, username="sup", role=Role.SUPERVISOR)
    page = watched.page
    await page.goto(f"{console.base}/complaints", wait_until="networkidle")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reclamos")
    rows = page.locator("table[data-table=complaints] tbody tr")
    await expect(rows).to_have_count(6)
    await expect(rows.first.locator("[data-clock]")).to_have_attribute("data-clock", "overdue")
    await expect(rows.first).to_contain_text("Vencido")
    await expect(page.locator("[data-clock=warning]").first).to_contain_text("Por vencer")
    await _fits(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"complaints-{width}.png"), full_page=True)
    await page.goto(f"{console.base}/complaints/{case.complaint}", wait_until="networkidle")
    await expect(page.locator("[data-number]")).to_have_text("R-2026-000123")
    await expect(page.locator(".clock-line [data-clock]")).to_contain_text("A tiempo")
    await expect(page.locator("[data-linked] li")).to_have_count(2)
    await expect(page.locator("[data-evidence]")).to_be_visible()
    await _fits(page)
    await page.screenshot(path=str(SHOTS / f"complaint-{width}.png"), full_page=True)
    await page.goto(f"{console.base}/dashboard", wait_until="networkidle")
    await expect(page.locator("[data-complaints=overdue] strong")).to_have_text("2")
    await _fits(page)
    assert watched.errors == []


async def test_an_agent_starts_work_on_a_case_from_its_page(
    browser: Browser,  # noqa: F811
    console: Live,
) -> None:
    case = await seed_case(console.app)
    watched = await open_page(browser, console, 1280, username="ana", role=Role.AGENT)
    page = watched.page
    await page.goto(f"{console.base}/complaints/{case.complaint}", wait_until="networkidle")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Empezar a trabajarlo").click()
    await expect(page.locator(".complaint-head .badge")).to_have_text("En curso")
    await expect(page.locator("[data-timeline]")).to_contain_text("Trabajo iniciado")
    assert watched.errors == []


async def test_an_agent_opens_a_complaint_from_a_conversation(
    browser: Browser,  # noqa: F811
    console: Live,
) -> None:
    case = await seed_case(console.app)
    watched = await open_page(browser, console, 375, username="ana", role=Role.AGENT)
    page = watched.page
    await page.goto(f"{console.base}/interactions/{case.whatsapp}", wait_until="networkidle")
    opener = page.locator("[data-open-complaint]")
    await opener.locator("summary").click()
    await opener.locator("textarea[name=description]").fill("Le debitaron dos veces la cuota")
    await opener.get_by_role("button", name="Abrir reclamo").click()
    link = opener.locator(".result a")
    await expect(link).to_have_attribute("href", re.compile(r"^/complaints/[0-9a-f-]{36}$"))
    await _fits(page)
    await page.screenshot(path=str(SHOTS / "open-complaint-375.png"), full_page=True)
    await link.click()
    await expect(page.locator("[data-linked] li")).to_have_count(1)
    await expect(page.locator("[data-number]")).to_contain_text("R-")
    assert watched.errors == []
