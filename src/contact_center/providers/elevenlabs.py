"""ElevenLabs Agents: conversations API, post-call webhook verification and parsing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from contact_center.providers.base import (
    CallAudioEvent,
    CallEvent,
    CallInitiationFailureEvent,
    ConversationPage,
    ConversationSummary,
    IgnoredEvent,
    ProviderName,
    TranscriptTurn,
    UnparseablePayload,
)
from contact_center.providers.http import error_for_status, send

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
        items = [
            _summary(item) for item in body.get("conversations") or [] if isinstance(item, dict)
        ]
        next_cursor = body.get("next_cursor")
        return ConversationPage(
            items=items,
            next_cursor=next_cursor if isinstance(next_cursor, str) and next_cursor else None,
            has_more=bool(body.get("has_more")) and bool(next_cursor),
        )

    async def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        url = f"{self._base}/{conversation_id}"
        response = await send(PROVIDER, lambda: self._http.get(url, headers=self._headers))
        return _checked_json(response)

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
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("status")
    return str(detail or f"HTTP {response.status_code}")


def _checked_json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise error_for_status(PROVIDER, response, message=_detail(response))
    try:
        body = response.json()
    except ValueError as exc:
        raise error_for_status(
            PROVIDER, httpx.Response(502), message="invalid JSON from provider"
        ) from exc
    if not isinstance(body, dict):
        raise error_for_status(
            PROVIDER, httpx.Response(502), message="unexpected JSON from provider"
        )
    return body


def _unix(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def _summary(item: dict[str, Any]) -> ConversationSummary:
    duration = item.get("call_duration_secs")
    return ConversationSummary(
        conversation_id=str(item.get("conversation_id")),
        agent_id=item.get("agent_id"),
        agent_name=item.get("agent_name"),
        started_at=_unix(item.get("start_time_unix_secs")),
        duration_secs=int(duration) if isinstance(duration, int | float) else None,
        status=item.get("status"),
        call_successful=item.get("call_successful"),
        direction=item.get("direction"),
        raw=item,
    )


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
    if not ts or not signature or not ts.isdigit():
        return False
    current = time.time() if now is None else now
    age = current - int(ts)
    if age > PAST_TOLERANCE_SECONDS or age < -FUTURE_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), ts.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# --- webhook parsing ------------------------------------------------------------------------


def parse_webhook(
    raw_body: bytes,
) -> CallEvent | CallAudioEvent | CallInitiationFailureEvent | IgnoredEvent:
    """The three post-call events as neutral events; other types are ignored (but kept)."""
    try:
        envelope = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnparseablePayload(f"body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise UnparseablePayload("body is not a JSON object")
    event_type = envelope.get("type")
    data = envelope.get("data")
    if not isinstance(event_type, str):
        raise UnparseablePayload("'type' is missing")
    if event_type not in {"post_call_transcription", "post_call_audio", "call_initiation_failure"}:
        return IgnoredEvent(kind=event_type)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("conversation_id"), str)
        or not data["conversation_id"]
    ):
        raise UnparseablePayload("'data.conversation_id' is missing")
    timestamp = _unix(envelope.get("event_timestamp"))
    if event_type == "post_call_audio":
        encoded = data.get("full_audio")
        if not isinstance(encoded, str):
            raise UnparseablePayload("'data.full_audio' is missing")
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise UnparseablePayload("'data.full_audio' is not base64") from None
        return CallAudioEvent(data["conversation_id"], data.get("agent_id"), audio, timestamp)
    if event_type == "call_initiation_failure":
        meta: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
        body: dict[str, Any] = meta["body"] if isinstance(meta.get("body"), dict) else {}
        return CallInitiationFailureEvent(
            conversation_id=data["conversation_id"],
            agent_id=data.get("agent_id"),
            failure_reason=data.get("failure_reason"),
            customer_number=body.get("To"),
            agent_number=body.get("From"),
            event_timestamp=timestamp,
        )
    return conversation_to_event(data, timestamp)


def conversation_to_event(data: dict[str, Any], timestamp: datetime | None = None) -> CallEvent:
    """A conversation (webhook `data` or GET conversation JSON; same shape) as a CallEvent."""
    metadata: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    analysis: dict[str, Any] | None = (
        data["analysis"] if isinstance(data.get("analysis"), dict) else None
    )
    client_data = data.get("conversation_initiation_client_data")
    dynamic = {}
    if isinstance(client_data, dict) and isinstance(client_data.get("dynamic_variables"), dict):
        dynamic = client_data["dynamic_variables"]
    phone_call: dict[str, Any] = (
        metadata["phone_call"] if isinstance(metadata.get("phone_call"), dict) else {}
    )
    direction = phone_call.get("direction") if phone_call else None
    customer = phone_call.get("external_number") or dynamic.get("system__caller_id")
    agent_number = phone_call.get("agent_number") or dynamic.get("system__called_number")
    turns = []
    for turn in data.get("transcript") or []:
        if not isinstance(turn, dict):
            continue
        tools = turn.get("tool_calls") or []
        transferred = any(
            isinstance(tool, dict) and str(tool.get("tool_name", "")).lower() in TRANSFER_TOOLS
            for tool in tools
        )
        offset = turn.get("time_in_call_secs")
        turns.append(
            TranscriptTurn(
                role=str(turn.get("role") or "unknown"),
                message=turn.get("message") if isinstance(turn.get("message"), str) else None,
                time_in_call_secs=float(offset) if isinstance(offset, int | float) else None,
                transferred=transferred,
            )
        )
    duration = metadata.get("call_duration_secs")
    data_collection = {}
    evaluation = {}
    if analysis:
        for key, item in (analysis.get("data_collection_results") or {}).items():
            data_collection[key] = item.get("value") if isinstance(item, dict) else item
        for key, item in (analysis.get("evaluation_criteria_results") or {}).items():
            evaluation[key] = item.get("result") if isinstance(item, dict) else item
    return CallEvent(
        conversation_id=str(data["conversation_id"]),
        agent_id=data.get("agent_id"),
        agent_name=data.get("agent_name"),
        status=data.get("status"),
        started_at=_unix(metadata.get("start_time_unix_secs")),
        duration_secs=int(duration) if isinstance(duration, int | float) else None,
        direction=direction,
        customer_number=str(customer) if customer else None,
        agent_number=str(agent_number) if agent_number else None,
        transcript=turns,
        summary=(analysis or {}).get("transcript_summary"),
        call_successful=(analysis or {}).get("call_successful"),
        termination_reason=metadata.get("termination_reason") or None,
        data_collection=data_collection,
        evaluation=evaluation,
        dynamic_variables=dynamic,
        has_audio=bool(data.get("has_audio")),
        event_timestamp=timestamp,
        analysis=analysis,
    )


def summary_to_event(summary: ConversationSummary) -> CallEvent:
    """A list item as a CallEvent without transcript or phone numbers (metadata-only sync)."""
    raw = summary.raw
    analysis: dict[str, Any] = {}
    if raw.get("call_successful") is not None:
        analysis["call_successful"] = raw.get("call_successful")
    if isinstance(raw.get("transcript_summary"), str):
        analysis["transcript_summary"] = raw["transcript_summary"]
    data: dict[str, Any] = {
        "conversation_id": summary.conversation_id,
        "agent_id": summary.agent_id,
        "agent_name": summary.agent_name,
        "status": summary.status,
        "metadata": {
            "start_time_unix_secs": raw.get("start_time_unix_secs"),
            "call_duration_secs": summary.duration_secs,
            "termination_reason": raw.get("termination_reason"),
            "phone_call": {"direction": summary.direction} if summary.direction else None,
        },
        "analysis": analysis or None,
        "transcript": [],
    }
    return conversation_to_event(data)
