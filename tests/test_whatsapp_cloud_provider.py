"""The WhatsApp Cloud API provider: the webhook adapter on the reference payloads
(tests/fixtures/whatsapp_cloud, copied verbatim from Meta's documented examples), the signature
and the handshake, and the client's edge cases with respx."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from contact_center.providers import whatsapp_cloud as wa
from contact_center.providers.base import (
    IgnoredEvent,
    InboundAuthFailed,
    InboundRequest,
    MediaRef,
    PermanentProviderError,
    ProviderAuthError,
    ProviderName,
    ProviderNotFound,
    RetryableProviderError,
    TemplateButtonParameter,
    TemplateMessage,
    UnparseablePayload,
    WhatsAppMessageEvent,
    WhatsAppStatusEvent,
)
from contact_center.providers.registry import (
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
    EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
    INBOUND_ROUTES,
    build_inbound,
    build_providers,
    emulated_providers,
    whatsapp_cloud_credentials,
)
from contact_center.providers.whatsapp_cloud import (
    WhatsAppCloudClient,
    WhatsAppCloudInbound,
    otp_template,
)
from contact_center.settings import ConfigError, Settings

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp_cloud"
SECRET = "test_app_secret"
ADAPTER = WhatsAppCloudInbound(app_secret=SECRET, verify_token="verify-me")
BASE = "https://graph.test"
ROOT = f"{BASE}/v23.0"
MESSAGES = f"{ROOT}/100000000000001/messages"
TEMPLATES = f"{ROOT}/200000000000001/message_templates"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()


def with_message(message: dict[str, Any]) -> dict[str, Any]:
    """The full envelope of §2.1 holding another of the reference's messages."""
    body: dict[str, Any] = fixture("inbound_text")
    body["entry"][0]["changes"][0]["value"]["messages"] = [message]
    return body


def with_value(value: dict[str, Any]) -> dict[str, Any]:
    """The full envelope of §2.1 with another of the reference's `value`s."""
    body: dict[str, Any] = fixture("inbound_text")
    body["entry"][0]["changes"][0]["value"] = value
    return body


def parse(body: dict[str, Any]) -> Any:
    [one] = ADAPTER.updates(raw(body))
    return ADAPTER.parse(one)


# --- the reference's payloads ---------------------------------------------------------------


def test_inbound_text_is_a_message_event() -> None:
    event = parse(fixture("inbound_text"))
    assert event == WhatsAppMessageEvent(
        direction="INBOUND",
        customer_number="5491100000000",
        customer_name="Juana Perez",
        body="Hola, necesito ayuda con mi tarjeta",
        attachments=[],
        project_id="100000000000001",
        provider=ProviderName.WHATSAPP_CLOUD,
        provider_message_id="wamid.FAKE_IN_0001",
        reply_to=None,
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        media=[],
        message_type="text",
        user_id="AR.1000000000000000001",
    )
    assert ADAPTER.event_key(event, b"") == "wamid.FAKE_IN_0001"
    assert ADAPTER.event_type(event) == "message.text"


@pytest.mark.parametrize(
    ("name", "body", "media"),
    [
        (
            "message_image",
            "foto del recibo",
            MediaRef(
                media_id="300000000000001",
                content_type="image/jpeg",
                filename=None,
                sha256="SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
            ),
        ),
        (
            "message_document",
            "DNI",
            MediaRef(
                media_id="300000000000002",
                content_type="application/pdf",
                filename="dni.pdf",
                sha256="grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=",
            ),
        ),
        (
            "message_audio",
            None,
            MediaRef(
                media_id="300000000000003",
                content_type="audio/ogg; codecs=opus",
                filename=None,
                sha256="m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
                voice=True,
            ),
        ),
    ],
)
def test_media_messages_name_their_media_by_id(
    name: str, body: str | None, media: MediaRef
) -> None:
    event = parse(with_message(fixture(name)))
    assert isinstance(event, WhatsAppMessageEvent)
    assert event.body == body
    assert event.media == [media]
    assert event.attachments == []
    assert event.message_type == name.removeprefix("message_")
    assert event.customer_name == "Juana Perez"  # paired with its contact by wa_id


def test_a_reply_keeps_the_quoted_message() -> None:
    event = parse(with_message(fixture("message_reply")))
    assert isinstance(event, WhatsAppMessageEvent)
    assert (event.body, event.reply_to) == ("sí, esa", "wamid.FAKE_OUT_0001")


