"""ElevenLabs sync, refresh and the proxied conversation and audio routes.

The app talks to the emulator over real HTTP (the emulator is mounted in the served app), as it
would talk to ElevenLabs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import AuditLog, CallDetail, Interaction, InteractionEvent
from contact_center.providers.base import CallEvent
from contact_center.settings import Settings
from tests.deliveries import post_elevenlabs
from tests.live import Live, live_app, serve


async def scalar(session_factory: async_sessionmaker[AsyncSession], stmt: Any) -> Any:
    async with session_factory() as session:
        return (await session.execute(stmt)).scalar_one()


async def count(session_factory: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    return int(await scalar(session_factory, select(func.count()).select_from(model).where(*where)))


async def make_calls(live: Live, count: int, hours: float, *, seed: int = 7) -> list[str]:
    response = await live.http.post(
        "/_emulator/elevenlabs/calls",
        json={"count": count, "hours": hours, "webhook": False, "seed": seed},
    )
    assert response.status_code == 201, response.text
    return list(response.json()["conversationIds"])


async def emulator_conversations(live: Live) -> list[dict[str, Any]]:
    return list((await live.http.get("/_emulator/elevenlabs/conversations")).json()["items"])


async def deliver_webhook(live: Live, conversation: dict[str, Any]) -> None:
    payload = {
        "type": "post_call_transcription",
        "event_timestamp": int(time.time()),
        "data": conversation,
    }
    response = await post_elevenlabs(live.http, payload)
    assert response.status_code == 200, response.text


async def timeline(session_factory: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(Interaction.provider_conversation_id, InteractionEvent.type)
                .join(Interaction, Interaction.id == InteractionEvent.interaction_id)
                .order_by(Interaction.provider_conversation_id, InteractionEvent.type)
            )
        ).all()
    return [(str(cid), str(kind)) for cid, kind in rows]


@contextlib.contextmanager
def conversations_from(live: Live, source: Any) -> Iterator[None]:
    """The app's ConversationSource replaced by `source` (which wraps the real client)."""
    runtime = live.app.state.runtime
    original = runtime.providers
    runtime.providers = dataclasses.replace(original, conversations=source)
    try:
        yield
    finally:
        runtime.providers = original


def started(conversation: dict[str, Any]) -> int:
    return int(conversation["metadata"]["start_time_unix_secs"])


@pytest.mark.slow
async def test_full_sync_takes_the_newest_500_of_the_last_24_hours_and_a_rerun_changes_nothing(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 700, hours=30)
        everything = await emulator_conversations(live)
        since = time.time() - 24 * 3600
        in_window = sorted(
            (c for c in everything if started(c) >= since), key=started, reverse=True
        )
        assert len(in_window) > 500  # the limit is what stops the sync
        first = await live.http.post("/api/sync/full", json={})
        assert first.status_code == 200, first.text
        result = first.json()
        assert result["created"] == 500
        assert result["updated"] == 0
        assert result["failed"] == 0
        assert result["seen"] == 500
        # None of them came by webhook: every finished call older than the grace is in the gap.
        ended = [started(c) + c["metadata"]["call_duration_secs"] for c in in_window[:500]]
        surely_missing = sum(e <= time.time() - 150 for e in ended)
        assert surely_missing <= result["missingWebhooks"] <= 500
        assert len(result["missingWebhookIds"]) == min(100, result["missingWebhooks"])

        wanted = {c["conversation_id"] for c in in_window[:500]}
        async with session_factory() as session:
            ours = set((await session.scalars(select(Interaction.provider_conversation_id))).all())
        assert ours == wanted
        events_before = await timeline(session_factory)
        stamps_before = await scalar(session_factory, select(func.max(Interaction.updated_at)))

        second = (await live.http.post("/api/elevenlabs/sync", json={})).json()
        assert (second["created"], second["updated"], second["failed"]) == (0, 0, 0)
        assert second["unchanged"] == 500
        assert await timeline(session_factory) == events_before
        assert await scalar(session_factory, select(func.max(Interaction.updated_at))) == (
            stamps_before
        )
    assert await count(session_factory, Interaction) == 500
    assert await count(session_factory, CallDetail) == 500
    audits = await count(session_factory, AuditLog, AuditLog.action == "elevenlabs.sync")
    assert audits == 2


