"""The inbox (docs/inbox.md, "The console") in a real browser, on demo data.

Two people in two browser contexts: a customer's WhatsApp message reaches the right agent's Mine
live (the unread badge and the tab title), another person sees the presence marker, the keyboard
alone replies and resolves, search opens a call at its transcript, and a phone goes list →
conversation → back without scrolling sideways. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.demo.service import write_demo_data
from contact_center.models import CallDetail, Interaction, Message
from contact_center.models.enums import Channel, Direction, InteractionStatus, Role
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot
from tests.live import Live, live_app
from tests.test_console_browser import (
    CONTEXTS,
    SHOTS,
    Watched,
    browser,  # noqa: F401 - the module's browser fixture
    open_page,
    words,
)

pytestmark = pytest.mark.slow  # Chromium against a live app

ES = words("es-AR")
NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"
# The desktop notifications and sounds a page makes, recorded (the browser grants the permission).
RECORD_ALERTS = """
window.shownNotifications = [];
window.Notification = class {
  constructor(title, options) { window.shownNotifications.push(title); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
window.beeps = 0;
const RealAudio = window.AudioContext;
window.AudioContext = class extends RealAudio {
  createOscillator() { window.beeps += 1; return super.createOscillator(); }
};
"""


@pytest.fixture
async def console(
    settings_factory: Callable[..., Settings], backend: Backend
) -> AsyncIterator[Live]:
    # The demo's data; this test's own customers have new numbers.
    async with live_app(settings_factory) as live:
        await write_demo_data(
            live.app.state.engine,
            live.app.state.settings,
            days=1,
            customers=20,
            force=True,
            progress=False,
        )
        live.backend = backend.name  # type: ignore[attr-defined]
        try:
            yield live
        finally:
            while CONTEXTS:
                await CONTEXTS.pop().close()


def new_number() -> str:
    return "54911" + str(uuid.uuid4().int)[:8]


async def customer_writes(live: Live, number: str, text: str) -> None:
    """A customer's WhatsApp message, delivered as the provider delivers it."""
    response = await post_builderbot(live.http, incoming(number, text))
    assert response.status_code == 200, response.text
    wrote = await live.http.post("/_emulator/builderbot/wrote", json={"number": number})
    assert wrote.status_code == 204


async def conversation_of(sessions: async_sessionmaker[AsyncSession], number: str) -> Interaction:
    async with sessions() as session:
        stmt = select(Interaction).where(
            Interaction.channel == Channel.WHATSAPP, Interaction.customer_phone == "+" + number
        )
        return (await session.scalars(stmt)).one()


async def assigned_conversation(
    live: Live, sessions: async_sessionmaker[AsyncSession], agent: str, text: str
) -> tuple[str, uuid.UUID]:
    """A new customer's WhatsApp conversation, assigned to `agent` by a supervisor."""
    await auth.user(sessions, agent, Role.AGENT)
    number = new_number()
    await customer_writes(live, number, text)
    found = await conversation_of(sessions, number)
    assigned = await live.http.post(f"/api/interactions/{found.id}/assign", json={"agent": agent})
    assert assigned.status_code == 200, assigned.text
    return number, found.id


async def inbox_as(
    chromium: Browser, live: Live, username: str, role: Role, width: int = 1440
) -> Watched:
    watched = await open_page(chromium, live, width, username=username, role=role)
    # `/` is the inbox.
    await expect(watched.page.locator("#inbox")).to_be_visible()
    return watched


async def test_a_customer_message_reaches_the_agents_mine_live_and_the_title_counts_it(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    number, conversation = await assigned_conversation(
        console, session_factory, "ana", "Hola, perdí mi tarjeta"
    )
    ana = await inbox_as(browser, console, "ana", Role.AGENT)
    bruno = await inbox_as(browser, console, "bruno", Role.AGENT)
    page = ana.page
    await page.add_init_script(RECORD_ALERTS)
    await page.reload(wait_until="load")
    # Notifications and sound are off until switched on (and stay on: localStorage).
    notify = page.locator("input[data-pref=notify]")
    await expect(notify).not_to_be_checked()
    await notify.check()
    await page.locator("input[data-pref=sound]").check()
    await page.reload(wait_until="load")
    await expect(notify).to_be_checked()
    mine = page.locator("#row-" + str(conversation))
    await expect(mine).to_be_visible()
    await expect(mine.locator(".unread")).to_have_text("1")
    await expect(page).to_have_title(re.compile(r"^\(\d+\) " + ES.gettext("Inbox")))
    before = int(re.match(r"^\((\d+)\)", await page.title()).group(1))  # type: ignore[union-attr]

    started = time.monotonic()
    await customer_writes(console, number, "¿Me la pueden bloquear?")
    await expect(mine.locator(".unread")).to_have_text("2", timeout=2000)
    await expect(page).to_have_title(re.compile(rf"^\({before + 1}\) "), timeout=2000)
    assert time.monotonic() - started < 2.5
    await expect(mine.locator(".preview")).to_contain_text("bloquear")
    assert await page.evaluate("window.shownNotifications") == [
        ES.gettext("New customer message in Mine")
    ]
    assert await page.evaluate("window.beeps") == 1
    # Not Bruno's: his Mine does not show it.
    await expect(bruno.page.locator("#row-" + str(conversation))).to_have_count(0)
    await page.screenshot(path=SHOTS / "inbox-desktop.png")

    # Opening it marks it read: the badge goes, the title's count drops.
    await mine.locator("a").click()
    await expect(page.locator("#conv")).to_be_visible()
    assert page.url.endswith(f"/inbox/{conversation}")
    await expect(mine.locator(".unread")).to_have_count(0)
    await expect(page.locator("#thread .msg.inbound").last).to_contain_text("bloquear")
    await page.screenshot(path=SHOTS / "inbox-conversation.png")
    assert ana.errors == []
    assert bruno.errors == []


async def test_a_supervisor_sees_who_is_viewing_and_typing(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _, conversation = await assigned_conversation(
        console, session_factory, "ana", "Necesito ayuda con un cargo"
    )
    sup = await inbox_as(browser, console, "sup", Role.SUPERVISOR)
    await sup.page.goto(f"{console.base}/inbox/{conversation}?view=all", wait_until="load")
    await expect(sup.page.locator("#conv")).to_be_visible()
    marker = sup.page.locator("#presence")
    await expect(marker).to_have_text("")

    ana = await inbox_as(browser, console, "ana", Role.AGENT)
    await ana.page.locator(f"#row-{conversation} a").click()
    await expect(ana.page.locator("#conv")).to_be_visible()
    await expect(marker).to_have_text(ES.gettext("%(name)s is viewing", name="ana"), timeout=3000)
    await ana.page.locator("#pane-reply textarea").type("Hola, ya lo")
    typing = ES.gettext("%(name)s is typing…", name="ana")
    await expect(marker).to_have_text(typing, timeout=3000)
    # Her own page shows the supervisor, never herself.
    await expect(ana.page.locator("#presence")).to_have_text(
        ES.gettext("%(name)s is viewing", name="sup")
    )
    # She leaves (the list again): the marker goes.
    await ana.page.goto(console.base + "/inbox", wait_until="load")
    await expect(marker).to_have_text("", timeout=3000)
    assert ana.errors == []
    assert sup.errors == []


async def test_the_keyboard_alone_opens_replies_and_resolves(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    number, conversation = await assigned_conversation(
        console, session_factory, "ana", "Quiero cambiar mi clave"
    )
    ana = await inbox_as(browser, console, "ana", Role.AGENT)
    page = ana.page
    first = page.locator("#inbox-items [role=option]").first
    await expect(first).to_be_visible()
    # Only this conversation is Ana's: j selects and opens it.
    await page.keyboard.press("j")
    await expect(first).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#conv")).to_have_attribute("data-conversation", str(conversation))
    # ? shows the help; Esc closes it.
    await page.keyboard.press("?")
    await expect(page.locator("#inbox-help")).to_be_visible()
    await page.screenshot(path=SHOTS / "inbox-help.png")
    await page.keyboard.press("Escape")
    await expect(page.locator("#inbox-help")).to_be_hidden()
    # r → the reply box; type; Enter sends.
    await page.keyboard.press("r")
    area = page.locator("#pane-reply textarea[name=body]")
    await expect(area).to_be_focused()
    await page.keyboard.type("Hola, te ayudo con la clave")
    await page.keyboard.press("Enter")
    await expect(page.locator("#thread .msg.outbound").last).to_contain_text(
        "te ayudo con la clave", timeout=5000
    )
    # The provider's emulator got it.
    digits = number
    deadline = time.monotonic() + 10
    sent: list[object] = []
    while time.monotonic() < deadline and not sent:
        outbox = (
            await console.http.get("/_emulator/builderbot/outbox", params={"number": digits})
        ).json()
        sent = [m for m in outbox.get("items", []) if "te ayudo" in str(m)]
    assert sent
    # e → the resolve form, focused; Enter resolves.
    await page.locator("#thread").focus()
    await page.keyboard.press("Escape")
    await page.keyboard.press("e")
    code = page.locator("#conv form.wf-resolve input[name=resolutionCode]")
    await expect(code).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#conv-status")).to_contain_text(
        ES.label(InteractionStatus.COMPLETED), timeout=5000
    )
    found = await console.http.get(f"/api/interactions/{conversation}")
    assert found.json()["status"] == "COMPLETED"
    # An unassigned conversation: j opens it, a assigns it to her, n opens the note tab.
    await auth.user(session_factory, "ana", Role.AGENT)
    other = new_number()
    await customer_writes(console, other, "Buenas, ¿me atienden?")
    waiting = await conversation_of(session_factory, other)
    await page.goto(console.base + "/inbox?view=unassigned", wait_until="load")
    await page.locator("body").focus()
    target = page.locator(f"#row-{waiting.id}")
    await expect(target).to_be_visible()
    ids = [
        await r.get_attribute("data-id")
        for r in await page.locator("#inbox-items [role=option]").all()
    ]
    for step in range(ids.index(str(waiting.id)) + 1):
        await page.keyboard.press("j")
        await expect(page.locator("#conv")).to_have_attribute("data-conversation", ids[step])
    await expect(page.locator("#conv")).to_have_attribute("data-conversation", str(waiting.id))
    await page.keyboard.press("a")
    await expect(page.locator('#conv [data-field="assignee"]')).to_have_text("ana", timeout=5000)
    await page.locator("#thread").focus()
    await page.keyboard.press("n")
    await expect(page.locator("#pane-note textarea[name=body]")).to_be_focused()
    assert ana.errors == []


async def test_search_finds_a_word_of_a_call_transcript_and_opens_it_there(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        stmt = (
            select(Interaction.id, CallDetail.transcript)
            .join(CallDetail, CallDetail.interaction_id == Interaction.id)
            .where(Interaction.channel == Channel.CALL, CallDetail.transcript.is_not(None))
            .limit(20)
        )
        calls = (await session.execute(stmt)).all()
    assert calls
    call_id, transcript = calls[0]
    text = " ".join(str(turn.get("message") or "") for turn in transcript)
    word = max(re.findall(r"[a-záéíóúñ]{6,}", text.lower()), key=len)
    sup = await inbox_as(browser, console, "sup", Role.SUPERVISOR)
    page = sup.page
    await page.fill("#inbox-q", word)
    await page.press("#inbox-q", "Enter")
    results = page.locator("#inbox-items .search-results [role=option]")
    await expect(results.first).to_be_visible(timeout=5000)
    await page.screenshot(path=SHOTS / "inbox-search.png")
    hit = page.locator(f'#inbox-items .search-results [data-id="{call_id}"] a').first
    if await hit.count() == 0:
        hit = results.first.locator("a")
    await hit.click()
    await expect(page.locator("#conv")).to_be_visible()
    assert "hit=" in page.url
    # The turn that holds the word is marked and in view.
    await expect(page.locator("#thread .turn.hit, #thread .summary.hit")).to_have_count(1)
    await expect(page.locator("#thread .hit")).to_contain_text(word, ignore_case=True)
    await expect(page.locator("#thread .hit")).to_be_in_viewport()
    await page.screenshot(path=SHOTS / "inbox-search-hit.png")
    assert sup.errors == []


async def test_on_a_phone_the_list_opens_a_conversation_and_goes_back_without_scrolling_sideways(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _, conversation = await assigned_conversation(
        console, session_factory, "ana", "Hola, consulto por un préstamo"
    )
    ana = await inbox_as(browser, console, "ana", Role.AGENT, width=375)
    page = ana.page
    await expect(page.locator(f"#row-{conversation}")).to_be_visible()
    assert await page.evaluate(NO_SIDEWAYS)
    await page.screenshot(path=SHOTS / "inbox-375-list.png", full_page=True)
    await page.locator(f"#row-{conversation} a").click()
    await expect(page.locator("#conv")).to_be_visible()
    await expect(page.locator(".inbox-list")).to_be_hidden()
    assert await page.evaluate(NO_SIDEWAYS)
    await page.screenshot(path=SHOTS / "inbox-375-conversation.png")
    await page.locator("#conv [data-back]").click()
    await expect(page.locator(f"#row-{conversation}")).to_be_visible()
    await expect(page.locator("#conv")).to_be_hidden()
    assert await page.evaluate(NO_SIDEWAYS)
    assert page.url.endswith("/inbox")
    # Esc goes back too.
    await page.locator(f"#row-{conversation} a").click()
    await expect(page.locator("#conv")).to_be_visible()
    await page.locator("#thread").focus()
    await page.keyboard.press("Escape")
    await expect(page.locator(f"#row-{conversation}")).to_be_visible()
    await expect(page.locator(".inbox-conversation")).to_be_hidden()
    assert await page.evaluate(NO_SIDEWAYS)
    assert ana.errors == []


async def test_load_more_appends_a_page_that_j_and_k_walk_and_a_refresh_keeps(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await auth.user(session_factory, "lucia", Role.AGENT)
    now = utcnow()
    chats = [
        f.interaction(
            assigned_agent="lucia",
            customer_phone="+54911" + str(40000000 + i),
            started_at=now - timedelta(hours=3),
            last_message_at=now - timedelta(minutes=100 - i),
        )
        for i in range(57)
    ]
    async with session_factory() as session:
        await f.save(session, *chats)
    lucia = await inbox_as(browser, console, "lucia", Role.AGENT)
    page = lucia.page
    rows = page.locator("#inbox-items .conv-list > [role=option]")
    await expect(rows).to_have_count(50)
    more = page.locator("#inbox-more [data-load-more]")
    await expect(more).to_have_text(ES.gettext("Load more"))
    # The keyboard alone: to the button, Enter, and on to the first new row.
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(rows).to_have_count(57)
    await expect(more).to_have_count(0)
    await expect(rows.nth(50).locator("a")).to_be_focused()
    ids = [await r.get_attribute("data-id") for r in await rows.all()]
    assert len(set(ids)) == 57
    await rows.nth(50).locator("a").click()
    await expect(page.locator("#conv")).to_have_attribute("data-conversation", str(ids[50]))
    await page.locator("#thread").focus()
    await page.keyboard.press("j")
    await expect(page.locator("#conv")).to_have_attribute("data-conversation", str(ids[51]))
    await page.keyboard.press("k")
    await expect(page.locator("#conv")).to_have_attribute("data-conversation", str(ids[50]))
    await page.keyboard.press("k")
    await expect(page.locator("#conv")).to_have_attribute("data-conversation", str(ids[49]))
    # A live refresh (as a change on the page makes one) keeps every row shown. A refresh asked
    # for while the list's previous one is in flight waits behind it and replaces any refresh
    # already waiting there: ask again until one goes.
    for _ in range(5):
        try:
            async with page.expect_response(lambda r: "shown=57" in r.url, timeout=6_000):
                await page.evaluate("document.body.dispatchEvent(new Event('cc:changed'))")
            break
        except PlaywrightTimeoutError:
            continue
    else:
        raise AssertionError("no refresh of the list kept its 57 rows")
    await expect(rows).to_have_count(57)
    await expect(page.locator(f'#row-{ids[49]}[aria-selected="true"]')).to_have_count(1)
    await page.locator("#inbox-items").evaluate("box => { box.scrollTop = box.scrollHeight; }")
    await page.screenshot(path=SHOTS / "inbox-load-more.png")
    assert lucia.errors == [], lucia.errors


async def test_a_hit_at_the_end_of_a_long_transcript_is_wholly_in_the_thread(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    call = f.interaction(
        channel=Channel.CALL,
        assigned_agent="sup",
        customer_phone="+5491144440000",
        started_at=now - timedelta(minutes=20),
    )
    turns = [
        {
            "role": "user" if i % 2 else "agent",
            "message": "Una respuesta larga sobre la cuenta y sus movimientos. " * 4,
            "time_in_call_secs": i * 10,
        }
        for i in range(40)
    ]
    turns.append(
        {
            "role": "user",
            "message": "Y al final quiero denunciar el extravío.",
            "time_in_call_secs": 401,
        }
    )
    async with session_factory() as session:
        await f.save(session, call, f.call_detail(call, transcript=turns, summary=None))
    sup = await inbox_as(browser, console, "sup", Role.SUPERVISOR)
    page = sup.page
    await page.goto(
        f"{console.base}/inbox/{call.id}?hit=transcript&q=extravio", wait_until="networkidle"
    )
    hit = page.locator("#thread .turn.hit")
    await expect(hit).to_have_count(1)
    await expect(hit).to_contain_text("extravío")
    # The whole turn inside the thread's box, and it stays there after the panes settle.
    inside = """() => {
      const t = document.querySelector('#thread').getBoundingClientRect();
      const h = document.querySelector('#thread .hit').getBoundingClientRect();
      const ok = h.top >= t.top - 1 && h.bottom <= t.bottom + 1 && h.bottom <= window.innerHeight;
      const b = document.querySelector("#thread");
      const seen = [t.top, t.bottom, h.top, h.bottom, window.innerHeight];
      return ok ? "" : seen.concat([b.scrollTop, b.scrollHeight, b.clientHeight]).join(" ");
    }"""
    await page.screenshot(path=SHOTS / "inbox-search-hit-end.png")
    assert await page.evaluate(inside) == ""
    await page.wait_for_timeout(1800)
    assert await page.evaluate(inside) == ""
    assert sup.errors == []


async def test_an_sms_conversation_replies_by_sms_from_the_composer(
    browser: Browser,  # noqa: F811
    console: Live,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    now = utcnow()
    sms = f.interaction(
        channel=Channel.SMS,
        assigned_agent="ana",
        customer_phone="+5491133330000",
        started_at=now - timedelta(minutes=5),
        last_message_at=now - timedelta(minutes=5),
    )
    async with session_factory() as session:
        await f.save(session, sms, f.message(sms, body="¿Me mandan el resumen?"))
    ana = await inbox_as(browser, console, "ana", Role.AGENT)
    page = ana.page
    await page.goto(f"{console.base}/inbox/{sms.id}", wait_until="networkidle")
    await expect(page.locator("#tab-reply")).to_have_attribute("aria-selected", "true")
    form = page.locator(f'#pane-reply form[hx-post="/console/interactions/{sms.id}/sms"]')
    await expect(form).to_be_visible()
    await page.keyboard.press("r")
    await expect(form.locator("textarea")).to_be_focused()
    await page.keyboard.type("Se lo enviamos hoy")
    await page.keyboard.press("Enter")
    await expect(page.locator("#pane-reply .result .notice.ok")).to_contain_text("SMS en cola")
    await page.screenshot(path=SHOTS / "inbox-sms-reply.png")
    async with session_factory() as session:
        stmt = (
            select(Message.body)
            .join(Interaction, Interaction.id == Message.interaction_id)
            .where(
                Interaction.channel == Channel.SMS,
                Interaction.customer_phone == "+5491133330000",
                Message.direction == Direction.OUTBOUND,
            )
        )
        assert list((await session.scalars(stmt)).all()) == ["Se lo enviamos hoy"]
    assert ana.errors == []
