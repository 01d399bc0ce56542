"""The data-subject requests pages in a real browser (docs/data-lifecycle.md): a compliance
officer receives a deletion request from the form, starts its review (the data is blocked),
completes it and opens its certificate; the list at 1280 and 375 px. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models.enums import Role
from contact_center.settings import Settings
from tests import factories as f
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


async def test_a_compliance_officer_takes_a_deletion_from_receipt_to_certificate(
    browser: Browser,  # noqa: F811 - the fixture imported above
    console: Live,
) -> None:
    watched = await open_page(
        browser, console, 1280, username="clara", role=Role.COMPLIANCE, landing="/compliance/holds"
    )
    page = watched.page
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{console.base}/compliance/requests", wait_until="networkidle")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Solicitudes de titulares de datos"
    )
    form = page.locator("#new-request")
    await form.locator("select[name=kind]").select_option("DELETION")
    await form.locator("input[name=phone]").fill("+54 9 11 5555-1234")
    await form.locator("textarea[name=details]").fill("Quiero que borren mis datos")
    await form.get_by_role("button", name="Registrar").click()
    row = page.locator("#requests tr[data-request]").first
    await expect(row).to_contain_text("Supresión")
    await expect(row).to_contain_text("+54911******34")
    await expect(row).to_contain_text("a tiempo")
    await row.get_by_role("link").click()
    await page.wait_for_load_state("networkidle")
    await page.get_by_role("button", name="Iniciar la revisión").click()
    await expect(page.locator("dd[data-status]")).to_contain_text("En revisión")
    await expect(page.locator(".dsr-facts")).to_contain_text("datos bloqueados")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "subject-request-review.png"), full_page=True)
    await page.get_by_role("button", name="Completar").click()
    await expect(page.locator("dd[data-status]")).to_contain_text("Completada")
    link = page.locator("#certificate-html")
    await expect(link).to_be_visible()
    await page.screenshot(path=str(SHOTS / "subject-request-completed.png"), full_page=True)
    href = await link.get_attribute("href")
    certificate = await page.context.new_page()
    await certificate.goto(f"{console.base}{href}", wait_until="networkidle")
    await expect(certificate.get_by_role("heading", level=1)).to_have_text(
        "Certificado de supresión de datos personales"
    )
    await certificate.screenshot(
        path=str(SHOTS / "subject-request-certificate.png"), full_page=True
    )
    # The list on a phone: the clock still readable, nothing wider than the screen.
    narrow = await open_page(
        browser, console, 375, username="clara", role=Role.COMPLIANCE, landing="/compliance/holds"
    )
    await narrow.page.goto(f"{console.base}/compliance/requests", wait_until="networkidle")
    await expect(narrow.page.locator("#requests")).to_contain_text("cerrado")
    width = await narrow.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    await narrow.page.screenshot(path=str(SHOTS / "subject-requests-375.png"), full_page=True)


async def test_an_access_request_gives_the_customer_a_readable_document(
    browser: Browser,  # noqa: F811 - the fixture imported above
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        chat = f.interaction(customer_phone="+5491155550303", customer_name="Marta Gómez")
        call = f.interaction(customer_phone="+5491155550303", channel="CALL", provider="ELEVENLABS")
        await f.save(
            session,
            chat,
            call,
            f.message(chat, body="Hola, quiero saber qué datos tienen de mí"),
            f.message(chat, body="Con gusto, le enviamos el informe", direction="OUTBOUND"),
            f.call_detail(call),
        )
    watched = await open_page(
        browser, console, 1280, username="clara", role=Role.COMPLIANCE, landing="/compliance/holds"
    )
    page = watched.page
    await page.goto(f"{console.base}/compliance/requests", wait_until="networkidle")
    form = page.locator("#new-request")
    await form.locator("select[name=kind]").select_option("ACCESS")
    await form.locator("input[name=phone]").fill("+54 9 11 5555-0303")
    await form.get_by_role("button", name="Registrar").click()
    row = page.locator("#requests tr[data-request]").first
    await expect(row).to_contain_text("Acceso")
    await row.get_by_role("link").click()
    await page.wait_for_load_state("networkidle")
    await page.get_by_role("button", name="Completar").click()
    link = page.locator("#export-html")
    await expect(link).to_be_visible()
    href = await link.get_attribute("href")
    document = await page.context.new_page()
    await document.goto(f"{console.base}{href}", wait_until="networkidle")
    await expect(document.get_by_role("heading", level=1)).to_have_text(
        "Informe de acceso a sus datos personales"
    )
    await expect(document.locator("body")).to_contain_text("quiero saber qué datos tienen")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await document.screenshot(path=str(SHOTS / "subject-request-export.png"), full_page=True)
