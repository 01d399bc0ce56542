"""Edge cases the emulator cannot produce, with respx: timeouts, odd answers, error mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from contact_center.providers.base import (
    PermanentProviderError,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    RetryableProviderError,
)
from contact_center.providers.builderbot import BuilderBotClient
from contact_center.providers.elevenlabs import ElevenLabsClient
from contact_center.providers.twilio import TwilioSmsClient

TWILIO = "https://api.twilio.example"
MESSAGES = f"{TWILIO}/2010-04-01/Accounts/AC123/Messages.json"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def twilio(http: httpx.AsyncClient) -> TwilioSmsClient:
    return TwilioSmsClient(
        http, base_url=TWILIO, account_sid="AC123", auth_token="t", from_number="+15005550006"
    )


@respx.mock
async def test_twilio_timeout_is_retryable(http: httpx.AsyncClient) -> None:
    respx.post(MESSAGES).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableProviderError, match="timeout"):
        await twilio(http).send_sms("+5491155551234", "x")


@respx.mock
async def test_twilio_connection_refused_is_retryable(http: httpx.AsyncClient) -> None:
    respx.post(MESSAGES).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RetryableProviderError):
        await twilio(http).send_sms("+5491155551234", "x")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21211, PermanentProviderError),
        (400, 21610, PermanentProviderError),
        (400, 21611, RetryableProviderError),  # sender queue full: slow down and retry
        (429, 20429, RetryableProviderError),
        (500, 20500, RetryableProviderError),
        (503, None, RetryableProviderError),
        (401, 20003, ProviderAuthError),
        (404, 20404, ProviderNotFound),
    ],
)
@respx.mock
async def test_twilio_error_classification(
    http: httpx.AsyncClient, status: int, code: int | None, expected: type[Exception]
) -> None:
    body = {"code": code, "message": "m", "status": status} if code else None
    respx.post(MESSAGES).mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(expected) as caught:
        await twilio(http).send_sms("+5491155551234", "x")
    assert getattr(caught.value, "code", None) == (str(code) if code else None)


@respx.mock
async def test_twilio_html_error_page_is_still_classified(http: httpx.AsyncClient) -> None:
    respx.post(MESSAGES).mock(return_value=httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(RetryableProviderError):
        await twilio(http).send_sms("+5491155551234", "x")


@respx.mock
async def test_twilio_retry_after_as_http_date(http: httpx.AsyncClient) -> None:
    respx.post(MESSAGES).mock(
        return_value=httpx.Response(
            429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, json={}
        )
    )
    with pytest.raises(RetryableProviderError) as caught:
        await twilio(http).send_sms("+5491155551234", "x")
    assert caught.value.retry_after == 0.0


@respx.mock
async def test_twilio_accepted_without_sid_is_an_error(http: httpx.AsyncClient) -> None:
    respx.post(MESSAGES).mock(return_value=httpx.Response(201, json={"status": "queued"}))
    with pytest.raises(PermanentProviderError):
        await twilio(http).send_sms("+5491155551234", "x")


@respx.mock
async def test_twilio_request_is_form_encoded_with_basic_auth(http: httpx.AsyncClient) -> None:
    route = respx.post(MESSAGES).mock(
        return_value=httpx.Response(201, json={"sid": "SM1", "status": "queued"})
    )
    await twilio(http).send_sms("+5491155551234", "hola", status_callback="https://cc.example/cb")
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"].startswith("Basic ")
    assert b"StatusCallback=https%3A%2F%2Fcc.example%2Fcb" in request.content


MESSAGE = f"{TWILIO}/2010-04-01/Accounts/AC123/Messages/SM1.json"


@respx.mock
async def test_twilio_message_fetch_is_a_get_with_basic_auth(http: httpx.AsyncClient) -> None:
    route = respx.get(MESSAGE).mock(
        return_value=httpx.Response(
            200,
            json={
                "sid": "SM1",
                "status": "Undelivered",
                "error_code": 30003,
                "error_message": "Unreachable destination handset.",
                "to": "+5491155551234",
                "from": "+15005550006",
                "body": "Su código es 123456",
            },
        )
    )
    event = await twilio(http).fetch_sms_status("SM1")
    request = route.calls.last.request
    assert request.headers["authorization"].startswith("Basic ")
    assert request.headers["accept"] == "application/json"
    assert (event.message_sid, event.status, event.error_code) == ("SM1", "undelivered", "30003")
    assert event.error_message == "Unreachable destination handset."
    assert (event.to, event.from_) == ("+5491155551234", "+15005550006")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            httpx.Response(404, json={"code": 20404, "message": "m", "status": 404}),
            ProviderNotFound,
        ),
        (httpx.Response(503, text="<html>down</html>"), RetryableProviderError),
        (httpx.Response(429, json={"code": 20429, "message": "m"}), RetryableProviderError),
        (httpx.Response(401, json={"code": 20003, "message": "m"}), ProviderAuthError),
        (httpx.Response(200, json={"sid": "SM1"}), PermanentProviderError),
        (httpx.ReadTimeout("slow"), RetryableProviderError),
        (httpx.ConnectError("refused"), RetryableProviderError),
    ],
)
@respx.mock
async def test_twilio_message_fetch_errors_are_classified(
    http: httpx.AsyncClient, answer: httpx.Response | Exception, expected: type[Exception]
) -> None:
    if isinstance(answer, Exception):
        respx.get(MESSAGE).mock(side_effect=answer)
    else:
        respx.get(MESSAGE).mock(return_value=answer)
    with pytest.raises(expected):
        await twilio(http).fetch_sms_status("SM1")


@respx.mock
async def test_elevenlabs_errors(http: httpx.AsyncClient) -> None:
    client = ElevenLabsClient(http, base_url="https://el.example", api_key="k", agent_id="a")
    route = respx.get("https://el.example/v1/convai/conversations")
    route.mock(return_value=httpx.Response(500, json={"detail": "boom"}))
    with pytest.raises(RetryableProviderError):
        await client.list_conversations()
    route.mock(return_value=httpx.Response(200, text="not json"))
    with pytest.raises(RetryableProviderError):
        await client.list_conversations()
    route.mock(
        return_value=httpx.Response(403, json={"detail": {"status": "forbidden", "message": "no"}})
    )
    with pytest.raises(ProviderAuthError, match="no"):
        await client.list_conversations()
    route.mock(
        return_value=httpx.Response(
            200, json={"conversations": [], "has_more": True, "next_cursor": None}
        )
    )
    page = await client.list_conversations()
    assert page.has_more is False  # no cursor means no next page, whatever has_more says
    assert route.calls.last.request.headers["xi-api-key"] == "k"
    assert route.calls.last.request.url.params["agent_id"] == "a"


@respx.mock
async def test_builderbot_errors_and_wire_format(http: httpx.AsyncClient) -> None:
    client = BuilderBotClient(http, base_url="https://bb.example", api_key="bb-k", bot_id="bot")
    route = respx.post("https://bb.example/api/v2/bot/messages")
    route.mock(return_value=httpx.Response(200, json={}))
    await client.send_whatsapp("+54 9 11 5555-1234", "")
    sent = route.calls.last.request
    assert sent.headers["x-api-builderbot"] == "bb-k"
    assert (
        sent.read()
        == b'{"messages":{"content":" "},"number":"5491155551234","checkIfExists":false}'
    )
    route.mock(return_value=httpx.Response(502))
    with pytest.raises(RetryableProviderError):
        await client.send_whatsapp("+5491155551234", "x")
    route.mock(return_value=httpx.Response(400, json={"error": "bad number"}))
    with pytest.raises(PermanentProviderError, match="bad number"):
        await client.send_whatsapp("+5491155551234", "x")


CONVERSATIONS = "https://el.example/v1/convai/conversations"


@pytest.mark.parametrize(
    "spoiled",
    [
        {"transcript": 5},
        {"transcript": [{"role": "user", "message": 5}]},
        {"metadata": {"call_duration_secs": 2**40}},
        {"metadata": {"start_time_unix_secs": "mañana"}},
        {"agent_name": ["x"]},
        {"conversation_id": None},
    ],
)
@respx.mock
async def test_a_malformed_conversation_from_elevenlabs_is_a_permanent_error(
    http: httpx.AsyncClient, spoiled: dict[str, object]
) -> None:
    client = ElevenLabsClient(http, base_url="https://el.example", api_key="k", agent_id=None)
    conversation = {"conversation_id": "conv_1", "status": "done", **spoiled}
    respx.get(f"{CONVERSATIONS}/conv_1").mock(
        return_value=httpx.Response(200, content=json.dumps(conversation).encode())
    )
    with pytest.raises(PermanentProviderError, match="unexpected conversation JSON"):
        await client.get_conversation("conv_1")


@pytest.mark.parametrize(
    "body",
    [
        b'{"conversation_id": "conv_1", "call_duration_secs": NaN}',
        b'{"conversation_id": "conv_\\u0000"}',
        b'{"conversation_id": "conv_1", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    ],
)
@respx.mock
async def test_unreadable_json_from_elevenlabs_is_a_provider_error(
    http: httpx.AsyncClient, body: bytes
) -> None:
    client = ElevenLabsClient(http, base_url="https://el.example", api_key="k", agent_id=None)
    respx.get(f"{CONVERSATIONS}/conv_1").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(ProviderError, match="invalid JSON"):
        await client.get_conversation("conv_1")


@respx.mock
async def test_list_items_of_the_wrong_shape_are_skipped_or_read_as_unknown(
    http: httpx.AsyncClient,
) -> None:
    client = ElevenLabsClient(http, base_url="https://el.example", api_key="k", agent_id=None)
    respx.get(CONVERSATIONS).mock(
        return_value=httpx.Response(
            200,
            content=json.dumps(
                {
                    "conversations": [
                        5,
                        {"conversation_id": 7},
                        {
                            "conversation_id": "conv_ok",
                            "call_duration_secs": 2**40,
                            "start_time_unix_secs": [1],
                            "agent_name": {"a": 1},
                            "status": "done",
                        },
                    ],
                    "has_more": False,
                }
            ).encode(),
        )
    )
    page = await client.list_conversations()
    assert [item.conversation_id for item in page.items] == ["conv_ok"]
    item = page.items[0]
    assert (item.duration_secs, item.started_at, item.agent_name) == (None, None, None)
    assert item.status == "done"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("²", None),  # "²".isdigit() is true in Python
        ("7", 7.0),
        ("9" * 400, 86_400.0),
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),  # a naive date: UTC
        ("Wed, 21 Oct 99999 07:28:00 GMT", None),
    ],
)
@respx.mock
async def test_odd_retry_after_headers_are_read_safely(
    http: httpx.AsyncClient, value: str, expected: float | None
) -> None:
    respx.post(MESSAGES).mock(
        return_value=httpx.Response(
            429, headers=[(b"retry-after", value.encode("latin-1"))], json={}
        )
    )
    with pytest.raises(RetryableProviderError) as caught:
        await twilio(http).send_sms("+5491155551234", "x")
    assert caught.value.retry_after == expected


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"code": 21211, "message": "bad \\u0000 number"}',
        b'{"code": NaN}',
    ],
)
@respx.mock
async def test_unreadable_error_bodies_are_classified_by_status(
    http: httpx.AsyncClient, body: bytes
) -> None:
    respx.post(MESSAGES).mock(return_value=httpx.Response(400, content=body))
    with pytest.raises(PermanentProviderError, match="HTTP 400"):
        await twilio(http).send_sms("+5491155551234", "x")
    bot = BuilderBotClient(http, base_url="https://bb.example", api_key="k", bot_id="b")
    respx.post("https://bb.example/api/v2/b/messages").mock(
        return_value=httpx.Response(400, content=body)
    )
    with pytest.raises(PermanentProviderError, match="HTTP 400"):
        await bot.send_whatsapp("+5491155551234", "x")
