"""Canned replies and WhatsApp's 24-hour window in a real browser (es-AR, desktop and 375 px):
the supervisors' page, the picker in the reply box (the server fills the variables on send),
the window's closing time, and the SMS form once it has closed. Screenshots go to
artifacts/screenshots/ (not committed)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import Interaction, Message
from contact_center.models.enums import Channel, Role
from tests import factories as f
from tests import test_console_browser as shared
from tests.live import Live
from tests.test_console_browser import SHOTS, current_conversation, open_page, words

pytestmark = pytest.mark.slow
# The browser and the live console with demo data, shared with the console's other browser tests.
browser = shared.browser
console = shared.console

SPANISH = words("es-AR")


async def test_a_supervisor_manages_canned_replies_on_their_page(
    browser: Browser, console: Live
) -> None:
    made = await console.http.post(
        "/api/canned-replies",
        json={
            "shortcut": "saludo",
            "title": "Saludo inicial",
            "body": "Hola {{customer_first_name}}, soy {{agent_name}}. ¿En qué te puedo ayudar?",
        },
    )
    assert made.status_code == 201, made.text
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1440, 375):
        watched = await open_page(browser, console, width, username="sup", role=Role.SUPERVISOR)
        page = watched.page
        await page.goto(console.base + "/", wait_until="networkidle")
        if width > 800:
            await page.click("nav details[data-more-menu] summary")
            await page.click("nav a[href='/canned-replies']")
        else:
            await page.goto(console.base + "/canned-replies", wait_until="networkidle")
        await expect(page.locator("h1")).to_have_text(SPANISH.gettext("Canned replies"))
        await expect(page.locator("tr[data-canned-reply=saludo]")).to_contain_text("Saludo inicial")
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"sideways scroll at {width}px"
        await page.screenshot(path=SHOTS / f"canned-replies-es-AR-{width}.png", full_page=True)
        assert watched.errors == []
    # A new one through the form.
    form = page.locator("#new-canned-reply")
    await form.locator("input[name=shortcut]").fill("cierre")
    await form.locator("input[name=title]").fill("Despedida")
    await form.locator("textarea[name=body]").fill("Gracias {{customer_first_name}}, ¡buen día!")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("tr[data-canned-reply=cierre]")).to_contain_text("Despedida")
    listed = (await console.http.get("/api/canned-replies")).json()["items"]
    assert sorted(r["shortcut"] for r in listed) == ["cierre", "saludo"]
    # A team's reply made everyone's again through its edit form (the empty choice is null).
    team = await console.http.post("/api/teams", json={"name": "Respuestas de tarjetas"})
    assert team.status_code == 201, team.text
    scoped = await console.http.post(
        "/api/canned-replies",
        json={
            "shortcut": "tarjeta",
            "title": "Tarjeta en camino",
            "body": "Tu tarjeta está en camino.",
            "teamId": team.json()["id"],
        },
    )
    assert scoped.status_code == 201, scoped.text
    await page.reload(wait_until="networkidle")
    row = page.locator("tr[data-canned-reply=tarjeta]")
    await expect(row).to_contain_text("Respuestas de tarjetas")
    await row.locator("summary").click()
    await row.locator("select[name=teamId]").select_option(value="")
    await row.locator("form[data-method=PATCH] button[type=submit]").click()
    await expect(page.locator("tr[data-canned-reply=tarjeta] td").nth(2)).to_have_text(
        SPANISH.gettext("Everyone")
    )
    moved = await console.http.get(f"/api/canned-replies/{scoped.json()['id']}")
    assert moved.json()["teamId"] is None
    await console.http.delete(f"/api/canned-replies/{scoped.json()['id']}")
    # An agent has no such page.
    agent = await open_page(browser, console, username="ana", role=Role.AGENT)
    assert await agent.page.locator("nav a[href='/canned-replies']").count() == 0
    refused = await agent.page.goto(console.base + "/canned-replies")
    assert refused is not None
    assert refused.status == 403


async def test_the_reply_box_shows_the_window_and_inserts_a_canned_reply(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    made = await console.http.post(
        "/api/canned-replies",
        json={"shortcut": "saludo", "title": "Saludo", "body": "Hola {{customer_first_name}}."},
    )
    assert made.status_code == 201, made.text
    chat = await current_conversation(console, session_factory, "5491155550781")
    watched = await open_page(browser, console, 1440)
    page = watched.page
    await page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    window = page.locator("[data-window=open]")
    await expect(window).to_contain_text("La ventana de 24 h cierra a las")
    picker = page.locator("form.reply select[data-canned]")
    await expect(picker.locator("option[data-shortcut=saludo]")).to_have_count(1)
    await picker.select_option(label="/saludo · Saludo")
    area = page.locator("form.reply textarea[name=body]")
    await expect(area).to_have_value("Hola {{customer_first_name}}.")
    # The "/" shortcut does the same.
    await area.fill("/saludo")
    await area.press(" ")
    await expect(area).to_have_value("Hola {{customer_first_name}}.")
    await page.screenshot(path=SHOTS / "reply-window-open-es-AR-1440.png", full_page=True)
    await page.click("form.reply button[type=submit]")
    await expect(page.locator(".result .notice.ok")).to_be_visible()
    deadline = time.monotonic() + 10
    while True:
        async with session_factory() as session:
            bodies = list(
                (
                    await session.scalars(
                        select(Message.body).where(
                            Message.interaction_id == chat.id, Message.direction == "OUTBOUND"
                        )
                    )
                ).all()
            )
        if bodies:
            break
        assert time.monotonic() < deadline
        await page.wait_for_timeout(200)
    # Filled on the server with the customer's first name (the webhook's "Juan Pérez").
    assert bodies == ["Hola Juan."]
    assert watched.errors == []


async def test_after_the_window_the_console_offers_sms_to_the_same_customer(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    phone = "+5491155550782"
    async with session_factory() as session:
        chat = await f.customer_wrote(session, phone, ago=timedelta(hours=30))
    for width in (1440, 375):
        watched = await open_page(browser, console, width)
        page = watched.page
        await page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
        notice = page.locator("[data-window=closed]")
        await expect(notice).to_have_text(
            "La ventana de 24 h de WhatsApp está cerrada: continuá por SMS."
        )
        assert await page.locator("form.reply[hx-post$='/reply']").count() == 0
        await page.screenshot(path=SHOTS / f"reply-window-closed-es-AR-{width}.png", full_page=True)
        assert watched.errors == []
    text = f"Le escribimos por SMS {uuid.uuid4().hex[:6]}"
    await page.fill("form.reply textarea[name=body]", text)
    await page.click("form.reply button[type=submit]")
    await expect(page.locator(".result .notice.ok")).to_contain_text("SMS en cola")
    async with session_factory() as session:
        sms = (
            await session.scalars(
                select(Interaction).where(
                    Interaction.channel == Channel.SMS, Interaction.customer_phone == phone
                )
            )
        ).one()
        sent = (
            await session.scalars(select(Message.body).where(Message.interaction_id == sms.id))
        ).one()
    assert sent == text