async def test_sync_creates_only_what_the_webhooks_missed_and_reports_the_gap(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 40, hours=10)
        conversations = sorted(await emulator_conversations(live), key=started)
        delivered, lost = conversations[::2], conversations[1::2]
        for conversation in delivered:
            await deliver_webhook(live, conversation)
        events_of_delivered = await timeline(session_factory)
        assert await count(session_factory, Interaction) == 20

        result = (await live.http.post("/api/sync/full", json={"hours": 24})).json()
        assert result["created"] == 20
        assert result["unchanged"] == 20
        assert result["failed"] == 0
        assert result["missingWebhooks"] == 20
        assert set(result["missingWebhookIds"]) == {c["conversation_id"] for c in lost}
        after = await timeline(session_factory)
        delivered_ids = {c["conversation_id"] for c in delivered}
        assert [e for e in after if e[0] in delivered_ids] == events_of_delivered

        # A webhook that arrives after the sync changes nothing either: one call, one timeline.
        await deliver_webhook(live, lost[0])
        assert await timeline(session_factory) == after
    assert await count(session_factory, Interaction) == 40
    async with session_factory() as session:
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "elevenlabs.sync"))
        ).one()
    assert audit.metadata_ is not None
    assert audit.metadata_["missingWebhooks"] == 20
    assert audit.metadata_["trigger"] == "api"


@pytest.mark.slow
async def test_a_sync_and_the_webhooks_racing_for_the_same_calls_make_one_of_each(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 30, hours=5)
        conversations = await emulator_conversations(live)
        webhooks = asyncio.gather(*(deliver_webhook(live, c) for c in conversations))
        syncs = asyncio.gather(*(live.http.post("/api/sync/full", json={}) for _ in range(3)))
        _, responses = await asyncio.gather(webhooks, syncs)
        for response in responses:
            assert response.status_code == 200, response.text
            assert response.json()["failed"] == 0
        assert sum(r.json()["created"] for r in responses) <= 30
    assert await count(session_factory, Interaction) == 30
    assert await count(session_factory, CallDetail) == 30
    for kind in ("interaction.created", "call.transcript"):
        assert await count(session_factory, InteractionEvent, InteractionEvent.type == kind) == 30


@pytest.mark.slow
async def test_provider_429s_during_a_sync_are_retried_and_the_sync_completes(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 25, hours=3)
        limited = {"status": 429, "code": "rate_limit_exceeded", "retryAfter": 1}
        # Two 429s on the list, then three more once the detail fetches begin.
        await live.emulator("/elevenlabs/faults", {**limited, "count": 2})
        runtime = live.app.state.runtime
        original = runtime.providers.conversations
        armed = asyncio.Event()

        class Busy:
            async def list_conversations(self, **kwargs: Any) -> Any:
                return await original.list_conversations(**kwargs)

            def webhook_keys(self, conversation_id: str) -> tuple[str, ...]:
                keys: tuple[str, ...] = original.webhook_keys(conversation_id)
                return keys

            async def get_conversation(self, conversation_id: str) -> CallEvent:
                if not armed.is_set():
                    armed.set()
                    await live.emulator("/elevenlabs/faults", {**limited, "count": 3})
                event: CallEvent = await original.get_conversation(conversation_id)
                return event

        began = time.monotonic()
        with conversations_from(live, Busy()):
            response = await live.http.post("/api/sync/full", json={"hours": 4})
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["created"], result["failed"]) == (25, 0)
        # The waits honoured Retry-After (1 s): two on the list alone.
        assert time.monotonic() - began >= 2.0
        requests = (await live.http.get("/_emulator/elevenlabs/outbox")).json()["items"]
    assert await count(session_factory, Interaction) == 25
    # 1 list page + 25 conversations + the 5 refused attempts.
    assert len(requests) == 1 + 25 + 5


