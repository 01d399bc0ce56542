"""Inbound webhooks: authenticate, key, parse and apply each provider's deliveries (SPEC §9.4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.calls import service as calls
from contact_center.calls.recordings import RecordingStore
from contact_center.logging import redact_text
from contact_center.messaging import service as messaging
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.providers import builderbot, elevenlabs, payloads, twilio
from contact_center.providers.base import (
    CallAudioEvent,
    CallEvent,
    CallInitiationFailureEvent,
    IgnoredEvent,
    ProviderName,
    SmsStatusEvent,
    UnparseablePayload,
    WhatsAppMessageEvent,
)
from contact_center.providers.registry import (
    builderbot_credentials,
    elevenlabs_credentials,
    emulated_providers,
    twilio_credentials,
)
from contact_center.settings import Settings
from contact_center.webhooks import repository

Event = (
    CallEvent
    | CallAudioEvent
    | CallInitiationFailureEvent
    | WhatsAppMessageEvent
    | SmsStatusEvent
    | IgnoredEvent
)
log = structlog.get_logger(__name__)
TOKEN_HEADER = "x-webhook-token"  # noqa: S105 - a header name
DUPLICATE_WINDOW_SECONDS = 10


@dataclass(frozen=True)
class IncomingDelivery:
    """One HTTP delivery as received: what authentication and the ledger need."""

    provider: ProviderName
    raw: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    url: str
    content_type: str | None


class AuthenticationFailed(Exception):
    """The delivery did not prove it comes from the provider."""


def _token_ok(expected: str | None, delivery: IncomingDelivery) -> bool:
    if expected is None:
        return True
    given = delivery.headers.get(TOKEN_HEADER) or delivery.query.get("token") or ""
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticate(settings: Settings, delivery: IncomingDelivery) -> None:
    """Signature and/or token, as configured; both must pass when both are set.

    A provider with neither configured refuses everything, unless it is emulated (the emulator's
    fixed secrets then apply, so the check runs exactly as in production).
    """
    emulated = delivery.provider in emulated_providers(settings)
    if delivery.provider is ProviderName.ELEVENLABS:
        eleven = elevenlabs_credentials(settings)
        secret, token = eleven.webhook_secret, eleven.webhook_token
        if not secret and not token:
            raise AuthenticationFailed("no webhook secret or token configured")
        if secret and not elevenlabs.verify_signature(
            delivery.raw, delivery.headers.get(elevenlabs.SIGNATURE_HEADER.lower()), secret
        ):
            raise AuthenticationFailed("bad or expired ElevenLabs-Signature")
        if not _token_ok(token, delivery):
            raise AuthenticationFailed("bad webhook token")
        return
    if delivery.provider is ProviderName.BUILDERBOT:
        token = builderbot_credentials(settings).webhook_token
        if not token or not _token_ok(token, delivery):
            raise AuthenticationFailed("bad or missing webhook token")
        return
    creds = twilio_credentials(settings)
    if not creds.auth_token and not creds.webhook_token and not emulated:
        raise AuthenticationFailed("no auth token or webhook token configured")
    if creds.auth_token:
        url = delivery.url
        if settings.public_base_url:
            path_and_query = delivery.url.split("://", 1)[-1].split("/", 1)
            url = (
                settings.public_base_url
                + "/"
                + (path_and_query[1] if len(path_and_query) > 1 else "")
            )
        form = dict(parse_qsl(delivery.raw.decode("utf-8", "replace"), keep_blank_values=True))
        if not twilio.verify_signature(
            creds.auth_token, url, form, delivery.headers.get("x-twilio-signature")
        ):
            raise AuthenticationFailed("bad X-Twilio-Signature")
    if not _token_ok(creds.webhook_token, delivery):
        raise AuthenticationFailed("bad webhook token")


def parse(provider: ProviderName, raw: bytes) -> Event:
    """The delivery as a neutral event; raises UnparseablePayload."""
    if provider is ProviderName.ELEVENLABS:
        return elevenlabs.parse_webhook(raw)
    if provider is ProviderName.BUILDERBOT:
        return builderbot.parse_webhook(raw)
    return twilio.parse_webhook(raw)


def read(provider: ProviderName, raw: bytes) -> tuple[Event | None, str | None]:
    """(event, None), or (None, why) for a body kept as INVALID: unparseable, or one a parser
    failed on in a way it should not have (a bug is no reason to lose or 500 a delivery)."""
    try:
        return parse(provider, raw), None
    except UnparseablePayload as exc:
        return None, redact_text(f"unparseable payload: {exc}")[:2000]
    except Exception as exc:  # the backstop: kept INVALID, replayable once the parser is fixed
        log.error("webhook_parser_failed", provider=provider.value, exc_info=exc)
        return None, f"unreadable payload ({type(exc).__name__})"


# How a stored body is written in `raw_body`: as received when it is UTF-8 text a text column
# takes, else base64 of the exact bytes (NUL bytes, invalid UTF-8), so a replay reads what came.
BASE64 = "base64"


def stored_body(raw: bytes) -> tuple[str, str | None]:
    """(raw_body, raw_body_encoding) for a received body."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text, None
    return base64.b64encode(raw).decode("ascii"), BASE64


