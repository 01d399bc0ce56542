"""Webhook verification and parsing against real-format payloads (tests/fixtures/providers)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from contact_center.providers import builderbot, elevenlabs, twilio
from contact_center.providers.base import (
    CallAudioEvent,
    CallEvent,
    CallInitiationFailureEvent,
    IgnoredEvent,
    SmsStatusEvent,
    UnparseablePayload,
    WhatsAppMessageEvent,
)

FIXTURES = Path(__file__).parent / "fixtures" / "providers"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- Twilio ---------------------------------------------------------------------------------


def test_twilio_published_test_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio.compute_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio.verify_signature("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.verify_signature(
        "12345", url, {**params, "Digits": "1235"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )
    assert not twilio.verify_signature("12345", url, params, None)


def test_twilio_status_callbacks_parse() -> None:
    sent = twilio.parse_status_callback(
        dict(parse_qsl(fixture("twilio_status_sent.txt").decode().strip()))
    )
    assert sent == SmsStatusEvent(
        message_sid="SM1342fe1b2c904d1ab04f0fc7a58abca9",
        status="sent",
        error_code=None,
        error_message=None,
        to=None,
        from_="+15017250604",
    )
    failed = twilio.parse_status_callback(
        dict(parse_qsl(fixture("twilio_status_undelivered.txt").decode().strip()))
    )
    assert isinstance(failed, SmsStatusEvent)
    assert failed.status == "undelivered"
    assert failed.error_code == "30003"
    legacy = twilio.parse_status_callback({"SmsSid": "SM1", "SmsStatus": "delivered"})
    assert isinstance(legacy, SmsStatusEvent)
    assert legacy.status == "delivered"
    assert twilio.parse_status_callback(
        {"MessageSid": "SM1", "MessageStatus": "weird"}
    ) == IgnoredEvent("status:weird")
    with pytest.raises(UnparseablePayload, match="MessageSid"):
        twilio.parse_status_callback({"MessageStatus": "sent"})
    with pytest.raises(UnparseablePayload, match="MessageStatus"):
        twilio.parse_status_callback({"MessageSid": "SM1"})


# --- ElevenLabs -----------------------------------------------------------------------------

SECRET = "wsec_test"


def test_elevenlabs_signature_round_trip_and_tolerance() -> None:
    body = fixture("elevenlabs_post_call_transcription.json")
    now = int(time.time())
    assert elevenlabs.verify_signature(body, elevenlabs.sign(body, SECRET, now), SECRET)
    assert not elevenlabs.verify_signature(body + b"\n", elevenlabs.sign(body, SECRET, now), SECRET)
    assert not elevenlabs.verify_signature(body, elevenlabs.sign(body, "other", now), SECRET)
    # 29 minutes old passes, 31 minutes old fails; 4 minutes ahead passes, 6 minutes ahead fails.
    assert elevenlabs.verify_signature(body, elevenlabs.sign(body, SECRET, now - 29 * 60), SECRET)
    assert not elevenlabs.verify_signature(
        body, elevenlabs.sign(body, SECRET, now - 31 * 60), SECRET
    )
    assert elevenlabs.verify_signature(body, elevenlabs.sign(body, SECRET, now + 4 * 60), SECRET)
    assert not elevenlabs.verify_signature(
        body, elevenlabs.sign(body, SECRET, now + 6 * 60), SECRET
    )
    for header in (None, "", "t=abc,v0=00", "v0=00", f"t={now}", "garbage"):
        assert not elevenlabs.verify_signature(body, header, SECRET)
    assert not elevenlabs.verify_signature(body, elevenlabs.sign(body, SECRET, now), "")


def test_elevenlabs_transcription_example_parses() -> None:
    event = elevenlabs.parse_webhook(fixture("elevenlabs_post_call_transcription.json"))
    assert isinstance(event, CallEvent)
    assert event.conversation_id == "conv_01jz8mb2k7e4r9t3y6u0p2q8sd"
    assert event.agent_name == "Support Line ES"
    assert event.status == "done"
    assert event.direction == "inbound"
    assert event.customer_number == "+34600111222"
    assert event.agent_number == "+34910000000"
    assert event.duration_secs == 74
    assert event.started_at is not None
    assert event.started_at.timestamp() == 1767350402
    assert [t.role for t in event.transcript] == ["agent", "user", "agent"]
    assert event.transcript[1].time_in_call_secs == 5
    assert event.call_successful == "success"
    assert event.summary is not None
    assert event.summary.startswith("The caller asked about order 4512")
    assert event.data_collection == {"order_id": "4512", "needs_human": False}
    assert event.evaluation == {"resolved_query": "success"}
    assert event.termination_reason == "Call ended by remote party"
    assert event.has_audio is True


def test_elevenlabs_audio_and_failures_parse() -> None:
    audio = json.dumps(
        {
            "type": "post_call_audio",
            "event_timestamp": 1767350490,
            "data": {"agent_id": "a", "conversation_id": "c1", "full_audio": "SUQzBAAAAAAA"},
        }
    )
    event = elevenlabs.parse_webhook(audio.encode())
    assert isinstance(event, CallAudioEvent)
    assert event.audio.startswith(b"ID3")
    failure = elevenlabs.parse_webhook(fixture("elevenlabs_call_initiation_failure_twilio.json"))
    assert isinstance(failure, CallInitiationFailureEvent)
    assert failure.failure_reason == "no-answer"
    assert failure.customer_number == "+5491155551234"
    sip = elevenlabs.parse_webhook(fixture("elevenlabs_call_initiation_failure_sip.json"))
    assert isinstance(sip, CallInitiationFailureEvent)
    assert sip.failure_reason == "busy"
    assert sip.event_timestamp is not None  # a numeric string timestamp is accepted


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"data": {}}', "'type'"),
        (b'{"type": "post_call_transcription", "data": {}}', "conversation_id"),
        (b'{"type": "post_call_audio", "data": {"conversation_id": "c"}}', "full_audio"),
        (
            b'{"type": "post_call_audio", "data": {"conversation_id": "c", "full_audio": "%%%"}}',
            "base64",
        ),
    ],
)
def test_elevenlabs_malformed_payloads_are_reported(body: bytes, message: str) -> None:
    with pytest.raises(UnparseablePayload, match=message):
        elevenlabs.parse_webhook(body)


def test_elevenlabs_unknown_type_is_ignored() -> None:
    assert elevenlabs.parse_webhook(b'{"type": "agent_qa", "data": {}}') == IgnoredEvent("agent_qa")


def test_elevenlabs_transfer_tool_is_seen() -> None:
    data = json.loads(fixture("elevenlabs_post_call_transcription.json"))
    data["data"]["transcript"][2]["tool_calls"] = [{"tool_name": "transfer_to_number"}]
    event = elevenlabs.parse_webhook(json.dumps(data).encode())
    assert isinstance(event, CallEvent)
    assert event.transcript[2].transferred


# --- BuilderBot -----------------------------------------------------------------------------


def test_builderbot_incoming_text() -> None:
    event = builderbot.parse_webhook(fixture("builderbot_incoming_text.json"))
    assert event == WhatsAppMessageEvent(
        direction="INBOUND",
        customer_number="5491155551234",
        customer_name="Juan Pérez",
        body="Hola, necesito ayuda con mi tarjeta",
        attachments=[],
        project_id="7d4339ee-2a9b-424e-92f6-ad7790c1662f",
    )


def test_builderbot_media_marker_becomes_an_attachment() -> None:
    event = builderbot.parse_webhook(fixture("builderbot_incoming_media.json"))
    assert isinstance(event, WhatsAppMessageEvent)
    assert event.body is None
    assert [(a.url, a.content_type) for a in event.attachments] == [
        ("https://media.example.com/file.jpeg", "image/jpeg")
    ]


def test_builderbot_outgoing_and_flat_shapes() -> None:
    outgoing = builderbot.parse_webhook(fixture("builderbot_outgoing.json"))
    assert isinstance(outgoing, WhatsAppMessageEvent)
    assert outgoing.direction == "OUTBOUND"
    assert outgoing.body == "¡Hola Juan! ¿En qué puedo ayudarte?"
    assert outgoing.customer_number == "5491155551234"
    flat = builderbot.parse_webhook(fixture("builderbot_flat.json"))
    assert isinstance(flat, WhatsAppMessageEvent)
    assert flat.customer_number == "5491155551234"
    assert flat.body == "sí"
    assert builderbot.parse_webhook(fixture("builderbot_status_online.json")) == IgnoredEvent(
        "status.online"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'"text"',
        b'{"eventName": "message.incoming", "data": {"body": "hola"}}',
        b'{"foo": 1}',
    ],
)
def test_builderbot_malformed_payloads_are_reported(body: bytes) -> None:
    with pytest.raises(UnparseablePayload):
        builderbot.parse_webhook(body)
