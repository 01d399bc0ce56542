"""The WhatsApp Cloud API client against the emulator, over real HTTP: sends, the 24-hour
window, templates, faults, media, and the signed webhooks the emulator delivers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contact_center.app import create_app
from contact_center.emulator.state import EmulatorState
from contact_center.emulator.traffic import SimulatedTraffic
from contact_center.providers.base import (
    InboundRequest,
    PermanentProviderError,
    ProviderAuthError,
    ProviderNotFound,
    RetryableProviderError,
    TemplateMessage,
    WhatsAppMessageEvent,
    WhatsAppStatusEvent,
)
from contact_center.providers.registry import (
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
    EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
    Providers,
)
from contact_center.providers.whatsapp_cloud import (
    WhatsAppCloudClient,
    WhatsAppCloudInbound,
    otp_template,
)
from contact_center.settings import Settings
from tests.live import Received, Receiver, free_port, serve

pytestmark = pytest.mark.usefixtures("backend")
ADAPTER = WhatsAppCloudInbound(
    app_secret=EMULATOR_WHATSAPP_CLOUD_APP_SECRET, verify_token=EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN
)
CUSTOMER = "+5491155551234"


@dataclass
class Live:
    base: str
    providers: Providers
    http: httpx.AsyncClient
    receiver: Receiver
    state: EmulatorState

    @property
    def cloud(self) -> WhatsAppCloudClient:
        assert isinstance(self.providers.whatsapp, WhatsAppCloudClient)
        return self.providers.whatsapp

    async def emulator(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{self.base}/_emulator{path}", **kwargs)

    async def events(self, count: int) -> list[Any]:
        """The first `count` updates the emulator delivered (signature checked), in order."""
        found: list[Any] = []
        for _ in range(100):
            found = [event for request in self.receiver.requests for event in _updates(request)]
            if len(found) >= count:
                return found
            await self.receiver.wait_for(len(self.receiver.requests) + 1)
        raise AssertionError(found)


def _updates(request: Received) -> list[Any]:
    assert request.url.endswith("/webhooks/whatsapp-cloud")
    ADAPTER.authenticate(request_of(request))
    return [ADAPTER.parse(update) for update in ADAPTER.updates(request.body)]


def request_of(received: Received) -> InboundRequest:
    return InboundRequest(raw=received.body, headers=received.headers, query={}, url=received.url)


@pytest.fixture
async def live(settings_factory: Any) -> AsyncIterator[Live]:
    receiver = Receiver()
    async with serve(receiver.app()) as receiver_url:
        port = free_port()
        settings: Settings = settings_factory(
            APP_PORT=str(port), EMULATOR_TARGET_URL=receiver_url, WHATSAPP_PROVIDER="cloud"
        )
        app = create_app(settings, migrate=False)
        app.state.emulator.callback_delays = (0.05, 0.1)
        async with serve(app, port) as base, httpx.AsyncClient(timeout=10) as http:
            yield Live(base, app.state.providers, http, receiver, app.state.emulator)


async def test_text_inside_the_window_is_sent_then_sent_delivered_read(live: Live) -> None:
    await live.emulator("POST", "/whatsapp-cloud/wrote", json={"number": CUSTOMER})
    receipt = await live.cloud.send_whatsapp(CUSTOMER, "Hola Juana, ¿en qué te ayudo?")
    assert receipt.provider_message_id is not None
    assert receipt.provider_message_id.startswith("wamid.")
    outbox = (
        await live.emulator("GET", "/whatsapp-cloud/outbox", params={"number": "5491155551234"})
    ).json()
    [item] = outbox["items"]
    assert (item["to"], item["type"], item["body"]) == (
        "5491155551234",
        "text",
        "Hola Juana, ¿en qué te ayudo?",
    )
    events = await live.events(3)
    assert all(isinstance(event, WhatsAppStatusEvent) for event in events)
    assert [(e.provider_message_id, e.status, e.recipient) for e in events] == [
        (receipt.provider_message_id, status, "5491155551234")
        for status in ("sent", "delivered", "read")
    ]


async def test_free_text_outside_the_window_is_131047(live: Live) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await live.cloud.send_whatsapp(CUSTOMER, "hola")
    assert caught.value.code == "131047"
    assert caught.value.status == 400
    assert "send an approved template" in caught.value.message
    await live.emulator("POST", "/whatsapp-cloud/wrote", json={"number": CUSTOMER, "hoursAgo": 25})
    with pytest.raises(PermanentProviderError):
        await live.cloud.send_whatsapp(CUSTOMER, "hola", media_url="https://f.test/a.jpg")
    assert (await live.emulator("GET", "/whatsapp-cloud/outbox")).json()["count"] == 0


async def test_the_window_may_close_as_a_failed_status(live: Live) -> None:
    await live.emulator("POST", "/whatsapp-cloud/settings", json={"windowClosedAs": "status"})
    receipt = await live.cloud.send_whatsapp(CUSTOMER, "hola")
    [event] = await live.events(1)
    assert isinstance(event, WhatsAppStatusEvent)
    assert (event.provider_message_id, event.status, event.error_code) == (
        receipt.provider_message_id,
        "failed",
        "131047",
    )
    assert event.error_title == "Re-engagement message"


async def test_faults_answer_graph_errors_or_fail_later(live: Live) -> None:
    await live.emulator("POST", "/whatsapp-cloud/wrote", json={"number": CUSTOMER})
    await live.emulator("POST", "/whatsapp-cloud/faults", json={"status": 400, "code": 130429})
    with pytest.raises(RetryableProviderError) as limited:
        await live.cloud.send_whatsapp(CUSTOMER, "x")
    assert (limited.value.code, limited.value.status) == ("130429", 400)
    await live.emulator(
        "POST", "/whatsapp-cloud/faults", json={"status": 503, "count": 1, "retryAfter": 3}
    )
    with pytest.raises(RetryableProviderError) as down:
        await live.cloud.send_whatsapp(CUSTOMER, "x")
    assert down.value.retry_after == 3
    await live.emulator("POST", "/whatsapp-cloud/faults", json={"status": 401, "code": 190})
    with pytest.raises(ProviderAuthError):
        await live.cloud.send_whatsapp(CUSTOMER, "x")
    # Accepted, then a `failed` status with the code: the number cannot receive WhatsApp.
    await live.emulator(
        "POST",
        "/whatsapp-cloud/faults",
        json={"status": 200, "code": 131026, "number": CUSTOMER},
    )
    receipt = await live.cloud.send_whatsapp(CUSTOMER, "x")
    [event] = await live.events(1)
    assert isinstance(event, WhatsAppStatusEvent)
    assert (event.provider_message_id, event.status, event.error_code) == (
        receipt.provider_message_id,
        "failed",
        "131026",
    )


async def test_a_wrong_token_is_190(live: Live) -> None:
    client = WhatsAppCloudClient(
        live.http,
        base_url=f"{live.base}/_emulator/whatsapp-cloud",
        version="v23.0",
        token="wrong",
        phone_number_id="100000000000001",
        waba_id="200000000000001",
    )
    with pytest.raises(ProviderAuthError) as caught:
        await client.send_whatsapp(CUSTOMER, "x")
    assert caught.value.code == "190"
    with pytest.raises(ProviderAuthError):
        await client.list_templates()


async def test_templates_are_listed_across_pages(live: Live) -> None:
    source = live.providers.whatsapp_template_source
    assert source is not None
    templates = {(t.name, t.language): t for t in await source.list_templates()}
    assert {key: (t.status, t.category) for key, t in templates.items()} == {
        ("verification_code", "es_AR"): ("APPROVED", "AUTHENTICATION"),
        ("recordatorio_pago", "es_AR"): ("APPROVED", "UTILITY"),
        ("promo_prestamo", "es_AR"): ("PENDING", "MARKETING"),
        ("aviso_rechazado", "es_AR"): ("REJECTED", "MARKETING"),
    }
    button = templates["verification_code", "es_AR"].components[2]["buttons"][0]
    assert button["type"] == "URL"
    # A template added to (or removed from) the account shows in the next listing.
    await live.emulator(
        "POST",
        "/whatsapp-cloud/templates",
        json={"name": "nuevo", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
              "components": [{"type": "BODY", "text": "Hi"}]},
    )  # fmt: skip
    await live.emulator("DELETE", "/whatsapp-cloud/templates", params={"name": "promo_prestamo"})
    names = sorted(t.name for t in await source.list_templates())
    assert names == ["aviso_rechazado", "nuevo", "recordatorio_pago", "verification_code"]
    refused = await live.emulator("POST", "/whatsapp-cloud/templates", content=b"[" * 5000)
    assert refused.status_code == 400
    await live.emulator("DELETE", "/whatsapp-cloud/templates")  # back to the defaults
    assert len(await source.list_templates()) == 4


async def test_templates_go_outside_the_window(live: Live) -> None:
    sender = live.providers.whatsapp_templates
    assert sender is not None
    receipt = await sender.send_template(
        CUSTOMER, otp_template("verification_code", "es_AR", "482913")
    )
    assert receipt.provider_message_id is not None
    assert receipt.status == "accepted"
    reminder = TemplateMessage(
        name="recordatorio_pago", language="es_AR", body=["Juana", "10 de enero"]
    )
    await sender.send_template(CUSTOMER, reminder)
    outbox = (await live.emulator("GET", "/whatsapp-cloud/outbox")).json()["items"]
    assert [item["body"] for item in outbox] == [
        "*482913* es tu código de verificación. Por tu seguridad, no lo compartas.",
        "Hola Juana, te recordamos que el vencimiento de tu tarjeta es el 10 de enero.",
    ]
    assert outbox[0]["template"]["name"] == "verification_code"
    statuses = await live.events(6)
    assert {e.status for e in statuses} == {"sent", "delivered", "read"}


@pytest.mark.parametrize(
    ("template", "code"),
    [
        (TemplateMessage(name="promo_prestamo", language="es_AR", body=["x"]), "132001"),
        (TemplateMessage(name="aviso_rechazado", language="es_AR"), "132001"),
        (TemplateMessage(name="recordatorio_pago", language="en_US", body=["a", "b"]), "132001"),
        (TemplateMessage(name="no_such", language="es_AR"), "132001"),
        (TemplateMessage(name="recordatorio_pago", language="es_AR", body=["a"]), "132000"),
        # An authentication template needs the code in its copy-code button too.
        (TemplateMessage(name="verification_code", language="es_AR", body=["1"]), "132000"),
    ],
)
async def test_template_errors(live: Live, template: TemplateMessage, code: str) -> None:
    sender = live.providers.whatsapp_templates
    assert sender is not None
    with pytest.raises(PermanentProviderError) as caught:
        await sender.send_template(CUSTOMER, template)
    assert caught.value.code == code
    assert not caught.value.retryable


async def test_a_customer_writes_with_media_that_is_fetched(live: Live) -> None:
    answer = await live.emulator(
        "POST",
        "/whatsapp-cloud/incoming",
        json={"from": CUSTOMER, "body": "mi recibo", "media": "image", "name": "Juana Pérez",
              "replyTo": "wamid.OURS"},
    )  # fmt: skip
    assert answer.status_code == 202
    [event] = await live.events(1)
    assert isinstance(event, WhatsAppMessageEvent)
    assert (event.customer_number, event.customer_name, event.body, event.reply_to) == (
        "5491155551234",
        "Juana Pérez",
        "mi recibo",
        "wamid.OURS",
    )
    assert event.provider_message_id == answer.json()["id"]
    [media] = event.media
    assert media.media_id == answer.json()["mediaId"]
    fetched = await live.providers.whatsapp_media.fetch_media(media.media_id)
    assert fetched.content.startswith(b"\xff\xd8\xff")
    assert fetched.content_type == "image/jpeg"
    assert fetched.sha256 == media.sha256
    # The download URL wants the token too.
    info = await live.http.get(
        f"{live.base}/_emulator/whatsapp-cloud/v23.0/{media.media_id}",
        headers={"Authorization": "Bearer emulator-whatsapp-cloud-token"},
    )
    url = info.json()["url"]
    assert url.startswith(f"{live.base}/_emulator/whatsapp-cloud/media/")
    assert (await live.http.get(url)).status_code == 401
    with pytest.raises(ProviderNotFound):
        await live.providers.whatsapp_media.fetch_media("399999999999999")
    # The customer wrote: free text may go now.
    assert await live.cloud.send_whatsapp(CUSTOMER, "recibido")


async def test_the_emulators_webhooks_are_signed_over_their_exact_bytes(live: Live) -> None:
    await live.emulator("POST", "/whatsapp-cloud/incoming", json={"from": CUSTOMER, "body": "ñ"})
    [request] = await live.receiver.wait_for(1)
    assert request.headers["x-hub-signature-256"].startswith("sha256=")
    assert "ñ" in request.body.decode("utf-8")
    body = json.loads(request.body)
    assert body["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] == "5491155551234"


async def test_the_demo_traffic_also_writes_to_the_cloud_number(live: Live) -> None:
    traffic = SimulatedTraffic(live.state, seed=7)
    for _ in range(40):
        await traffic.step()
        cloud = [r for r in live.receiver.requests if r.url.endswith("/webhooks/whatsapp-cloud")]
        if cloud:
            break
    [event] = _updates(cloud[0])
    assert isinstance(event, WhatsAppMessageEvent)
    assert event.body
