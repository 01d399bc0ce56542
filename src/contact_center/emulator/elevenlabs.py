"""ElevenLabs stand-in: the conversations API with cursor pagination, audio, signed webhooks."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from contact_center.emulator import scenarios
from contact_center.emulator.delivery import deliver
from contact_center.emulator.state import EmulatorState, now_iso
from contact_center.mp3 import silent_mp3
from contact_center.providers.elevenlabs import SIGNATURE_HEADER, sign
from contact_center.providers.registry import (
    EMULATOR_ELEVENLABS_AGENT_ID,
    EMULATOR_ELEVENLABS_API_KEY,
    EMULATOR_ELEVENLABS_SECRET,
)
from contact_center.schemas import ApiModel

WEBHOOK_PATH = "/webhooks/elevenlabs/call"


class CallsRequest(ApiModel):
    """`POST /_emulator/elevenlabs/calls`: simulate finished calls."""

    count: int = 1
    customer_number: str | None = None
    hours: float = 0.0
    webhook: bool = True
    audio_webhook: bool = False
    abandoned: bool = False
    seed: int | None = None
    customer_name: str | None = None


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"detail": {"status": code, "message": message}}, status_code=status, headers=headers
    )


def _validation(loc: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": ["query", loc], "msg": message, "type": "value_error"}]},
        status_code=422,
    )


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
        offset = int(value["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return offset if offset >= 0 else None


def create_conversations(state: EmulatorState, request: CallsRequest) -> list[dict[str, Any]]:
    rng = random.Random(request.seed) if request.seed is not None else random.Random()  # noqa: S311
    now = datetime.now(UTC)
    created = []
    for index in range(request.count):
        # Spread over the last `hours`, newest last, a few seconds apart at least.
        ago = (
            request.hours * 3600 * (request.count - index) / max(1, request.count)
            if request.hours
            else 0
        )
        started = now - timedelta(seconds=ago + 60)
        conversation = scenarios.conversation(
            rng,
            agent_id=EMULATOR_ELEVENLABS_AGENT_ID,
            started_at=started,
            customer_number=request.customer_number or scenarios.random_customer_number(rng),
            conversation_id="conv_" + secrets.token_hex(13),
            abandoned=request.abandoned,
            customer_name=request.customer_name,
        )
        state.conversations[conversation["conversation_id"]] = conversation
        created.append(conversation)
    return created


async def send_call_webhooks(
    state: EmulatorState, conversation: dict[str, Any], *, audio: bool
) -> None:
    url = state.target_url.rstrip("/") + WEBHOOK_PATH
    envelope = {
        "type": "post_call_transcription",
        "event_timestamp": int(datetime.now(UTC).timestamp()),
        "data": conversation,
    }
    body = json.dumps(envelope).encode()
    headers = {
        SIGNATURE_HEADER: sign(body, EMULATOR_ELEVENLABS_SECRET),
        "Content-Type": "application/json",
    }
    await deliver(state, url, content=body, headers=headers)
    if audio:
        mp3 = silent_mp3(min(30, conversation["metadata"]["call_duration_secs"]))
        audio_envelope = {
            "type": "post_call_audio",
            "event_timestamp": int(datetime.now(UTC).timestamp()),
            "data": {
                "agent_id": conversation["agent_id"],
                "conversation_id": conversation["conversation_id"],
                "full_audio": base64.b64encode(mp3).decode(),
            },
        }
        audio_body = json.dumps(audio_envelope).encode()
        audio_headers = {
            SIGNATURE_HEADER: sign(audio_body, EMULATOR_ELEVENLABS_SECRET),
            "Content-Type": "application/json",
        }
        await deliver(state, url, content=audio_body, headers=audio_headers)


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix="/elevenlabs")
    provider = state.elevenlabs

    async def guard(request: Request) -> JSONResponse | None:
        provider.requests += 1
        provider.outbox.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "receivedAt": now_iso(),
            }
        )
        if not secrets.compare_digest(
            request.headers.get("xi-api-key", ""), EMULATOR_ELEVENLABS_API_KEY
        ):
            return _error(401, "invalid_api_key", "Invalid API key")
        fault = provider.take_fault(None)
        if fault is not None:
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            return _error(
                fault.status,
                str(fault.code or "injected_fault"),
                fault.message or "Injected fault",
                headers,
            )
        return None

    @api.get("/v1/convai/conversations")
    async def list_conversations(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        query = request.query_params
        try:
            page_size = int(query.get("page_size", "30"))
            after = (
                int(query["call_start_after_unix"]) if "call_start_after_unix" in query else None
            )
            before = (
                int(query["call_start_before_unix"]) if "call_start_before_unix" in query else None
            )
        except ValueError:
            return _validation("page_size", "Input should be a valid integer")
        if not 1 <= page_size <= 100:
            return _validation("page_size", "Input should be between 1 and 100")
        offset = 0
        if query.get("cursor"):
            decoded = _decode_cursor(query["cursor"])
            if decoded is None:
                return _validation("cursor", "Invalid cursor")
            offset = decoded
        items = sorted(
            state.conversations.values(),
            key=lambda c: (c["metadata"]["start_time_unix_secs"], c["conversation_id"]),
            reverse=True,
        )
        agent = query.get("agent_id")
        items = [
            c
            for c in items
            if (agent is None or c["agent_id"] == agent)
            and (after is None or c["metadata"]["start_time_unix_secs"] >= after)
            and (before is None or c["metadata"]["start_time_unix_secs"] < before)
        ]
        page = items[offset : offset + page_size]
        has_more = offset + page_size < len(items)
        return JSONResponse(
            {
                "conversations": [scenarios.summary_of(c) for c in page],
                "has_more": has_more,
                "next_cursor": _encode_cursor(offset + page_size) if has_more else None,
            }
        )

    @api.get("/v1/convai/conversations/{conversation_id}")
    async def get_conversation(conversation_id: str, request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        conversation = state.conversations.get(conversation_id)
        if conversation is None:
            return _error(
                404, "conversation_not_found", f"Conversation {conversation_id} not found"
            )
        return JSONResponse(conversation)

    @api.get("/v1/convai/conversations/{conversation_id}/audio")
    async def get_audio(conversation_id: str, request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        conversation = state.conversations.get(conversation_id)
        if conversation is None or not conversation.get("has_audio"):
            return _error(404, "audio_not_found", f"No audio for conversation {conversation_id}")
        seconds = min(30, conversation["metadata"]["call_duration_secs"])
        return Response(silent_mp3(seconds), media_type="audio/mpeg")

    @api.post("/calls", status_code=201)
    async def simulate_calls(body: CallsRequest) -> dict[str, Any]:
        """Finished calls: listed by the API and, unless `webhook` is false, sent as webhooks."""
        if not 1 <= body.count <= 10_000:
            return {"error": "count must be between 1 and 10000"}
        created = create_conversations(state, body)
        if body.webhook:
            for conversation in created:
                state.spawn(send_call_webhooks(state, conversation, audio=body.audio_webhook))
        return {"conversationIds": [c["conversation_id"] for c in created]}

    @api.get("/conversations")
    async def all_conversations() -> dict[str, Any]:
        return {"items": list(state.conversations.values())}

    @api.delete("/conversations", status_code=204)
    async def clear_conversations() -> None:
        state.conversations.clear()

    return api
