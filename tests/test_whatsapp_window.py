"""WhatsApp's 24-hour window: free text only within 24 h of the customer's last message. The
API shows when it closes and refuses after it (nothing written, nothing sent); the emulator
refuses as WhatsApp does, and our BuilderBot client takes that refusal as permanent."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.emulator.app import create_emulator_app
from contact_center.emulator.state import EmulatorState
from contact_center.models import AuditLog, Interaction, Message
from contact_center.models.enums import Role
from contact_center.providers.base import PermanentProviderError
from contact_center.providers.builderbot import BuilderBotClient
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_API_KEY,
    EMULATOR_BUILDERBOT_BOT_ID,
    Providers,
)
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.live import Receiver, free_port, live_app, serve

PHONE = "+5491155551234"
DIGITS = "5491155551234"


async def _count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the API ------------------------------------------------------------------------------------


async def test_a_whatsapp_conversation_shows_when_its_window_closes(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        chat = await f.customer_wrote(session, PHONE, ago=timedelta(hours=2))
        # Our own later message does not move the window: only the customer's does.
        await f.save(
            session,
            f.message(chat, direction="OUTBOUND", status="SENT", created_at=datetime.now(UTC)),
        )
        silent = f.interaction(customer_phone="+5491155550000", from_number="+5491155550000")
        sms = f.interaction(channel="SMS", customer_phone=PHONE)
        await f.save(session, silent, sms)
        await f.save(session, f.message(sms))
    expected = chat.started_at + timedelta(hours=24)
    detail = (await client.get(f"/api/interactions/{chat.id}")).json()
    assert _iso(detail["whatsappWindowClosesAt"]) == expected
    assert (await client.get(f"/api/interactions/{silent.id}")).json()[
        "whatsappWindowClosesAt"
    ] is None
    assert (await client.get(f"/api/interactions/{sms.id}")).json()[
        "whatsappWindowClosesAt"
    ] is None
    listed = {
        item["id"]: item["whatsappWindowClosesAt"]
        for item in (await client.get("/api/interactions")).json()["items"]
    }
    assert _iso(listed[str(chat.id)]) == expected
    assert listed[str(silent.id)] is None
    assert listed[str(sms.id)] is None


@pytest.mark.parametrize("ago", [timedelta(hours=25), None])
async def test_free_text_after_the_window_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    ago: timedelta | None,
) -> None:
    if ago is not None:
        async with session_factory() as session:
            await f.customer_wrote(session, PHONE, ago=ago)
    before = [await _count(session_factory, m) for m in (Interaction, Message, AuditLog)]
    refused = await client.post("/api/whatsapp/send", json={"to": PHONE, "body": "Hola"})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "whatsapp_window_closed"
    assert "SMS" in error["message"]
    assert [await _count(session_factory, m) for m in (Interaction, Message, AuditLog)] == before
    # SMS to the same customer is not bound by WhatsApp's window.
    sms = await client.post("/api/sms/send", json={"to": PHONE, "body": "Hola"})
    assert sms.status_code == 202


async def test_the_console_reply_is_refused_after_the_window(app: FastAPI) -> None:
    async with app.state.session_factory() as session:
        chat = await f.customer_wrote(session, PHONE, ago=timedelta(hours=30))
    console = await auth.session_client(app, "sup", Role.SUPERVISOR)
    page = await console.get(f"/interactions/{chat.id}")
    csrf = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    answer = await console.post(
        f"/console/interactions/{chat.id}/reply",
        data={"body": "Hola"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert answer.status_code == 409, answer.text
    assert await _count(app.state.session_factory, Message) == 1
    await console.aclose()


# --- the emulator and our client ----------------------------------------------------------------


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[EmulatorState, httpx.AsyncClient]]:
    state = EmulatorState(target_url="http://127.0.0.1:9")
    state.http = httpx.AsyncClient()
    app = create_emulator_app(state)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emulator"
    ) as http:
        yield state, http
    await state.close()


async def test_the_emulator_refuses_free_text_outside_the_window_as_whatsapp_does(
    emulator: tuple[EmulatorState, httpx.AsyncClient],
) -> None:
    state, http = emulator
    url = f"/builderbot/api/v2/{EMULATOR_BUILDERBOT_BOT_ID}/messages"
    headers = {"x-api-builderbot": EMULATOR_BUILDERBOT_API_KEY}
    body = {"messages": {"content": "hola"}, "number": DIGITS, "checkIfExists": False}
    never = await http.post(url, headers=headers, json=body)
    assert never.status_code == 400
    assert never.json()["code"] == 131047
    assert "24 hours" in never.json()["details"]
    await http.post("/builderbot/wrote", json={"number": PHONE, "hoursAgo": 25})
    assert (await http.post(url, headers=headers, json=body)).status_code == 400
    await http.post("/builderbot/wrote", json={"number": PHONE, "hoursAgo": 23.5})
    assert (await http.post(url, headers=headers, json=body)).status_code == 200
    # A customer the emulator itself makes write opens their window too.
    other = await http.post("/builderbot/incoming", json={"from": "5491155550001"})
    assert other.status_code == 202
    opened = {**body, "number": "5491155550001"}
    assert (await http.post(url, headers=headers, json=opened)).status_code == 200
    outbox = (await http.get("/builderbot/outbox")).json()
    assert [item["number"] for item in outbox["items"]] == [DIGITS, "5491155550001"]
    assert state.whatsapp_window_open(DIGITS)
    bad = await http.post("/builderbot/wrote", json={"number": PHONE, "hoursAgo": -1})
    assert bad.status_code == 422


@pytest.fixture
async def live(settings_factory: Any) -> AsyncIterator[tuple[str, Providers, FastAPI]]:
    receiver = Receiver()
    async with serve(receiver.app()) as receiver_url:
        port = free_port()
        settings: Settings = settings_factory(APP_PORT=str(port), EMULATOR_TARGET_URL=receiver_url)
        app = create_app(settings, migrate=False)
        async with serve(app, port) as base:
            yield base, app.state.providers, app


async def test_our_client_gets_the_refusal_over_http_when_our_check_is_bypassed(
    live: tuple[str, Providers, FastAPI],
) -> None:
    base, providers, _app = live
    with pytest.raises(PermanentProviderError) as caught:
        await providers.whatsapp.send_whatsapp(PHONE, "Hola, ¿sigue ahí?")
    assert caught.value.code == "131047"
    assert caught.value.retryable is False
    assert "Re-engagement" in caught.value.message
    async with httpx.AsyncClient() as http:
        outbox = (await http.get(f"{base}/_emulator/builderbot/outbox")).json()
    assert outbox["count"] == 0


async def test_a_reengagement_code_behind_a_server_error_is_still_permanent() -> None:
    """BuilderBot documents no error body: WhatsApp's own shape, behind a 502, is not retried."""
    async with httpx.AsyncClient() as http:
        client = BuilderBotClient(http, base_url="https://bot.example", api_key="k", bot_id="b")
        with respx.mock(assert_all_called=True) as mock:
            mock.post("https://bot.example/api/v2/b/messages").respond(
                502,
                json={"error": {"code": 131047, "message": "Re-engagement message"}},
            )
            with pytest.raises(PermanentProviderError) as caught:
                await client.send_whatsapp(PHONE, "Hola")
    assert caught.value.code == "131047"
    assert caught.value.message == "Re-engagement message"