def test_a_button_reply_is_its_title() -> None:
    event = parse(with_message(fixture("message_button_reply")))
    assert isinstance(event, WhatsAppMessageEvent)
    assert (event.body, event.reply_to, event.message_type) == (
        "Sí",
        "wamid.FAKE_OUT_0002",
        "interactive",
    )


def test_statuses_are_status_events_keyed_by_wamid_and_status() -> None:
    sent = parse(with_value(fixture("status_sent_value")))
    assert sent == WhatsAppStatusEvent(
        provider=ProviderName.WHATSAPP_CLOUD,
        provider_message_id="wamid.FAKE_OUT_0001",
        status="sent",
        occurred_at=datetime.fromtimestamp(1767226000, UTC),
        recipient="5491100000000",
    )
    assert ADAPTER.event_key(sent, b"") == "wamid.FAKE_OUT_0001:sent"
    assert ADAPTER.event_type(sent) == "status.sent"
    # delivered and read in one body: two updates.
    body = with_value(fixture("status_sent_value") | fixture("status_delivered_read_value"))
    updates = ADAPTER.updates(raw(body))
    events = [ADAPTER.parse(update) for update in updates]
    assert [ADAPTER.event_key(e, u) for e, u in zip(events, updates, strict=True)] == [
        "wamid.FAKE_OUT_0001:delivered",
        "wamid.FAKE_OUT_0001:read",
    ]


def test_a_failed_status_carries_its_error() -> None:
    value = fixture("status_sent_value") | fixture("status_failed_value")
    event = parse(with_value(value))
    assert isinstance(event, WhatsAppStatusEvent)
    assert (event.status, event.error_code, event.error_title) == (
        "failed",
        "131047",
        "Re-engagement message",
    )
    assert event.error_details is not None
    # What to do first (as a refusal at send time says it), then Meta's own words.
    assert event.error_details.startswith("The customer last wrote more than 24 hours ago")
    assert "send an approved template" in event.error_details
    assert event.error_details.endswith(
        "(Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.)"
    )


def test_errors_and_other_fields_are_ignored_and_keyed_by_their_body() -> None:
    body = with_value(fixture("errors_value"))
    [update] = ADAPTER.updates(raw(body))
    event = ADAPTER.parse(update)
    assert event == IgnoredEvent(kind="errors:130429")
    assert ADAPTER.event_key(event, update) == hashlib.sha256(update).hexdigest()
    other = fixture("inbound_text")
    other["entry"][0]["changes"][0] = {
        "field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "verification_code"},
    }
    assert parse(other) == IgnoredEvent(kind="message_template_status_update")


@pytest.mark.parametrize(
    "message",
    [
        {"from": "5491100000000", "id": "wamid.S", "timestamp": "1", "type": "system",
         "system": {"body": "changed", "wa_id": "5491100000001", "type": "user_changed_number"}},
        {"from": "5491100000000", "id": "wamid.U", "timestamp": "1", "type": "unsupported",
         "errors": [{"code": 131051, "title": "Message type unknown"}]},
        {"from": "5491100000000", "id": "wamid.R", "timestamp": "1", "type": "reaction",
         "reaction": {"message_id": "wamid.FAKE_OUT_0001", "emoji": "👍"}},
    ],
)  # fmt: skip
def test_system_unsupported_and_reactions_are_ignored(message: dict[str, Any]) -> None:
    [update] = ADAPTER.updates(raw(with_message(message)))
    event = ADAPTER.parse(update)
    assert event == IgnoredEvent(kind=f"message.{message['type']}")
    assert ADAPTER.event_key(event, update) == message["id"]  # kept once, like any message


