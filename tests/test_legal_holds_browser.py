"""Legal holds in a real browser (docs/data-lifecycle.md, "Legal hold"): a compliance officer
signs in, lands on the holds page, places a customer hold and a date-range hold, is told in
Spanish why a hold on an unknown interaction is refused, and releases a hold with a reason; the
page fits 1280 px and 375 px. The screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models.enums import Role
from contact_center.models.lifecycle import LegalHold
from contact_center.settings import Settings
from tests.live import Live
from tests.test_console_browser import (
    SHOTS,
    browsed_app,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
)

pytestmark = pytest.mark.slow  # Chromium against a live app

REASON = "Causa 1234/2026, Juzgado Comercial 5: conservar todo del cliente"
RELEASE = "Sentencia firme: la causa terminó"


@pytest.fixture
async def console(settings_factory: Callable[..., Settings]) -> AsyncIterator[Live]:
    async with browsed_app(settings_factory, with_worker=False) as live:
        yield live


async def _fits(page: Page) -> None:
    """Nothing sticks out sideways: the page scrolls down, never across."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow


async def test_a_compliance_officer_places_and_releases_holds(
    browser: Browser,  # noqa: F811 - the fixture imported above
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    watched = await open_page(
        browser,
        console,
        1280,
        username="oficial",
        role=Role.COMPLIANCE,
        landing="/compliance/holds",
    )
    page = watched.page
    await expect(page.get_by_role("heading", level=1)).to_have_text("Retenciones legales")
    await expect(page.locator("p.empty")).to_contain_text("Todavía no hay retenciones legales")
    nav = page.get_by_role("navigation", name="Principal")
    await expect(nav.get_by_role("link")).to_have_text(
        ["Retenciones legales", "Solicitudes de titulares de datos", "Reclamos", "Auditoría"]
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "legal-holds-empty.png"), full_page=True)

    customer = page.locator("#hold-customer")
    await customer.locator("input[name=customerPhone]").fill("+54 9 11 5555-1234")
    await customer.locator("textarea[name=reason]").fill(REASON)
    async with page.expect_navigation():
        await customer.get_by_role("button", name="Aplicar la retención").click()
    row = page.locator("#holds tbody tr").first
    await expect(row).to_contain_text("+54911******34")
    await expect(row).to_contain_text("Activa")
    await expect(row).to_contain_text(REASON)

    # A hold on an interaction that does not exist: said in Spanish, nothing placed.
    await page.get_by_role("tab", name="Una interacción").click()
    one = page.locator("#hold-interaction")
    await one.locator("input[name=interactionId]").fill("0b500027-0967-4944-a2d4-79f9c575b855")
    await one.locator("textarea[name=reason]").fill(REASON)
    await one.get_by_role("button", name="Aplicar la retención").click()
    await expect(one.locator(".result")).to_have_text("Esa interacción no existe.")

    await page.get_by_role("tab", name="Un rango de fechas").click()
    ranged = page.locator("#hold-date_range")
    await ranged.locator("input[name=rangeStart]").fill("2026-03-01T00:00")
    await ranged.locator("input[name=rangeEnd]").fill("2026-04-01T00:00")
    await ranged.locator("textarea[name=reason]").fill("Inspección del BCRA sobre marzo de 2026")
    async with page.expect_navigation():
        await ranged.get_by_role("button", name="Aplicar la retención").click()
    await expect(page.locator("#holds tbody tr")).to_have_count(2)
    await page.evaluate("window.scrollTo(0, 0)")
    await _fits(page)
    await page.screenshot(path=str(SHOTS / "legal-holds.png"), full_page=True)

    # Release the customer hold, with a reason.
    held = page.locator("#holds tbody tr", has_text="+54911******34")
    await held.locator("summary", has_text="Liberar").click()
    await held.locator("textarea[name=reason]").fill(RELEASE)
    async with page.expect_navigation():
        await held.get_by_role("button", name="Liberar la retención").click()
    released = page.locator("#holds tbody tr", has_text="+54911******34")
    await expect(released).to_contain_text("Liberada")
    await expect(released).to_contain_text(RELEASE)
    # Active first: the date range is on top now.
    await expect(page.locator("#holds tbody tr").first).to_contain_text("Activa")
    await page.screenshot(path=str(SHOTS / "legal-holds-released.png"), full_page=True)

    # On a phone: the same page, one block per hold, nothing sideways.
    await page.set_viewport_size({"width": 375, "height": 800})
    await page.reload(wait_until="networkidle")
    await _fits(page)
    await page.screenshot(path=str(SHOTS / "legal-holds-375.png"), full_page=True)

    async with session_factory() as session:
        holds = (await session.scalars(select(LegalHold))).all()
    assert len(holds) == 2
    assert {h.customer_phone for h in holds} == {"+5491155551234", None}
    # The refused unknown interaction is the one failed request (422); nothing else went wrong.
    assert [e for e in watched.errors if "status of 422" not in e] == []
