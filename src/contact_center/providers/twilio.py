"""Twilio Programmable Messaging: send SMS, read their status, verify and parse status callbacks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
from twilio.request_validator import RequestValidator

from contact_center.providers import payloads
from contact_center.providers.base import (
    IgnoredEvent,
    InboundAuthFailed,
    InboundEvent,
    InboundRequest,
    InboundRoute,
    ProviderName,
    SendReceipt,
    SmsStatusEvent,
    UnparseablePayload,
)
from contact_center.providers.http import error_for_status, send
from contact_center.providers.inbound import body_digest, token_matches

PROVIDER = ProviderName.TWILIO
# Codes Twilio documents as transient: too many requests, queue overflow, unknown delivery
# error, pumping protection, internal error.
RETRYABLE_CODES = frozenset({"20429", "21611", "30001", "30008", "30450", "30500"})
STATUSES = frozenset(
    {
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "accepted",
        "scheduled",
        "read",
        "partially_delivered",
        "canceled",
    }
)


class TwilioSmsClient:
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` to send, `GET …/Messages/{sid}.json` to
    read a message's status; form-encoded, HTTP Basic."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
    ) -> None:
        self._http = http
        self._messages = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages"
        self._url = f"{self._messages}.json"
        self._auth = (account_sid, auth_token)
        self._from = from_number

    async def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None
    ) -> SendReceipt:
        form = {"To": to, "From": self._from, "Body": body}
        if status_callback:
            form["StatusCallback"] = status_callback
        response = await send(
            PROVIDER,
            lambda: self._http.post(
                self._url, data=form, auth=self._auth, headers={"Accept": "application/json"}
            ),
        )
        payload = _json(response)
        _raise_for_error(response, payload)
        sid = payload.get("sid")
        if not isinstance(sid, str):
            raise error_for_status(PROVIDER, response, message="accepted without a message sid")
        return SendReceipt(
            provider_message_id=sid, status=str(payload.get("status", "queued")), raw=payload
        )

    async def fetch_sms_status(self, message_sid: str) -> SmsStatusEvent:
        """The message resource's `status` and `error_code`/`error_message`, as a neutral event
        (the same one a status callback gives). A 404 raises ProviderNotFound."""
        url = f"{self._messages}/{quote(message_sid, safe='')}.json"
        response = await send(
            PROVIDER,
            lambda: self._http.get(url, auth=self._auth, headers={"Accept": "application/json"}),
        )
        payload = _json(response)
        _raise_for_error(response, payload)
        status = payload.get("status")
        if not isinstance(status, str) or not status.strip():
            raise error_for_status(PROVIDER, response, message="message resource without a status")
        error_code = payload.get("error_code")
        error_message = payload.get("error_message")
        return SmsStatusEvent(
            message_sid=message_sid,
            status=status.strip().lower(),
            error_code=None if error_code in (None, "") else str(error_code),
            error_message=str(error_message) if error_message else None,
            to=_text(payload.get("to")),
            from_=_text(payload.get("from")),
        )


def _raise_for_error(response: httpx.Response, payload: dict[str, Any]) -> None:
    """Twilio's error body `{code, message, more_info, status}`, classified like every call."""
    if response.status_code < 400:
        return
    code = payload.get("code")
    raise error_for_status(
        PROVIDER,
        response,
        code=str(code) if code is not None else None,
        message=str(payload.get("message") or f"HTTP {response.status_code}"),
        retryable_codes=RETRYABLE_CODES,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = payloads.load_json(response.content)
    except UnparseablePayload:  # not JSON, or JSON we could not keep: as if there were none
        return {}
    return value if isinstance(value, dict) else {}


def is_retryable_code(code: str | None) -> bool:
    return code is not None and code in RETRYABLE_CODES


def verify_signature(
    auth_token: str, url: str, params: Mapping[str, Any], signature: str | None
) -> bool:
    """Twilio's own validator: HMAC-SHA1 over the URL and sorted form fields, constant-time."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def compute_signature(auth_token: str, url: str, params: Mapping[str, Any]) -> str:
    """The signature Twilio would send (used by the emulator)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


# Twilio's SIDs are 34 characters; the columns that hold one take 128.
SID_LENGTH = 128


def parse_status_callback(form: Mapping[str, str]) -> SmsStatusEvent | IgnoredEvent:
    """A status callback's form fields as a neutral event (`MessageSid`/`SmsSid` alike).

    Raises UnparseablePayload when the sid or the status is missing or not of Twilio's shape.
    """
    sid = payloads.optional_text(form, "MessageSid", max_length=SID_LENGTH) or (
        payloads.optional_text(form, "SmsSid", max_length=SID_LENGTH)
    )
    status = (
        (payloads.optional_text(form, "MessageStatus") or form.get("SmsStatus") or "")
        .strip()
        .lower()
    )
    if not sid:
        raise UnparseablePayload("MessageSid is missing")
    if not status:
        raise UnparseablePayload("MessageStatus is missing")
    if status not in STATUSES:
        return IgnoredEvent(kind=f"status:{status[:32]}")
    return SmsStatusEvent(
        message_sid=sid,
        status=status,
        error_code=payloads.clipped_text(form, "ErrorCode", limit=64) or None,
        error_message=payloads.clipped_text(form, "ErrorMessage", limit=2000) or None,
        to=payloads.clipped_text(form, "To", limit=32) or None,
        from_=payloads.clipped_text(form, "From", limit=32) or None,
    )


def parse_webhook(raw_body: bytes) -> SmsStatusEvent | IgnoredEvent:
    """A form-encoded status callback body as a neutral event; raises UnparseablePayload."""
    return parse_status_callback(payloads.load_form(raw_body))


# --- inbound adapter ------------------------------------------------------------------------

WEBHOOK_ROUTE = InboundRoute(
    path="/webhooks/twilio/sms/status",
    name="twilio_status",
    summary="Twilio SMS status callbacks",
    description="Form-encoded status callbacks, checked with `X-Twilio-Signature`.",
    content_type="application/x-www-form-urlencoded",
)


def signed_url(received_url: str, public_base_url: str | None) -> str:
    """The URL Twilio signed: the one it called, which behind a proxy is PUBLIC_BASE_URL with the
    received path and query, not the URL the app saw."""
    if not public_base_url:
        return received_url
    path_and_query = received_url.split("://", 1)[-1].split("/", 1)
    return public_base_url + "/" + (path_and_query[1] if len(path_and_query) > 1 else "")


@dataclass(frozen=True)
class TwilioInbound:
    """SMS status callbacks: `X-Twilio-Signature` (with the auth token) and/or a webhook token.

    With neither configured every delivery is refused, unless `require_credentials` is off (the
    emulator, whose fixed auth token then applies, so the check runs exactly as in production).
    """

    auth_token: str | None
    webhook_token: str | None
    public_base_url: str | None
    require_credentials: bool = True
    provider: ProviderName = PROVIDER
    repeat_window: timedelta | None = None

    def authenticate(self, request: InboundRequest) -> None:
        if not self.auth_token and not self.webhook_token and self.require_credentials:
            raise InboundAuthFailed("no auth token or webhook token configured")
        if self.auth_token:
            url = signed_url(request.url, self.public_base_url)
            form = dict(parse_qsl(request.raw.decode("utf-8", "replace"), keep_blank_values=True))
            if not verify_signature(
                self.auth_token, url, form, request.headers.get("x-twilio-signature")
            ):
                raise InboundAuthFailed("bad X-Twilio-Signature")
        if not token_matches(self.webhook_token, request):
            raise InboundAuthFailed("bad webhook token")

    def parse(self, raw: bytes) -> InboundEvent:
        return parse_webhook(raw)

    def event_key(self, event: InboundEvent, raw: bytes) -> str:
        if isinstance(event, SmsStatusEvent):
            return f"{event.message_sid}:{event.status}"
        return body_digest(raw)

    def event_type(self, event: InboundEvent) -> str:
        if isinstance(event, SmsStatusEvent):
            return f"status.{event.status}"
        if isinstance(event, IgnoredEvent):
            return event.kind[:64]
        return type(event).__name__[:64]

    def payload(self, raw: bytes) -> Any:
        return payloads.load_form(raw)

    def applied_body(self, raw: bytes, event: InboundEvent) -> bytes | None:
        return None

    def updates(self, raw: bytes) -> list[bytes]:
        return [raw]

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        raise InboundAuthFailed("this provider makes no subscription handshake")
