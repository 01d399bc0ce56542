"""Meta's WhatsApp Business Cloud API: send text, media and templates, list the account's
templates, fetch inbound media, and read its signed webhooks (docs/whatsapp-cloud.md).

Graph errors are classified by their integer `error.code`, never by their words.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from contact_center.providers import payloads
from contact_center.providers.base import (
    IgnoredEvent,
    InboundAuthFailed,
    InboundEvent,
    InboundRequest,
    InboundRoute,
    MediaFile,
    MediaRef,
    PermanentProviderError,
    ProviderAuthError,
    ProviderError,
    ProviderName,
    ProviderNotFound,
    RetryableProviderError,
    SendReceipt,
    TemplateButtonParameter,
    TemplateInfo,
    TemplateMessage,
    UnparseablePayload,
    WhatsAppMessageEvent,
    WhatsAppStatusEvent,
)
from contact_center.providers.http import error_for_status, retry_after_seconds, send
from contact_center.providers.inbound import body_digest

PROVIDER = ProviderName.WHATSAPP_CLOUD
log = structlog.get_logger(__name__)

# --- errors -----------------------------------------------------------------------------------

# Rate limits and transient failures: the send job retries them with backoff.
RETRYABLE_CODES = frozenset(
    {"130429", "131056", "80007", "4", "131057", "131000", "1", "2", "131016", "133004"}
)
# Our token or its permissions were refused: 190 (expired or invalid), 0, 10, 131005, 200-299.
AUTH_CODES = frozenset({"0", "10", "190", "131005"} | {str(code) for code in range(200, 300)})
# The pair rate limit (one message per 6 s to the same customer): wait at least this long.
PAIR_RATE_LIMIT_CODE = "131056"
PAIR_RATE_BACKOFF_SECONDS = 6.0
WINDOW_CLOSED_CODE = "131047"
UNDELIVERABLE_CODE = "131026"
# What to do about the permanent failures people meet most.
ADVICE = {
    WINDOW_CLOSED_CODE: (
        "The customer last wrote more than 24 hours ago, so WhatsApp's customer-service window "
        "is closed: send an approved template instead."
    ),
    UNDELIVERABLE_CODE: (
        "This number cannot receive WhatsApp messages (not on WhatsApp, terms not accepted or "
        "an old app): use SMS."
    ),
}
MESSAGE_LENGTH = 2000


def _code_of(error: Mapping[str, Any]) -> str | None:
    code = error.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int) or (isinstance(code, str) and code.isascii() and code.isdigit()):
        return str(code)[:16]
    return None


def _details(error: Mapping[str, Any]) -> str | None:
    """`error_data.details` (an object), or `error_data` itself when a string (template APIs)."""
    data = error.get("error_data")
    if isinstance(data, dict):
        details = data.get("details")
        return details if isinstance(details, str) else None
    return data if isinstance(data, str) else None


def graph_error(response: httpx.Response, *, not_found: bool = False) -> ProviderError:
    """Classify an unsuccessful Graph answer by its `error.code` (then by HTTP status)."""
    body = _json(response)
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    code = _code_of(error)
    title = error.get("message") if isinstance(error.get("message"), str) else None
    details = _details(error)
    text = " — ".join(part for part in (title, details) if part) or f"HTTP {response.status_code}"
    if code in ADVICE:
        text = f"{ADVICE[code]} ({text})"
    text = text[:MESSAGE_LENGTH]
    status = response.status_code
    if code in RETRYABLE_CODES:
        retry_after = retry_after_seconds(response)
        if code == PAIR_RATE_LIMIT_CODE:
            retry_after = max(retry_after or 0.0, PAIR_RATE_BACKOFF_SECONDS)
        return RetryableProviderError(
            PROVIDER, text, code=code, status=status, retry_after=retry_after
        )
    if code in AUTH_CODES:
        return ProviderAuthError(PROVIDER, text, code=code, status=status)
    if not_found and (status == 404 or (code == "100" and error.get("error_subcode") == 33)):
        return ProviderNotFound(PROVIDER, text, code=code, status=status)
    if code is None or status == 429 or status >= 500:
        # No Graph error (a proxy's page, a timeout upstream): the HTTP status decides.
        return error_for_status(PROVIDER, response, code=code, message=text)
    return PermanentProviderError(PROVIDER, text, code=code, status=status)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = payloads.load_json(response.content)
    except UnparseablePayload:
        return {}
    return value if isinstance(value, dict) else {}


# --- sending ----------------------------------------------------------------------------------

# Media sent by link: the type WhatsApp shows it as, by the file's extension.
_MEDIA_TYPES = {
    **dict.fromkeys(("jpg", "jpeg", "png", "webp"), "image"),
    **dict.fromkeys(("mp4", "3gp"), "video"),
    **dict.fromkeys(("mp3", "ogg", "oga", "opus", "aac", "amr", "m4a"), "audio"),
}
CAPTION_LENGTH = 1024
MAX_TEMPLATE_PAGES = 50
MAX_MEDIA_BYTES = 100 * 1024 * 1024  # Meta's cap on inbound files (131052 above it)
MEDIA_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
USER_AGENT = "contact-center/1 (WhatsApp Cloud API media)"
# Where Meta hands media out (the URL `GET /{media-id}` answers). Our token goes to these hosts
# over HTTPS, or to the API's own origin (the emulator's, when emulated), and nowhere else.
MEDIA_HOSTS = frozenset({"lookaside.fbsbx.com"})
# An error answer's body is read this far at most.
MAX_ERROR_BODY = 64 * 1024


def e164(number: str) -> str:
    """`+` and digits (without the `+` Meta would prepend the business number's country code)."""
    digits = re.sub(r"\D", "", number.split("@", 1)[0])
    return f"+{digits}"


def media_type(url: str) -> str:
    """image, video, audio or document, by the URL path's extension."""
    path = urlsplit(url).path
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _MEDIA_TYPES.get(extension, "document")


def otp_template(name: str, language: str, code: str) -> TemplateMessage:
    """An authentication template: the code in the body and in the copy-code button (index 0,
    sent as a `url` button whatever it was created as)."""
    return TemplateMessage(
        name=name,
        language=language,
        body=[code],
        buttons=[TemplateButtonParameter(index=0, sub_type="url", value=code)],
    )


def template_components(template: TemplateMessage) -> list[dict[str, Any]]:
    """The `components` of a template send: header and body text parameters in order, then one
    component per button."""
    components: list[dict[str, Any]] = []
    if template.header:
        components.append(
            {"type": "header", "parameters": [{"type": "text", "text": v} for v in template.header]}
        )
    if template.body:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in template.body]}
        )
    for button in template.buttons:
        parameter = (
            {"type": "payload", "payload": button.value}
            if button.sub_type == "quick_reply"
            else {"type": "text", "text": button.value}
        )
        components.append(
            {
                "type": "button",
                "sub_type": button.sub_type,
                "index": str(button.index),
                "parameters": [parameter],
            }
        )
    return components


