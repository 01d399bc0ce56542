"""The production provider clients against the emulator, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contact_center.app import create_app
from contact_center.providers import elevenlabs as el
from contact_center.providers.base import (
    CallAudioEvent,
    CallEvent,
    PermanentProviderError,
    ProviderAuthError,
    ProviderNotFound,
    RetryableProviderError,
)
from contact_center.providers.builderbot import BuilderBotClient
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_TOKEN,
    EMULATOR_ELEVENLABS_SECRET,
    EMULATOR_TWILIO_AUTH_TOKEN,
    Providers,
)
from contact_center.providers.twilio import TwilioSmsClient, verify_signature
from contact_center.settings import Settings
from tests.live import Receiver, free_port, serve

pytestmark = pytest.mark.usefixtures("backend")


@dataclass
class Live:
    base: str
    providers: Providers
    http: httpx.AsyncClient
    receiver: Receiver
    receiver_url: str

    async def emulator(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{self.base}/_emulator{path}", **kwargs)


@pytest.fixture
async def live(settings_factory: Any) -> AsyncIterator[Live]:
    """The app on a real port with every provider emulated; webhooks go to a recording receiver."""
    receiver = Receiver()
    async with serve(receiver.app()) as receiver_url:
        port = free_port()
        settings: Settings = settings_factory(APP_PORT=str(port), EMULATOR_TARGET_URL=receiver_url)
        app = create_app(settings, migrate=False)
        async with serve(app, port) as base, httpx.AsyncClient(timeout=10) as http:
            yield Live(base, app.state.providers, http, receiver, receiver_url)


async def test_sms_lands_in_the_outbox_and_callbacks_are_signed(live: Live) -> None:
    callback = f"{live.receiver_url}/webhooks/twilio/sms/status?token=abc"
    receipt = await live.providers.sms.send_sms(
        "+5491155551234", "Hola desde el banco", status_callback=callback
    )
    assert receipt.provider_message_id is not None
    assert receipt.provider_message_id.startswith("SM")
    assert receipt.status == "queued"
    outbox = (
        await live.emulator("GET", "/twilio/outbox", params={"number": "+54 9 11 5555-1234"})
    ).json()
    assert [item["body"] for item in outbox["items"]] == ["Hola desde el banco"]
    started = time.monotonic()
    requests = await live.receiver.wait_for(2, seconds=5)
    assert time.monotonic() - started < 5
    assert [r.form["MessageStatus"] for r in requests] == ["sent", "delivered"]
    for request in requests:
        assert request.form["MessageSid"] == receipt.provider_message_id
        signature = request.headers["x-twilio-signature"]
        assert verify_signature(EMULATOR_TWILIO_AUTH_TOKEN, callback, request.form, signature)
        assert not verify_signature(
            EMULATOR_TWILIO_AUTH_TOKEN, callback + "x", request.form, signature
        )
        assert not verify_signature("wrong-token", callback, request.form, signature)


async def test_designated_numbers_fail_delivery(live: Live) -> None:
    callback = f"{live.receiver_url}/cb"
    await live.providers.sms.send_sms("+15005550010", "x", status_callback=callback)
    requests = await live.receiver.wait_for(2)
    assert requests[-1].form["MessageStatus"] == "undelivered"
    assert requests[-1].form["ErrorCode"] == "30003"


async def test_injected_503_is_retryable_then_the_send_succeeds(live: Live) -> None:
    await live.emulator("POST", "/twilio/faults", json={"status": 503, "count": 3})
    for _ in range(3):
        with pytest.raises(RetryableProviderError) as caught:
            await live.providers.sms.send_sms("+5491155551234", "reintento")
        assert caught.value.status == 503
    receipt = await live.providers.sms.send_sms("+5491155551234", "reintento")
    assert receipt.provider_message_id


async def test_injected_429_carries_retry_after(live: Live) -> None:
    await live.emulator(
        "POST", "/twilio/faults", json={"status": 429, "code": 20429, "retryAfter": 7}
    )
    with pytest.raises(RetryableProviderError) as caught:
        await live.providers.sms.send_sms("+5491155551234", "x")
    assert caught.value.code == "20429"
    assert caught.value.retry_after == 7


async def test_invalid_number_is_permanent_21211(live: Live) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await live.providers.sms.send_sms("+15005550001", "x")
    assert caught.value.code == "21211"
    assert not caught.value.retryable
    with pytest.raises(PermanentProviderError) as not_e164:
        await live.providers.sms.send_sms("12345", "x")
    assert not_e164.value.code == "21211"
    await live.emulator(
        "POST", "/twilio/faults", json={"status": 400, "code": 21211, "number": "+5491155550000"}
    )
    with pytest.raises(PermanentProviderError):
        await live.providers.sms.send_sms("+5491155550000", "x")
    assert (await live.providers.sms.send_sms("+5491155559999", "x")).provider_message_id


async def test_wrong_credentials_are_refused(live: Live) -> None:
    client = TwilioSmsClient(
        live.http,
        base_url=f"{live.base}/_emulator/twilio",
        account_sid="AC" + "0" * 32,
        auth_token="wrong",
        from_number="+15005550006",
    )
    with pytest.raises(ProviderAuthError) as caught:
        await client.send_sms("+5491155551234", "x")
    assert caught.value.code == "20003"
    bot = BuilderBotClient(
        live.http, base_url=f"{live.base}/_emulator/builderbot", api_key="bad", bot_id="x"
    )
    with pytest.raises(ProviderAuthError):
        await bot.send_whatsapp("+5491155551234", "hola")


async def test_whatsapp_send_is_recorded_and_echoed(live: Live) -> None:
    # WhatsApp sends free text only within 24 h of the customer's last message.
    await live.emulator("POST", "/builderbot/wrote", json={"number": "+5491155551234"})
    await live.providers.whatsapp.send_whatsapp(
        "+5491155551234", "Su tarjeta fue bloqueada.", media_url="https://media.example.com/a.pdf"
    )
    outbox = (
        await live.emulator("GET", "/builderbot/outbox", params={"number": "5491155551234"})
    ).json()
    assert outbox["items"][0]["content"] == "Su tarjeta fue bloqueada."
    assert outbox["items"][0]["mediaUrl"] == "https://media.example.com/a.pdf"
    echo = (await live.receiver.wait_for(1))[0]
    assert echo.url.endswith("/webhooks/builderbot/whatsapp")
    assert echo.headers["x-webhook-token"] == EMULATOR_BUILDERBOT_TOKEN
    payload = json.loads(echo.body)
    assert payload == {
        "eventName": "message.outgoing",
        "data": {
            "answer": "Su tarjeta fue bloqueada.",
            "from": "5491155551234",
            "projectId": payload["data"]["projectId"],
            "urlTempFile": "https://media.example.com/a.pdf",
        },
    }


async def test_pause_and_resume_the_bot(live: Live) -> None:
    await live.providers.whatsapp_bot.pause_bot("+5491155551234")
    assert (await live.emulator("GET", "/builderbot/blacklist")).json() == {
        "numbers": ["5491155551234"]
    }
    await live.providers.whatsapp_bot.resume_bot("+5491155551234")
    assert (await live.emulator("GET", "/builderbot/blacklist")).json() == {"numbers": []}


async def test_incoming_whatsapp_is_delivered_as_a_webhook(live: Live) -> None:
    await live.emulator(
        "POST", "/builderbot/incoming", json={"from": "5491155551234", "media": True}
    )
    payload = json.loads((await live.receiver.wait_for(1))[0].body)
    assert payload["eventName"] == "message.incoming"
    assert payload["data"]["from"] == "5491155551234"
    assert payload["data"]["body"].startswith("_event_media__")
    assert payload["data"]["attachment"][0]["mimetype"] == "image/jpeg"


async def test_conversations_paginate_with_the_cursor(live: Live) -> None:
    response = await live.emulator(
        "POST", "/elevenlabs/calls", json={"count": 250, "hours": 30, "webhook": False}
    )
    ids = set(response.json()["conversationIds"])
    seen: list[str] = []
    starts: list[datetime] = []
    cursor = None
    pages = 0
    while True:
        page = await live.providers.conversations.list_conversations(cursor=cursor, page_size=100)
        pages += 1
        seen += [item.conversation_id for item in page.items]
        starts += [item.started_at for item in page.items if item.started_at]
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert len(seen) == 250
    assert set(seen) == ids
    assert starts == sorted(starts, reverse=True)
    recent = await live.providers.conversations.list_conversations(
        page_size=100, started_after=datetime.now(UTC) - timedelta(hours=2)
    )
    assert 0 < len(recent.items) < 100


async def test_get_conversation_and_audio(live: Live) -> None:
    response = await live.emulator("POST", "/elevenlabs/calls", json={"count": 1, "webhook": False})
    conversation_id = response.json()["conversationIds"][0]
    event = await live.providers.conversations.get_conversation(conversation_id)
    assert event.conversation_id == conversation_id
    assert event.raw["conversation_id"] == conversation_id  # the provider's JSON, as it came
    assert event.customer_number is not None
    assert event.customer_number.startswith("+549")
    assert event.transcript[0].role == "agent"
    chunks = [chunk async for chunk in live.providers.audio.stream_audio(conversation_id)]
    audio = b"".join(chunks)
    assert audio[:2] == b"\xff\xfb"  # an MPEG audio frame sync
    assert len(audio) > 4000
    with pytest.raises(ProviderNotFound):
        await live.providers.conversations.get_conversation("conv_unknown")
    with pytest.raises(ProviderNotFound):
        _ = [chunk async for chunk in live.providers.audio.stream_audio("conv_unknown")]


async def test_elevenlabs_faults_and_bad_key(live: Live) -> None:
    await live.emulator("POST", "/elevenlabs/faults", json={"status": 429, "retryAfter": 3})
    with pytest.raises(RetryableProviderError) as caught:
        await live.providers.conversations.list_conversations()
    assert caught.value.retry_after == 3
    client = el.ElevenLabsClient(
        live.http, base_url=f"{live.base}/_emulator/elevenlabs", api_key="bad", agent_id=None
    )
    with pytest.raises(ProviderAuthError):
        await client.list_conversations()


async def test_call_webhooks_are_signed_and_verify(live: Live) -> None:
    await live.emulator("POST", "/elevenlabs/calls", json={"count": 1, "audioWebhook": True})
    transcription, audio = await live.receiver.wait_for(2)
    for request in (transcription, audio):
        header = request.headers["elevenlabs-signature"]
        assert el.verify_signature(request.body, header, EMULATOR_ELEVENLABS_SECRET)
        assert not el.verify_signature(request.body + b" ", header, EMULATOR_ELEVENLABS_SECRET)
    parsed = el.parse_webhook(transcription.body)
    assert isinstance(parsed, CallEvent)
    audio_event = el.parse_webhook(audio.body)
    assert isinstance(audio_event, CallAudioEvent)
    assert audio_event.conversation_id == parsed.conversation_id
    assert audio_event.audio[:2] == b"\xff\xfb"