def test_the_batch_splits_into_one_body_per_message_and_status() -> None:
    batch = fixture("batch")
    updates = ADAPTER.updates(raw(batch))
    events = [ADAPTER.parse(update) for update in updates]
    keys = [ADAPTER.event_key(e, u) for e, u in zip(events, updates, strict=True)]
    assert keys == [
        "wamid.FAKE_IN_0010",
        "wamid.FAKE_IN_0011",
        "wamid.FAKE_OUT_0004:delivered",
        "wamid.FAKE_OUT_0005:read",
    ]
    first, second = events[0], events[1]
    assert isinstance(first, WhatsAppMessageEvent)
    assert isinstance(second, WhatsAppMessageEvent)
    assert (first.customer_name, first.body) == ("Juana Perez", "uno")
    assert (second.customer_name, second.body) == ("Luis", "dos")
    # Each body is the same envelope with only that message and its own contact.
    one = json.loads(updates[1])
    value = one["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Luis"}, "wa_id": "5491100000001"}]
    assert [m["id"] for m in value["messages"]] == ["wamid.FAKE_IN_0011"]
    assert value["metadata"]["phone_number_id"] == "100000000000001"
    assert one["object"] == "whatsapp_business_account"
    assert one["entry"][0]["id"] == "200000000000001"
    fourth = json.loads(updates[3])
    assert fourth["entry"][0]["id"] == "200000000000002"
    assert "contacts" not in fourth["entry"][0]["changes"][0]["value"]
    # The same update batched differently is the same body (and key).
    alone = ADAPTER.updates(updates[1])
    assert alone == [updates[1]]


def test_a_body_that_is_one_update_is_itself_and_unreadable_bodies_stay_whole() -> None:
    for hostile in (b"", b"not json", b"\xff\xfe", b"[]", b'{"entry": 5}', b"{" * 10_000):
        assert ADAPTER.updates(hostile) == [hostile]
        with pytest.raises(UnparseablePayload):
            ADAPTER.parse(hostile)


def test_an_unreadable_update_is_kept_alone_beside_the_readable_ones() -> None:
    batch = fixture("batch")
    batch["entry"][0]["changes"][0]["value"]["messages"].append({"id": 5, "type": "text"})
    batch["entry"].append("not an entry")
    updates = ADAPTER.updates(raw(batch))
    assert len(updates) == 6
    readable, unreadable = [], []
    for update in updates:
        try:
            readable.append(ADAPTER.parse(update))
        except UnparseablePayload as exc:
            unreadable.append(str(exc))
    assert len(readable) == 4
    assert unreadable == ["'message.id' is not a string", "'entry[0]' is not an object"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"from": ["5491100000000"], "id": "wamid.X", "type": "text", "text": {"body": "x"}},
         "'message.from' is not a string"),
        ({"from": "5491100000000", "id": "wamid.X", "type": "text", "text": "x"},
         "'message.text' is not an object"),
        ({"from": "5491100000000", "id": "wamid.X", "type": "text", "text": {"body": 5}},
         "'message.text.body' is not a string"),
        ({"from": "5491100000000", "id": "w" * 400, "type": "text", "text": {"body": "x"}},
         "'message.id' is longer than 128 characters"),
        ({"from": "5491100000000", "id": "wamid.X", "timestamp": "soon", "type": "text",
          "text": {"body": "x"}}, "'message.timestamp' is not a number"),
        ({"from": "5491100000000", "id": "wamid.X", "timestamp": 1e300, "type": "text",
          "text": {"body": "x"}}, "'message.timestamp' is out of range"),
        ({"from": "1" * 30, "id": "wamid.X", "type": "text", "text": {"body": "x"}},
         "'message.from' is not a phone number"),
        ({"from": "5491100000000", "id": "wamid.X", "type": "image", "image": {"id": "../x"}},
         "'message.image.id' is not a media id"),
        ({"id": "wamid.X", "type": "text", "text": {"body": "x"}},
         "the customer ('message.from') is missing"),
        ({"from": "5491100000000", "id": "wamid.X", "type": "TEXT!", "text": {"body": "x"}},
         "'message.type' is not a message type"),
    ],
)  # fmt: skip
def test_hostile_messages_are_refused_with_a_reason(message: dict[str, Any], reason: str) -> None:
    [update] = ADAPTER.updates(raw(with_message(message)))
    with pytest.raises(UnparseablePayload) as caught:
        ADAPTER.parse(update)
    assert str(caught.value) == reason


def test_timestamps_may_be_strings_or_integers() -> None:
    message = fixture("message_reply") | {"timestamp": 1767225800}
    event = parse(with_message(message))
    assert isinstance(event, WhatsAppMessageEvent)
    assert event.sent_at == datetime.fromtimestamp(1767225800, UTC)


