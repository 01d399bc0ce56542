"""BuilderBot Cloud: send WhatsApp messages, pause/resume the bot, parse its webhooks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from contact_center.providers import payloads
from contact_center.providers.base import (
    Attachment,
    IgnoredEvent,
    InboundAuthFailed,
    InboundEvent,
    InboundRequest,
    InboundRoute,
    PermanentProviderError,
    ProviderName,
    SendReceipt,
    UnparseablePayload,
    WhatsAppMessageEvent,
)
from contact_center.providers.http import error_for_status, send
from contact_center.providers.inbound import body_digest, token_matches

PROVIDER = ProviderName.BUILDERBOT
API_KEY_HEADER = "x-api-builderbot"
# Framework markers that stand for media in `body`: `_event_media__<uuid>` and friends.
MEDIA_MARKER_RE = re.compile(
    r"^_event_(media|voice_note|document|location|call|order|template|action)__[\w-]+$"
)
_MARKER_CONTENT = {
    "media": "image/jpeg",
    "voice_note": "audio/ogg",
    "document": "application/octet-stream",
}


def whatsapp_digits(number: str) -> str:
    """BuilderBot wants digits with country code and no "+" (also strips `@s.whatsapp.net`)."""
    return re.sub(r"\D", "", number.split("@", 1)[0])


class BuilderBotClient:
    """`POST /api/v2/{botId}/messages` and `/blacklist` with the `x-api-builderbot` header."""

    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, api_key: str, bot_id: str
    ) -> None:
        self._http = http
        self._base = f"{base_url.rstrip('/')}/api/v2/{bot_id}"
        self._headers = {API_KEY_HEADER: api_key, "Accept": "application/json"}

    async def send_whatsapp(
        self, to: str, body: str, *, media_url: str | None = None
    ) -> SendReceipt:
        messages: dict[str, Any] = {"content": body or " "}
        if media_url:
            messages["mediaUrl"] = media_url
        payload = {"messages": messages, "number": whatsapp_digits(to), "checkIfExists": False}
        response = await send(
            PROVIDER,
            lambda: self._http.post(f"{self._base}/messages", json=payload, headers=self._headers),
        )
        raw = _json(response)
        if response.status_code >= 300:
            code = _code(raw)
            if code in PERMANENT_CODES:  # whatever HTTP status BuilderBot passes it on with
                raise PermanentProviderError(
                    PROVIDER, _message(raw, response), code=code, status=response.status_code
                )
            raise error_for_status(PROVIDER, response, code=code, message=_message(raw, response))
        # The API documents no message id; keep whatever it gave, if anything.
        message_id = raw.get("id") or raw.get("messageId")
        return SendReceipt(
            provider_message_id=str(message_id) if message_id else None, status="sent", raw=raw
        )

    async def pause_bot(self, number: str) -> None:
        await self._blacklist(number, "add")

    async def resume_bot(self, number: str) -> None:
        await self._blacklist(number, "remove")

    async def _blacklist(self, number: str, intent: str) -> None:
        payload = {"number": whatsapp_digits(number), "intent": intent}
        response = await send(
            PROVIDER,
            lambda: self._http.post(f"{self._base}/blacklist", json=payload, headers=self._headers),
        )
        if response.status_code >= 300:
            raise error_for_status(PROVIDER, response, message=_message(_json(response), response))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = payloads.load_json(response.content)
    except UnparseablePayload:  # not JSON, or JSON we could not keep: as if there were none
        return {}
    return value if isinstance(value, dict) else {}


# WhatsApp's codes that no retry mends: 131047, free text more than 24 hours after the
# customer's last message (the Cloud API's "Re-engagement message").
PERMANENT_CODES = frozenset({"131047"})


def _code(body: dict[str, Any]) -> str | None:
    """The error's code, at the top (`code`) or WhatsApp's way (`error.code`)."""
    code = body.get("code")
    error = body.get("error")
    if code is None and isinstance(error, dict):
        code = error.get("code")
    if isinstance(code, bool) or not isinstance(code, int | str):
        return None
    return str(code)[:64] or None


def _message(body: dict[str, Any], response: httpx.Response) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    return str(body.get("message") or error or f"HTTP {response.status_code}")


# Bounds of what a message's fields may hold (the columns they end in).
NAME_LENGTH = 200
LABEL_LENGTH = 128
URL_LENGTH = 8192
# E.164 numbers have at most 15 digits; WhatsApp ids add none.
MAX_DIGITS = 20


def _attachments(data: dict[str, Any], body: str | None) -> list[Attachment]:
    found: list[Attachment] = []
    seen: set[str] = set()
    listed = payloads.optional_list(data, "attachment", "data") or payloads.optional_list(
        data, "attachments", "data"
    )
    for index, entry in enumerate(listed or []):
        where = f"data.attachment[{index}]"
        item = payloads.obj(entry, where)
        url = payloads.optional_text(item, "url", where, max_length=URL_LENGTH)
        if not url or url in seen:
            continue
        seen.add(url)
        found.append(
            Attachment(
                url=url,
                content_type=payloads.clipped_text(item, "mimetype", where, limit=LABEL_LENGTH)
                or payloads.clipped_text(item, "mimeType", where, limit=LABEL_LENGTH)
                or payloads.clipped_text(item, "contentType", where, limit=LABEL_LENGTH),
                filename=payloads.clipped_text(item, "filename", where, limit=255)
                or payloads.clipped_text(item, "fileName", where, limit=255)
                or payloads.clipped_text(item, "name", where, limit=255),
            )
        )
    temp = payloads.optional_text(data, "urlTempFile", "data", max_length=URL_LENGTH)
    if temp and temp not in seen:
        marker = MEDIA_MARKER_RE.match(body or "")
        found.append(
            Attachment(
                url=temp,
                content_type=_MARKER_CONTENT.get(marker.group(1)) if marker else None,
                filename=None,
            )
        )
    return found


def parse_webhook(raw_body: bytes) -> WhatsAppMessageEvent | IgnoredEvent:
    """`{eventName, data}` and the older flat shapes (`{from, body, name}` at the top level).

    Raises UnparseablePayload for a body that is not JSON or whose fields have the wrong types.
    """
    payload = payloads.obj(payloads.load_json(raw_body), "")
    event_name = payloads.optional_text(payload, "eventName") or payloads.optional_text(
        payload, "event"
    )
    data = payloads.optional_obj(payload, "data")
    if data is None:
        if "from" not in payload and "remoteJid" not in payload:
            raise UnparseablePayload("neither 'data' nor a flat message with 'from'")
        data = payload
        event_name = event_name or (
            "message.outgoing" if "answer" in payload else "message.incoming"
        )
    if event_name not in {"message.incoming", "message.outgoing"}:
        return IgnoredEvent(kind=(event_name or "unknown")[:LABEL_LENGTH])
    outgoing = event_name == "message.outgoing"
    number = next(
        (
            value
            for key in ("from", "to", "remoteJid", "number")
            if (value := payloads.optional_scalar_text(data, key, "data", max_length=LABEL_LENGTH))
            and value.strip()
        ),
        None,
    )
    if number is None:
        raise UnparseablePayload("the customer's number ('from') is missing")
    digits = whatsapp_digits(number)
    if len(digits) > MAX_DIGITS:
        raise UnparseablePayload("the customer's number ('from') is not a phone number")
    answer = payloads.optional_scalar_text(data, "answer", "data")
    said = payloads.optional_scalar_text(data, "body", "data")
    text = answer if outgoing else said
    body = text if text is not None else (said if outgoing else answer)
    attachments = _attachments(data, body)
    if body and MEDIA_MARKER_RE.match(body):
        body = payloads.optional_text(data, "caption", "data")
    name = payloads.clipped_text(data, "name", "data", limit=NAME_LENGTH) or payloads.clipped_text(
        data, "pushName", "data", limit=NAME_LENGTH
    )
    return WhatsAppMessageEvent(
        direction="OUTBOUND" if outgoing else "INBOUND",
        customer_number=digits or None,
        customer_name=name if name and name.strip() else None,
        body=body,
        attachments=attachments,
        project_id=payloads.clipped_text(data, "projectId", "data", limit=LABEL_LENGTH),
    )


# --- inbound adapter ------------------------------------------------------------------------

WEBHOOK_ROUTE = InboundRoute(
    path="/webhooks/builderbot/whatsapp",
    name="builderbot_whatsapp",
    summary="BuilderBot WhatsApp events",
    description="`message.incoming` and `message.outgoing`; `X-Webhook-Token` or `?token=`.",
    content_type="application/json",
)

# BuilderBot sends no id: the same body within this window is a repeat; later, a new message.
REPEAT_WINDOW = timedelta(seconds=10)


@dataclass(frozen=True)
class BuilderBotInbound:
    """WhatsApp message events, proved by the webhook token (header or `?token=`)."""

    webhook_token: str | None
    provider: ProviderName = PROVIDER
    repeat_window: timedelta | None = REPEAT_WINDOW

    def authenticate(self, request: InboundRequest) -> None:
        if not self.webhook_token or not token_matches(self.webhook_token, request):
            raise InboundAuthFailed("bad or missing webhook token")

    def parse(self, raw: bytes) -> InboundEvent:
        return parse_webhook(raw)

    def event_key(self, event: InboundEvent, raw: bytes) -> str:
        return body_digest(raw)

    def event_type(self, event: InboundEvent) -> str:
        if isinstance(event, WhatsAppMessageEvent):
            return "message.incoming" if event.direction == "INBOUND" else "message.outgoing"
        if isinstance(event, IgnoredEvent):
            return event.kind[:64]
        return type(event).__name__[:64]

    def payload(self, raw: bytes) -> Any:
        return payloads.load_json(raw)

    def applied_body(self, raw: bytes, event: InboundEvent) -> bytes | None:
        return None

    def updates(self, raw: bytes) -> list[bytes]:
        return [raw]

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        raise InboundAuthFailed("this provider makes no subscription handshake")
