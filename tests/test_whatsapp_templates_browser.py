"""WhatsApp templates in a real browser (docs/console.md): once a conversation's 24-hour window
has closed, the inbox's reply box offers the approved templates of the account (synced from the
emulated Cloud API); one sent with its values reaches the emulator, and the thread shows it with
its delivery mark, live. The screenshot goes to artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models.enums import Role
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.settings import Settings
from contact_center.whatsapp_templates import service
from tests.live import Live, live_app
from tests.test_console_browser import (
    CONTEXTS,
    SHOTS,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
)
from tests.test_whatsapp_templates import _window_closed

pytestmark = pytest.mark.slow  # Chromium against a live app

PHONE = "+5491155550988"


@pytest.fixture
async def cloud_console(settings_factory: Callable[..., Settings]) -> AsyncIterator[Live]:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        source = live.app.state.runtime.providers.whatsapp_template_source
        await service.sync(live.app.state.session_factory, source, SYSTEM_CONTEXT, trigger="cli")
        try:
            yield live
        finally:
            while CONTEXTS:
                await CONTEXTS.pop().close()


async def test_an_agent_sends_an_approved_template_after_the_window_and_sees_it_delivered(
    browser: Browser,  # noqa: F811 - the fixture imported above
    cloud_console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    live = cloud_console
    async with session_factory() as session:
        chat = await _window_closed(session, PHONE, assigned_agent="ana")
    watched = await open_page(browser, live, 1440, username="ana", role=Role.AGENT)
    page = watched.page
    await page.goto(f"{live.base}/inbox/{chat.id}", wait_until="networkidle")
    composer = page.locator("#wa-template")
    await expect(composer.get_by_role("heading")).to_have_text(
        "Enviar una plantilla de WhatsApp aprobada"
    )
    # The window's notice says what is possible now.
    await expect(page.locator("#window-notice")).to_contain_text("enviá una plantilla aprobada")
    # Only the approved utility template: the pending, rejected and authentication ones are not.
    options = composer.locator("select[name=template] option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("recordatorio_pago")
    await expect(composer.locator(".template-preview")).to_contain_text("Hola {{1}}")
    fields = composer.locator("input[name=variables]")
    await expect(fields).to_have_count(2)
    await composer.get_by_label("Variable {{1}}").fill("Juana")
    await composer.get_by_label("Variable {{2}}").fill("10 de enero")
    await composer.get_by_role("button", name="Enviar plantilla").click()
    await expect(composer.locator(".result")).to_contain_text("Plantilla en cola")
    thread = page.locator("#thread")
    text = "Hola Juana, te recordamos que el vencimiento de tu tarjeta es el 10 de enero."
    await expect(thread.get_by_text(text)).to_be_visible()
    # The provider's statuses arrive by webhook; the live stream refreshes the mark.
    mark = thread.locator("li.msg.outbound").last.locator("[data-receipt]")
    await expect(mark).to_have_attribute(
        "aria-label", re.compile(r"^(Entregado|Leído a las .+)$"), timeout=20_000
    )
    outbox = (await live.http.get("/_emulator/whatsapp-cloud/outbox")).json()["items"]
    assert [item["template"]["name"] for item in outbox] == ["recordatorio_pago"]
    await page.locator("#composer").evaluate("element => { element.scrollTop = 0; }")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#conv").screenshot(path=str(SHOTS / "inbox-whatsapp-template.png"))
    assert watched.errors == []
