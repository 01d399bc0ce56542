"""BuilderBot Cloud: send WhatsApp messages, pause/resume the bot, parse its webhooks."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from contact_center.providers.base import (
    Attachment,
    IgnoredEvent,
    ProviderName,
    SendReceipt,
    UnparseablePayload,
    WhatsAppMessageEvent,
)
from contact_center.providers.http import error_for_status, send

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
            raise error_for_status(PROVIDER, response, message=_message(raw, response))
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
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _message(body: dict[str, Any], response: httpx.Response) -> str:
    return str(body.get("message") or body.get("error") or f"HTTP {response.status_code}")


def _attachments(data: dict[str, Any], body: str | None) -> list[Attachment]:
    found: list[Attachment] = []
    seen: set[str] = set()
    for item in data.get("attachment") or data.get("attachments") or []:
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"] not in seen:
            seen.add(item["url"])
            found.append(
                Attachment(
                    url=item["url"],
                    content_type=item.get("mimetype")
                    or item.get("mimeType")
                    or item.get("contentType"),
                    filename=item.get("filename") or item.get("fileName") or item.get("name"),
                )
            )
    temp = data.get("urlTempFile")
    if isinstance(temp, str) and temp and temp not in seen:
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
    """`{eventName, data}` and the older flat shapes (`{from, body, name}` at the top level)."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnparseablePayload(f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise UnparseablePayload("body is not a JSON object")
    event_name = payload.get("eventName") or payload.get("event")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else None
    if data is None:
        if "from" not in payload and "remoteJid" not in payload:
            raise UnparseablePayload("neither 'data' nor a flat message with 'from'")
        data = payload
        event_name = event_name or (
            "message.outgoing" if "answer" in payload else "message.incoming"
        )
    if event_name not in {"message.incoming", "message.outgoing"}:
        return IgnoredEvent(kind=str(event_name or "unknown"))
    outgoing = event_name == "message.outgoing"
    number = data.get("from") or data.get("to") or data.get("remoteJid") or data.get("number")
    if not isinstance(number, str | int) or not str(number).strip():
        raise UnparseablePayload("the customer's number ('from') is missing")
    text = data.get("answer") if outgoing else data.get("body")
    if text is None:
        text = data.get("body") if outgoing else data.get("answer")
    body = str(text) if text is not None else None
    attachments = _attachments(data, body)
    if body and MEDIA_MARKER_RE.match(body):
        body = data.get("caption") if isinstance(data.get("caption"), str) else None
    name = data.get("name") or data.get("pushName")
    return WhatsAppMessageEvent(
        direction="OUTBOUND" if outgoing else "INBOUND",
        customer_number=whatsapp_digits(str(number)) or None,
        customer_name=str(name) if isinstance(name, str) and name.strip() else None,
        body=body,
        attachments=attachments,
        project_id=data.get("projectId") if isinstance(data.get("projectId"), str) else None,
    )
