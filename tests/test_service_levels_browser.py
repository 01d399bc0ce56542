"""The service-levels page in a real browser (docs/service-levels.md): an administrator creates
a policy with its targets typed in minutes, changes the default business hours typed as
intervals, and adds a closed day; the page shows each. The screenshot goes to
artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models.service_levels import BusinessHours, SlaPolicy
from contact_center.settings import Settings
from tests.live import Live
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


async def test_an_admin_sets_a_policy_the_hours_and_a_closed_day_from_the_page(
    browser: Browser,  # noqa: F811 - the fixture imported above
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    watched = await open_page(browser, console, 1440)
    page = watched.page
    await page.goto(f"{console.base}/admin/service-levels", wait_until="networkidle")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Niveles de servicio")
    form = page.locator("#new-policy")
    await form.locator("input[name=name]").fill("WhatsApp general")
    await form.locator("select[name=channel]").select_option("WHATSAPP")
    await form.locator("input[name=firstResponseSecs]").fill("30")
    await form.locator("input[name=resolutionSecs]").fill("480")
    await form.locator("select[name=breachAction]").select_option("RAISE_PRIORITY")
    await form.get_by_role("button", name="Crear política").click()
    await expect(page.locator("#policies tr[data-policy='WhatsApp general']")).to_contain_text(
        "30 min"
    )
    await page.locator("summary", has_text="Cambiar el horario general").click()
    hours = page.locator("#default-hours-form")
    await hours.locator("input[name='hours.monday']").fill("08:00-12:00, 13:00-17:00")
    await hours.locator("input[name='hours.saturday']").fill("09:00-13:00")
    await hours.get_by_role("button", name="Guardar horario").click()
    await expect(page.locator("#default-hours")).to_contain_text("08:00-12:00, 13:00-17:00")
    # Overlapping hours are refused in words, nothing changes.
    await page.locator("summary", has_text="Cambiar el horario general").click()
    await hours.locator("input[name='hours.friday']").fill("09:00-13:00, 12:00-18:00")
    await hours.get_by_role("button", name="Guardar horario").click()
    await expect(hours.locator(".result")).not_to_be_empty()
    closed = page.locator("#new-closed-day")
    await closed.locator("input[name=day]").fill("2026-12-24")
    await closed.locator("input[name=name]").fill("Nochebuena")
    await closed.get_by_role("button", name="Agregar día no laborable").click()
    await expect(page.locator("#closed-days")).to_contain_text("24/12/2026")
    await expect(page.locator("#holidays")).to_contain_text("Navidad")
    await page.evaluate("window.scrollTo(0, 0)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "service-levels.png"), full_page=True)
    async with session_factory() as session:
        policy = (await session.scalars(select(SlaPolicy))).one()
        default = (await session.scalars(select(BusinessHours))).one()
    assert (policy.first_response_secs, policy.resolution_secs) == (1800, 28800)
    assert policy.next_response_secs is None
    assert default.hours["0"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert default.hours["4"] == [["09:00", "18:00"]]
    # The refused hours are the one failed request (422); nothing else went wrong.
    assert [e for e in watched.errors if "status of 422" not in e] == []