@pytest.mark.slow
async def test_a_provider_that_stays_down_answers_503_with_retry_after_and_is_audited(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 3, hours=1)
        await live.emulator("/elevenlabs/faults", {"status": 503, "count": 100})
        response = await live.http.post("/api/sync/full", json={"hours": 2})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "provider_unavailable"
        assert int(response.headers["retry-after"]) >= 1
        listing = await live.http.get("/api/elevenlabs/conversations")
        assert listing.status_code == 503
        assert "retry-after" in listing.headers
    assert await count(session_factory, Interaction) == 0
    async with session_factory() as session:
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "elevenlabs.sync"))
        ).one()
    assert audit.metadata_ is not None
    assert audit.metadata_["providerStatus"] == 503


async def test_one_conversation_that_fails_is_counted_and_the_rest_are_applied(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 5, hours=1)
        # The list works; the next detail fetch is refused for good (a 404: deleted meanwhile).
        original = live.app.state.runtime.providers.conversations
        fetched: list[str] = []

        class DeletedOne:
            async def list_conversations(self, **kwargs: Any) -> Any:
                return await original.list_conversations(**kwargs)

            def webhook_keys(self, conversation_id: str) -> tuple[str, ...]:
                keys: tuple[str, ...] = original.webhook_keys(conversation_id)
                return keys

            async def get_conversation(self, conversation_id: str) -> CallEvent:
                fetched.append(conversation_id)
                if len(fetched) == 1:
                    await live.http.delete("/_emulator/elevenlabs/faults")
                    await live.emulator("/elevenlabs/faults", {"status": 404, "count": 1})
                event: CallEvent = await original.get_conversation(conversation_id)
                return event

        with conversations_from(live, DeletedOne()):
            result = (await live.http.post("/api/sync/full", json={})).json()
    assert (result["created"], result["failed"]) == (4, 1)
    assert await count(session_factory, Interaction) == 4


async def test_metadata_only_sync_creates_calls_that_a_detailed_sync_completes(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 6, hours=2)
        light = (await live.http.post("/api/sync/full", json={"includeDetails": False})).json()
        assert (light["created"], light["failed"]) == (6, 0)
        requests = (await live.http.get("/_emulator/elevenlabs/outbox")).json()["items"]
        assert [r["path"].rsplit("/", 1)[-1] for r in requests] == ["conversations"]
        async with session_factory() as session:
            details = (await session.scalars(select(CallDetail))).all()
            assert all(d.transcript == [] and d.duration_secs for d in details)
            calls = (await session.scalars(select(Interaction))).all()
            assert all(c.customer_phone is None for c in calls)
        again = (await live.http.post("/api/sync/full", json={"includeDetails": False})).json()
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 6)

        full = (await live.http.post("/api/sync/full", json={})).json()
        assert (full["created"], full["updated"], full["failed"]) == (0, 6, 0)
    async with session_factory() as session:
        details = (await session.scalars(select(CallDetail))).all()
        assert all(d.transcript for d in details)
        calls = (await session.scalars(select(Interaction))).all()
        assert all(c.customer_phone for c in calls)