def test_a_recipient_that_is_not_a_phone_number_is_left_out() -> None:
    for recipient, expected in (("5491100000000", "5491100000000"), ("US.1349120865", None)):
        status = {"id": "wamid.X", "status": "read", "timestamp": "1", "recipient_id": recipient}
        event = parse(with_value({"statuses": [status]}))
        assert isinstance(event, WhatsAppStatusEvent)
        assert event.recipient == expected


def test_status_keys_fit_the_ledger() -> None:
    status = {"id": "w" * 128, "status": "delivered", "timestamp": "1", "recipient_id": "1"}
    event = parse(with_value({"statuses": [status]}))
    assert len(ADAPTER.event_key(event, b"")) <= 300
    bad = {"id": "wamid.X", "status": "<script>", "timestamp": "1"}
    with pytest.raises(UnparseablePayload):
        parse(with_value({"statuses": [bad]}))


def test_a_body_of_several_updates_is_not_parsed_whole() -> None:
    with pytest.raises(UnparseablePayload, match="holds 2 updates"):
        ADAPTER.parse((FIXTURES / "batch.json").read_bytes())


# --- signature and handshake ----------------------------------------------------------------


def _request(body: bytes, headers: dict[str, str]) -> InboundRequest:
    return InboundRequest(raw=body, headers=headers, query={}, url="http://x/webhooks/x")


def test_the_reference_signature_vector() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    expected = "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
    assert wa.signature(SECRET, body) == expected
    ADAPTER.authenticate(_request(body, {"x-hub-signature-256": expected}))
    ADAPTER.authenticate(_request(body, {"x-hub-signature-256": expected.upper()}))
    for header in (
        {},
        {"x-hub-signature-256": ""},
        {"x-hub-signature-256": expected[:-1] + "0"},
        {"x-hub-signature-256": expected.removeprefix("sha256=")},
        {"x-hub-signature-256": "sha1=" + expected.removeprefix("sha256=")},
        {"x-hub-signature-256": "sha256=ñ"},
    ):
        with pytest.raises(InboundAuthFailed):
            ADAPTER.authenticate(_request(body, header))
    with pytest.raises(InboundAuthFailed):  # the body as signed, one byte changed
        ADAPTER.authenticate(_request(body + b" ", {"x-hub-signature-256": expected}))
    unconfigured = WhatsAppCloudInbound(app_secret=None, verify_token=None)
    with pytest.raises(InboundAuthFailed):
        unconfigured.authenticate(_request(body, {"x-hub-signature-256": expected}))


def test_the_signature_covers_the_raw_bytes_not_reserialized_json() -> None:
    body = '{"text": "äöå"}'.encode()
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    ADAPTER.authenticate(_request(body, {"x-hub-signature-256": header}))
    escaped = json.dumps(json.loads(body)).encode()  # \u00e4…: other bytes
    with pytest.raises(InboundAuthFailed):
        ADAPTER.authenticate(_request(escaped, {"x-hub-signature-256": header}))


def test_the_handshake_answers_only_to_the_verify_token() -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert ADAPTER.verify_subscription(good) == "1158201444"
    for bad in (
        {**good, "hub.verify_token": "verify-you"},
        {**good, "hub.mode": "unsubscribe"},
        {k: v for k, v in good.items() if k != "hub.mode"},
        {k: v for k, v in good.items() if k != "hub.verify_token"},
        {k: v for k, v in good.items() if k != "hub.challenge"},
        {**good, "hub.challenge": "<script>alert(1)</script>"},
        {**good, "hub.challenge": "1" * 300},
        {**good, "hub.verify_token": "vérify-me"},
    ):
        with pytest.raises(InboundAuthFailed):
            ADAPTER.verify_subscription(bad)
    with pytest.raises(InboundAuthFailed):
        WhatsAppCloudInbound(app_secret=SECRET, verify_token=None).verify_subscription(good)


# --- the registry -----------------------------------------------------------------------------


def test_emulated_without_a_token_with_fixed_credentials(settings: Settings) -> None:
    assert ProviderName.WHATSAPP_CLOUD in emulated_providers(settings)
    credentials = whatsapp_cloud_credentials(settings)
    assert credentials.api_url.endswith("/_emulator/whatsapp-cloud")
    assert (credentials.phone_number_id, credentials.waba_id) == (
        "100000000000001",
        "200000000000001",
    )
    assert credentials.app_secret == EMULATOR_WHATSAPP_CLOUD_APP_SECRET
    assert credentials.verify_token == EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN
    assert INBOUND_ROUTES[ProviderName.WHATSAPP_CLOUD].handshake
    adapter = build_inbound(settings)[ProviderName.WHATSAPP_CLOUD]
    assert isinstance(adapter, WhatsAppCloudInbound)


