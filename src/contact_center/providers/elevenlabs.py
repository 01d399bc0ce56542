"""ElevenLabs Agents: conversations API, post-call webhook verification and parsing."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from contact_center.providers import payloads
from contact_center.providers.base import (
    CallAudioEvent,
    CallEvent,
    CallInitiationFailureEvent,
    ConversationPage,
    ConversationSummary,
    IgnoredEvent,
    InboundAuthFailed,
    InboundEvent,
    InboundRequest,
    InboundRoute,
    PermanentProviderError,
    ProviderName,
    TranscriptTurn,
    UnparseablePayload,
)
from contact_center.providers.http import error_for_status, send
from contact_center.providers.inbound import body_digest, token_matches

PROVIDER = ProviderName.ELEVENLABS
SIGNATURE_HEADER = "ElevenLabs-Signature"
PAST_TOLERANCE_SECONDS = 30 * 60
FUTURE_TOLERANCE_SECONDS = 5 * 60
TRANSFER_TOOLS = frozenset({"transfer_to_number", "transfer_to_agent", "transfer_to_human"})


class ElevenLabsClient:
    """`/v1/convai/conversations`, `/{id}` and `/{id}/audio` with the `xi-api-key` header."""

    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, api_key: str, agent_id: str | None
    ) -> None:
        self._http = http
        self._base = f"{base_url.rstrip('/')}/v1/convai/conversations"
        self._headers = {"xi-api-key": api_key, "Accept": "application/json"}
        self._agent_id = agent_id

    def webhook_keys(self, conversation_id: str) -> tuple[str, ...]:
        return (
            event_key("post_call_transcription", conversation_id),
            event_key("call_initiation_failure", conversation_id),
        )

    async def list_conversations(
        self,
        *,
        cursor: str | None = None,
        page_size: int = 100,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
    ) -> ConversationPage:
        params: dict[str, str | int] = {"page_size": max(1, min(100, page_size))}
        if cursor:
            params["cursor"] = cursor
        if self._agent_id:
            params["agent_id"] = self._agent_id
        if started_after is not None:
            params["call_start_after_unix"] = int(started_after.timestamp())
        if started_before is not None:
            params["call_start_before_unix"] = int(started_before.timestamp())
        response = await send(
            PROVIDER, lambda: self._http.get(self._base, params=params, headers=self._headers)
        )
        body = _checked_json(response)
        listed = body.get("conversations")
        found = [_summary(item) for item in listed] if isinstance(listed, list) else []
        items = [item for item in found if item is not None]
        next_cursor = body.get("next_cursor")
        return ConversationPage(
            items=items,
            next_cursor=next_cursor if isinstance(next_cursor, str) and next_cursor else None,
            has_more=bool(body.get("has_more")) and bool(next_cursor),
        )

    async def get_conversation(self, conversation_id: str) -> CallEvent:
        url = f"{self._base}/{conversation_id}"
        response = await send(PROVIDER, lambda: self._http.get(url, headers=self._headers))
        conversation = _checked_json(response)
        try:  # read as the webhook's `data` is (the same shape)
            return conversation_to_event(conversation)
        except UnparseablePayload as exc:  # asking again gets the same answer
            raise PermanentProviderError(
                PROVIDER, f"unexpected conversation JSON: {exc}", status=response.status_code
            ) from None

    async def stream_audio(self, conversation_id: str) -> AsyncIterator[bytes]:
        url = f"{self._base}/{conversation_id}/audio"
        request = self._http.build_request(
            "GET", url, headers={"xi-api-key": self._headers["xi-api-key"]}
        )
        response = await send(PROVIDER, lambda: self._http.send(request, stream=True))
        try:
            if response.status_code >= 400:
                await response.aread()
                raise error_for_status(PROVIDER, response, message=_detail(response))
            async for chunk in response.aiter_bytes():
                yield chunk
        finally:
            await response.aclose()


def _detail(response: httpx.Response) -> str:
    try:
        body = payloads.load_json(response.content)
    except UnparseablePayload:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("status")
    return str(detail or f"HTTP {response.status_code}")


def _checked_json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise error_for_status(PROVIDER, response, message=_detail(response))
    try:
        body = payloads.load_json(response.content)
    except UnparseablePayload as exc:
        raise error_for_status(
            PROVIDER, httpx.Response(502), message=f"invalid JSON from provider: {exc}"
        ) from None
    if not isinstance(body, dict):
        raise error_for_status(
            PROVIDER, httpx.Response(502), message="unexpected JSON from provider"
        )
    return body


def _summary(item: Any) -> ConversationSummary | None:
    """A list item, or None when it is not a conversation we could apply (no usable id)."""
    if not isinstance(item, dict):
        return None
    try:
        conversation_id = payloads.required_text(item, "conversation_id", max_length=ID_LENGTH)
    except UnparseablePayload:
        return None

    def read(reader: Callable[[], _T]) -> _T | None:
        try:
            return reader()
        except UnparseablePayload:  # a field of the wrong type in a list item: not known
            return None

    duration = read(lambda: _seconds(item, "call_duration_secs", ""))
    summary = ConversationSummary(
        conversation_id=conversation_id,
        agent_id=read(lambda: payloads.optional_text(item, "agent_id", max_length=ID_LENGTH)),
        agent_name=read(lambda: payloads.clipped_text(item, "agent_name", limit=LABEL_LENGTH)),
        started_at=read(lambda: payloads.optional_unix(item, "start_time_unix_secs")),
        duration_secs=int(duration) if duration is not None else None,
        status=read(lambda: payloads.clipped_text(item, "status", limit=SHORT_LENGTH)),
        call_successful=read(
            lambda: payloads.clipped_text(item, "call_successful", limit=SHORT_LENGTH)
        ),
        direction=read(lambda: payloads.clipped_text(item, "direction", limit=SHORT_LENGTH)),
        raw=item,
    )
    try:
        return dataclasses.replace(summary, event=summary_to_event(summary))
    except UnparseablePayload:  # listed, but not applicable from the list alone
        return summary


# --- webhook signature ----------------------------------------------------------------------


def sign(raw_body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `ElevenLabs-Signature` header value for a body (used by the emulator and tests)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return f"t={ts},v0={digest}"


def verify_signature(
    raw_body: bytes, header: str | None, secret: str, *, now: float | None = None
) -> bool:
    """HMAC-SHA256 over `{t}.{body}`, constant-time; older than 30 min or over 5 min ahead fails."""
    if not header or not secret:
        return False
    parts: dict[str, str] = {}
    for piece in header.split(","):
        if "=" in piece:
            key, value = piece.strip().split("=", 1)
            parts.setdefault(key, value)
    ts, signature = parts.get("t"), parts.get("v0")
    # ASCII digits only ("²".isdigit() is true) and at most 12 of them (int() of a long digit
    # string is slow); the header is compared as bytes (compare_digest refuses non-ASCII str).
    if not ts or not signature or not (ts.isascii() and ts.isdigit()) or len(ts) > 12:
        return False
    current = time.time() if now is None else now
    age = current - int(ts)
    if age > PAST_TOLERANCE_SECONDS or age < -FUTURE_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), ts.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogateescape"))


# --- webhook parsing ------------------------------------------------------------------------


def parse_webhook(
    raw_body: bytes,
) -> CallEvent | CallAudioEvent | CallInitiationFailureEvent | IgnoredEvent:
    """The three post-call events as neutral events; other types are ignored (but kept).

    Raises UnparseablePayload for a body that is not JSON or whose fields have the wrong types.
    """
    envelope = payloads.obj(payloads.load_json(raw_body), "")
    event_type = payloads.required_text(envelope, "type")
    if event_type not in {"post_call_transcription", "post_call_audio", "call_initiation_failure"}:
        return IgnoredEvent(kind=event_type[:SHORT_LENGTH])
    data = payloads.obj(envelope.get("data"), "data")
    conversation_id = payloads.required_text(data, "conversation_id", "data", max_length=ID_LENGTH)
    timestamp = payloads.optional_unix(envelope, "event_timestamp")
    agent_id = payloads.optional_text(data, "agent_id", "data", max_length=ID_LENGTH)
    if event_type == "post_call_audio":
        encoded = payloads.required_text(data, "full_audio", "data")
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise UnparseablePayload("'data.full_audio' is not base64") from None
        return CallAudioEvent(conversation_id, agent_id, audio, timestamp)
    if event_type == "call_initiation_failure":
        meta = payloads.optional_obj(data, "metadata", "data") or {}
        body = payloads.optional_obj(meta, "body", "data.metadata") or {}
        return CallInitiationFailureEvent(
            conversation_id=conversation_id,
            agent_id=agent_id,
            failure_reason=payloads.clipped_text(data, "failure_reason", "data", limit=500),
            customer_number=_number(body, "To", "data.metadata.body"),
            agent_number=_number(body, "From", "data.metadata.body"),
            event_timestamp=timestamp,
        )
    return conversation_to_event(data, timestamp)


# Bounds of what a conversation's fields may hold (the columns they end in).
ID_LENGTH = 128
LABEL_LENGTH = 128
SHORT_LENGTH = 32
NUMBER_LENGTH = 32
# A call lasts less than 100 days; more is not a duration (and would not fit an integer column).
MAX_SECONDS = 10_000_000
_T = TypeVar("_T")


def _seconds(data: dict[str, Any], key: str, where: str) -> float | None:
    return payloads.optional_number(data, key, where, minimum=0, maximum=MAX_SECONDS)


def _number(data: dict[str, Any], key: str, where: str) -> str | None:
    """A phone number (string or JSON number), kept to what a number column holds."""
    value = payloads.optional_scalar_text(data, key, where)
    return value[:NUMBER_LENGTH] if value else None


def _results(analysis: dict[str, Any] | None, key: str, field: str) -> dict[str, Any]:
    """`data_collection_results` / `evaluation_criteria_results`: {name: item[field] or item}."""
    found: dict[str, Any] = {}
    results = payloads.optional_obj(analysis or {}, key, "data.analysis") or {}
    for name, item in results.items():
        found[name] = item.get(field) if isinstance(item, dict) else item
    return found


def conversation_to_event(data: dict[str, Any], timestamp: datetime | None = None) -> CallEvent:
    """A conversation (webhook `data` or GET conversation JSON; same shape) as a CallEvent.

    Raises UnparseablePayload when a field it reads has the wrong type or is out of range.
    """
    where = "data"
    conversation_id = payloads.required_text(data, "conversation_id", where, max_length=ID_LENGTH)
    metadata = payloads.optional_obj(data, "metadata", where) or {}
    analysis = payloads.optional_obj(data, "analysis", where)
    client_data = payloads.optional_obj(data, "conversation_initiation_client_data", where) or {}
    dynamic = (
        payloads.optional_obj(
            client_data, "dynamic_variables", "data.conversation_initiation_client_data"
        )
        or {}
    )
    dynamic_where = "data.conversation_initiation_client_data.dynamic_variables"
    phone_call = payloads.optional_obj(metadata, "phone_call", "data.metadata") or {}
    call_where = "data.metadata.phone_call"
    direction = payloads.clipped_text(phone_call, "direction", call_where, limit=SHORT_LENGTH)
    customer = _number(phone_call, "external_number", call_where) or _number(
        dynamic, "system__caller_id", dynamic_where
    )
    agent_number = _number(phone_call, "agent_number", call_where) or _number(
        dynamic, "system__called_number", dynamic_where
    )
    turns = []
    for index, item in enumerate(payloads.optional_list(data, "transcript", where) or []):
        turn_where = f"data.transcript[{index}]"
        turn = payloads.obj(item, turn_where)
        tools = payloads.optional_list(turn, "tool_calls", turn_where) or []
        transferred = any(
            isinstance(tool, dict)
            and isinstance(tool.get("tool_name"), str)
            and tool["tool_name"].lower() in TRANSFER_TOOLS
            for tool in tools
        )
        offset = _seconds(turn, "time_in_call_secs", turn_where)
        turns.append(
            TranscriptTurn(
                role=payloads.clipped_text(turn, "role", turn_where, limit=SHORT_LENGTH)
                or "unknown",
                message=payloads.optional_text(turn, "message", turn_where),
                time_in_call_secs=offset,
                transferred=transferred,
            )
        )
    duration = _seconds(metadata, "call_duration_secs", "data.metadata")
    return CallEvent(
        conversation_id=conversation_id,
        agent_id=payloads.optional_text(data, "agent_id", where, max_length=ID_LENGTH),
        agent_name=payloads.clipped_text(data, "agent_name", where, limit=LABEL_LENGTH),
        status=payloads.clipped_text(data, "status", where, limit=SHORT_LENGTH),
        started_at=payloads.optional_unix(metadata, "start_time_unix_secs", "data.metadata"),
        duration_secs=int(duration) if duration is not None else None,
        direction=direction,
        customer_number=customer,
        agent_number=agent_number,
        transcript=turns,
        summary=payloads.optional_text(analysis or {}, "transcript_summary", "data.analysis"),
        call_successful=payloads.clipped_text(
            analysis or {}, "call_successful", "data.analysis", limit=SHORT_LENGTH
        ),
        termination_reason=payloads.clipped_text(
            metadata, "termination_reason", "data.metadata", limit=256
        )
        or None,
        data_collection=_results(analysis, "data_collection_results", "value"),
        evaluation=_results(analysis, "evaluation_criteria_results", "result"),
        dynamic_variables=dynamic,
        has_audio=bool(payloads.optional_bool(data, "has_audio", where)),
        event_timestamp=timestamp,
        analysis=analysis,
        raw=data,
    )


def summary_to_event(summary: ConversationSummary) -> CallEvent:
    """A list item as a CallEvent without transcript or phone numbers (metadata-only sync)."""
    raw = summary.raw
    analysis: dict[str, Any] = {}
    if summary.call_successful is not None:
        analysis["call_successful"] = summary.call_successful
    if isinstance(raw.get("transcript_summary"), str):
        analysis["transcript_summary"] = raw["transcript_summary"]
    start = raw.get("start_time_unix_secs")
    reason = raw.get("termination_reason")
    data: dict[str, Any] = {
        "conversation_id": summary.conversation_id,
        "agent_id": summary.agent_id,
        "agent_name": summary.agent_name,
        "status": summary.status,
        "metadata": {
            "start_time_unix_secs": start if summary.started_at is not None else None,
            "call_duration_secs": summary.duration_secs,
            "termination_reason": reason if isinstance(reason, str) else None,
            "phone_call": {"direction": summary.direction} if summary.direction else None,
        },
        "analysis": analysis or None,
        "transcript": [],
    }
    return conversation_to_event(data)


# --- inbound adapter ------------------------------------------------------------------------

WEBHOOK_ROUTE = InboundRoute(
    path="/webhooks/elevenlabs/call",
    name="elevenlabs_call",
    summary="ElevenLabs post-call events",
    description="`post_call_transcription`, `post_call_audio`, `call_initiation_failure`; "
    "HMAC-signed.",
    content_type="application/json",
)

POST_CALL_TYPES = {
    CallEvent: "post_call_transcription",
    CallAudioEvent: "post_call_audio",
    CallInitiationFailureEvent: "call_initiation_failure",
}


def event_key(event_type: str, conversation_id: str) -> str:
    """The ledger key of a post-call delivery (`post_call_transcription:{id}` and the like)."""
    return f"{event_type}:{conversation_id}"


@dataclass(frozen=True)
class ElevenLabsInbound:
    """Post-call webhooks: `ElevenLabs-Signature` (HMAC) and/or the webhook token."""

    webhook_secret: str | None
    webhook_token: str | None
    provider: ProviderName = PROVIDER
    repeat_window: timedelta | None = None

    def authenticate(self, request: InboundRequest) -> None:
        secret, token = self.webhook_secret, self.webhook_token
        if not secret and not token:
            raise InboundAuthFailed("no webhook secret or token configured")
        if secret and not verify_signature(
            request.raw, request.headers.get(SIGNATURE_HEADER.lower()), secret
        ):
            raise InboundAuthFailed("bad or expired ElevenLabs-Signature")
        if not token_matches(token, request):
            raise InboundAuthFailed("bad webhook token")

    def parse(self, raw: bytes) -> InboundEvent:
        return parse_webhook(raw)

    def event_key(self, event: InboundEvent, raw: bytes) -> str:
        if isinstance(event, CallEvent | CallAudioEvent | CallInitiationFailureEvent):
            return event_key(POST_CALL_TYPES[type(event)], event.conversation_id)
        return body_digest(raw)  # an ignored type: we trust no id in it

    def event_type(self, event: InboundEvent) -> str:
        if isinstance(event, IgnoredEvent):
            return event.kind[:64]
        return POST_CALL_TYPES.get(type(event), type(event).__name__)[:64]

    def payload(self, raw: bytes) -> Any:
        return payloads.load_json(raw)

    def applied_body(self, raw: bytes, event: InboundEvent) -> bytes | None:
        if not isinstance(event, CallAudioEvent):
            return None
        envelope = payloads.load_json(raw)
        envelope["data"]["full_audio"] = (
            f"[stored: {event.conversation_id}.mp3, {len(event.audio)} bytes]"
        )
        return json.dumps(envelope).encode()

    def updates(self, raw: bytes) -> list[bytes]:
        return [raw]

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        raise InboundAuthFailed("this provider makes no subscription handshake")