async def test_the_emulator_knows_at_start_who_wrote_in_the_last_24_hours(
    client_for: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """`serve --demo` seeds conversations before the app starts: the emulator, standing in for
    WhatsApp (which saw those messages), reads them back so both windows agree."""
    async with session_factory() as session:
        await f.customer_wrote(session, PHONE, ago=timedelta(hours=3))
        await f.customer_wrote(session, "+5491155550002", ago=timedelta(hours=30))
    http = await client_for()
    url = f"/_emulator/builderbot/api/v2/{EMULATOR_BUILDERBOT_BOT_ID}/messages"
    headers = {"x-api-builderbot": EMULATOR_BUILDERBOT_API_KEY}
    answers = [
        await http.post(url, headers=headers, json={"messages": {"content": "hola"}, "number": n})
        for n in (DIGITS, "5491155550002")
    ]
    assert [a.status_code for a in answers] == [200, 400]


async def test_a_send_the_emulator_refuses_fails_once_and_is_not_retried(
    settings_factory: Any,
) -> None:
    """End to end through the send job: when WhatsApp's view of the window differs from ours
    (here the emulator never heard of the customer), its 131047 marks the message FAILED after
    one attempt, with the code, and nothing reaches the customer."""
    async with live_app(settings_factory) as live:
        async with live.app.state.session_factory() as session:
            await f.customer_wrote(session, PHONE, ago=timedelta(hours=1))
        sent = await live.http.post("/api/whatsapp/send", json={"to": PHONE, "body": "Hola"})
        assert sent.status_code == 202, sent.text
        message_id = sent.json()["messageId"]
        deadline = time.monotonic() + 15
        while True:
            async with live.app.state.session_factory() as session:
                message = await session.get(Message, uuid.UUID(message_id))
            assert message is not None
            if message.status.value == "FAILED":
                break
            assert time.monotonic() < deadline, message.status
            await asyncio.sleep(0.2)
        assert message.error_code == "131047"
        assert message.attempts == 1
        # Nothing reached the customer (the bot's pause for the person's reply may have).
        outbox = (await live.http.get("/_emulator/builderbot/outbox")).json()
        assert [item for item in outbox["items"] if "content" in item] == []