def test_production_never_trusts_the_emulators_public_secrets(settings_factory: Any) -> None:
    settings: Settings = settings_factory(APP_ENV="production")
    assert ProviderName.WHATSAPP_CLOUD in emulated_providers(settings)
    credentials = whatsapp_cloud_credentials(settings)
    assert (credentials.app_secret, credentials.verify_token) == (None, None)
    adapter = build_inbound(settings)[ProviderName.WHATSAPP_CLOUD]
    body = b"{}"
    forged = {"x-hub-signature-256": wa.signature(EMULATOR_WHATSAPP_CLOUD_APP_SECRET, body)}
    with pytest.raises(InboundAuthFailed):
        adapter.authenticate(_request(body, forged))
    with pytest.raises(InboundAuthFailed):
        adapter.verify_subscription(
            {
                "hub.mode": "subscribe",
                "hub.verify_token": EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
                "hub.challenge": "1",
            }
        )


def test_live_credentials_and_who_sends(settings_factory: Any) -> None:
    settings: Settings = settings_factory(
        WHATSAPP_CLOUD_ACCESS_TOKEN="EAAG-live",
        WHATSAPP_CLOUD_PHONE_NUMBER_ID="123",
        WHATSAPP_CLOUD_WABA_ID="456",
        WHATSAPP_CLOUD_APP_SECRET="s3cret",
        WHATSAPP_CLOUD_BASE_URL="https://graph.facebook.com/",
    )
    assert ProviderName.WHATSAPP_CLOUD not in emulated_providers(settings)
    credentials = whatsapp_cloud_credentials(settings)
    assert credentials.api_url == "https://graph.facebook.com"
    assert (credentials.access_token, credentials.verify_token) == ("EAAG-live", None)
    providers = build_providers(settings, httpx.AsyncClient())
    assert providers.whatsapp_provider is ProviderName.BUILDERBOT
    assert providers.whatsapp_templates is None
    assert isinstance(providers.whatsapp_media, WhatsAppCloudClient)
    cloud = build_providers(settings_factory(WHATSAPP_PROVIDER="cloud"), httpx.AsyncClient())
    assert cloud.whatsapp_provider is ProviderName.WHATSAPP_CLOUD
    assert isinstance(cloud.whatsapp, WhatsAppCloudClient)
    assert cloud.whatsapp_templates is cloud.whatsapp
    assert cloud.whatsapp_template_source is cloud.whatsapp
    with pytest.raises(ConfigError, match="WHATSAPP_CLOUD_BASE_URL"):
        settings_factory(WHATSAPP_CLOUD_BASE_URL="ftp://graph")


# --- the client, with respx ---------------------------------------------------------------------


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient() as http:
        yield WhatsAppCloudClient(
            http,
            base_url=BASE,
            version="v23.0",
            token="tok",
            phone_number_id="100000000000001",
            waba_id="200000000000001",
        )


def _sent(route: respx.Route) -> Any:
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tok"
    return json.loads(request.content)


@respx.mock
async def test_text_is_sent_as_the_reference_shows(client: WhatsAppCloudClient) -> None:
    route = respx.post(MESSAGES).respond(200, json=fixture("send_response"))
    receipt = await client.send_whatsapp("+54 9 11 0000-0000", "Hola Juana, ¿en qué te ayudo?")
    assert _sent(route) == fixture("send_text_request")
    assert receipt.provider_message_id == "wamid.FAKE_OUT_0001"
    assert receipt.status == "accepted"


