"""The messaging domain with Meta's WhatsApp Cloud API: inbound messages (text, replies, media
fetched and served), statuses applied forward-only, sends through the configured provider
(templates, retries by error code) and no bot to pause (docs/whatsapp-cloud.md)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.live.bus import EventBus
from contact_center.media import MediaStore, digest, disposition, safe_content_type
from contact_center.messaging import attachments
from contact_center.messaging import service as messaging_service
from contact_center.messaging.outbound import Claim
from contact_center.messaging.status import moves_forward, whatsapp_moves_forward
from contact_center.messaging.tasks import (
    MediaDeps,
    MediaWatcher,
    control_bot,
    fetch_media,
    sweep_media,
    template_message,
)
from contact_center.models import Interaction, InteractionEvent, Message, WebhookDelivery
from contact_center.models.enums import (
    Channel,
    Direction,
    MessageKind,
    MessageStatus,
    Provider,
    WebhookStatus,
)
from contact_center.providers.base import (
    MediaRef,
    ProviderName,
    TemplateButtonParameter,
    TemplateMessage,
    WhatsAppMessageEvent,
)
from contact_center.providers.registry import (
    EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
    EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID,
)
from contact_center.providers.whatsapp_cloud import WhatsAppCloudClient, signature
from contact_center.settings import Settings
from contact_center.webhooks.ingest import apply_waiting
from contact_center.worker.deps import job_context
from tests import factories as f
from tests.deliveries import incoming, post_builderbot
from tests.live import Live, live_app
from tests.orm_watch import orm_statements

NUMBER = "5491155550101"
PHONE = "+" + NUMBER
GRAPH = "https://graph.test"
PNID = EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID


# --- deliveries as Meta signs them ------------------------------------------------------------


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "5491100000099",
                                "phone_number_id": PNID,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def inbound(
    kind: str = "text",
    *,
    wamid: str | None = None,
    number: str = NUMBER,
    name: str = "Juana Perez",
    context: str | None = None,
    **content: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": number,
        "id": wamid or f"wamid.IN{uuid.uuid4().hex}",
        "timestamp": str(int(datetime.now(UTC).timestamp())),
        "type": kind,
        kind: content or {"body": "Hola, necesito ayuda con mi tarjeta"},
    }
    if context:
        message["context"] = {"from": "5491100000099", "id": context}
    return envelope(
        {"contacts": [{"profile": {"name": name}, "wa_id": number}], "messages": [message]}
    )


def status(wamid: str, value: str, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": value,
        "timestamp": str(int(datetime.now(UTC).timestamp())),
        "recipient_id": NUMBER,
    }
    if errors:
        item["errors"] = errors
    return envelope({"statuses": [item]})


async def post_cloud(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post(
        "/webhooks/whatsapp-cloud",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(EMULATOR_WHATSAPP_CLOUD_APP_SECRET, body),
        },
    )


async def the_message(
    sessions: async_sessionmaker[AsyncSession], **where: Any
) -> tuple[Message, Interaction]:
    async with sessions() as session:
        stmt = select(Message)
        for column, value in where.items():
            stmt = stmt.where(getattr(Message, column) == value)
        message = (await session.scalars(stmt)).one()
        interaction = await session.get(Interaction, message.interaction_id)
        assert interaction is not None
        return message, interaction


# --- inbound messages ---------------------------------------------------------------------------


async def test_a_text_opens_a_cloud_conversation_with_its_wamid_reply_and_name(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    response = await post_cloud(
        client, inbound(wamid="wamid.IN_TEXT_1", context="wamid.OUT_QUOTED", name="Juana Perez")
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "PROCESSED"
    message, interaction = await the_message(session_factory, provider_message_id="wamid.IN_TEXT_1")
    assert interaction.provider is Provider.WHATSAPP_CLOUD
    assert interaction.channel is Channel.WHATSAPP
    assert interaction.ai_handled is False  # no bot answers on the Cloud API
    assert interaction.customer_phone == PHONE
    assert interaction.customer_name == "Juana Perez"
    assert message.direction is Direction.INBOUND
    assert message.status is MessageStatus.RECEIVED
    assert message.body == "Hola, necesito ayuda con mi tarjeta"
    assert message.reply_to == "wamid.OUT_QUOTED"
    assert message.media == []
    assert message.next_attempt_at is None  # nothing to fetch
    detail = (await client.get(f"/api/interactions/{interaction.id}")).json()
    [shown] = detail["messages"]
    assert shown["providerMessageId"] == "wamid.IN_TEXT_1"
    assert shown["replyTo"] == "wamid.OUT_QUOTED"
    # A repeat of the same wamid (Meta retries for days) is stored once.
    again = await post_cloud(
        client, inbound(wamid="wamid.IN_TEXT_1", context="wamid.OUT_QUOTED", name="Juana Perez")
    )
    assert again.json()["duplicate"] is True
    async with session_factory() as session:
        assert len((await session.scalars(select(Message))).all()) == 1


async def test_either_provider_lands_in_the_one_conversation(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    first = await post_builderbot(client, incoming(NUMBER, "hola por builderbot"))
    assert first.json()["status"] == "PROCESSED"
    second = await post_cloud(client, inbound(body="y ahora por la API"))
    assert second.status_code == 200, second.text
    async with session_factory() as session:
        interactions = (await session.scalars(select(Interaction))).all()
        stored = (await session.scalars(select(Message).order_by(Message.created_at))).all()
    assert len(interactions) == 1
    # Kept as the conversation was opened (BuilderBot's), whichever provider carries it now.
    assert interactions[0].provider is Provider.BUILDERBOT
    assert [m.direction for m in stored] == [Direction.INBOUND, Direction.INBOUND]
    assert stored[0].created_at < stored[1].created_at  # arrival order
    assert stored[1].body == "y ahora por la API"


async def test_the_orm_path_and_the_fast_path_store_the_same_message(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post_cloud(
        client,
        inbound(
            "image",
            wamid="wamid.FAST",
            number="5491155550102",
            id="300000000000001",
            mime_type="image/jpeg",
            sha256="SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
            caption="foto del recibo",
        ),
    )
    event = WhatsAppMessageEvent(
        direction="INBOUND",
        customer_number="5491155550103",
        customer_name="Luis",
        body="foto del recibo",
        attachments=[],
        project_id=None,
        provider=ProviderName.WHATSAPP_CLOUD,
        provider_message_id="wamid.ORM",
        reply_to=None,
        media=[
            MediaRef(
                "300000000000001",
                "image/jpeg",
                None,
                "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
            )
        ],
        message_type="image",
    )
    async with session_factory() as session:
        await messaging_service.apply_whatsapp(
            session, settings.default_phone_region, event, payload={}, key="webhook:orm"
        )
        await session.commit()
    fast, fast_chat = await the_message(session_factory, provider_message_id="wamid.FAST")
    orm, orm_chat = await the_message(session_factory, provider_message_id="wamid.ORM")
    for message, chat in ((fast, fast_chat), (orm, orm_chat)):
        assert chat.provider is Provider.WHATSAPP_CLOUD
        assert message.body == "foto del recibo"
        assert message.media == [
            {
                "mediaId": "300000000000001",
                "contentType": "image/jpeg",
                "filename": None,
                "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
                "voice": False,
                "stored": False,
            }
        ]
        assert message.next_attempt_at == message.created_at  # its fetch is due at once


# --- statuses --------------------------------------------------------------------------------


async def sent_message(
    sessions: async_sessionmaker[AsyncSession], wamid: str, **overrides: Any
) -> Message:
    """One outbound WhatsApp message the Cloud API accepted (SENT, with its wamid)."""
    async with sessions() as session:
        chat = f.interaction(
            customer_phone=PHONE,
            from_number=PHONE,
            provider=Provider.WHATSAPP_CLOUD,
            last_message_at=utcnow(),
        )
        message = f.message(
            chat,
            direction=Direction.OUTBOUND,
            body="Hola Juana, ¿en qué te ayudo?",
            status=overrides.pop("status", MessageStatus.SENT),
            provider_message_id=wamid,
            sent_at=utcnow(),
            **overrides,
        )
        await f.save(session, chat, message)
        return message


async def reload(sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID) -> Message:
    async with sessions() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def status_events(
    sessions: async_sessionmaker[AsyncSession], interaction_id: uuid.UUID
) -> list[InteractionEvent]:
    async with sessions() as session:
        stmt = (
            select(InteractionEvent)
            .where(
                InteractionEvent.interaction_id == interaction_id,
                InteractionEvent.type.in_(["message.status", "message.failed"]),
            )
            .order_by(InteractionEvent.occurred_at, InteractionEvent.id)
        )
        return list((await session.scalars(stmt)).all())


async def test_read_before_delivered_ends_read_and_a_late_delivered_changes_nothing(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    message = await sent_message(session_factory, "wamid.OUT_ORDER")
    read = await post_cloud(client, status("wamid.OUT_ORDER", "read"))
    assert read.json()["status"] == "PROCESSED"
    after_read = await reload(session_factory, message.id)
    assert after_read.status is MessageStatus.READ
    assert after_read.read_at is not None
    assert after_read.delivered_at is not None  # read implies delivered
    late = await post_cloud(client, status("wamid.OUT_ORDER", "delivered"))
    assert late.json()["status"] == "PROCESSED"
    final = await reload(session_factory, message.id)
    assert final.status is MessageStatus.READ
    assert final.read_at == after_read.read_at
    events = await status_events(session_factory, message.interaction_id)
    assert [(e.normalized or {})["status"] for e in events] == ["read", "delivered"]
    assert [(e.normalized or {})["moved"] for e in events] == [True, False]
    detail = (await client.get(f"/api/interactions/{message.interaction_id}")).json()
    assert detail["messages"][0]["readAt"] is not None


async def test_failed_is_final_with_the_error_and_a_later_read_leaves_it_failed(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    message = await sent_message(session_factory, "wamid.OUT_FAIL")
    failed = await post_cloud(
        client,
        status(
            "wamid.OUT_FAIL",
            "failed",
            errors=[
                {
                    "code": 131047,
                    "title": "Re-engagement message",
                    "message": "Re-engagement message",
                    "error_data": {"details": "More than 24 hours have passed."},
                }
            ],
        ),
    )
    assert failed.json()["status"] == "PROCESSED"
    await post_cloud(client, status("wamid.OUT_FAIL", "read"))
    await post_cloud(client, status("wamid.OUT_FAIL", "delivered"))
    final = await reload(session_factory, message.id)
    assert final.status is MessageStatus.FAILED
    assert final.error_code == "131047"
    # Meta's title, what to do (as a refusal at send time says it) and Meta's details.
    assert final.error_message == (
        "Re-engagement message: The customer last wrote more than 24 hours ago, so WhatsApp's "
        "customer-service window is closed: send an approved template instead. (More than 24 "
        "hours have passed.)"
    )
    assert final.read_at is None
    events = await status_events(session_factory, message.interaction_id)
    types = [e.type for e in events]
    assert types.count("message.failed") == 1
    assert types.count("message.status") == 3


async def test_an_unknown_status_is_on_the_timeline_and_moves_nothing(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    message = await sent_message(session_factory, "wamid.OUT_ODD")
    response = await post_cloud(client, status("wamid.OUT_ODD", "deleted"))
    assert response.json()["status"] == "PROCESSED"
    assert (await reload(session_factory, message.id)).status is MessageStatus.SENT
    [event] = await status_events(session_factory, message.interaction_id)
    assert (event.normalized or {})["status"] == "deleted"
    assert (event.normalized or {})["moved"] is False


async def test_a_played_voice_note_is_read(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    message = await sent_message(session_factory, "wamid.OUT_VOICE")
    await post_cloud(client, status("wamid.OUT_VOICE", "played"))
    assert (await reload(session_factory, message.id)).status is MessageStatus.READ


async def test_a_status_before_its_send_is_recorded_waits_then_applies(
    app: FastAPI,
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    response = await post_cloud(client, status("wamid.OUT_LATER", "delivered"))
    assert response.json()["status"] == "DEFERRED"
    async with session_factory() as session:
        delivery = (await session.scalars(select(WebhookDelivery))).one()
    assert delivery.waiting_for == "wamid.OUT_LATER"
    # The send is recorded: the waiting status is applied (what the send job's after_sent runs).
    message = await sent_message(session_factory, "wamid.OUT_LATER")
    assert await apply_waiting(app.state.webhooks, "wamid.OUT_LATER") == 1
    assert (await reload(session_factory, message.id)).status is MessageStatus.DELIVERED
    async with session_factory() as session:
        applied = await session.get(WebhookDelivery, delivery.id)
        assert applied is not None
        assert applied.status == WebhookStatus.PROCESSED.value


def test_whatsapp_order_leaves_sms_order_as_it_was() -> None:
    S = MessageStatus  # noqa: N806 - short for the table below
    assert not whatsapp_moves_forward(S.FAILED, S.READ)
    assert not whatsapp_moves_forward(S.FAILED, S.DELIVERED)
    assert not whatsapp_moves_forward(S.READ, S.DELIVERED)
    assert not whatsapp_moves_forward(S.READ, S.FAILED)
    assert not whatsapp_moves_forward(S.RECEIVED, S.READ)
    assert whatsapp_moves_forward(S.SENT, S.READ)
    assert whatsapp_moves_forward(S.DELIVERED, S.FAILED)
    assert whatsapp_moves_forward(S.SENDING, S.SENT)
    # SMS: unchanged (a read receipt may follow a terminal status there).
    assert moves_forward(S.FAILED, S.READ)


# --- media ---------------------------------------------------------------------------------------

IMAGE = b"\xff\xd8\xff\xe0" + b"JFIF-test-image" * 64


def graph_media(router: respx.MockRouter, media_id: str, content: bytes, mime: str) -> None:
    router.get(f"{GRAPH}/v23.0/{media_id}").mock(
        return_value=httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "url": f"{GRAPH}/download/{media_id}",
                "mime_type": mime,
                "sha256": "opaque",
                "file_size": str(len(content)),
                "id": media_id,
            },
        )
    )
    router.get(f"{GRAPH}/download/{media_id}").mock(
        return_value=httpx.Response(200, content=content, headers={"Content-Type": mime})
    )


def graph_media_deps(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, directory: str
) -> tuple[MediaDeps, list[tuple[str, datetime | None]]]:
    enqueued: list[tuple[str, datetime | None]] = []

    async def enqueue(message_id: str, at: datetime | None) -> bool:
        enqueued.append((message_id, at))
        return True

    client = WhatsAppCloudClient(
        http,
        base_url=GRAPH,
        version="v23.0",
        token=EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
        phone_number_id=PNID,
        waba_id="200000000000001",
    )
    return MediaDeps(sessions, client, MediaStore(directory), enqueue), enqueued


async def test_media_is_fetched_stored_and_served_to_who_may_see_it(
    client: httpx.AsyncClient,
    people: dict[str, httpx.AsyncClient],
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post_cloud(
        client,
        inbound(
            "document",
            wamid="wamid.IN_DOC",
            id="300000000000002",
            mime_type="application/pdf",
            filename="Recibo 30123456 ñ.pdf",  # a DNI said as one would be redacted
            caption="recibo",
        ),
    )
    message, chat = await the_message(session_factory, provider_message_id="wamid.IN_DOC")
    route = f"/api/interactions/{chat.id}/messages/{message.id}/media/0"
    # Not fetched yet: 404, and the detail shows where it will be.
    assert (await client.get(route)).status_code == 404
    thread = await client.get(f"/console/partials/inbox/conversation/{chat.id}/thread")
    assert "Recibo ******56" in thread.text
    assert "30123456" not in thread.text
    assert f'href="{route}"' not in thread.text
    detail = (await client.get(f"/api/interactions/{chat.id}")).json()
    shown = detail["messages"][0]["media"][0]
    assert shown["url"] == route
    assert shown["filename"] == "Recibo ******56 ñ.pdf"  # masked unless revealed
    revealed = (
        await client.get(
            f"/api/interactions/{chat.id}",
            params={"includePII": "true"},
            headers={"X-Reveal-Reason": "reclamo 123"},
        )
    ).json()
    assert revealed["messages"][0]["media"][0]["filename"] == "Recibo 30123456 ñ.pdf"
    assert shown["stored"] is False
    assert shown["mediaId"] == "300000000000002"

    content = b"%PDF-1.4 test document"
    async with httpx.AsyncClient() as http:
        deps, enqueued = graph_media_deps(session_factory, http, settings.media_dir)
        with respx.mock(assert_all_called=True) as router:
            graph_media(router, "300000000000002", content, "application/pdf")
            assert await sweep_media(deps) == 1
            assert enqueued[0][0] == str(message.id)
            assert await fetch_media(deps, str(message.id)) == "stored"
        # Done: a second job (a repeat of the sweep's) does nothing.
        assert await fetch_media(deps, str(message.id)) == "skipped"
        assert await sweep_media(deps) == 0
    stored = await reload(session_factory, message.id)
    item = stored.media[0]
    assert item["stored"] is True
    assert item["sha256"] == digest(content)
    assert item["size"] == len(content)
    assert stored.next_attempt_at is None
    assert MediaStore(settings.media_dir).exists(digest(content))

    served = await client.get(route)
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    # The file's name is masked as the API masks it: a document number stays hidden.
    disposition = served.headers["content-disposition"]
    assert disposition.startswith('inline; filename="Recibo ______56 n.pdf"')
    assert (
        "filename*=UTF-8''Recibo%20%2A%2A%2A%2A%2A%2A56%20%C3%B1.pdf"
        in served.headers["content-disposition"]
    )
    assert "30123456" not in served.headers["content-disposition"]
    # The console links the stored file from the thread (and not before: see above).
    thread = await client.get(f"/console/partials/inbox/conversation/{chat.id}/thread")
    assert f'href="{route}"' in thread.text

    # Scope: the conversation is ana's; bruno gets the same 404 as for an unknown one.
    async with session_factory() as session:
        await session.execute(
            update(Interaction).where(Interaction.id == chat.id).values(assigned_agent="ana")
        )
        await session.commit()
    assert (await people["ana"].get(route)).status_code == 200
    refused = await people["bruno"].get(route)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "interaction_not_found"
    # Out of range, another message's id, a negative or absurd index.
    assert (await client.get(route[:-1] + "1")).status_code == 404
    assert (
        await client.get(f"/api/interactions/{chat.id}/messages/{uuid.uuid4()}/media/0")
    ).status_code == 404
    assert (await client.get(route[:-1] + "-1")).status_code == 422
    assert (await client.get(route[:-1] + "9" * 40)).status_code == 422


async def test_an_expired_media_fails_at_once_and_a_flaky_one_is_retried_with_backoff(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post_cloud(
        client,
        inbound(
            "audio",
            wamid="wamid.IN_VOICE",
            id="300000000000003",
            mime_type="audio/ogg; codecs=opus",
            voice=True,
        ),
    )
    await post_cloud(
        client,
        inbound("image", wamid="wamid.IN_GONE", number="5491155550104", id="300000000000004"),
    )
    voice, _ = await the_message(session_factory, provider_message_id="wamid.IN_VOICE")
    gone, _ = await the_message(session_factory, provider_message_id="wamid.IN_GONE")
    async with httpx.AsyncClient() as http:
        deps, enqueued = graph_media_deps(session_factory, http, settings.media_dir)
        with respx.mock() as router:
            router.get(f"{GRAPH}/v23.0/300000000000004").mock(
                return_value=httpx.Response(
                    404, json={"error": {"message": "Unknown media", "code": 100}}
                )
            )
            flaky = router.get(f"{GRAPH}/v23.0/300000000000003").mock(
                return_value=httpx.Response(
                    503, json={"error": {"message": "Service unavailable", "code": 2}}
                )
            )
            assert await fetch_media(deps, str(gone.id)) == "failed"
            before = utcnow()
            assert await fetch_media(deps, str(voice.id)) == "retry"
            [(again_id, again_at)] = enqueued
            assert again_id == str(voice.id)
            assert again_at is not None
            assert again_at >= before + timedelta(seconds=10)
            # Too early: the job scheduled for the retry finds nothing due yet.
            assert await fetch_media(deps, str(voice.id)) == "skipped"
            async with session_factory() as session:
                await session.execute(
                    update(Message).where(Message.id == voice.id).values(next_attempt_at=utcnow())
                )
                await session.commit()
            flaky.mock(side_effect=None, return_value=None)
            graph_media(router, "300000000000003", b"OggS-voice", "audio/ogg")
            assert await fetch_media(deps, str(voice.id)) == "stored"
    failed = (await reload(session_factory, gone.id)).media[0]
    assert failed["stored"] is False
    assert failed["error"] == attachments.EXPIRED
    assert (await reload(session_factory, gone.id)).next_attempt_at is None
    note = (await reload(session_factory, voice.id)).media[0]
    assert note["stored"] is True
    assert note["voice"] is True
    assert note["attempts"] == 1


def test_media_retries_grow_then_give_up() -> None:
    from contact_center.providers.base import RetryableProviderError

    now = utcnow()
    items: list[dict[str, Any]] = [{"mediaId": "1", "stored": False}]
    waits = []
    for _ in range(attachments.MEDIA_MAX_ATTEMPTS - 1):
        error = RetryableProviderError(ProviderName.WHATSAPP_CLOUD, "down", code="2")
        items, retry_at = attachments.media_settled(items, {0: error}, now)
        assert retry_at is not None
        waits.append((retry_at - now).total_seconds())
    assert waits == sorted(waits)
    assert waits[0] < waits[-1]
    error = RetryableProviderError(ProviderName.WHATSAPP_CLOUD, "down", code="2")
    items, retry_at = attachments.media_settled(items, {0: error}, now)
    assert retry_at is None
    assert items[0]["error"].startswith("Could not be fetched after 6 attempts")
    # The provider's Retry-After wins.
    limited = RetryableProviderError(
        ProviderName.WHATSAPP_CLOUD, "slow down", code="4", retry_after=90
    )
    _, retry_at = attachments.media_settled([{"mediaId": "2"}], {0: limited}, now)
    assert retry_at == now + timedelta(seconds=90)


def test_served_names_and_types_are_safe() -> None:
    assert safe_content_type("image/jpeg") == "image/jpeg"
    assert safe_content_type("audio/ogg; codecs=opus") == "audio/ogg; codecs=opus"
    assert safe_content_type("text/html\r\nSet-Cookie: x=1") == "application/octet-stream"
    assert safe_content_type(None) == "application/octet-stream"
    assert disposition("text/html", "x.html", "f").startswith("attachment;")
    assert disposition("image/svg+xml", "x.svg", "f").startswith("attachment;")
    header = disposition("image/png", 'a"b\r\n\x00.png', "fallback")
    assert "\r" not in header
    assert "\n" not in header
    assert '"b' not in header
    assert disposition("image/png", None, "media-1") == 'inline; filename="media-1"'
    store = MediaStore("/tmp/nowhere")
    assert store.path_for("../../etc/passwd") is None
    assert store.path_for("A" * 64) is None


# --- end to end against the emulator (the Cloud API sends) -------------------------------------


async def eventually(check: Callable[[], Any], seconds: float = 30.0) -> Any:
    """Wait until `check()` (awaited) gives something truthy; that value."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "waited too long"
        await asyncio.sleep(0.1)