def received_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes of a stored delivery."""
    if delivery.raw_body_encoding == BASE64:
        return base64.b64decode(delivery.raw_body)
    return delivery.raw_body.encode("utf-8")


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def event_key(provider: ProviderName, event: Event | None, raw: bytes) -> str:
    """The provider's identity of a delivery: a repeat has the same key."""
    if isinstance(event, CallEvent):
        return f"post_call_transcription:{event.conversation_id}"
    if isinstance(event, CallAudioEvent):
        return f"post_call_audio:{event.conversation_id}"
    if isinstance(event, CallInitiationFailureEvent):
        return f"call_initiation_failure:{event.conversation_id}"
    if isinstance(event, SmsStatusEvent):
        return f"{event.message_sid}:{event.status}"
    if event is None:
        return f"invalid:{body_digest(raw)}"
    # BuilderBot sends no id, and ignored events have none we trust: the body is the identity.
    return body_digest(raw)


def event_type(event: Event | None) -> str | None:
    """A short name of what the delivery was, for the ledger and the logs."""
    if event is None:
        return None
    if isinstance(event, IgnoredEvent):
        return event.kind[:64]
    if isinstance(event, WhatsAppMessageEvent):
        return "message.incoming" if event.direction == "INBOUND" else "message.outgoing"
    if isinstance(event, SmsStatusEvent):
        return f"status.{event.status}"
    if isinstance(event, CallEvent):
        return "post_call_transcription"
    if isinstance(event, CallAudioEvent):
        return "post_call_audio"
    return "call_initiation_failure"


def _payload(delivery: WebhookDelivery) -> Any:
    """The body as the timeline keeps it: parsed, or (a body only a later parser reads) as text
    with what no column takes replaced."""
    raw = received_body(delivery)
    try:
        if delivery.provider == ProviderName.TWILIO.value:
            return payloads.load_form(raw)
        return payloads.load_json(raw)
    except UnparseablePayload:
        return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


async def process(
    session: AsyncSession,
    settings: Settings,
    store: RecordingStore,
    delivery: WebhookDelivery,
    event: Event,
) -> str:
    """Apply one parsed delivery; returns the ledger status it ends in."""
    key = f"webhook:{delivery.id}"
    if isinstance(event, IgnoredEvent):
        return "IGNORED"
    if isinstance(event, CallEvent):
        await calls.apply_call(
            session, settings, event, payload=_payload(delivery), source="webhook"
        )
    elif isinstance(event, CallAudioEvent):
        result = await calls.apply_audio(session, store, event)
        # The recording now lives in the file store: keep the ledger row small.
        envelope = payloads.load_json(received_body(delivery))
        envelope["data"]["full_audio"] = (
            f"[stored: {event.conversation_id}.mp3, {len(event.audio)} bytes]"
        )
        delivery.raw_body, delivery.raw_body_encoding = json.dumps(envelope), None
        del result
    elif isinstance(event, CallInitiationFailureEvent):
        await calls.apply_initiation_failure(session, settings, event, payload=_payload(delivery))
    elif isinstance(event, WhatsAppMessageEvent):
        await messaging.apply_whatsapp(
            session, settings.default_phone_region, event, payload=_payload(delivery), key=key
        )
    else:
        applied = await messaging.apply_sms_status(
            session, event, payload=_payload(delivery), key=key
        )
        if applied is None:
            delivery.waiting_for = event.message_sid
            return "DEFERRED"
    return "PROCESSED"


async def deferred_for(session: AsyncSession, provider_message_id: str) -> list[WebhookDelivery]:
    """Status callbacks that arrived before we knew their message (applied once it is known)."""
    return await repository.waiting_for(session, ProviderName.TWILIO.value, provider_message_id)