@respx.mock
async def test_media_goes_by_link_with_the_text_as_caption(client: WhatsAppCloudClient) -> None:
    route = respx.post(MESSAGES).respond(200, json=fixture("send_response"))
    await client.send_whatsapp(
        "+5491100000000", "Tu recibo", media_url="https://files.example.test/recibo.jpg"
    )
    assert _sent(route) == fixture("send_image_link_request")
    await client.send_whatsapp(
        "+5491100000000", "Resumen", media_url="https://files.example.test/resumen.pdf"
    )
    assert _sent(route)["document"] == {
        "link": "https://files.example.test/resumen.pdf",
        "caption": "Resumen",
        "filename": "resumen.pdf",
    }
    await client.send_whatsapp("+5491100000000", "", media_url="https://f.test/nota.ogg")
    assert _sent(route)["audio"] == {"link": "https://f.test/nota.ogg"}
    assert route.call_count == 3
    # Audio takes no caption: the text goes first, on its own.
    await client.send_whatsapp("+5491100000000", "escuchá", media_url="https://f.test/n.ogg")
    texts = [json.loads(call.request.content) for call in route.calls[-2:]]
    assert [t["type"] for t in texts] == ["text", "audio"]


@respx.mock
async def test_the_authentication_template_carries_the_code_twice(
    client: WhatsAppCloudClient,
) -> None:
    route = respx.post(MESSAGES).respond(200, json=fixture("send_response"))
    receipt = await client.send_template(
        "+5491100000000", otp_template("verification_code", "es_AR", "482913")
    )
    assert _sent(route) == fixture("send_auth_template_request")
    assert receipt.provider_message_id == "wamid.FAKE_OUT_0001"


@respx.mock
async def test_templates_with_body_and_buttons(client: WhatsAppCloudClient) -> None:
    route = respx.post(MESSAGES).respond(200, json=fixture("send_response"))
    await client.send_template(
        "+5491100000000",
        TemplateMessage(
            name="payment_reminder",
            language="es_AR",
            header=["Aviso"],
            body=["Juana", "10 de enero"],
            buttons=[
                TemplateButtonParameter(index=0, sub_type="quick_reply", value="PAY_NOW"),
                TemplateButtonParameter(index=1, sub_type="url", value="abc123"),
            ],
        ),
    )
    template = _sent(route)["template"]
    reference = fixture("send_template_request")["template"]
    assert template["components"][2:] == reference["components"][2:]  # the buttons, verbatim
    assert template["components"][1] == {
        "type": "body",
        "parameters": [{"type": "text", "text": "Juana"}, {"type": "text", "text": "10 de enero"}],
    }
    assert template["components"][0]["type"] == "header"
    await client.send_template("+5491100000000", TemplateMessage(name="hello", language="en_US"))
    assert _sent(route)["template"] == {"name": "hello", "language": {"code": "en_US"}}


