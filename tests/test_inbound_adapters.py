"""One inbound adapter per provider, one handler per event type: the webhook module knows no
vendor and no domain."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import pytest

from contact_center.handlers import webhook_handlers
from contact_center.models.enums import WebhookStatus
from contact_center.providers import elevenlabs, twilio
from contact_center.providers.base import (
    CallAudioEvent,
    CallEvent,
    CallInitiationFailureEvent,
    IgnoredEvent,
    InboundAuthFailed,
    InboundRequest,
    ProviderName,
    SmsStatusEvent,
    WhatsAppMessageEvent,
)
from contact_center.providers.registry import INBOUND_ROUTES, build_inbound
from contact_center.recordings import RecordingStore
from contact_center.settings import Settings
from contact_center.webhooks.endpoints import STATUS_PATTERN
from contact_center.webhooks.endpoints import router as webhooks_router
from contact_center.webhooks.handlers import APPLIED, NoHandler, Outcome, WebhookHandlers

SRC = Path(__file__).parent.parent / "src" / "contact_center"
DOMAINS = ("calls", "messaging", "otp", "interactions", "links", "metrics", "demo", "console")
VENDOR_MODULES = tuple(
    f"contact_center.providers.{name}" for name in ("elevenlabs", "twilio", "builderbot")
)
FIXTURES = Path(__file__).parent / "fixtures" / "providers"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted((SRC / "webhooks").glob("*.py")), ids=lambda p: p.name)
def test_the_webhook_module_imports_no_domain_and_no_vendor(path: Path) -> None:
    for name in _imports(path):
        assert not name.startswith(tuple(f"contact_center.{d}" for d in DOMAINS)), name
        assert not name.startswith(VENDOR_MODULES), name


def test_the_call_sync_reads_typed_events_not_a_vendor_module() -> None:
    imported = _imports(SRC / "calls" / "sync.py")
    assert not any(name.startswith(VENDOR_MODULES) for name in imported), imported


def test_every_provider_has_one_inbound_adapter(settings: Settings) -> None:
    adapters = build_inbound(settings)
    assert set(adapters) == set(ProviderName)
    assert all(adapter.provider is name for name, adapter in adapters.items())
    # … and one route, served by the webhook module.
    assert set(INBOUND_ROUTES) == set(ProviderName)
    served = {getattr(route, "path", None) for route in webhooks_router.routes}
    assert {route.path for route in INBOUND_ROUTES.values()} <= served


def test_every_event_a_provider_sends_has_one_handler(tmp_path: Path) -> None:
    handlers = webhook_handlers(RecordingStore(str(tmp_path)))
    for event_type in (
        CallEvent,
        CallAudioEvent,
        CallInitiationFailureEvent,
        WhatsAppMessageEvent,
        SmsStatusEvent,
    ):
        assert event_type in handlers
    assert IgnoredEvent not in handlers  # kept in the ledger as IGNORED, applied by no one


async def test_a_handler_is_registered_once_and_an_unknown_event_has_none() -> None:
    handlers = WebhookHandlers()

    async def handle(*_: object) -> Outcome:
        return APPLIED

    handlers.register(SmsStatusEvent, handle)
    with pytest.raises(ValueError, match="registered already"):
        handlers.register(SmsStatusEvent, handle)
    with pytest.raises(NoHandler):
        handlers.handler(WhatsAppMessageEvent("INBOUND", "549", None, "hola", [], None))


def test_twilio_checks_the_url_it_signed_behind_a_proxy() -> None:
    seen = "http://10.0.0.5:8000/webhooks/twilio/sms/status?token=t"
    assert (
        twilio.signed_url(seen, "https://cc.example.com")
        == "https://cc.example.com/webhooks/twilio/sms/status?token=t"
    )
    assert twilio.signed_url(seen, None) == seen
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    public = "https://cc.example.com/webhooks/twilio/sms/status"
    signature = twilio.compute_signature("auth", public, form)
    adapter = twilio.TwilioInbound(
        auth_token="auth", webhook_token=None, public_base_url="https://cc.example.com"
    )
    request = InboundRequest(
        raw=b"MessageSid=SM1&MessageStatus=delivered",
        headers={"x-twilio-signature": signature},
        query={},
        url="http://10.0.0.5:8000/webhooks/twilio/sms/status",
    )
    adapter.authenticate(request)
    unproxied = twilio.TwilioInbound(auth_token="auth", webhook_token=None, public_base_url=None)
    with pytest.raises(InboundAuthFailed, match="X-Twilio-Signature"):
        unproxied.authenticate(request)


def test_a_live_twilio_without_credentials_refuses_everything() -> None:
    adapter = twilio.TwilioInbound(auth_token=None, webhook_token=None, public_base_url=None)
    request = InboundRequest(raw=b"", headers={}, query={}, url="http://x/")
    with pytest.raises(InboundAuthFailed, match="no auth token"):
        adapter.authenticate(request)


def test_a_stored_recording_leaves_the_ledger_body_small() -> None:
    audio = base64.b64encode(b"\xff\xfb" + b"\x00" * 5000).decode()
    raw = json.dumps(
        {"type": "post_call_audio", "data": {"conversation_id": "conv_1", "full_audio": audio}}
    ).encode()
    adapter = elevenlabs.ElevenLabsInbound(webhook_secret="s", webhook_token=None)
    event = adapter.parse(raw)
    assert adapter.event_key(event, raw) == "post_call_audio:conv_1"
    assert adapter.event_type(event) == "post_call_audio"
    kept = adapter.applied_body(raw, event)
    assert kept is not None
    assert json.loads(kept)["data"]["full_audio"] == "[stored: conv_1.mp3, 5002 bytes]"
    transcription = (FIXTURES / "elevenlabs_post_call_transcription.json").read_bytes()
    assert adapter.applied_body(transcription, adapter.parse(transcription)) is None


def test_the_ledger_filter_takes_every_status_and_nothing_else() -> None:
    import re

    assert all(re.fullmatch(STATUS_PATTERN, status) for status in WebhookStatus)
    assert re.fullmatch(STATUS_PATTERN, "DONE") is None