async def test_sync_input_is_validated(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        for body in (
            {"hours": 0},
            {"hours": 169},
            {"limit": 0},
            {"limit": 5001},
            {"includeDetails": "sometimes"},
            {"hours": "many"},
        ):
            response = await live.http.post("/api/sync/full", json=body)
            assert response.status_code == 422, body
            assert response.json()["error"]["code"] == "validation_error"
        empty = await live.http.post("/api/elevenlabs/sync")
        assert empty.status_code == 200
        assert empty.json()["seen"] == 0
    assert await count(session_factory, AuditLog, AuditLog.action == "elevenlabs.sync") == 1


# --- proxied reads ----------------------------------------------------------------------------


async def test_the_conversation_list_is_proxied_with_our_interaction_ids(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        ids = await make_calls(live, 12, hours=3)
        conversations = {c["conversation_id"]: c for c in await emulator_conversations(live)}
        await deliver_webhook(live, conversations[ids[0]])
        seen: list[dict[str, Any]] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"pageSize": 5}
            if cursor:
                params["cursor"] = cursor
            page = (await live.http.get("/api/elevenlabs/conversations", params=params)).json()
            pages += 1
            seen.extend(page["items"])
            if not page["hasMore"]:
                assert page["nextCursor"] is None
                break
            cursor = page["nextCursor"]
        assert pages == 3
        assert {item["conversationId"] for item in seen} == set(ids)
        starts = [item["startedAt"] for item in seen]
        assert starts == sorted(starts, reverse=True)
        known = [item for item in seen if item["interactionId"]]
        assert [item["conversationId"] for item in known] == [ids[0]]
        first = next(item for item in seen if item["conversationId"] == ids[1])
        assert first["status"] == "done"
        assert first["agentId"]
        assert isinstance(first["durationSecs"], int)

        window = await live.http.get(
            "/api/elevenlabs/conversations",
            params={
                "dateFrom": (datetime.now(UTC) - timedelta(minutes=50)).isoformat(),
                "pageSize": 100,
            },
        )
        assert window.status_code == 200
        assert 1 <= len(window.json()["items"]) < 12

        for params in ({"pageSize": 0}, {"pageSize": 101}, {"dateFrom": "yesterday"}):
            bad = await live.http.get("/api/elevenlabs/conversations", params=params)
            assert bad.status_code == 422, params
        inverted = await live.http.get(
            "/api/elevenlabs/conversations",
            params={"dateFrom": "2026-11-20", "dateTo": "2026-11-10"},
        )
        assert inverted.status_code == 422


async def test_conversation_detail_is_masked_unless_an_admin_reveals_it(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        (conversation_id,) = await make_calls(live, 1, hours=1)
        raw = (await emulator_conversations(live))[0]
        phone = raw["metadata"]["phone_call"]["external_number"]
        masked = await live.http.get(f"/api/elevenlabs/conversations/{conversation_id}")
        assert masked.status_code == 200
        body = masked.json()
        assert body["conversationId"] == conversation_id
        assert body["interactionId"] is None
        assert phone not in masked.text
        assert body["conversation"]["transcript"]

        revealed = await live.http.get(
            f"/api/elevenlabs/conversations/{conversation_id}",
            params={"includePII": "true"},
            headers={"X-Role": "admin", "X-Reveal-Reason": "customer dispute 4411"},
        )
        assert revealed.json()["conversation"]["metadata"]["phone_call"]["external_number"] == (
            phone
        )
        missing = await live.http.get("/api/elevenlabs/conversations/conv_does_not_exist")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "conversation_not_found"
        unsafe = await live.http.get("/api/elevenlabs/conversations/conv%20bad%3Bid")
        assert unsafe.status_code == 422
    async with session_factory() as session:
        reveal = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "pii.reveal"))
        ).one()
    assert reveal.metadata_ is not None
    assert reveal.metadata_["reason"] == "customer dispute 4411"
    assert reveal.entity_id == conversation_id


