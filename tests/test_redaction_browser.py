"""The console's redacted text in Chromium: chips and counts, the reveal of a token with a reason,
and a restricted recording (docs/redaction.md, "Reveal, proofs and recordings").

Screenshots are written to artifacts/screenshots/ (not committed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import func, select

from contact_center.models import AuditLog
from contact_center.models.enums import Role
from contact_center.settings import Settings
from tests.live import Live
from tests.test_console_browser import (
    SHOTS,
    browsed_app,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
)
from tests.test_redaction_reveal import DNI, REASON, _arrange

pytestmark = pytest.mark.slow  # Chromium against a live app


@pytest.fixture
async def console(settings_factory: Callable[..., Settings]) -> AsyncIterator[Live]:
    async with browsed_app(settings_factory, CSAT_ENABLED="false") as live:
        yield live


async def test_chips_counts_and_an_audited_reveal(
    browser: Browser,  # noqa: F811
    console: Live,
) -> None:
    arranged = await _arrange(console.app, agent="ana")
    SHOTS.mkdir(parents=True, exist_ok=True)

    admin = await open_page(browser, console, username="root", role=Role.ADMIN)
    page = admin.page
    await page.goto(f"{console.base}/interactions/{arranged.interaction_id}")
    message = page.locator("li.msg.inbound").first
    await expect(message.locator(".redaction-count")).to_have_text("4 datos sensibles ocultos")
    await expect(message.locator(".chip.redacted")).to_have_count(4)
    await expect(message.locator(".chip.redacted").nth(1)).to_have_text("TARJETA ****3704")
    ask = message.locator("details.redaction-reveal[data-entity=dni]")
    await ask.locator("summary").click()
    await ask.locator("input[name=reason]").fill(REASON)
    await page.screenshot(path=SHOTS / "redaction-reveal-form.png", full_page=True)
    await ask.locator("button[type=submit]").click()
    value = message.locator("[data-revealed-value]")
    await expect(value).to_have_text(DNI)
    await page.screenshot(path=SHOTS / "redaction-revealed.png", full_page=True)
    # On a phone: the chips and the count wrap inside the bubble.
    await page.set_viewport_size({"width": 375, "height": 800})
    await message.scroll_into_view_if_needed()
    await message.screenshot(path=SHOTS / "redaction-revealed-375.png")
    await page.set_viewport_size({"width": 1280, "height": 800})
    async with console.app.state.session_factory() as session:
        revealed = await session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "redaction.revealed")
        )
    assert revealed == 1

    await page.goto(f"{console.base}/interactions/{arranged.call_id}")
    restricted = page.locator("[data-recording=restricted]")
    await expect(restricted).to_contain_text("Grabación restringida: contenía datos de tarjeta")
    await expect(restricted.locator("input[name=reason]")).to_be_visible()
    await expect(page.locator("audio")).to_have_count(0)
    await expect(page.locator(".turn .redaction-count")).to_have_text("1 dato sensible oculto")
    await page.screenshot(path=SHOTS / "redaction-restricted-recording.png", full_page=True)
    assert admin.errors == []

    agent = await open_page(browser, console, username="ana", role=Role.AGENT)
    await agent.page.goto(f"{console.base}/inbox/{arranged.interaction_id}")
    thread = agent.page.locator("li.msg.inbound").first
    await expect(thread.locator(".redaction-count")).to_have_text("4 datos sensibles ocultos")
    await expect(thread.locator(".chip.redacted")).to_have_count(4)
    await expect(thread.locator("details.redaction-reveal")).to_have_count(0)
    await agent.page.screenshot(path=SHOTS / "redaction-agent-inbox.png", full_page=True)
    assert agent.errors == []