def _error(code: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("error_response")
    body["error"]["code"] = code
    body["error"].update(extra)
    return body


RETRYABLE = [130429, 131056, 80007, 4, 131057, 131000, 1, 2, 131016, 133004]
AUTH = [190, 0, 10, 200, 299, 131005]
PERMANENT = [131047, 131026, 131049, 131050, 132000, 132001, 132012, 100, 133010, 368, 135000]


@pytest.mark.parametrize("code", RETRYABLE)
@respx.mock
async def test_transient_codes_retry(client: WhatsAppCloudClient, code: int) -> None:
    respx.post(MESSAGES).respond(400, json=_error(code))
    with pytest.raises(RetryableProviderError) as caught:
        await client.send_whatsapp("+5491100000000", "x")
    assert caught.value.code == str(code)
    assert caught.value.status == 400
    if code == 131056:  # the pair rate limit: wait at least its 6 s
        assert caught.value.retry_after == 6.0


@pytest.mark.parametrize("code", AUTH)
@respx.mock
async def test_token_and_permission_codes_are_auth_errors(
    client: WhatsAppCloudClient, code: int
) -> None:
    respx.post(MESSAGES).respond(401 if code == 190 else 403, json=_error(code))
    with pytest.raises(ProviderAuthError) as caught:
        await client.send_whatsapp("+5491100000000", "x")
    assert caught.value.code == str(code)


@pytest.mark.parametrize("code", PERMANENT)
@respx.mock
async def test_other_codes_are_permanent(client: WhatsAppCloudClient, code: int) -> None:
    respx.post(MESSAGES).respond(404 if code == 132001 else 400, json=_error(code))
    with pytest.raises(PermanentProviderError) as caught:
        await client.send_whatsapp("+5491100000000", "x")
    assert not caught.value.retryable
    assert not isinstance(caught.value, ProviderAuthError)
    assert caught.value.code == str(code)


@respx.mock
async def test_the_window_and_undeliverable_say_what_to_do(client: WhatsAppCloudClient) -> None:
    respx.post(MESSAGES).respond(400, json=_error(131047))
    with pytest.raises(PermanentProviderError) as window:
        await client.send_whatsapp("+5491100000000", "x")
    assert "send an approved template" in window.value.message
    respx.post(MESSAGES).respond(400, json=_error(131026))
    with pytest.raises(PermanentProviderError) as undeliverable:
        await client.send_whatsapp("+5491100000000", "x")
    assert "use SMS" in undeliverable.value.message
    assert undeliverable.value.code == "131026"


@respx.mock
async def test_the_token_error_without_error_data(client: WhatsAppCloudClient) -> None:
    respx.post(MESSAGES).respond(401, json=fixture("token_error_response"))
    with pytest.raises(ProviderAuthError) as caught:
        await client.send_whatsapp("+5491100000000", "x")
    assert caught.value.code == "190"
    assert "Error validating access token" in caught.value.message
    # error_data as a plain string (template APIs) is its details.
    respx.post(MESSAGES).respond(400, json=_error(132001, error_data="no such template"))
    with pytest.raises(PermanentProviderError) as plain:
        await client.send_whatsapp("+5491100000000", "x")
    assert "no such template" in plain.value.message


@respx.mock
async def test_http_failures_without_a_graph_error(client: WhatsAppCloudClient) -> None:
    route = respx.post(MESSAGES)
    route.respond(429, headers={"Retry-After": "7"}, text="slow down")
    with pytest.raises(RetryableProviderError) as limited:
        await client.send_whatsapp("+5491100000000", "x")
    assert limited.value.retry_after == 7
    route.respond(502, text="<html>bad gateway</html>")
    with pytest.raises(RetryableProviderError):
        await client.send_whatsapp("+5491100000000", "x")
    route.respond(503, json=_error(100))  # a 5xx retries whatever code it names
    with pytest.raises(RetryableProviderError):
        await client.send_whatsapp("+5491100000000", "x")
    route.respond(400, json=_error(130429), headers={"Retry-After": "12"})
    with pytest.raises(RetryableProviderError) as coded:
        await client.send_whatsapp("+5491100000000", "x")
    assert coded.value.retry_after == 12
    route.respond(401, text="")
    with pytest.raises(ProviderAuthError):
        await client.send_whatsapp("+5491100000000", "x")
    route.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableProviderError):
        await client.send_whatsapp("+5491100000000", "x")
    route.mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(RetryableProviderError):
        await client.send_whatsapp("+5491100000000", "x")


@respx.mock
async def test_an_answer_without_a_message_id_is_an_error(client: WhatsAppCloudClient) -> None:
    respx.post(MESSAGES).respond(200, json={"messaging_product": "whatsapp", "messages": []})
    with pytest.raises(PermanentProviderError):
        await client.send_whatsapp("+5491100000000", "x")


@respx.mock
async def test_templates_follow_paging_next(client: WhatsAppCloudClient) -> None:
    first = fixture("templates_page")
    first["paging"]["next"] = f"{TEMPLATES}?after=MjQZD&limit=100"
    second = {
        "data": [
            {"name": "recordatorio_pago", "language": "es_AR", "status": "APPROVED",
             "category": "UTILITY", "id": "2", "components": [{"type": "BODY", "text": "{{1}}"}]},
            {"name": 5},  # unreadable: left out
        ],
        "paging": {"cursors": {"before": "x", "after": "y"}},
    }  # fmt: skip
    route = respx.get(url__startswith=TEMPLATES)
    route.side_effect = [httpx.Response(200, json=first), httpx.Response(200, json=second)]
    found = await client.list_templates()
    assert [(t.name, t.language, t.status, t.category) for t in found] == [
        ("verification_code", "es_AR", "APPROVED", "AUTHENTICATION"),
        ("recordatorio_pago", "es_AR", "APPROVED", "UTILITY"),
    ]
    assert found[0].provider_template_id == "400000000000001"
    assert found[0].components[0]["type"] == "BODY"
    assert route.call_count == 2
    assert "fields=name" in str(route.calls[0].request.url)
    assert str(route.calls[1].request.url) == first["paging"]["next"]


