"""The web console in a real browser (Debian's Chromium through Playwright), on demo data.

Screenshots of every page are written to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.demo.service import write_demo_data
from contact_center.models import Interaction
from contact_center.models.enums import Channel, Role
from contact_center.settings import Settings
from tests import auth
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot
from tests.live import Live, live_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing: scripts/browser installs it")
    pytest.skip("Chromium is not installed (scripts/browser)", allow_module_level=True)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def console(
    settings_factory: Callable[..., Settings], backend: Backend
) -> AsyncIterator[Live]:
    async with live_app(settings_factory) as live:
        await write_demo_data(
            live.app.state.engine,
            live.app.state.settings,
            days=2,
            customers=40,
            force=True,
            progress=False,
        )
        live.backend = backend.name  # type: ignore[attr-defined]
        try:
            yield live
        finally:
            # Close the pages (and their live streams) before the server stops.
            while CONTEXTS:
                await CONTEXTS.pop().close()


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")


CONTEXTS: list[BrowserContext] = []
# Every Content Security Policy violation becomes a console error that Watched collects (the
# script is injected by the browser driver, outside the page's policy).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked "
    + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


async def watched_page(context: BrowserContext) -> Watched:
    page = await context.new_page()
    await page.add_init_script(REPORT_CSP_VIOLATIONS)
    return Watched(page)


async def open_page(
    browser: Browser,
    live: Live,
    width: int = 1280,
    *,
    username: str = "admin",
    role: Role = Role.ADMIN,
) -> Watched:
    """A new browser signed in through the sign-in form as `username`."""
    await auth.user(live.app.state.session_factory, username, role)
    context = await browser.new_context(viewport={"width": width, "height": 900})
    CONTEXTS.append(context)
    watched = await watched_page(context)
    await watched.page.goto(live.base + "/login", wait_until="networkidle")
    await watched.page.fill("input[name=username]", username)
    await watched.page.fill("input[name=password]", auth.PASSWORD)
    await watched.page.click("form.signin-form button[type=submit]")
    await watched.page.wait_for_url(live.base + "/")
    return watched


async def first_of(
    session_factory: async_sessionmaker[AsyncSession], channel: Channel, *, phone: bool = False
) -> Interaction:
    async with session_factory() as session:
        stmt = select(Interaction).where(Interaction.channel == channel)
        if phone:
            stmt = stmt.where(Interaction.customer_phone.is_not(None))
        stmt = stmt.order_by(Interaction.updated_at.desc()).limit(1)
        return (await session.scalars(stmt)).one()


async def current_conversation(
    live: Live, session_factory: async_sessionmaker[AsyncSession], number: str
) -> Interaction:
    """A WhatsApp conversation in progress (a customer just wrote)."""
    response = await post_builderbot(live.http, incoming(number, "Hola, tengo una consulta"))
    assert response.status_code == 200
    async with session_factory() as session:
        stmt = select(Interaction).where(
            Interaction.channel == Channel.WHATSAPP, Interaction.customer_phone == "+" + number
        )
        return (await session.scalars(stmt)).one()


async def pages(live: Live, session_factory: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    call = await first_of(session_factory, Channel.CALL)
    chat = await first_of(session_factory, Channel.WHATSAPP, phone=True)
    sms = await first_of(session_factory, Channel.SMS)
    return {
        "dashboard": "/",
        "calls": "/calls",
        "calls-filtered": "/calls?status=COMPLETED&direction=INBOUND",
        "whatsapp": "/whatsapp",
        "sms": "/sms",
        "customers": "/customers",
        "customer": f"/customers?interaction={chat.id}",
        "call-detail": f"/interactions/{call.id}",
        "whatsapp-detail": f"/interactions/{chat.id}",
        "sms-detail": f"/interactions/{sms.id}",
        "users": "/admin/users",
        "audit": "/admin/audit",
        "password": "/account/password",
    }


async def test_every_page_renders_with_demo_data_and_no_console_errors(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    watched = await open_page(browser, console)
    backend = getattr(console, "backend", "db")
    for name, path in (await pages(console, session_factory)).items():
        response = await watched.page.goto(console.base + path, wait_until="networkidle")
        assert response is not None, (name, path)
        assert response.status == 200, (name, path)
        # Served under the policy: no inline script, so nothing here may need one.
        policy = await response.header_value("content-security-policy") or ""
        assert "script-src 'self';" in policy, (name, path)
        await expect(watched.page.locator("main h1")).to_be_visible()
        await watched.page.screenshot(path=SHOTS / f"{name}-{backend}.png", full_page=True)
    assert watched.errors == []
    # The live stream connected (the badge says "live", not "polling").
    await expect(watched.page.locator("#live-state")).to_have_text("live")


async def test_no_page_scrolls_sideways_on_a_375px_phone(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    watched = await open_page(browser, console, width=375)
    backend = getattr(console, "backend", "db")
    wide = {}
    for name, path in (await pages(console, session_factory)).items():
        await watched.page.goto(console.base + path, wait_until="networkidle")
        width = await watched.page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide[name] = width
        await watched.page.screenshot(path=SHOTS / f"{name}-375-{backend}.png", full_page=True)
    assert wide == {}
    assert watched.errors == []


async def test_a_whatsapp_reply_from_the_detail_view_reaches_the_provider_and_the_page(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await current_conversation(console, session_factory, "5491155550771")
    assert chat.customer_phone is not None
    watched = await open_page(browser, console)
    await watched.page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    text = f"Hola, le escribe su asesora {uuid.uuid4().hex[:6]}"
    await watched.page.fill("form.reply textarea[name=body]", text)
    await watched.page.click("form.reply button[type=submit]")
    await expect(watched.page.locator(".result .notice.ok")).to_be_visible()
    # The form empties once the reply is accepted (console.js: data-reset-on-success).
    await expect(watched.page.locator("form.reply textarea[name=body]")).to_have_value("")
    # The page shows it (pushed over SSE when the message is queued, then sent).
    await expect(watched.page.locator("#live .messages")).to_contain_text(text, timeout=10_000)
    digits = chat.customer_phone.lstrip("+")
    deadline = time.monotonic() + 15
    while True:
        outbox = (
            await console.http.get("/_emulator/builderbot/outbox", params={"number": digits})
        ).json()["items"]
        if any(item["content"] == text for item in outbox):
            break
        assert time.monotonic() < deadline, "the reply never reached the provider"
        await watched.page.wait_for_timeout(200)
    assert watched.errors == []


async def test_the_api_docs_render_under_the_content_security_policy(
    browser: Browser, console: Live
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    CONTEXTS.append(context)
    watched = await watched_page(context)
    response = await watched.page.goto(console.base + "/api/docs", wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self';" in (await response.header_value("content-security-policy") or "")
    await expect(watched.page.locator(".opblock").first).to_be_visible()
    await expect(watched.page.locator(".info .title")).to_contain_text("Contact Center API")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await watched.page.screenshot(path=SHOTS / "api-docs.png")
    assert watched.errors == []


async def test_pages_poll_while_the_live_stream_is_down(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await current_conversation(console, session_factory, "5491155550773")
    watched = await open_page(browser, console)
    await watched.page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    await expect(watched.page.locator("#live-state")).to_have_text("live")
    partial = f"/console/partials/interactions/{chat.id}"
    # The stream drops: the badge says so and the panel refreshes every 5 s by itself.
    await watched.page.evaluate("document.dispatchEvent(new Event('htmx:sseError'))")
    await expect(watched.page.locator("#live-state")).to_have_text("polling")
    async with watched.page.expect_request(lambda r: partial in r.url, timeout=7_000):
        pass
    assert watched.errors == []


async def test_a_webhook_shows_on_the_open_detail_page_within_2_seconds(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await current_conversation(console, session_factory, "5491155550772")
    assert chat.customer_phone is not None
    watched = await open_page(browser, console)
    await watched.page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    await expect(watched.page.locator("#live-state")).to_have_text("live")
    text = f"Necesito ayuda con mi tarjeta {uuid.uuid4().hex[:6]}"
    response = await post_builderbot(console.http, incoming(chat.customer_phone.lstrip("+"), text))
    assert response.status_code == 200
    began = time.monotonic()
    await expect(watched.page.locator("#live .messages")).to_contain_text(text, timeout=2_000)
    assert time.monotonic() - began < 2.0
    assert watched.errors == []


async def test_the_dashboard_shows_the_apis_counts(browser: Browser, console: Live) -> None:
    watched = await open_page(browser, console)
    await watched.page.goto(console.base + "/", wait_until="networkidle")
    summary = (await console.http.get("/api/metrics/summary")).json()
    day = summary["date"]
    total = (
        await console.http.get("/api/interactions/count", params={"dateFrom": day, "dateTo": day})
    ).json()["count"]
    assert summary["total"] == total
    shown = await watched.page.locator("[data-metric=total]").inner_text()
    assert int(shown) == total
    for channel in ("CALL", "WHATSAPP", "SMS"):
        api = (
            await console.http.get(
                "/api/interactions/count",
                params={"dateFrom": day, "dateTo": day, "channel": channel},
            )
        ).json()["count"]
        cell = watched.page.locator(f"[data-metric=channel-{channel}]")
        assert int(await cell.inner_text()) == api == summary["byChannel"][channel]
    list_total = await watched.page.goto(console.base + "/calls", wait_until="networkidle")
    assert list_total is not None
    calls = (await console.http.get("/api/interactions/count", params={"channel": "CALL"})).json()
    shown_calls = await watched.page.locator("[data-total]").get_attribute("data-total")
    assert int(shown_calls or -1) == calls["count"]
    assert watched.errors == []


async def test_sms_forms_say_what_happened_in_words(browser: Browser, console: Live) -> None:
    watched = await open_page(browser, console)
    await watched.page.goto(console.base + "/sms", wait_until="networkidle")
    await watched.page.fill("form[data-tab-panel=text] input[name=to]", "12")
    await watched.page.fill("form[data-tab-panel=text] textarea[name=body]", "Hola")
    await watched.page.click("form[data-tab-panel=text] button[type=submit]")
    await expect(watched.page.locator(".result .notice.error")).to_contain_text("not valid")
    await watched.page.fill("form[data-tab-panel=text] input[name=to]", "+54 9 11 5555-0199")
    await watched.page.click("form[data-tab-panel=text] button[type=submit]")
    await expect(watched.page.locator(".result .notice.ok")).to_contain_text("Accepted")
    await watched.page.click("[data-tab=otp]")
    await expect(watched.page.locator("form[data-tab-panel=otp]")).to_be_visible()
    await watched.page.fill("form[data-tab-panel=otp] input[name=phone]", "+54 9 11 5555-0199")
    await watched.page.click("form[data-tab-panel=otp] button[type=submit]")
    await expect(watched.page.locator(".result .notice.ok")).to_contain_text("Accepted")
    # The 400 the browser logs for the invalid number is the API answering, not a page error.
    assert [e for e in watched.errors if "422" not in e and "status of 4" not in e] == []


async def test_assigning_an_agent_from_the_detail_page_saves_and_shows_it(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    call = await first_of(session_factory, Channel.CALL)
    watched = await open_page(browser, console)
    await watched.page.goto(f"{console.base}/interactions/{call.id}", wait_until="networkidle")
    await watched.page.fill("form.assign input[name=assignedAgent]", "Lucía Fernández")
    await watched.page.click("form.assign button[type=submit]")
    await expect(watched.page.locator(".fields dl")).to_contain_text("Lucía Fernández")
    detail = (await console.http.get(f"/api/interactions/{call.id}")).json()
    assert detail["assignedAgent"] == "Lucía Fernández"
    assert watched.errors == []


async def test_sign_in_sign_out_and_a_wrong_password(browser: Browser, console: Live) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    CONTEXTS.append(context)
    watched = Watched(await context.new_page())
    await watched.page.goto(console.base + "/calls", wait_until="networkidle")
    assert "/login?next=" in watched.page.url
    await watched.page.screenshot(path=SHOTS / "login.png", full_page=True)
    await auth.user(console.app.state.session_factory, "ana", Role.AGENT)
    await watched.page.fill("input[name=username]", "ana")
    await watched.page.fill("input[name=password]", "not her password")
    await watched.page.click("form.signin-form button[type=submit]")
    await expect(watched.page.locator(".notice.error")).to_contain_text(
        "Wrong username or password"
    )
    await watched.page.fill("input[name=password]", auth.PASSWORD)
    await watched.page.click("form.signin-form button[type=submit]")
    await watched.page.wait_for_url(console.base + "/calls")
    await expect(watched.page.locator(".who-am-i")).to_contain_text("ana")
    await watched.page.goto(console.base + "/", wait_until="networkidle")
    await expect(watched.page.locator("main h1")).to_have_text("My work")
    await watched.page.screenshot(path=SHOTS / "agent-home.png", full_page=True)
    await watched.page.click(".who-am-i button")
    await watched.page.wait_for_url(console.base + "/login")
    await watched.page.goto(console.base + "/", wait_until="networkidle")
    assert "/login" in watched.page.url
    # The failed sign-in shows as a 401 answer in the browser's log; nothing else went wrong.
    assert [e for e in watched.errors if "401" not in e] == []


async def test_an_admin_creates_a_user_and_a_token_shown_once(
    browser: Browser, console: Live
) -> None:
    watched = await open_page(browser, console)
    page = watched.page
    await page.goto(console.base + "/admin/users", wait_until="networkidle")
    await page.fill("#new-user input[name=username]", "paula.quiroga")
    await page.fill("#new-user input[name=displayName]", "Paula Quiroga")
    await page.select_option("#new-user select[name=role]", "supervisor")
    await page.click("#new-user button[type=submit]")
    password = await page.locator("#new-user .secret-value").inner_text()
    assert len(password) >= 16
    await page.select_option("#new-token select[name=userId]", label="admin (admin)")
    await page.fill("#new-token input[name=name]", "core banking")
    await page.click("#new-token button[type=submit]")
    token = await page.locator("#new-token .secret-value").inner_text()
    assert token.startswith("cc_pat_")
    me = await console.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "admin"
    await page.screenshot(path=SHOTS / "users-created.png", full_page=True)
    await page.reload(wait_until="networkidle")
    assert token not in await page.content()
    assert password not in await page.content()
    await expect(page.locator('tr[data-user="paula.quiroga"]')).to_contain_text("supervisor")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator(f'tr[data-token="{token[:11]}"] button').click()
    await expect(page.locator(f'tr[data-token="{token[:11]}"]')).to_contain_text("revoked")
    gone = await console.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    assert watched.errors == []


async def test_an_admin_reveals_with_a_reason_and_the_audit_page_shows_it(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await current_conversation(console, session_factory, "5491155550773")
    watched = await open_page(browser, console)
    page = watched.page
    await page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    assert "+5491155550773" not in await page.content()
    await page.fill("form.reveal input[name=reveal]", "reclamo del cliente 8812")
    await page.click("form.reveal button[type=submit]")
    await expect(page.locator(".notice.warn")).to_contain_text("revealed")
    assert "+5491155550773" in await page.content()
    await page.goto(console.base + "/admin/audit?action=pii.reveal", wait_until="networkidle")
    await expect(page.locator("#audit")).to_contain_text("reclamo del cliente 8812")
    await page.screenshot(path=SHOTS / "audit-reveal.png", full_page=True)
    assert watched.errors == []