async def cloud_outbox(live: Live) -> list[dict[str, Any]]:
    response = await live.http.get(f"{live.base}/_emulator/whatsapp-cloud/outbox")
    return list(response.json()["items"])


async def one_message(
    sessions: async_sessionmaker[AsyncSession], message_id: str | uuid.UUID
) -> Message:
    return await reload(sessions, uuid.UUID(str(message_id)))


async def customer_wrote(live: Live, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The customer wrote a minute ago: our window and the emulator's are open."""
    async with sessions() as session:
        await f.customer_wrote(session, PHONE, ago=timedelta(minutes=1))
    await live.emulator("/whatsapp-cloud/wrote", {"number": NUMBER, "hoursAgo": 0})


async def test_a_customer_writes_with_media_and_gets_an_answer_read_by_them(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        wrote = (
            await live.http.post(
                f"{live.base}/_emulator/whatsapp-cloud/incoming",
                json={"from": NUMBER, "name": "Juana Perez", "media": "image", "body": "mi DNI"},
            )
        ).json()

        async def received() -> Message | None:
            async with session_factory() as session:
                stmt = select(Message).where(Message.provider_message_id == wrote["id"])
                return (await session.scalars(stmt)).one_or_none()

        photo = await eventually(received)
        assert photo.body == "mi DNI"
        assert photo.media[0]["mediaId"] == wrote["mediaId"]

        # The worker fetches it once the message commits (woken by its notice).
        async def fetched() -> Message | None:
            message = await one_message(session_factory, photo.id)
            return message if message.media[0].get("stored") else None

        stored = await eventually(fetched, seconds=20)
        served = await live.http.get(
            f"/api/interactions/{photo.interaction_id}/messages/{photo.id}/media/0"
        )
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert digest(served.content) == stored.media[0]["sha256"]

        sent = await live.http.post("/api/whatsapp/send", json={"to": PHONE, "body": "Recibido"})
        assert sent.status_code == 202, sent.text
        answer_id = sent.json()["messageId"]

        async def read() -> bool:
            return (await one_message(session_factory, answer_id)).status is MessageStatus.READ

        await eventually(read)
        outbox = await cloud_outbox(live)
    assert [(item["to"], item["type"], item["body"]) for item in outbox] == [
        (NUMBER, "text", "Recibido")
    ]
    answer = await one_message(session_factory, answer_id)
    assert answer.interaction_id == photo.interaction_id
    assert answer.provider_message_id == outbox[0]["id"]
    assert answer.read_at is not None


async def test_free_text_outside_the_window_is_refused_before_the_provider(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        async with session_factory() as session:
            await f.customer_wrote(session, PHONE, ago=timedelta(hours=25))
        refused = await live.http.post("/api/whatsapp/send", json={"to": PHONE, "body": "hola"})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "whatsapp_window_closed"
        await asyncio.sleep(0.5)
        assert await cloud_outbox(live) == []
    async with session_factory() as session:
        outbound = (
            await session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND))
        ).all()
    assert outbound == []


async def test_a_rate_limit_is_retried_and_then_sent_once(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        await customer_wrote(live, session_factory)
        await live.emulator(
            "/whatsapp-cloud/faults", {"status": 400, "code": 130429, "count": 2, "number": NUMBER}
        )
        sent = await live.http.post("/api/whatsapp/send", json={"to": PHONE, "body": "Hola"})
        message_id = sent.json()["messageId"]

        async def delivered() -> bool:
            status = (await one_message(session_factory, message_id)).status
            return status in {MessageStatus.DELIVERED, MessageStatus.READ}

        await eventually(delivered)
        outbox = await cloud_outbox(live)
    message = await one_message(session_factory, message_id)
    assert len(outbox) == 1
    assert message.attempts == 3
    assert message.error_code is None
    assert message.provider_message_id == outbox[0]["id"]


async def test_outside_the_window_at_meta_fails_at_once_with_what_to_do(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        # Our window is open (the customer wrote here), Meta's is not (it never heard them).
        async with session_factory() as session:
            await f.customer_wrote(session, PHONE, ago=timedelta(minutes=1))
        sent = await live.http.post("/api/whatsapp/send", json={"to": PHONE, "body": "Hola"})
        message_id = sent.json()["messageId"]

        async def failed() -> bool:
            return (await one_message(session_factory, message_id)).status is MessageStatus.FAILED

        await eventually(failed)
        await asyncio.sleep(0.5)  # no retry comes
        assert await cloud_outbox(live) == []
    message = await one_message(session_factory, message_id)
    assert message.attempts == 1
    assert message.error_code == "131047"
    assert "send an approved template" in (message.error_message or "")


async def queued_template(
    sessions: async_sessionmaker[AsyncSession], template: dict[str, Any], body: str
) -> uuid.UUID:
    """A QUEUED template message in the customer's conversation (as the template send path
    writes it: message.template, and the text as its body)."""
    async with sessions() as session:
        chat = f.interaction(
            customer_phone=PHONE,
            from_number=PHONE,
            provider=Provider.WHATSAPP_CLOUD,
            last_message_at=utcnow() - timedelta(days=3),
        )
        message = f.message(
            chat,
            direction=Direction.OUTBOUND,
            body=body,
            status=MessageStatus.QUEUED,
            template=template,
            created_at=utcnow(),
        )
        await f.save(session, chat, message)
        return message.id


REMINDER = {
    "name": "recordatorio_pago",
    "language": "es_AR",
    "category": "UTILITY",
    "variables": {"body": ["Juana", "10 de enero"], "buttons": []},
    "otp": False,
}


async def test_a_template_reaches_the_provider_once_with_its_variables(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        message_id = await queued_template(
            session_factory,
            REMINDER,
            "Hola Juana, te recordamos que el vencimiento de tu tarjeta es el 10 de enero.",
        )
        await live.app.state.runtime.jobs.enqueue_send(str(message_id), 0)
        await live.app.state.runtime.jobs.enqueue_send(str(message_id), 0, salt="again")

        async def delivered() -> bool:
            status = (await one_message(session_factory, message_id)).status
            return status in {MessageStatus.DELIVERED, MessageStatus.READ}

        await eventually(delivered)
        outbox = await cloud_outbox(live)
    [item] = outbox
    assert item["type"] == "template"
    assert item["template"]["name"] == "recordatorio_pago"
    assert item["template"]["language"] == {"code": "es_AR"}
    assert item["body"] == (
        "Hola Juana, te recordamos que el vencimiento de tu tarjeta es el 10 de enero."
    )
    message = await one_message(session_factory, message_id)
    assert message.provider_message_id == item["id"]


async def test_templates_without_the_cloud_api_fail_for_good(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:  # BuilderBot sends
        message_id = await queued_template(session_factory, REMINDER, "Hola Juana")
        await live.app.state.runtime.jobs.enqueue_send(str(message_id), 0)

        async def failed() -> bool:
            return (await one_message(session_factory, message_id)).status is MessageStatus.FAILED

        await eventually(failed)
        assert await cloud_outbox(live) == []
    message = await one_message(session_factory, message_id)
    assert message.error_code == "templates_unavailable"
    assert message.attempts == 1


def test_an_otp_template_carries_the_code_in_its_body_and_copy_code_button() -> None:
    claim = Claim(
        message_id=uuid.uuid4(),
        interaction_id=uuid.uuid4(),
        channel=Channel.WHATSAPP,
        to=PHONE,
        body="482913",  # what the OTP send hook composed: the code alone
        media_url=None,
        kind=MessageKind.OTP,
        attempt=1,
        template={"name": "verification_code", "language": "es_AR", "otp": True},
    )
    assert template_message(claim) == TemplateMessage(
        "verification_code",
        "es_AR",
        body=["482913"],
        buttons=[TemplateButtonParameter(0, "url", "482913")],
    )
    with_buttons = replace(
        claim,
        template={
            **REMINDER,
            "variables": {
                "body": ["Juana", "10 de enero"],
                "buttons": [{"index": 1, "subType": "quick_reply", "value": "PAGAR"}, "abc123"],
            },
        },
    )
    assert template_message(with_buttons).buttons == [
        TemplateButtonParameter(1, "quick_reply", "PAGAR"),
        TemplateButtonParameter(1, "url", "abc123"),
    ]


async def test_no_bot_is_paused_for_a_cloud_conversation(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        async with session_factory() as session:
            cloud = f.interaction(customer_phone=PHONE, provider=Provider.WHATSAPP_CLOUD)
            builderbot = f.interaction(
                customer_phone="+5491155550199", provider=Provider.BUILDERBOT
            )
            await f.save(session, cloud, builderbot)
        ctx = job_context(live.app.state.runtime, live.app.state.webhooks)
        await control_bot(ctx, interaction_id=str(cloud.id), action="pause")
        await control_bot(ctx, interaction_id=str(builderbot.id), action="pause")
        blacklist = (await live.http.get(f"{live.base}/_emulator/builderbot/blacklist")).json()
    assert blacklist["numbers"] == ["5491155550199"]


async def test_a_wamid_too_long_for_its_column_is_not_kept_on_the_message(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # The webhook refuses it (INVALID, kept on the ledger); an event that carries one anyway
    # stores the message without it rather than failing (or cutting it).
    refused = await post_cloud(client, inbound(wamid="wamid." + "x" * 200, body="hola"))
    assert refused.status_code == 422
    event = WhatsAppMessageEvent(
        direction="INBOUND",
        customer_number=NUMBER,
        customer_name=None,
        body="hola",
        attachments=[],
        project_id=None,
        provider=ProviderName.WHATSAPP_CLOUD,
        provider_message_id="wamid." + "x" * 200,
    )
    async with session_factory() as session:
        await messaging_service.apply_whatsapp(
            session, settings.default_phone_region, event, payload={}, key="webhook:long"
        )
        await session.commit()
    message, _ = await the_message(session_factory, body="hola")
    assert message.provider_message_id is None


async def test_a_customer_known_only_by_their_user_id_has_one_conversation(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    for n, text in enumerate(("hola", "¿siguen ahí?")):
        payload = inbound(wamid=f"wamid.IN_BSUID_{n}", body=text)
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        del message["from"]
        message["from_user_id"] = "AR.1000000000000000001"
        payload["entry"][0]["changes"][0]["value"]["contacts"] = [
            {"profile": {"name": "Juana"}, "user_id": "AR.1000000000000000001"}
        ]
        response = await post_cloud(client, payload)
        assert response.json()["status"] == "PROCESSED", response.text
    async with session_factory() as session:
        [chat] = (await session.scalars(select(Interaction))).all()
        stored = (await session.scalars(select(Message))).all()
    assert chat.customer_phone is None
    assert chat.from_number == "AR.1000000000000000001"
    assert len(stored) == 2


async def test_a_received_message_notice_wakes_the_media_fetch(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await post_cloud(
        client, inbound("image", wamid="wamid.IN_WAKE", id="300000000000005", mime_type="image/png")
    )
    message, chat = await the_message(session_factory, provider_message_id="wamid.IN_WAKE")
    bus = EventBus()
    fetched: list[str] = []
    async with httpx.AsyncClient() as http:
        deps, _ = graph_media_deps(session_factory, http, settings.media_dir)

        async def enqueue(message_id: str, at: datetime | None) -> bool:
            fetched.append(await fetch_media(deps, message_id))
            return True

        watcher = MediaWatcher(replace(deps, enqueue=enqueue), bus)
        await watcher.start()
        try:
            with respx.mock() as router:
                graph_media(router, "300000000000005", b"\x89PNG-test", "image/png")
                # Another channel's notice, or another kind, wakes nothing.
                bus.publish_nowait(
                    [{"interactionId": str(chat.id), "type": "message.received", "channel": "SMS"}]
                )
                await asyncio.sleep(0.3)
                assert fetched == []
                bus.publish_nowait(
                    [
                        {
                            "interactionId": str(chat.id),
                            "type": "message.received",
                            "channel": "WHATSAPP",
                        }
                    ]
                )

                async def done() -> bool:
                    return fetched == ["stored"]

                await eventually(done, seconds=10)
        finally:
            await watcher.stop()
    assert (await reload(session_factory, message.id)).media[0]["stored"] is True


async def test_cloud_messages_and_statuses_are_applied_below_the_orm(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The hot paths: no ORM statement and no flush while a Cloud message (first, with media,
    to an open conversation) or a status (moving, not moving, failed) is stored and applied."""
    ours = await sent_message(session_factory, "wamid.OUT_FAST")
    with orm_statements() as orm:
        answers = [
            await post_cloud(client, inbound(number="5491155550120", body="hola")),
            await post_cloud(
                client, inbound("image", number="5491155550120", id="300000000000009")
            ),
            await post_cloud(client, status("wamid.OUT_FAST", "delivered")),
            await post_cloud(client, status("wamid.OUT_FAST", "sent")),
            await post_cloud(
                client,
                status("wamid.OUT_FAST", "failed", errors=[{"code": 131026, "title": "x"}]),
            ),
        ]
    assert [a.json()["status"] for a in answers] == ["PROCESSED"] * 5
    assert orm == []
    final = await reload(session_factory, ours.id)
    assert final.status is MessageStatus.FAILED
    assert final.error_code == "131026"
