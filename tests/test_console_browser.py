"""The web console in a real browser (Debian's Chromium through Playwright), on demo data.

Every page in both languages (es-AR, the default, and English, chosen on the account page) at a
desktop's 1440 px and a phone's 375 px: no JSON body, no sideways scroll, no clipped table.
Screenshots of every page are written to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.console.i18n import Speaker
from contact_center.demo.service import DemoResult, write_demo_data
from contact_center.models import AuditLog, CallDetail, Interaction, Message
from contact_center.models.enums import Availability, Channel, InteractionStatus, Role
from contact_center.models.team import RoutingRule, Team
from contact_center.models.user_account import UserAccount
from contact_center.settings import Settings
from tests import auth
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot
from tests.live import Live, live_app

pytestmark = pytest.mark.slow  # Chromium against a live app

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
    # No satisfaction surveys here: the survey job would add SMS conversations for the demo's
    # resolved ones while a test compares counts (tests/test_csat*.py cover the surveys).
    async with browsed_app(settings_factory, CSAT_ENABLED="false") as live:
        live.demo = await write_demo_data(  # type: ignore[attr-defined]
            live.app.state.engine,
            live.app.state.settings,
            days=2,
            customers=40,
            force=True,
            progress=False,
        )
        live.backend = backend.name  # type: ignore[attr-defined]
        yield live


@asynccontextmanager
async def browsed_app(
    settings_factory: Callable[..., Settings], *, with_worker: bool = True, **overrides: str
) -> AsyncIterator[Live]:
    """A live app whose pages (and their live streams) are closed before the server stops."""
    async with live_app(settings_factory, with_worker=with_worker, **overrides) as live:
        try:
            yield live
        finally:
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


def words(language: str) -> Speaker:
    """The console's words in `language`, from its catalogs (tests read what a person reads)."""
    return Speaker(language, ZoneInfo("America/Argentina/Buenos_Aires"))


async def open_page(
    browser: Browser,
    live: Live,
    width: int = 1280,
    *,
    username: str = "admin",
    role: Role = Role.ADMIN,
    password: str = auth.PASSWORD,
    language: str = "es-AR",
    landing: str = "/",
) -> Watched:
    """A new browser signed in through the sign-in form as `username`, in `language` (chosen
    on the account page, as a person does, when it is not the default); `landing`: the page
    the sign-in ends on (a compliance officer's is their legal holds)."""
    if password == auth.PASSWORD:
        await auth.user(live.app.state.session_factory, username, role)
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale=language)
    CONTEXTS.append(context)
    watched = await watched_page(context)
    await watched.page.goto(live.base + "/login", wait_until="networkidle")
    await watched.page.fill("input[name=username]", username)
    await watched.page.fill("input[name=password]", password)
    await watched.page.click("form.signin-form button[type=submit]")
    await watched.page.wait_for_url(live.base + landing)
    current = await watched.page.get_attribute("html", "lang")
    if current != language:
        page = watched.page
        await page.goto(live.base + "/account/password", wait_until="networkidle")
        await page.select_option("form.language select[name=language]", language)
        async with page.expect_navigation():
            await page.click("form.language button[type=submit]")
        await expect(page.locator("html")).to_have_attribute("lang", language)
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
    # The webhook came from the test, not through the emulator: tell it the customer wrote, so
    # WhatsApp's 24-hour window is open there too.
    wrote = await live.http.post("/_emulator/builderbot/wrote", json={"number": number})
    assert wrote.status_code == 204
    async with session_factory() as session:
        stmt = select(Interaction).where(
            Interaction.channel == Channel.WHATSAPP, Interaction.customer_phone == "+" + number
        )
        return (await session.scalars(stmt)).one()