async def test_refresh_fetches_one_call_again(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        (conversation_id,) = await make_calls(live, 1, hours=1)
        fresh = await live.http.post(f"/api/elevenlabs/conversations/{conversation_id}/refresh")
        assert fresh.status_code == 200, fresh.text
        interaction = fresh.json()
        assert interaction["providerConversationId"] == conversation_id
        assert interaction["channel"] == "CALL"
        assert interaction["callDetail"]["transcript"]
        assert interaction["callDetail"]["recordingUrl"] == (
            f"/api/elevenlabs/audio/{conversation_id}"
        )
        # Masked by default, as every interaction is.
        raw = (await emulator_conversations(live))[0]
        assert raw["metadata"]["phone_call"]["external_number"] not in fresh.text
        events = await timeline(session_factory)
        again = await live.http.post(f"/api/elevenlabs/conversations/{conversation_id}/refresh")
        assert again.status_code == 200
        assert again.json()["id"] == interaction["id"]
        assert await timeline(session_factory) == events
        unknown = await live.http.post("/api/elevenlabs/conversations/conv_nobody/refresh")
        assert unknown.status_code == 404
    assert await count(session_factory, Interaction) == 1
    assert await count(session_factory, AuditLog, AuditLog.action == "elevenlabs.refresh") == 2


async def test_audio_comes_from_our_copy_first_and_the_provider_otherwise(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        ours, theirs = await make_calls(live, 2, hours=1)
        copy = b"ID3" + b"\x00" * 7 + bytes(range(256)) * 8
        audio = {
            "type": "post_call_audio",
            "event_timestamp": int(time.time()),
            "data": {
                "agent_id": "agent_x",
                "conversation_id": ours,
                "full_audio": __import__("base64").b64encode(copy).decode(),
            },
        }
        assert (await post_elevenlabs(live.http, audio)).status_code == 200
        before = len((await live.http.get("/_emulator/elevenlabs/outbox")).json()["items"])
        stored = await live.http.get(f"/api/elevenlabs/audio/{ours}")
        assert stored.status_code == 200
        assert stored.headers["content-type"] == "audio/mpeg"
        assert stored.content == copy
        after = len((await live.http.get("/_emulator/elevenlabs/outbox")).json()["items"])
        assert after == before  # the provider was not asked

        streamed = await live.http.get(f"/api/elevenlabs/audio/{theirs}")
        assert streamed.status_code == 200
        assert streamed.headers["content-type"] == "audio/mpeg"
        assert len(streamed.content) > 1000
        assert streamed.content[:2] in (b"ID", b"\xff\xfb", b"\xff\xf3")

        none = await live.http.get("/api/elevenlabs/audio/conv_without_audio")
        assert none.status_code == 404
        assert none.json()["error"]["code"] == "conversation_not_found"
    assert await count(session_factory, AuditLog, AuditLog.action == "call.recording.accessed") == 2


async def test_refused_credentials_answer_502_not_500(
    settings_factory: Callable[..., Settings],
) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def refuse(request: Request) -> JSONResponse:
        detail = {"status": "invalid_api_key", "message": "Invalid API key"}
        return JSONResponse({"detail": detail}, status_code=401)

    provider = Starlette(routes=[Route("/{path:path}", refuse)])
    async with (
        serve(provider) as provider_url,
        live_app(
            settings_factory,
            with_worker=False,
            ELEVENLABS_API_KEY="wrong-key",
            ELEVENLABS_API_URL=provider_url,
        ) as live,
    ):
        listing = await live.http.get("/api/elevenlabs/conversations")
        assert listing.status_code == 502
        assert listing.json()["error"]["code"] == "provider_auth_failed"
        sync = await live.http.post("/api/sync/full", json={})
        assert sync.status_code == 502
        audio = await live.http.get("/api/elevenlabs/audio/conv_any")
        assert audio.status_code == 502
        refresh = await live.http.post("/api/elevenlabs/conversations/conv_any/refresh")
        assert refresh.status_code == 502


# --- the command ------------------------------------------------------------------------------


@pytest.mark.slow
async def test_the_sync_command_shows_progress_and_is_audited(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        await make_calls(live, 15, hours=2)
        settings = live.app.state.settings
        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "APP_ENV": "test",
            "APP_PORT": str(settings.app_port),
            "COLUMNS": "120",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "contact_center.cli",
            "sync",
            "--hours",
            "3",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "created" in text
    assert "15" in text
    assert "Applying calls" in err.decode()
    assert await count(session_factory, Interaction) == 15
    async with session_factory() as session:
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "elevenlabs.sync"))
        ).one()
    assert audit.metadata_ is not None
    assert audit.metadata_["trigger"] == "cli"
    assert audit.metadata_["created"] == 15
    assert (audit.actor_id or "").startswith("cli:")
    json.dumps(audit.metadata_)


@pytest.mark.parametrize("minutes", ["7", "-1", "61"])
def test_the_sync_interval_must_divide_the_hour(
    settings_factory: Callable[..., Settings], minutes: str
) -> None:
    from contact_center.settings import ConfigError

    with pytest.raises(ConfigError, match="ELEVENLABS_SYNC_INTERVAL_MINUTES"):
        settings_factory(ELEVENLABS_SYNC_INTERVAL_MINUTES=minutes)
