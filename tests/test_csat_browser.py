"""The satisfaction survey's page in a real browser on a phone-sized screen (375 px): the
customer taps a score, writes a comment and sends; the page thanks them, and a second visit
says it was answered. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from contact_center.models.csat import CsatSurvey
from contact_center.outcomes.tasks import send_surveys
from contact_center.settings import Settings
from tests.live import live_app
from tests.test_console_browser import (
    SHOTS,
    browser,  # noqa: F401 - the module's browser fixture
    watched_page,
)
from tests.test_csat import LINK, deps_of, resolved_chat

pytestmark = pytest.mark.slow  # Chromium against a live app


async def test_a_customer_answers_the_survey_on_a_phone(
    browser: Browser,  # noqa: F811 - the fixture imported above
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        sessions = live.app.state.session_factory
        await resolved_chat(sessions)
        assert await send_surveys(deps_of(live.app)) == 1
        async with sessions() as session:
            survey = (await session.scalars(select(CsatSurvey))).one()
            from contact_center.models import Message

            message = await session.get(Message, survey.message_id)
        assert message is not None
        assert message.body
        found = LINK.search(message.body)
        assert found
        url = f"{live.base}/csat/{found.group(2)}"
        context = await browser.new_context(
            viewport={"width": 375, "height": 740}, locale="es-AR", device_scale_factor=2
        )
        try:
            watched = await watched_page(context)
            page = watched.page
            await page.goto(url, wait_until="networkidle")
            await expect(page.get_by_role("heading")).to_have_text("¿Cómo te atendimos?")
            # Nothing wider than the phone.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375
            await page.locator(".csat-option", has_text="4").click()
            await page.get_by_label("¿Querés contarnos algo más? (opcional)").fill(
                "Me resolvieron el problema de la tarjeta muy rápido."
            )
            SHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SHOTS / "csat-survey-375.png"), full_page=True)
            await page.get_by_role("button", name="Enviar").click()
            await expect(page.get_by_role("heading")).to_have_text("¡Gracias!")
            await page.screenshot(path=str(SHOTS / "csat-thanks-375.png"), full_page=True)
            await page.goto(url, wait_until="networkidle")
            await expect(page.get_by_role("heading")).to_have_text("Ya respondiste")
            # The answered page's own status (409) is the only thing the browser reports.
            assert [e for e in watched.errors if "409" not in e] == []
        finally:
            await context.close()
        async with sessions() as session:
            answered = (await session.scalars(select(CsatSurvey))).one()
        assert answered.score == 4
