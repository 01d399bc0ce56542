"""The wallboard in a real browser (docs/service-levels.md, "The wallboard"): the whole board
fits a 1920×1080 and a 1280×720 screen without scrolling, draws its chart under the Content
Security Policy, and follows the service live: a customer's new message and a breach change
its numbers without a reload. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select, update

from contact_center.interactions.service import Event, record
from contact_center.models.enums import (
    Availability,
    Channel,
    EventType,
    InteractionStatus,
    Role,
    SlaState,
)
from contact_center.models.interaction import Interaction
from contact_center.models.service_levels import ConversationSla
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot
from tests.live import Live, live_app
from tests.test_console_browser import (
    CONTEXTS,
    SHOTS,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
)

pytestmark = pytest.mark.slow  # Chromium against a live app

PEOPLE = {
    # username: (display name, availability, teams, open conversations held)
    "lucia": ("Lucía Fernández", Availability.ONLINE, ["Tarjetas"], 3),
    "nicolas": ("Nicolás Herrera", Availability.ONLINE, ["Tarjetas", "Préstamos"], 2),
    "agustina": ("Agustina Medina", Availability.BUSY, ["Préstamos"], 4),
    "martin": ("Martín Gómez", Availability.AWAY, ["Inversiones"], 1),
    "julieta": ("Julieta Castro", Availability.ONLINE, ["Inversiones"], 0),
    "sofia": ("Sofía Romero", Availability.OFFLINE, ["Tarjetas"], 0),
    "gonzalo": ("Gonzalo Luna", Availability.ONLINE, ["Préstamos"], 1),
    "camila": ("Camila Benítez", Availability.BUSY, ["Tarjetas"], 2),
}
WAITING = {"Tarjetas": 6, "Préstamos": 3, "Inversiones": 1, None: 2}


async def seed(live: Live) -> dict[str | None, uuid.UUID | None]:
    """Three teams, their people (none takes new work: the router leaves the queues as they
    are), conversations waiting and held, calls in progress, and clocks met and breached."""
    sessions = live.app.state.session_factory
    now = datetime.now(UTC)
    # Changed before the service-level job's first look-back (a day): it leaves the seeded
    # clocks as written (there is no policy here, it would clear them).
    UNSEEN = now - timedelta(days=2)  # noqa: N806
    async with sessions() as session:
        teams = {name: Team(name=name) for name in ("Tarjetas", "Préstamos", "Inversiones")}
        session.add_all(teams.values())
        await session.commit()
        ids: dict[str | None, uuid.UUID | None] = {n: t.id for n, t in teams.items()}
        ids[None] = None
    rows: list[object] = []
    clocks: list[ConversationSla] = []
    for username, (name, availability, member_of, held) in PEOPLE.items():
        account = await auth.user(sessions, username, Role.AGENT)
        async with sessions() as session:
            await session.execute(
                update(UserAccount)
                .where(UserAccount.id == account.id)
                .values(
                    display_name=name,
                    availability=availability,
                    # Calls only: the WhatsApp queues stay as seeded (the router leaves them).
                    capacity_call=6,
                    capacity_whatsapp=0,
                    capacity_sms=0,
                )
            )
            for team in member_of:
                session.add(TeamMember(team_id=ids[team], user_id=account.id))
            await session.commit()
        for n in range(held):
            item = f.interaction(
                assigned_agent=username,
                team_id=ids[member_of[0]],
                channel=Channel.CALL if n == 0 and held > 2 else Channel.WHATSAPP,
                status=InteractionStatus.IN_PROGRESS,
                ai_handled=False,
                started_at=now - timedelta(minutes=20 + n),
                updated_at=UNSEEN,
            )
            rows.append(item)
            if item.channel is Channel.CALL:
                continue  # calls are answered live: no clocks
            clocks.append(
                ConversationSla(
                    interaction_id=item.id,
                    first_response_state=SlaState.MET,
                    first_response_at=now - timedelta(minutes=10),
                    first_response_due_at=now,
                    updated_at=now,
                )
            )
    for queue, count in WAITING.items():
        for n in range(count):
            item = f.interaction(
                team_id=ids[queue],
                status=InteractionStatus.NEW,
                queued_at=now - timedelta(minutes=2 + 3 * n, seconds=17),
                ai_handled=False,
                started_at=now - timedelta(minutes=2 + 3 * n, seconds=17),
                updated_at=UNSEEN,
            )
            rows.append(item)
            if n == count - 1 and queue is not None:
                clocks.append(
                    ConversationSla(
                        interaction_id=item.id,
                        first_response_state=SlaState.BREACHED,
                        first_response_due_at=now - timedelta(minutes=1),
                        updated_at=now,
                    )
                )
    async with sessions() as session:
        await f.save(session, *rows)
        await f.save(session, *clocks)
    return ids


@pytest.fixture
async def wallboard(
    settings_factory: Callable[..., Settings], backend: Backend
) -> AsyncIterator[Live]:
    async with live_app(settings_factory) as live:
        live.teams = await seed(live)  # type: ignore[attr-defined]
        live.backend = backend.name  # type: ignore[attr-defined]
        try:
            yield live
        finally:
            while CONTEXTS:
                await CONTEXTS.pop().close()


FITS = """() => ({
  vertical: document.scrollingElement.scrollHeight - window.innerHeight,
  sideways: document.scrollingElement.scrollWidth - window.innerWidth,
  canvas: document.querySelectorAll(".wb-canvas canvas").length,
  hiddenPeople: document.querySelectorAll(".wb-agent[hidden]").length,
})"""


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720), (375, 812)])
async def test_the_board_fits_a_large_screen_and_draws_its_chart(
    browser: Browser,  # noqa: F811 - the fixture imported above
    wallboard: Live,
    width: int,
    height: int,
) -> None:
    watched = await open_page(browser, wallboard, width, username="jefa", role=Role.ADMIN)
    page = watched.page
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(wallboard.base + "/wallboard", wait_until="networkidle")
    await expect(page.locator("main h1")).to_have_text("Monitor en vivo")
    await expect(page.locator("[data-wb-live]")).to_have_text("En vivo")
    await expect(page.locator(".wb-canvas canvas")).to_have_count(1)
    await expect(page.locator('[data-wb="waiting"]')).to_have_text(str(sum(WAITING.values())))
    await expect(page.locator('[data-wb="breaches"]')).to_have_text("3")
    # The longest wait ticks in the page between refreshes (m:ss).
    await expect(page.locator('[data-wb="oldest"]')).to_have_text(re.compile(r"^1[78]:\d\d$"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = getattr(wallboard, "backend", "db")
    await page.screenshot(path=SHOTS / f"wallboard-es-AR-{width}x{height}-{backend}.png")
    layout = await page.evaluate(FITS)
    if width < 900:  # a phone: the board scrolls down, never sideways
        await page.screenshot(
            path=SHOTS / f"wallboard-es-AR-{width}-full-{backend}.png", full_page=True
        )
        layout["vertical"] = 0
    assert layout["vertical"] <= 0, layout
    assert layout["sideways"] <= 0, layout
    assert layout["canvas"] == 1
    assert watched.errors == []


async def test_the_board_follows_a_new_message_and_a_breach_without_a_reload(
    browser: Browser,  # noqa: F811 - the fixture imported above
    wallboard: Live,
) -> None:
    watched = await open_page(browser, wallboard, 1920, username="jefa", role=Role.ADMIN)
    page = watched.page
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(wallboard.base + "/wallboard", wait_until="networkidle")
    await expect(page.locator("[data-wb-live]")).to_have_text("En vivo")
    waiting = page.locator('[data-wb="waiting"]')
    pool = page.locator('[data-team-waiting="pool"]')
    await expect(waiting).to_have_text("12")
    await expect(pool).to_have_text("2")
    marker = await page.evaluate("() => { window.notReloaded = true; return true; }")
    assert marker
    # A customer writes on WhatsApp: a new conversation waits in the shared pool.
    answer = await post_builderbot(
        wallboard.http, incoming("5491155550931", "Hola, necesito ayuda con mi tarjeta")
    )
    assert answer.status_code == 200, answer.text
    await expect(waiting).to_have_text("13", timeout=5_000)
    await expect(pool).to_have_text("3")
    # One of Lucía's conversations, whose customer waits for her reply, breaches its
    # next-response target: the service-level job moves its clock and records `sla.breached`
    # (whose live notice refreshes the board).
    sessions = wallboard.app.state.session_factory
    now = datetime.now(UTC)
    async with sessions() as session:
        item = (
            await session.scalars(
                select(Interaction)
                .where(
                    Interaction.assigned_agent == "lucia",
                    Interaction.channel == Channel.WHATSAPP,
                )
                .order_by(Interaction.started_at)
                .limit(1)
            )
        ).one()
        await session.execute(
            update(Interaction)
            .where(Interaction.id == item.id)
            .values(waiting_since=now - timedelta(minutes=6))
        )
        await session.execute(
            update(ConversationSla)
            .where(ConversationSla.interaction_id == item.id)
            .values(
                next_response_state=SlaState.BREACHED,
                next_response_due_at=now - timedelta(seconds=1),
                updated_at=now,
            )
        )
        await record(
            session,
            item,
            Event(
                EventType.SLA_BREACHED,
                f"sla:test:{item.id}",
                normalized={"target": "NEXT_RESPONSE", "dueAt": now.isoformat()},
            ),
        )
        await session.commit()
    breaches = page.locator('[data-wb="breaches"]')
    await expect(breaches).to_have_text("4", timeout=5_000)
    assert await page.evaluate("() => window.notReloaded === true")
    await page.screenshot(path=SHOTS / "wallboard-live-es-AR-1920x1080.png")
    assert watched.errors == []
