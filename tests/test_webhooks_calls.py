"""ElevenLabs post-call webhooks: stored once, applied once, mapped as docs/api.md says."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import (
    AuditLog,
    CallDetail,
    Interaction,
    InteractionEvent,
    WebhookDelivery,
)
from contact_center.settings import Settings
from tests.deliveries import post_elevenlabs, transcription


async def count(session_factory: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with session_factory() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


async def call_of(client: httpx.AsyncClient, conversation_id: str) -> dict[str, Any]:
    reveal = {"includePII": "true"}
    why = {"X-Reveal-Reason": "test"}
    items = (
        await client.get("/api/interactions", params={"channel": "CALL", **reveal}, headers=why)
    ).json()
    match = [i for i in items["items"] if i["providerConversationId"] == conversation_id]
    assert len(match) == 1
    detail = await client.get(f"/api/interactions/{match[0]['id']}", params=reveal, headers=why)
    return dict(detail.json())


@pytest.mark.slow
async def test_the_same_payload_50_times_concurrently_is_one_call(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    payload = transcription("conv_concurrent")
    responses = await asyncio.gather(*(post_elevenlabs(client, payload) for _ in range(50)))
    assert {r.status_code for r in responses} == {200}
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert await count(session_factory, Interaction) == 1
    assert await count(session_factory, CallDetail) == 1
    assert (
        await count(
            session_factory, InteractionEvent, InteractionEvent.type == "interaction.created"
        )
        == 1
    )
    assert await count(session_factory, WebhookDelivery) == 1
    assert await count(session_factory, AuditLog, AuditLog.action == "webhook.received") == 1


async def test_transcription_maps_every_field(client: httpx.AsyncClient) -> None:
    payload = transcription(
        "conv_fields",
        conversation_initiation_client_data={
            "dynamic_variables": {"queue": "tarjetas", "customer_ref": "CUS-000123"}
        },
    )
    payload["data"]["analysis"]["data_collection_results"]["intent"] = {"value": "consulta_pedido"}
    assert (await post_elevenlabs(client, payload)).json()["status"] == "PROCESSED"
    call = await call_of(client, "conv_fields")
    assert call["channel"] == "CALL"
    assert call["direction"] == "INBOUND"
    assert call["status"] == "COMPLETED"
    assert call["from"] == "+5491155551234"
    assert call["to"] == "+541152500000"
    assert call["customerPhone"] == "+5491155551234"
    assert call["provider"] == "ELEVENLABS"
    assert call["outcome"] == "RESOLVED"
    assert call["intent"] == "consulta_pedido"
    assert call["aiHandled"] is True
    assert call["assignedAgent"] == "Support Line ES"
    assert call["queue"] == "tarjetas"
    assert call["customerRef"] == "CUS-000123"
    assert call["startedAt"] == "2026-01-02T10:40:02.000000Z"
    assert call["endedAt"] == "2026-01-02T10:41:16.000000Z"
    detail = call["callDetail"]
    assert detail["durationSecs"] == 74
    assert detail["hangupReason"] == "Call ended by remote party"
    assert detail["callSuccessful"] == "success"
    assert detail["summary"].startswith("The caller asked")
    assert [t["role"] for t in detail["transcript"]] == ["agent", "user", "agent"]
    assert detail["transcript"][1]["timeInCallSecs"] == 5
    assert detail["hasAudio"] is True
    assert detail["recordingUrl"] == "/api/elevenlabs/audio/conv_fields"
    types = [e["type"] for e in call["events"]]
    assert types.count("interaction.created") == 1
    assert "call.transcript" in types
    assert "interaction.completed" in types
    created = next(e for e in call["events"] if e["type"] == "interaction.created")
    assert created["payload"]["type"] == "post_call_transcription"
    assert created["normalized"]["conversationId"] == "conv_fields"


@pytest.mark.parametrize(
    ("change", "status", "outcome", "ai_handled"),
    [
        ({"transfer": True}, "COMPLETED", "TRANSFERRED", False),
        ({"collect": {"needs_human": {"value": True}}}, "COMPLETED", "ESCALATED", True),
        ({"collect": {"ticket_id": {"value": "R-123456"}}}, "COMPLETED", "TICKETED", True),
        ({"successful": "failure"}, "COMPLETED", "UNKNOWN", True),
        ({"duration": 4}, "ABANDONED", "RESOLVED", True),
        ({"only_agent": True}, "ABANDONED", "RESOLVED", True),
        ({"status": "failed"}, "FAILED", "RESOLVED", True),
        ({"status": "processing"}, "IN_PROGRESS", "RESOLVED", True),
    ],
)
async def test_status_and_outcome_rules(
    client: httpx.AsyncClient, change: dict[str, Any], status: str, outcome: str, ai_handled: bool
) -> None:
    payload = transcription("conv_rules")
    data = payload["data"]
    if change.get("transfer"):
        data["transcript"][2]["tool_calls"] = [{"tool_name": "transfer_to_number"}]
        data["analysis"]["data_collection_results"]["human_agent"] = {"value": "Lucía Fernández"}
    for key, value in change.get("collect", {}).items():
        data["analysis"]["data_collection_results"][key] = value
    if "successful" in change:
        data["analysis"]["call_successful"] = change["successful"]
    if "duration" in change:
        data["metadata"]["call_duration_secs"] = change["duration"]
    if change.get("only_agent"):
        data["transcript"] = [data["transcript"][0]]
    if "status" in change:
        data["status"] = change["status"]
    await post_elevenlabs(client, payload)
    call = await call_of(client, "conv_rules")
    assert call["status"] == status
    assert call["outcome"] == outcome
    assert call["aiHandled"] is ai_handled
    if change.get("transfer"):
        assert call["assignedAgent"] == "Lucía Fernández"


async def test_a_late_processing_status_never_reopens_a_finished_call(
    client: httpx.AsyncClient,
) -> None:
    await post_elevenlabs(client, transcription("conv_late"))
    late = transcription("conv_late", status="processing")
    late["event_timestamp"] = late["event_timestamp"] + 1  # a different delivery, same key
    await post_elevenlabs(client, late)
    assert (await call_of(client, "conv_late"))["status"] == "COMPLETED"


async def test_audio_is_kept_in_the_file_store(
    client: httpx.AsyncClient, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    mp3 = b"\xff\xfb\x90\xc4" + bytes(413)
    audio = {
        "type": "post_call_audio",
        "event_timestamp": int(time.time()),
        "data": {
            "agent_id": "a",
            "conversation_id": "conv_audio",
            "full_audio": base64.b64encode(mp3).decode(),
        },
    }
    response = await post_elevenlabs(client, audio)
    assert response.json()["status"] == "PROCESSED"
    stored = Path(settings.recordings_dir) / "conv_audio.mp3"
    assert stored.read_bytes() == mp3
    call = await call_of(client, "conv_audio")
    assert call["status"] == "IN_PROGRESS"  # audio first: the transcription completes it later
    assert call["callDetail"]["hasAudio"] is True
    assert call["callDetail"]["recordingUrl"] == "/api/elevenlabs/audio/conv_audio"
    await post_elevenlabs(client, transcription("conv_audio", has_audio=False))
    call = await call_of(client, "conv_audio")
    assert call["status"] == "COMPLETED"
    assert call["callDetail"]["hasAudio"] is True
    async with session_factory() as session:
        ledger = (
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.event_type == "post_call_audio")
            )
        ).one()
    assert "stored: conv_audio.mp3" in ledger.raw_body
    assert base64.b64encode(mp3).decode() not in ledger.raw_body


async def test_initiation_failure_is_a_failed_outbound_call(client: httpx.AsyncClient) -> None:
    body = (
        Path(__file__).parent
        / "fixtures"
        / "providers"
        / "elevenlabs_call_initiation_failure_twilio.json"
    )
    await post_elevenlabs(client, json.loads(body.read_text()))
    call = await call_of(client, "conv_01jz9failure0000000000000")
    assert call["status"] == "FAILED"
    assert call["direction"] == "OUTBOUND"
    assert call["to"] == "+5491155551234"


@pytest.mark.parametrize("how", ["bad_signature", "old", "future", "missing", "tampered"])
async def test_bad_signatures_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], how: str
) -> None:
    body = json.dumps(transcription("conv_refused")).encode()
    if how == "bad_signature":
        response = await post_elevenlabs(client, body, secret="not-the-secret")
    elif how == "old":
        response = await post_elevenlabs(client, body, timestamp=int(time.time()) - 31 * 60)
    elif how == "future":
        response = await post_elevenlabs(client, body, timestamp=int(time.time()) + 6 * 60)
    elif how == "missing":
        response = await client.post("/webhooks/elevenlabs/call", content=body)
    else:
        from contact_center.providers.elevenlabs import sign
        from contact_center.providers.registry import EMULATOR_ELEVENLABS_SECRET

        header = sign(body, EMULATOR_ELEVENLABS_SECRET)
        response = await client.post(
            "/webhooks/elevenlabs/call",
            content=body.replace(b"74", b"75"),
            headers={"ElevenLabs-Signature": header},
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_unauthenticated"
    assert await count(session_factory, WebhookDelivery) == 0
    assert await count(session_factory, Interaction) == 0


async def test_token_is_required_too_when_configured(client_for: Any) -> None:
    http = await client_for(ELEVENLABS_WEBHOOK_TOKEN="tok-123")
    payload = transcription("conv_token")
    assert (await post_elevenlabs(http, payload)).status_code == 401
    body = json.dumps(payload).encode()
    from contact_center.providers.elevenlabs import sign
    from contact_center.providers.registry import EMULATOR_ELEVENLABS_SECRET

    ok = await http.post(
        "/webhooks/elevenlabs/call?token=tok-123",
        content=body,
        headers={"ElevenLabs-Signature": sign(body, EMULATOR_ELEVENLABS_SECRET)},
    )
    assert ok.status_code == 200


async def test_a_live_provider_without_secret_or_token_refuses_everything(client_for: Any) -> None:
    http = await client_for(ELEVENLABS_API_KEY="live-key")
    assert (await post_elevenlabs(http, transcription("conv_live"))).status_code == 401


async def test_malformed_payload_is_kept_with_its_error(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    response = await post_elevenlabs(
        client, {"type": "post_call_transcription", "data": {"agent_id": "a"}}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unparseable_payload"
    delivery_id = response.json()["error"]["details"]["deliveryId"]
    async with session_factory() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert str(row.id) == delivery_id
    assert row.status == "INVALID"
    assert row.error is not None
    assert "conversation_id" in row.error
    listed = (await client.get("/api/webhooks", params={"status": "INVALID"})).json()
    assert [item["id"] for item in listed["items"]] == [delivery_id]


async def test_unknown_event_types_are_kept_and_ignored(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    response = await post_elevenlabs(client, {"type": "voice_removal_notice", "data": {}})
    assert response.status_code == 200
    assert response.json()["status"] == "IGNORED"
    assert await count(session_factory, Interaction) == 0