class WhatsAppCloudClient:
    """`POST /{version}/{phone-number-id}/messages`, `GET /{version}/{waba-id}/message_templates`
    and `GET /{version}/{media-id}`, with the system user's Bearer token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        version: str,
        token: str,
        phone_number_id: str,
        waba_id: str,
    ) -> None:
        self._http = http
        self._root = f"{base_url.rstrip('/')}/{version}"
        self._origin = urlsplit(base_url)[:2]
        self._token = token
        self._phone_number_id = phone_number_id
        self._waba_id = waba_id
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    # WhatsAppSender
    async def send_whatsapp(
        self, to: str, body: str, *, media_url: str | None = None
    ) -> SendReceipt:
        """Text, or media by link with the text as its caption. Audio takes no caption: the
        text then goes as its own message first, and the receipt is the audio's."""
        if not media_url:
            return await self._send(
                to, {"type": "text", "text": {"preview_url": False, "body": body}}
            )
        kind = media_type(media_url)
        media: dict[str, Any] = {"link": media_url}
        if kind == "audio":
            if body and body.strip():
                await self._send(to, {"type": "text", "text": {"preview_url": False, "body": body}})
        elif body and body.strip():
            media["caption"] = body[:CAPTION_LENGTH]
        if kind == "document":
            filename = urlsplit(media_url).path.rsplit("/", 1)[-1]
            if filename:
                media["filename"] = filename[:255]
        return await self._send(to, {"type": kind, kind: media})

    # WhatsAppTemplateSender
    async def send_template(self, to: str, template: TemplateMessage) -> SendReceipt:
        content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
        components = template_components(template)
        if components:
            content["components"] = components
        return await self._send(to, {"type": "template", "template": content})

    async def _send(self, to: str, message: dict[str, Any]) -> SendReceipt:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": e164(to),
            **message,
        }
        url = f"{self._root}/{self._phone_number_id}/messages"
        response = await send(
            PROVIDER, lambda: self._http.post(url, json=payload, headers=self._headers)
        )
        if response.status_code >= 300:
            raise graph_error(response)
        raw = _json(response)
        messages = raw.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        message_id = first.get("id") if isinstance(first, dict) else None
        if not isinstance(message_id, str) or not message_id or len(message_id) > ID_LENGTH:
            # Accepted without an id we could keep: statuses could never be matched to it.
            raise PermanentProviderError(
                PROVIDER, "the send was answered without a message id", status=200
            )
        status = first.get("message_status") if isinstance(first, dict) else None
        return SendReceipt(
            provider_message_id=message_id,
            status=status if isinstance(status, str) and status else "accepted",
            raw=raw,
        )

    # WhatsAppTemplateSource
    async def list_templates(self) -> list[TemplateInfo]:
        """Every page of `message_templates` (following `paging.next`, on the API's own host
        only: the token goes with it), up to MAX_TEMPLATE_PAGES pages."""
        url: str | None = (
            f"{self._root}/{self._waba_id}/message_templates"
            "?fields=name,category,status,language,components&limit=100"
        )
        found: list[TemplateInfo] = []
        for _ in range(MAX_TEMPLATE_PAGES):
            if url is None:
                break
            response = await send(PROVIDER, partial(self._http.get, url, headers=self._headers))
            if response.status_code >= 300:
                raise graph_error(response)
            body = _json(response)
            data = body.get("data")
            if not isinstance(data, list):
                raise PermanentProviderError(
                    PROVIDER, "the template list has no 'data' list", status=response.status_code
                )
            found.extend(template for item in data if (template := _template(item)) is not None)
            url = self._next_page(body)
        else:
            if url is not None:
                log.warning("whatsapp_templates_truncated", pages=MAX_TEMPLATE_PAGES)
        return found

    def _next_page(self, body: dict[str, Any]) -> str | None:
        paging = body.get("paging")
        following = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(following, str) or not following:
            return None
        if urlsplit(following)[:2] != self._origin:
            log.warning("whatsapp_templates_foreign_next_page")
            return None
        return following

    # WhatsAppMediaSource
    async def fetch_media(self, media_id: str) -> MediaFile:
        """`GET /{media-id}` for a short-lived URL, then that URL with the token. A URL that
        answers 404 is asked for once more (it lives 5 minutes); an unknown id is
        ProviderNotFound."""
        if not MEDIA_ID_RE.fullmatch(media_id):
            raise ProviderNotFound(PROVIDER, "not a media id")
        for attempt in (1, 2):
            info = await self._media_info(media_id)
            url = info.get("url")
            if not isinstance(url, str) or not self._trusted_media_url(url):
                raise PermanentProviderError(
                    PROVIDER, "the media has no download URL on a host of Meta's"
                )
            size = info.get("file_size")
            if isinstance(size, str) and size.isascii() and size.isdigit() and len(size) < 19:
                size = int(size)
            if isinstance(size, int) and not isinstance(size, bool) and size > MAX_MEDIA_BYTES:
                raise PermanentProviderError(
                    PROVIDER, f"the media is larger than {MAX_MEDIA_BYTES} bytes"
                )
            try:
                content, content_type = await self._download(url)
            except ProviderNotFound:
                if attempt == 2:
                    raise
                continue
            mime = info.get("mime_type")
            sha = info.get("sha256")
            return MediaFile(
                content=content,
                content_type=content_type or (mime[:128] if isinstance(mime, str) else None),
                sha256=sha[:128] if isinstance(sha, str) else None,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _trusted_media_url(self, url: str) -> bool:
        """The API's own origin, or HTTPS to one of Meta's media hosts: a URL that names any
        other host (an internal address, say) never gets our token."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            port = parts.port
        except ValueError:
            return False
        if parts[:2] == self._origin:
            return True
        return (
            parts.scheme == "https"
            and host is not None
            and host.lower() in MEDIA_HOSTS
            and port in (None, 443)
            and not parts.username
            and not parts.password
        )

    async def _media_info(self, media_id: str) -> dict[str, Any]:
        url = f"{self._root}/{media_id}"
        params = {"phone_number_id": self._phone_number_id}
        response = await send(
            PROVIDER, lambda: self._http.get(url, params=params, headers=self._headers)
        )
        if response.status_code >= 300:
            raise graph_error(response, not_found=True)
        return _json(response)

    async def _download(self, url: str) -> tuple[bytes, str | None]:
        headers = {"Authorization": f"Bearer {self._token}", "User-Agent": USER_AGENT}

        async def call() -> tuple[int, bytes, httpx.Response]:
            async with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code >= 300:
                    kept = bytearray()
                    async for chunk in response.aiter_bytes():
                        kept += chunk[: MAX_ERROR_BODY - len(kept)]
                        if len(kept) >= MAX_ERROR_BODY:
                            break
                    return response.status_code, bytes(kept), response
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > MAX_MEDIA_BYTES:
                        raise PermanentProviderError(
                            PROVIDER, f"the media is larger than {MAX_MEDIA_BYTES} bytes"
                        )
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks), response

        try:
            status, content, response = await call()
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(PROVIDER, f"timeout: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise RetryableProviderError(
                PROVIDER, f"transport error: {type(exc).__name__}"
            ) from exc
        if status >= 300:
            # What was read of the error's body, as the answer the classification reads.
            answer = httpx.Response(status, headers=response.headers, content=content)
            raise graph_error(answer, not_found=True)
        content_type = response.headers.get("content-type")
        return content, content_type[:128] if content_type else None


def _template(item: Any) -> TemplateInfo | None:
    """One listed template; one we cannot read is left out (and logged), not the whole list."""
    try:
        data = payloads.obj(item, "data[]")
        name = payloads.required_text(data, "name", "data[]", max_length=512)
        language = payloads.required_text(data, "language", "data[]", max_length=16)
        components = payloads.optional_list(data, "components", "data[]") or []
        template_id = payloads.optional_scalar_text(data, "id", "data[]", max_length=64)
        return TemplateInfo(
            name=name,
            language=language,
            status=(payloads.optional_text(data, "status", "data[]", max_length=32) or "").upper(),
            category=(
                payloads.optional_text(data, "category", "data[]", max_length=32) or ""
            ).upper(),
            components=[c for c in components if isinstance(c, dict)],
            provider_template_id=template_id,
            raw=data,
        )
    except UnparseablePayload as exc:
        log.warning("whatsapp_template_unreadable", reason=str(exc))
        return None


# --- inbound ------------------------------------------------------------------------------------

WEBHOOK_ROUTE = InboundRoute(
    path="/webhooks/whatsapp-cloud",
    name="whatsapp_cloud",
    summary="WhatsApp Cloud API webhooks",
    description=(
        "Meta's `whatsapp_business_account` deliveries (messages, statuses, errors), signed "
        "with `X-Hub-Signature-256`. A body with several updates is stored as one delivery per "
        "message and per status. `GET` answers the subscription handshake."
    ),
    content_type="application/json",
    handshake=True,
)
SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="
OBJECT = "whatsapp_business_account"
# Bounds of what a webhook's fields may hold (the ledger's and the message's columns).
# A wamid (real ones are about 60 characters): the message's `providerMessageId` and `replyTo`
# and the ledger's `waitingFor` hold 128; `<wamid>:<status>` fits its 300-character key.
ID_LENGTH = 128
STATUS_RE = re.compile(r"[a-z_]{1,32}")
TYPE_RE = re.compile(r"[a-z_]{1,32}")
NAME_LENGTH = 200
LABEL_LENGTH = 128
TEXT_LENGTH = 65_536
MAX_DIGITS = 20
PHONE_RE = re.compile(r"\d{1,20}")
# Meta's challenge is digits; it is echoed back, so nothing but a token's characters is.
CHALLENGE_RE = re.compile(r"[A-Za-z0-9._~-]{1,256}")
# Meta batches up to 1,000 updates a body; more is not a body Meta sends (kept whole, INVALID).
MAX_UPDATES = 5000
IGNORED_TYPES = frozenset({"system", "unsupported", "reaction"})
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


def signature(app_secret: str, raw: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends with `raw`."""
    digest = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(app_secret: str, raw: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.isascii():
        return False
    given = header.strip()
    if given[: len(SIGNATURE_PREFIX)].lower() != SIGNATURE_PREFIX:
        return False
    return hmac.compare_digest(
        given[len(SIGNATURE_PREFIX) :].lower().encode(),
        signature(app_secret, raw)[len(SIGNATURE_PREFIX) :].encode(),
    )


def _dump(value: Any) -> bytes:
    """One update's body, serialized the same way whatever batch it came in."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _split(body: dict[str, Any]) -> Iterator[Any]:
    """The one-update envelopes of a body (see `WhatsAppCloudInbound.updates`)."""
    envelope = {key: value for key, value in body.items() if key != "entry"}
    for entry in body["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            yield {**envelope, "entry": [entry]}  # unreadable: parse says why
            continue
        outer = {key: value for key, value in entry.items() if key != "changes"}
        for change in entry["changes"]:
            for value in _change_updates(change):
                yield {**envelope, "entry": [{**outer, "changes": [value]}]}


def _change_updates(change: Any) -> Iterator[Any]:
    value = change.get("value") if isinstance(change, dict) else None
    if (
        not isinstance(change, dict)
        or change.get("field") != "messages"
        or not isinstance(value, dict)
    ):
        yield change
        return
    messages = value.get("messages")
    statuses = value.get("statuses")
    contacts = value.get("contacts")
    if (
        not isinstance(messages, list | None)
        or not isinstance(statuses, list | None)
        or not (messages or statuses)
    ):
        yield change  # errors alone, nothing, or unreadable (parse says why): as it came
        return
    rest = {k: v for k, v in value.items() if k not in ("messages", "statuses", "contacts")}
    for message in messages if isinstance(messages, list) else []:
        one: dict[str, Any] = dict(rest)
        contact = _contact_of(message, contacts)
        if contact is not None:
            one["contacts"] = [contact]
        one["messages"] = [message]
        yield {**change, "value": one}
    for status in statuses if isinstance(statuses, list) else []:
        yield {**change, "value": {**rest, "statuses": [status]}}
    if "errors" in rest and (messages or statuses):
        yield {**change, "value": rest}  # errors beside messages: an update of their own


def _contact_of(message: Any, contacts: Any) -> Any:
    """The contact whose `wa_id` is the message's `from` (or `user_id` its `from_user_id`)."""
    if not isinstance(message, dict) or not isinstance(contacts, list):
        return None
    for key, contact_key in (("from", "wa_id"), ("from_user_id", "user_id")):
        wanted = message.get(key)
        if wanted is None:
            continue
        for contact in contacts:
            if isinstance(contact, dict) and contact.get(contact_key) == wanted:
                return contact
    return None


def _digits(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) > MAX_DIGITS:
        raise UnparseablePayload(f"'{where}' is not a phone number")
    return digits or None


def _one(items: list[Any] | None, where: str) -> Any:
    if not items:
        return None
    if len(items) > 1:
        raise UnparseablePayload(f"'{where}' holds {len(items)} updates, not one")
    return items[0]


def parse_webhook(raw: bytes) -> InboundEvent:
    """A one-update body (as `updates` makes them) as a neutral event. Raises
    UnparseablePayload."""
    body = payloads.obj(payloads.load_json(raw), "")
    kind = payloads.required_text(body, "object", max_length=LABEL_LENGTH)
    if kind != OBJECT:
        return IgnoredEvent(kind=f"object:{kind}"[:64])
    entries = payloads.optional_list(body, "entry")
    if entries is None:
        raise UnparseablePayload("'entry' is missing")
    entry = _one(entries, "entry")
    if entry is None:
        return IgnoredEvent(kind="empty")
    entry = payloads.obj(entry, "entry[0]")
    payloads.optional_scalar_text(entry, "id", "entry[0]", max_length=LABEL_LENGTH)
    changes = payloads.optional_list(entry, "changes", "entry[0]")
    if changes is None:
        raise UnparseablePayload("'entry[0].changes' is missing")
    change = _one(changes, "entry[0].changes")
    if change is None:
        return IgnoredEvent(kind="empty")
    change = payloads.obj(change, "change")
    field = payloads.required_text(change, "field", "change", max_length=LABEL_LENGTH)
    if field != "messages":
        payloads.optional_obj(change, "value", "change")
        return IgnoredEvent(kind=field[:64])
    value = payloads.optional_obj(change, "value", "change")
    if value is None:
        raise UnparseablePayload("'change.value' is missing")
    metadata = payloads.optional_obj(value, "metadata", "value") or {}
    phone_number_id = payloads.optional_scalar_text(
        metadata, "phone_number_id", "value.metadata", max_length=LABEL_LENGTH
    )
    message = _one(payloads.optional_list(value, "messages", "value"), "value.messages")
    status = _one(payloads.optional_list(value, "statuses", "value"), "value.statuses")
    if message is not None and status is not None:
        raise UnparseablePayload("'value' holds a message and a status, not one update")
    if message is not None:
        contacts = payloads.optional_list(value, "contacts", "value")
        return _message(payloads.obj(message, "message"), contacts, phone_number_id)
    if status is not None:
        return _status(payloads.obj(status, "status"))
    errors = payloads.optional_list(value, "errors", "value")
    if errors:
        first = payloads.obj(errors[0], "value.errors[0]")
        code = _error_code(first, "value.errors[0]")
        return IgnoredEvent(kind=f"errors:{code}" if code else "errors")
    return IgnoredEvent(kind="messages:empty")


def _error_code(error: dict[str, Any], where: str) -> str | None:
    code = error.get("code")
    if code is None:
        return None
    if isinstance(code, bool) or not isinstance(code, int | str):
        raise UnparseablePayload(f"'{where}.code' is not a number")
    text = str(code)
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 16:
        raise UnparseablePayload(f"'{where}.code' is not a number")
    return text


def _message(
    data: dict[str, Any], contacts: list[Any] | None, phone_number_id: str | None
) -> InboundEvent:
    wamid = payloads.required_text(data, "id", "message", max_length=ID_LENGTH)
    kind = payloads.required_text(data, "type", "message", max_length=LABEL_LENGTH)
    if not TYPE_RE.fullmatch(kind):
        raise UnparseablePayload("'message.type' is not a message type")
    number = _digits(
        payloads.optional_scalar_text(data, "from", "message", max_length=LABEL_LENGTH),
        "message.from",
    )
    user_id = payloads.optional_text(data, "from_user_id", "message", max_length=LABEL_LENGTH)
    if number is None and user_id is None:
        raise UnparseablePayload("the customer ('message.from') is missing")
    sent_at = payloads.optional_unix(data, "timestamp", "message")
    if kind in IGNORED_TYPES:
        return IgnoredEvent(kind=f"message.{kind}")
    name = None
    contact = _contact_of(data, contacts)
    if contact is not None:
        profile = payloads.optional_obj(contact, "profile", "contact") or {}
        name = payloads.clipped_text(profile, "name", "contact.profile", limit=NAME_LENGTH)
        user_id = user_id or payloads.optional_text(
            contact, "user_id", "contact", max_length=LABEL_LENGTH
        )
    context = payloads.optional_obj(data, "context", "message") or {}
    reply_to = payloads.optional_text(context, "id", "message.context", max_length=ID_LENGTH)
    body, media = _content(data, kind)
    return WhatsAppMessageEvent(
        direction="INBOUND",
        customer_number=number,
        customer_name=name if name and name.strip() else None,
        body=body,
        attachments=[],
        project_id=phone_number_id,
        provider=PROVIDER,
        provider_message_id=wamid,
        reply_to=reply_to,
        sent_at=sent_at,
        media=media,
        message_type=kind,
        user_id=user_id,
    )


def _content(data: dict[str, Any], kind: str) -> tuple[str | None, list[MediaRef]]:
    """What the customer wrote (text, caption, a button's or list row's title) and the media
    the message names."""
    where = f"message.{kind}"
    block = payloads.optional_obj(data, kind, "message")
    if kind == "text":
        if block is None:
            raise UnparseablePayload("'message.text' is missing")
        return payloads.optional_text(block, "body", where, max_length=TEXT_LENGTH), []
    if kind in MEDIA_TYPES:
        if block is None:
            raise UnparseablePayload(f"'{where}' is missing")
        media_id = payloads.required_text(block, "id", where, max_length=LABEL_LENGTH)
        if not MEDIA_ID_RE.fullmatch(media_id):
            raise UnparseablePayload(f"'{where}.id' is not a media id")
        reference = MediaRef(
            media_id=media_id,
            content_type=payloads.clipped_text(block, "mime_type", where, limit=LABEL_LENGTH),
            filename=payloads.clipped_text(block, "filename", where, limit=255),
            sha256=payloads.clipped_text(block, "sha256", where, limit=LABEL_LENGTH),
            voice=bool(payloads.optional_bool(block, "voice", where)),
        )
        caption = payloads.optional_text(block, "caption", where, max_length=TEXT_LENGTH)
        return caption, [reference]
    if kind == "button":
        if block is None:
            raise UnparseablePayload("'message.button' is missing")
        text = payloads.optional_text(block, "text", where, max_length=TEXT_LENGTH)
        return text or payloads.optional_text(block, "payload", where, max_length=TEXT_LENGTH), []
    if kind == "interactive":
        if block is None:
            raise UnparseablePayload("'message.interactive' is missing")
        for reply_kind in ("button_reply", "list_reply"):
            reply = payloads.optional_obj(block, reply_kind, where)
            if reply is not None:
                title = payloads.optional_text(
                    reply, "title", f"{where}.{reply_kind}", max_length=TEXT_LENGTH
                )
                return title, []
        return None, []
    if kind == "location" and block is not None:
        parts = [
            payloads.clipped_text(block, key, where, limit=1024) for key in ("name", "address")
        ]
        latitude = payloads.optional_number(block, "latitude", where, minimum=-90, maximum=90)
        longitude = payloads.optional_number(block, "longitude", where, minimum=-180, maximum=180)
        if latitude is not None and longitude is not None:
            parts.append(f"{latitude:.6f},{longitude:.6f}")
        return " · ".join(part for part in parts if part) or None, []
    return None, []


def _status(data: dict[str, Any]) -> WhatsAppStatusEvent:
    wamid = payloads.required_text(data, "id", "status", max_length=ID_LENGTH)
    status = payloads.required_text(data, "status", "status", max_length=LABEL_LENGTH).lower()
    if not STATUS_RE.fullmatch(status):
        raise UnparseablePayload("'status.status' is not a status")
    recipient_id = payloads.optional_scalar_text(
        data, "recipient_id", "status", max_length=LABEL_LENGTH
    )
    # A phone number's digits; a group's or a business-scoped user's id is not a number.
    recipient = recipient_id if recipient_id and PHONE_RE.fullmatch(recipient_id) else None
    code = title = details = None
    errors = payloads.optional_list(data, "errors", "status")
    if errors:
        error = payloads.obj(errors[0], "status.errors[0]")
        code = _error_code(error, "status.errors[0]")
        title = payloads.clipped_text(error, "title", "status.errors[0]", limit=500)
        title = title or payloads.clipped_text(error, "message", "status.errors[0]", limit=500)
        error_data = error.get("error_data")
        if isinstance(error_data, dict):
            details = payloads.clipped_text(
                error_data, "details", "status.errors[0].error_data", limit=2000
            )
        elif isinstance(error_data, str):
            details = error_data[:2000]
        if code in ADVICE:  # what to do, as a refusal at send time says it
            details = f"{ADVICE[code]} ({details})" if details else ADVICE[code]
    return WhatsAppStatusEvent(
        provider=PROVIDER,
        provider_message_id=wamid,
        status=status,
        occurred_at=payloads.optional_unix(data, "timestamp", "status"),
        recipient=recipient,
        error_code=code,
        error_title=title,
        error_details=details,
    )


def _message_id(raw: bytes) -> str | None:
    """The wamid of a one-update body's message (one `parse` read already)."""
    try:
        value = json.loads(raw)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    except (ValueError, LookupError, TypeError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= ID_LENGTH else None


@dataclass(frozen=True)
class WhatsAppCloudInbound:
    """Meta's deliveries, proved by `X-Hub-Signature-256` (the app secret); the subscription
    handshake answers to the verify token."""

    app_secret: str | None
    verify_token: str | None
    provider: ProviderName = PROVIDER
    repeat_window: timedelta | None = None

    def authenticate(self, request: InboundRequest) -> None:
        if not self.app_secret:
            raise InboundAuthFailed("no app secret configured")
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            raise InboundAuthFailed("missing X-Hub-Signature-256")
        if not verify_signature(self.app_secret, request.raw, header):
            raise InboundAuthFailed("bad X-Hub-Signature-256")

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        if not self.verify_token:
            raise InboundAuthFailed("no verify token configured")
        if query.get("hub.mode") != "subscribe":
            raise InboundAuthFailed("hub.mode is not subscribe")
        given = query.get("hub.verify_token") or ""
        if not given.isascii() or not hmac.compare_digest(
            given.encode(), self.verify_token.encode()
        ):
            raise InboundAuthFailed("bad hub.verify_token")
        challenge = query.get("hub.challenge") or ""
        if not CHALLENGE_RE.fullmatch(challenge):
            raise InboundAuthFailed("missing or unusable hub.challenge")
        return challenge

    def updates(self, raw: bytes) -> list[bytes]:
        """Every message (with its contact) and every status of every change of every entry
        as a body of its own in the same envelope; any other change (errors, other fields) as
        a one-change body. A body that is one update, or that cannot be read, is `[raw]`; an
        unreadable entry or change of a batch is kept as its own body (parse then says why)."""
        try:
            body = payloads.load_json(raw)
        except UnparseablePayload:
            return [raw]
        if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
            return [raw]
        found = [_dump(update) for update in _split(body)]
        if len(found) <= 1 or len(found) > MAX_UPDATES:
            return [raw]  # one update (or none): kept byte for byte as received
        return found

    def parse(self, raw: bytes) -> InboundEvent:
        return parse_webhook(raw)

    def event_key(self, event: InboundEvent, raw: bytes) -> str:
        if isinstance(event, WhatsAppMessageEvent) and event.provider_message_id:
            return event.provider_message_id
        if isinstance(event, WhatsAppStatusEvent):
            return f"{event.provider_message_id}:{event.status}"
        if isinstance(event, IgnoredEvent) and event.kind.startswith("message."):
            wamid = _message_id(raw)  # a reaction, a system message: a message all the same
            if wamid is not None:
                return wamid
        return body_digest(raw)

    def event_type(self, event: InboundEvent) -> str:
        if isinstance(event, WhatsAppMessageEvent):
            return f"message.{event.message_type}"[:64]
        if isinstance(event, WhatsAppStatusEvent):
            return f"status.{event.status}"[:64]
        if isinstance(event, IgnoredEvent):
            return event.kind[:64]
        return type(event).__name__[:64]

    def payload(self, raw: bytes) -> Any:
        return payloads.load_json(raw)

    def applied_body(self, raw: bytes, event: InboundEvent) -> bytes | None:
        return None
