"""Signed provider deliveries, exactly as the providers (and the emulator) send them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from contact_center.providers.elevenlabs import sign
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_TOKEN,
    EMULATOR_ELEVENLABS_SECRET,
    EMULATOR_TWILIO_AUTH_TOKEN,
)
from contact_center.providers.twilio import compute_signature

FIXTURES = Path(__file__).parent / "fixtures" / "providers"
TRANSCRIPTION = json.loads((FIXTURES / "elevenlabs_post_call_transcription.json").read_text())


def transcription(conversation_id: str = "conv_test_0001", **changes: Any) -> dict[str, Any]:
    """The documented example with an Argentine customer; `changes` are applied to `data`."""
    payload: dict[str, Any] = copy.deepcopy(TRANSCRIPTION)
    data = payload["data"]
    data["conversation_id"] = conversation_id
    data["metadata"]["phone_call"]["external_number"] = "+5491155551234"
    data["metadata"]["phone_call"]["agent_number"] = "+541152500000"
    for key, value in changes.items():
        data[key] = value
    return payload


async def post_elevenlabs(
    client: httpx.AsyncClient,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = EMULATOR_ELEVENLABS_SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "ElevenLabs-Signature": sign(body, secret, timestamp),
        "Content-Type": "application/json",
    }
    return await client.post("/webhooks/elevenlabs/call", content=body, headers=headers)


async def post_builderbot(
    client: httpx.AsyncClient,
    payload: dict[str, Any] | bytes,
    *,
    token: str = EMULATOR_BUILDERBOT_TOKEN,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post(
        "/webhooks/builderbot/whatsapp",
        content=body,
        headers={"X-Webhook-Token": token, "Content-Type": "application/json"},
    )


def incoming(number: str, body: str, name: str = "Juan Pérez", **extra: Any) -> dict[str, Any]:
    return {
        "eventName": "message.incoming",
        "data": {"body": body, "name": name, "from": number, "attachment": [], **extra},
    }


def outgoing(number: str, answer: str) -> dict[str, Any]:
    return {"eventName": "message.outgoing", "data": {"answer": answer, "from": number}}


async def post_twilio(
    client: httpx.AsyncClient,
    form: dict[str, str],
    *,
    token: str = EMULATOR_TWILIO_AUTH_TOKEN,
    url: str = "http://testserver/webhooks/twilio/sms/status",
) -> httpx.Response:
    signature = compute_signature(token, url, form)
    return await client.post(
        url.replace("http://testserver", ""),
        content=urlencode(form).encode(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def status_form(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    form = {
        "AccountSid": "AC" + "0" * 32,
        "From": "+15005550006",
        "To": "+5491155551234",
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    return form