@respx.mock
async def test_templates_paging_stops_at_foreign_hosts_and_the_page_limit(
    client: WhatsAppCloudClient,
) -> None:
    page = fixture("templates_page")
    page["paging"]["next"] = "https://evil.test/steal"
    respx.get(url__startswith=TEMPLATES).respond(200, json=page)
    assert len(await client.list_templates()) == 1
    endless = fixture("templates_page")
    endless["paging"]["next"] = f"{TEMPLATES}?after=again"
    route = respx.get(url__startswith=TEMPLATES).respond(200, json=endless)
    route.calls.clear()
    assert len(await client.list_templates()) == wa.MAX_TEMPLATE_PAGES
    assert route.call_count == wa.MAX_TEMPLATE_PAGES
    respx.get(url__startswith=TEMPLATES).respond(200, json={"error": "x"})
    with pytest.raises(PermanentProviderError):
        await client.list_templates()


@respx.mock
async def test_media_is_fetched_with_the_token(client: WhatsAppCloudClient) -> None:
    info = fixture("media_info")
    info["url"] = "https://lookaside.fbsbx.com/file?mid=1"
    respx.get(f"{ROOT}/300000000000001").respond(200, json=info)
    download = respx.get("https://lookaside.fbsbx.com/file?mid=1").respond(
        200, content=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"}
    )
    media = await client.fetch_media("300000000000001")
    assert (media.content, media.content_type, media.sha256) == (
        b"\xff\xd8jpeg",
        "image/jpeg",
        "<hash>",
    )
    request = download.calls.last.request
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["user-agent"].startswith("contact-center")
    # file_size as an integer is read too, and a file over the cap is refused.
    respx.get(f"{ROOT}/300000000000001").respond(200, json=info | {"file_size": 10**9})
    with pytest.raises(PermanentProviderError):
        await client.fetch_media("300000000000001")


@respx.mock
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",  # an internal address
        "http://lookaside.fbsbx.com/file?mid=1",  # Meta's host without TLS
        "https://lookaside.fbsbx.com.evil.test/file",
        "https://evil.test/lookaside.fbsbx.com/file",
        "https://user:pw@lookaside.fbsbx.com/file",
        "https://lookaside.fbsbx.com:8443/file",
        "https://[::1/file",
        "file:///etc/passwd",
    ],
)
async def test_the_token_goes_to_no_host_but_metas(client: WhatsAppCloudClient, url: str) -> None:
    info = fixture("media_info") | {"url": url}
    respx.get(f"{ROOT}/300000000000001").respond(200, json=info)
    elsewhere = respx.route(host__regex=r"^(?!graph\.test$)").respond(200, content=b"secret")
    with pytest.raises(PermanentProviderError, match="host of Meta's"):
        await client.fetch_media("300000000000001")
    assert not elsewhere.called


@respx.mock
async def test_a_download_errors_body_is_read_only_so_far(client: WhatsAppCloudClient) -> None:
    info = fixture("media_info") | {"url": "https://lookaside.fbsbx.com/big"}
    respx.get(f"{ROOT}/300000000000001").respond(200, json=info)
    respx.get("https://lookaside.fbsbx.com/big").respond(500, content=b"x" * (10 * 1024 * 1024))
    with pytest.raises(RetryableProviderError):
        await client.fetch_media("300000000000001")


@respx.mock
async def test_expired_media_is_not_found(client: WhatsAppCloudClient) -> None:
    respx.get(f"{ROOT}/300000000000009").respond(
        400, json=_error(100, error_subcode=33, error_data={"details": "does not exist"})
    )
    with pytest.raises(ProviderNotFound):
        await client.fetch_media("300000000000009")
    respx.get(f"{ROOT}/300000000000008").respond(404, json=_error(100))
    with pytest.raises(ProviderNotFound):
        await client.fetch_media("300000000000008")
    with pytest.raises(ProviderNotFound):
        await client.fetch_media("../../me")
    # The URL answers 404: a new URL is asked for once, then it is not found.
    info = fixture("media_info") | {"url": "https://lookaside.fbsbx.com/gone"}
    lookup = respx.get(f"{ROOT}/300000000000007").respond(200, json=info)
    respx.get("https://lookaside.fbsbx.com/gone").respond(404)
    with pytest.raises(ProviderNotFound):
        await client.fetch_media("300000000000007")
    assert lookup.call_count == 2
    respx.get(f"{ROOT}/300000000000006").respond(500)
    with pytest.raises(RetryableProviderError):
        await client.fetch_media("300000000000006")