async def pages(live: Live, session_factory: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    call = await first_of(session_factory, Channel.CALL)
    chat = await first_of(session_factory, Channel.WHATSAPP, phone=True)
    sms = await first_of(session_factory, Channel.SMS)
    today = date.fromisoformat((await live.http.get("/api/metrics/summary")).json()["date"])
    return {
        "inbox": "/",
        "inbox-conversation": f"/inbox/{chat.id}",
        "dashboard": "/dashboard",
        "dashboard-day": f"/dashboard?date={today - timedelta(days=1)}",
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
        "audit-everyone": "/admin/audit?everyone=1",
        "whatsapp-templates": "/admin/whatsapp-templates",
        "password": "/account/password",
        "teams": "/teams",
        "notifications": "/notifications",
        "wallboard": "/wallboard",
        "reports": "/reports",
    }


# What a page must not do, measured in the browser: scroll sideways, clip a table in a panel
# (a table wider than its box), show an API error envelope instead of a page.
LAYOUT = """() => {
  const root = document.documentElement;
  const clipped = Array.from(document.querySelectorAll(".table-wrap, .panel"))
    .filter((box) => box.scrollWidth > box.clientWidth)
    .map((box) => (box.id || box.className) + " " + box.scrollWidth + ">" + box.clientWidth);
  const bar = document.querySelector(".topbar");
  return {
    sideways: root.scrollWidth > root.clientWidth ? root.scrollWidth : 0,
    clipped: clipped,
    json: /^\\s*\\{\\s*"error"/.test(document.body.innerText),
    header: bar ? Math.round(bar.getBoundingClientRect().height) : 0,
  };
}"""


@pytest.mark.parametrize("width", [1440, 375])
async def test_every_page_in_both_languages_fits_and_renders_without_errors(
    browser: Browser,
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
    width: int,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = getattr(console, "backend", "db")
    paths = await pages(console, session_factory)
    problems: dict[str, object] = {}
    for language in ("es-AR", "en"):
        watched = await open_page(browser, console, width, language=language)
        page = watched.page
        for name, path in paths.items():
            response = await page.goto(console.base + path, wait_until="load")
            assert response is not None, (name, path)
            assert response.status == 200, (name, path)
            assert (await response.header_value("content-type") or "").startswith("text/html")
            # Served under the policy: no inline script, so nothing here may need one.
            policy = await response.header_value("content-security-policy") or ""
            assert "script-src 'self';" in policy, (name, path)
            await expect(page.locator("main h1")).to_be_visible()
            assert await page.get_attribute("html", "lang") == language, (name, language)
            layout = await page.evaluate(LAYOUT)
            bad = {
                key: value
                for key, value in layout.items()
                # One line of header at both widths (the admin's links too).
                if value and (key != "header" or value > 64)
            }
            if bad:
                problems[f"{name} {language} {width}"] = bad
            shot = f"{name}-{language}-{width}-{backend}.png"
            await page.screenshot(path=SHOTS / shot, full_page=True)
        assert watched.errors == [], language
        # The live stream connected (the badge says "live", not "polling").
        await expect(page.locator("#live-state")).to_have_text(words(language).gettext("live"))
    assert problems == {}


async def test_the_phone_header_is_compact_stays_on_top_and_opens_the_menu(
    browser: Browser, console: Live
) -> None:
    watched = await open_page(browser, console, 375)
    page = watched.page
    await page.goto(console.base + "/calls", wait_until="networkidle")
    bar = page.locator(".topbar")
    nav = page.locator(".topbar nav")
    assert (await bar.bounding_box() or {"height": 999})["height"] <= 64
    await expect(nav).to_be_hidden()
    await page.click(".menu-toggle")
    await expect(nav).to_be_visible()
    await expect(page.locator(".menu-toggle")).to_have_attribute("aria-expanded", "true")
    await page.screenshot(path=SHOTS / "phone-menu-open.png")
    await page.click(".topbar nav a[href='/whatsapp']")
    await page.wait_for_url(console.base + "/whatsapp")
    # Scrolled down a long list, the header is still at the top of the screen.
    await page.evaluate("window.scrollTo(0, 1500)")
    assert await page.evaluate("window.scrollY") > 300
    box = await page.locator(".topbar").bounding_box()
    assert box is not None
    assert box["y"] == 0
    # The list leads with the customer, the status and the last activity.
    headings = await page.locator("#list table th").all_inner_texts()
    spanish = words("es-AR")
    assert [h.strip() for h in headings[:3]] == [
        spanish.gettext("Customer"),
        spanish.gettext("Status"),
        spanish.gettext("Last activity"),
    ]
    await page.screenshot(path=SHOTS / "phone-scrolled.png")
    assert watched.errors == []


async def test_a_reply_to_a_seeded_conversation_in_progress_lands_in_it_and_reaches_the_provider(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        chat = (
            await session.scalars(
                select(Interaction)
                .where(
                    Interaction.channel == Channel.WHATSAPP,
                    Interaction.status == InteractionStatus.IN_PROGRESS,
                    Interaction.customer_phone.is_not(None),
                )
                .order_by(Interaction.updated_at.desc())
                .limit(1)
            )
        ).one()
        last_inbound = await session.scalar(
            select(func.max(Message.created_at)).where(
                Message.interaction_id == chat.id, Message.direction == "INBOUND"
            )
        )
    assert chat.customer_phone is not None
    assert last_inbound is not None
    # The demo data was written after the emulator started (`serve --demo` seeds before it
    # starts, and the emulator reads who wrote back then): tell it when this customer wrote,
    # so WhatsApp's 24-hour window is open there as it is in the API.
    hours_ago = (datetime.now(UTC) - last_inbound).total_seconds() / 3600
    wrote = await console.http.post(
        "/_emulator/builderbot/wrote",
        json={"number": chat.customer_phone, "hoursAgo": max(0.0, hours_ago)},
    )
    assert wrote.status_code == 204
    watched = await open_page(browser, console)
    page = watched.page
    await page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    await expect(page.locator("#live-state")).to_have_text(words("es-AR").gettext("live"))
    # Marks that go away when the page reloads or the fields panel is refreshed.
    await page.evaluate("window.sameDocument = true")
    await page.evaluate("document.getElementById('fields-list').dataset.before = '1'")
    text = f"Hola, le escribe su asesora {uuid.uuid4().hex[:6]}"
    await page.fill("form.reply textarea[name=body]", text)
    await page.click("form.reply button[type=submit]")
    notice = page.locator(".result .notice.ok")
    await expect(notice).to_have_text(
        words("es-AR").gettext(
            "Reply queued: it shows in the messages above, with its delivery status."
        )
    )
    # The form empties once the reply is accepted (console.js: data-reset-on-success).
    await expect(page.locator("form.reply textarea[name=body]")).to_have_value("")
    # It shows in the messages above (pushed when it is queued, then sent), in this conversation.
    await expect(page.locator("#live .messages")).to_contain_text(text, timeout=10_000)
    # The fields panel followed (refreshed in place, no reload).
    await expect(page.locator("#fields-list[data-before]")).to_have_count(0)
    assert await page.evaluate("window.sameDocument === true")
    async with session_factory() as session:
        landed = await session.scalar(select(Message.interaction_id).where(Message.body == text))
    assert landed == chat.id
    digits = chat.customer_phone.lstrip("+")
    deadline = time.monotonic() + 15
    while True:
        outbox = (
            await console.http.get("/_emulator/builderbot/outbox", params={"number": digits})
        ).json()["items"]
        # The reply, and the bot paused for the number (a person's reply takes the conversation).
        if any(item.get("content") == text for item in outbox) and any(
            item.get("blacklist") == "add" for item in outbox
        ):
            break
        assert time.monotonic() < deadline, (
            "the reply or the bot's pause never reached the provider"
        )
        await page.wait_for_timeout(200)
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
    spanish = words("es-AR")
    await expect(watched.page.locator("#live-state")).to_have_text(spanish.gettext("live"))
    partial = f"/console/partials/interactions/{chat.id}"
    # The stream drops: the badge says so and the panel refreshes every 5 s by itself.
    await watched.page.evaluate("document.dispatchEvent(new Event('htmx:sseError'))")
    await expect(watched.page.locator("#live-state")).to_have_text(spanish.gettext("polling"))
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
    await expect(watched.page.locator("#live-state")).to_have_text(words("es-AR").gettext("live"))
    text = f"Necesito ayuda con mi tarjeta {uuid.uuid4().hex[:6]}"
    response = await post_builderbot(console.http, incoming(chat.customer_phone.lstrip("+"), text))
    assert response.status_code == 200
    began = time.monotonic()
    await expect(watched.page.locator("#live .messages")).to_contain_text(text, timeout=2_000)
    assert time.monotonic() - began < 2.0
    assert watched.errors == []


async def test_the_dashboard_shows_the_apis_counts(browser: Browser, console: Live) -> None:
    watched = await open_page(browser, console)
    await watched.page.goto(console.base + "/dashboard", wait_until="networkidle")
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


async def test_the_sms_page_shows_one_form_per_kind_and_says_what_happened_in_words(
    browser: Browser, console: Live
) -> None:
    spanish = words("es-AR")
    watched = await open_page(browser, console)
    page = watched.page
    await page.goto(console.base + "/sms", wait_until="networkidle")
    forms = page.locator("form[data-tab-panel]")
    await expect(forms).to_have_count(5)
    for kind in ("verification", "onboarding", "card", "otp", "text"):
        await page.click(f"[data-tab={kind}]")
        # Exactly one form shows: the kind's own, every field of it labelled.
        await expect(page.locator("form[data-tab-panel]:visible")).to_have_count(1)
        shown = page.locator(f"form[data-tab-panel={kind}]")
        await expect(shown).to_be_visible()
        await expect(page.locator(f"[data-tab={kind}]")).to_have_attribute("aria-selected", "true")
        for field in await shown.locator("input:not([type=hidden]), select, textarea").all():
            assert (await field.evaluate("f => f.labels.length")) == 1
        await page.screenshot(path=SHOTS / f"sms-{kind}.png")
    text = page.locator("form[data-tab-panel=text]")
    await text.locator("input[name=to]").fill("12")
    await text.locator("textarea[name=body]").fill("Hola")
    await text.locator("button[type=submit]").click()
    # Said once, in the reader's words (no API detail repeating it in English).
    await expect(page.locator(".result .notice.error")).to_have_text(
        spanish.gettext("The phone number is not valid.")
    )
    await text.locator("input[name=to]").fill("+54 9 11 5555-0199")
    await text.locator("button[type=submit]").click()
    accepted = spanish.gettext("Accepted: it goes out through the queue.")
    await expect(page.locator(".result .notice.ok")).to_contain_text(accepted)
    # The success links to what was created.
    opened = page.locator(".result .notice.ok a")
    await expect(opened).to_have_text(spanish.gettext("Open it"))
    assert (await opened.get_attribute("href") or "").startswith("/interactions/")
    await page.click("[data-tab=otp]")
    otp = page.locator("form[data-tab-panel=otp]")
    await otp.locator("input[name=phone]").fill("+54 9 11 5555-0199")
    await otp.locator("button[type=submit]").click()
    await expect(page.locator(".result .notice.ok")).to_contain_text(accepted)
    # The 400 the browser logs for the invalid number is the API answering, not a page error.
    assert [e for e in watched.errors if "422" not in e and "status of 4" not in e] == []


async def test_assigning_an_agent_from_the_detail_page_saves_and_shows_it(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await current_conversation(console, session_factory, "5491155550177")
    await auth.user(session_factory, "lucia.fernandez", Role.AGENT)
    watched = await open_page(browser, console)
    await watched.page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    await watched.page.evaluate("window.sameDocument = true")
    # A picker of the active users, not a free-text box.
    await watched.page.select_option("form.wf-assign select[name=agent]", "lucia.fernandez")
    await watched.page.click("form.wf-assign button[type=submit]")
    # The fields panel shows it without a reload.
    await expect(watched.page.locator(".fields dl#fields-list")).to_contain_text("lucia.fernandez")
    assert await watched.page.evaluate("window.sameDocument === true")
    detail = (await console.http.get(f"/api/interactions/{chat.id}")).json()
    assert detail["assignedAgent"] == "lucia.fernandez"
    assert watched.errors == []


@pytest.mark.parametrize("width", [1440, 375])
async def test_the_workflow_of_a_conversation_from_its_detail_page(
    browser: Browser,
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
    width: int,
) -> None:
    """Labels, priority, a private note with a mention, snooze and wake, resolve and reopen:
    each from the detail page, in Spanish, at a desktop's and a phone's width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = getattr(console, "backend", "db")
    chat = await current_conversation(console, session_factory, f"54911555502{width % 100:02d}")
    await auth.user(session_factory, "lucia.fernandez", Role.AGENT)
    spanish = words("es-AR")
    watched = await open_page(browser, console, width)
    page = watched.page
    await page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    panel = page.locator("#workflow")
    await expect(panel.locator("form.wf-resolve")).to_be_visible()

    async def act(form: str) -> None:
        """Submit one of the panel's forms and wait until the panel shows its effect."""
        actions = panel.locator(".wf-actions")
        version = await actions.get_attribute("data-version")
        await panel.locator(f"{form} button[type=submit]").click()
        # The whole panel again (its forms too), not only its state on the live stream.
        await expect(panel.locator(".wf-actions")).not_to_have_attribute(
            "data-version", version or ""
        )

    await expect(page.locator(".notes .private")).to_contain_text(
        spanish.gettext("Private note — the customer does not see it.")
    )
    # Labels and priority.
    await panel.locator("form.wf-labels input[name=labels]").fill("Fraude, tarjeta crédito")
    await act("form.wf-labels")
    await expect(panel.locator("[data-field=labels]")).to_contain_text("tarjeta crédito")
    await panel.locator("form.wf-priority select").select_option("URGENT")
    await act("form.wf-priority")
    await expect(panel.locator("[data-field=priority]")).to_have_text(spanish.gettext("Urgent"))
    # A private note that mentions a colleague.
    await page.fill(".note-form textarea", "@lucia.fernandez revisá el reclamo, por favor")
    await page.click(".note-form button[type=submit]")
    await expect(page.locator("#notes-list")).to_contain_text("revisá el reclamo")
    await expect(page.locator(".timeline")).to_contain_text(spanish.gettext("Private note"))
    # Snooze until tomorrow, then wake it.
    await panel.locator("form.wf-snooze input[name=until]").fill(
        (date.today() + timedelta(days=1)).isoformat() + "T09:30"
    )
    await act("form.wf-snooze")
    await expect(panel.locator("form.wf-unsnooze")).to_be_visible()
    layout = await page.evaluate(LAYOUT)
    assert not layout["sideways"], layout
    assert not layout["clipped"], layout
    await page.screenshot(path=SHOTS / f"workflow-es-AR-{width}-{backend}.png", full_page=True)
    await act("form.wf-unsnooze")
    await expect(panel.locator("form.wf-snooze")).to_be_visible()
    # Resolve with a code, then reopen.
    await panel.locator("form.wf-resolve input[name=resolutionCode]").fill("answered")
    await act("form.wf-resolve")
    await expect(panel.locator("[data-field=resolution]")).to_have_text("answered")
    await expect(panel.locator("form.wf-reopen")).to_be_visible()
    await page.screenshot(
        path=SHOTS / f"workflow-resolved-es-AR-{width}-{backend}.png", full_page=True
    )
    await act("form.wf-reopen")
    await expect(panel.locator("form.wf-resolve")).to_be_visible()
    detail = (
        await console.http.get(f"/api/interactions/{chat.id}", params={"includeAllEvents": "true"})
    ).json()
    assert detail["labels"] == ["fraude", "tarjeta crédito"]
    assert detail["priority"] == "URGENT"
    assert detail["status"] == "IN_PROGRESS"
    kinds = [e["type"] for e in detail["events"]]
    for kind in (
        "labels.changed",
        "priority.changed",
        "note.added",
        "conversation.snoozed",
        "conversation.woke",
        "conversation.resolved",
        "conversation.reopened",
    ):
        assert kind in kinds
    notified = (await console.http.get("/api/notifications")).json()
    assert notified["unread"] == 0  # the mention is Lucía's, not the admin's
    assert [e for e in watched.errors if "status of 4" not in e] == []


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
        words("es-AR").gettext("Wrong username or password.")
    )
    await watched.page.fill("input[name=password]", auth.PASSWORD)
    await watched.page.click("form.signin-form button[type=submit]")
    await watched.page.wait_for_url(console.base + "/calls")
    await expect(watched.page.locator(".who-am-i")).to_contain_text("ana")
    await watched.page.goto(console.base + "/dashboard", wait_until="networkidle")
    await expect(watched.page.locator("main h1")).to_have_text(words("es-AR").gettext("My work"))
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
    spanish = words("es-AR")
    watched = await open_page(browser, console)
    page = watched.page
    await page.goto(console.base + "/admin/users", wait_until="networkidle")
    await page.evaluate("window.sameDocument = true")
    # No "Disable" on your own account.
    await expect(page.locator('tr[data-user="admin"] input[name=active]')).to_have_count(0)
    await page.fill("#new-user input[name=username]", "paula.quiroga")
    await page.fill("#new-user input[name=displayName]", "Paula Quiroga")
    await page.select_option("#new-user select[name=role]", "supervisor")
    await page.click("#new-user button[type=submit]")
    password = await page.locator("#new-user .secret-value").inner_text()
    assert len(password) >= 16
    # The new user is listed at once, while the password stays shown, and the message links to it.
    row = page.locator('tr[data-user="paula.quiroga"]')
    await expect(row).to_contain_text(spanish.label("supervisor", "role"))
    await expect(page.locator("#new-user .secret-value")).to_have_text(password)
    link = page.locator("#new-user .secret a")
    await expect(link).to_have_attribute("href", "#user-paula.quiroga")
    await link.click()
    await expect(page.locator("tr:target")).to_have_attribute("data-user", "paula.quiroga")
    # …and the token form offers them without a reload.
    await expect(page.locator("#new-token select[name=userId] option")).to_contain_text(
        ["paula.quiroga"]
    )
    await page.select_option(
        "#new-token select[name=userId]", label=f"admin ({spanish.label('admin', 'role')})"
    )
    await page.fill("#new-token input[name=name]", "core banking")
    await page.click("#new-token button[type=submit]")
    token = await page.locator("#new-token .secret-value").inner_text()
    assert token.startswith("cc_pat_")
    await expect(page.locator(f'tr[data-token="{token[:11]}"]')).to_be_visible()
    await expect(page.locator("#new-token .secret a")).to_have_attribute(
        "href", f"#token-{token[:11]}"
    )
    assert await page.evaluate("window.sameDocument === true")
    me = await console.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "admin"
    await page.screenshot(path=SHOTS / "users-created.png", full_page=True)
    await page.reload(wait_until="networkidle")
    assert token not in await page.content()
    assert password not in await page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator(f'tr[data-token="{token[:11]}"] button').click()
    await expect(page.locator(f'tr[data-token="{token[:11]}"]')).to_contain_text(
        spanish.gettext("revoked")
    )
    gone = await console.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    assert watched.errors == []


async def _reveals(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as session:
        stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == "pii.reveal")
        return int(await session.scalar(stmt) or 0)


async def test_a_reveal_is_a_post_writes_one_row_and_the_audit_page_shows_it(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await current_conversation(console, session_factory, "5491155550773")
    watched = await open_page(browser, console)
    page = watched.page
    await page.goto(f"{console.base}/interactions/{chat.id}", wait_until="networkidle")
    assert "+5491155550773" not in await page.content()
    before = await _reveals(session_factory)
    await page.fill("form.reveal input[name=reason]", "reclamo del cliente 8812")
    async with page.expect_request(lambda r: r.url.endswith("/reveal")) as sent:
        await page.click("form.reveal button[type=submit]")
    request = await sent.value
    assert request.method == "POST"
    assert "8812" not in request.url
    assert "8812" in (request.post_data or "")
    await expect(page.locator("[data-revealed]")).to_be_visible()
    assert "+5491155550773" in await page.content()
    assert page.url == f"{console.base}/interactions/{chat.id}"
    assert await _reveals(session_factory) == before + 1
    await page.screenshot(path=SHOTS / "revealed.png", full_page=True)
    # A reload shows the page masked again and writes nothing.
    await page.reload(wait_until="networkidle")
    assert "+5491155550773" not in await page.content()
    assert await _reveals(session_factory) == before + 1
    await page.goto(console.base + "/admin/audit?action=pii.reveal", wait_until="networkidle")
    await expect(page.locator("#audit")).to_contain_text("reclamo del cliente 8812")
    await page.screenshot(path=SHOTS / "audit-reveal.png", full_page=True)
    # People's actions by default; the provider's and the service's rows on request.
    await page.goto(console.base + "/admin/audit", wait_until="networkidle")
    assert "provider:" not in await page.locator("#audit").inner_text()
    await page.click(".audit-scope a")
    await expect(page.locator("#audit")).to_contain_text("provider:")
    assert watched.errors == []


async def test_a_demo_agent_sees_their_calls_and_chats(browser: Browser, console: Live) -> None:
    demo: DemoResult = console.demo  # type: ignore[attr-defined]
    assert demo.agents
    watched = None
    for agent in demo.agents:
        mine = (
            await console.http.get(
                "/api/interactions", params={"assignedAgent": agent.username, "limit": 200}
            )
        ).json()["items"]
        if {i["channel"] for i in mine} >= {"CALL", "WHATSAPP"}:
            watched = await open_page(
                browser, console, username=agent.username, password=agent.password
            )
            break
    assert watched is not None, "a demo agent has calls and chats"
    page = watched.page
    await expect(page.locator(".who-am-i")).to_contain_text(agent.username)
    for path in ("/calls", "/whatsapp"):
        await page.goto(console.base + path, wait_until="networkidle")
        await expect(page.locator("#list tbody tr").first).to_be_visible()
        await page.screenshot(path=SHOTS / f"agent{path.replace('/', '-')}.png", full_page=True)
        # Their own, filtered as a person does: there, and nobody else's.
        await page.fill("input[name=assignedAgent]", agent.username)
        async with page.expect_navigation():
            await page.click("form.filters button[type=submit]")
        # Only the filter that is set travels (an empty one is "any", not a refused value).
        assert page.url == f"{console.base}{path}?assignedAgent={agent.username}"
        await expect(page.locator("main h1")).to_be_visible()
        agents = await page.locator("#list tbody td[data-label]:nth-child(6)").all_inner_texts()
        await page.screenshot(path=SHOTS / f"agent{path.replace('/', '-')}-own.png", full_page=True)
        assert agents, (path, page.url)
        assert {a.strip() for a in agents} == {agent.username}, path
    assert watched.errors == []


async def test_every_seeded_recording_answers_audio(
    browser: Browser, console: Live, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        recordings = list(
            (
                await session.scalars(
                    select(CallDetail.recording_url).where(CallDetail.recording_url.is_not(None))
                )
            ).all()
        )
    assert recordings
    watched = await open_page(browser, console)
    for url in recordings:
        answer = await watched.page.request.get(console.base + str(url))
        assert answer.status == 200, url
        assert answer.headers["content-type"] == "audio/mpeg", url


# --- teams and people (docs/workflow.md) ----------------------------------------------------


@pytest.mark.parametrize("width", [1440, 375])
async def test_a_supervisor_builds_a_team_on_the_teams_page_and_errors_read_in_spanish(
    browser: Browser, console: Live, width: int
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    spanish = words("es-AR")
    watched = await open_page(browser, console, width, username="sofia", role=Role.SUPERVISOR)
    page = watched.page
    if width == 375:
        await page.click(".menu-toggle")
    await page.click(f"nav summary:has-text('{spanish.gettext('More')}')")
    await page.click(f"nav a:has-text('{spanish.gettext('Teams')}')")
    await page.wait_for_url(console.base + "/teams")
    await expect(page.locator("main h1")).to_have_text(spanish.gettext("Teams"))
    # A new team, the default one.
    await page.fill("#new-team input[name=name]", "Tarjetas")
    await page.fill("#new-team input[name=description]", "Consultas de tarjetas")
    await page.select_option("#new-team select[name=routingMode]", "LEAST_BUSY")
    await page.check("#new-team input[name=isDefault]")
    async with page.expect_navigation():
        await page.click("#new-team button[type=submit]")
    team = page.locator('article[data-team="Tarjetas"]')
    await expect(team).to_contain_text(spanish.gettext("default"))
    # The same name again: refused, in Spanish, from the error's code.
    await page.fill("#new-team input[name=name]", "Tarjetas")
    await page.click("#new-team button[type=submit]")
    await expect(page.locator("#new-team .notice.error")).to_have_text(
        spanish.gettext("A team with that name exists.")
    )
    # Members: two people of the demo, chosen in the multi-select.
    async with console.app.state.session_factory() as session:
        agents = (
            await session.scalars(
                select(UserAccount)
                .where(UserAccount.role == Role.AGENT, UserAccount.active.is_(True))
                .order_by(UserAccount.username)
                .limit(2)
            )
        ).all()
    picker = team.locator("select[name=userIds]")
    await picker.select_option([str(a.id) for a in agents])
    async with page.expect_navigation():
        await team.locator("form[data-method=PUT] button[type=submit]").click()
    team = page.locator('article[data-team="Tarjetas"]')
    for agent in agents:
        await expect(team).to_contain_text(agent.display_name or agent.username)
    # A routing rule for WhatsApp.
    await page.select_option("#new-rule select[name=channel]", "WHATSAPP")
    await page.fill("#new-rule input[name=intent]", "tarjeta")
    async with page.expect_navigation():
        await page.click("#new-rule button[type=submit]")
    await expect(page.locator("#rules tbody tr")).to_have_count(1)
    await expect(page.locator("#rules tbody")).to_contain_text("Tarjetas")
    # A capacity below zero: the browser refuses it before any request (the API would too).
    row = page.locator(f'#people tr[data-user="{agents[0].username}"]')
    await row.locator("input[name=call]").fill("-1")
    await row.locator("form.capacity button[type=submit]").click()
    assert await row.locator("input[name=call]").evaluate("field => !field.validity.valid")
    await expect(row.locator(".notice")).to_have_count(0)
    await row.locator("input[name=call]").fill("2")
    await row.locator("form.capacity button[type=submit]").click()
    await expect(row.locator(".notice.ok")).to_have_text(spanish.gettext("Saved."))
    layout = await page.evaluate(LAYOUT)
    assert not layout["sideways"], layout
    assert not layout["clipped"], layout
    await page.screenshot(path=SHOTS / f"teams-es-AR-{width}.png", full_page=True)
    async with console.app.state.session_factory() as session:
        saved = (await session.scalars(select(Team).where(Team.name == "Tarjetas"))).one()
        assert saved.is_default
        assert saved.routing_mode.value == "LEAST_BUSY"
        assert len((await session.scalars(select(RoutingRule))).all()) == 1
        first = await session.get(UserAccount, agents[0].id)
        assert first is not None
        await session.refresh(first)
        assert first.capacity_call == 2
    # The refused duplicate is the only failed request the browser saw.
    assert [e for e in watched.errors if "409" not in e] == []


@pytest.mark.parametrize("width", [1440, 375])
async def test_an_agent_sets_their_availability_from_the_header(
    browser: Browser, console: Live, width: int
) -> None:
    spanish = words("es-AR")
    watched = await open_page(browser, console, width, username="tomas", role=Role.AGENT)
    page = watched.page
    if width == 375:
        await page.click(".menu-toggle")
    selector = page.locator("#availability-select")
    await expect(selector).to_be_visible()
    await expect(selector.locator("option:checked")).to_have_text(spanish.gettext("Offline"))
    # No teams page for an agent.
    await expect(page.locator("nav a[href='/teams']")).to_have_count(0)
    async with page.expect_response("**/api/account/availability") as answered:
        await selector.select_option("ONLINE")
    assert (await answered.value).status == 200
    await page.screenshot(path=SHOTS / f"availability-es-AR-{width}.png")
    async with console.app.state.session_factory() as session:
        user = (
            await session.scalars(select(UserAccount).where(UserAccount.username == "tomas"))
        ).one()
        assert user.availability is Availability.ONLINE
    # Shown as chosen on the next page.
    await page.goto(console.base + "/whatsapp", wait_until="networkidle")
    if width == 375:
        await page.click(".menu-toggle")
    await expect(page.locator("#availability-select option:checked")).to_have_text(
        spanish.gettext("Online")
    )
    forbidden = await page.goto(console.base + "/teams")
    assert forbidden is not None
    assert forbidden.status == 403
    assert watched.errors == [] or all("403" in e for e in watched.errors)


async def test_the_administration_menu_keeps_the_bar_one_line_and_works_from_the_keyboard(
    browser: Browser, console: Live
) -> None:
    spanish = words("es-AR")
    watched = await open_page(browser, console, 1280)  # an admin: every link
    page = watched.page
    await page.goto(console.base + "/calls", wait_until="networkidle")
    bar = await page.locator(".topbar").bounding_box()
    assert bar is not None
    assert bar["height"] <= 64  # one line
    summary = page.locator("nav details[data-more-menu] summary")
    await expect(summary).to_have_text(spanish.gettext("More"))
    audit = page.locator("nav a[href='/admin/audit']")
    await expect(audit).to_be_hidden()
    await summary.focus()
    await page.keyboard.press("Enter")
    for href in ("/teams", "/canned-replies", "/admin/users", "/admin/audit"):
        await expect(page.locator(f"nav .more-links a[href='{href}']")).to_be_visible()
    await page.screenshot(path=SHOTS / "administration-menu-1280.png")
    await page.keyboard.press("Tab")
    await expect(page.locator("nav .more-links a[href='/teams']")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(audit).to_be_hidden()
    await expect(summary).to_be_focused()
    # A click elsewhere closes it too; a link in it goes to its page, which it then marks.
    await summary.click()
    await expect(audit).to_be_visible()
    await page.locator("main h1").click()
    await expect(audit).to_be_hidden()
    await summary.click()
    async with page.expect_navigation():
        await audit.click()
    assert page.url.endswith("/admin/audit")
    await expect(summary).to_have_class("current")
    assert watched.errors == []
