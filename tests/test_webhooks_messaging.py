"""BuilderBot WhatsApp and Twilio status webhooks."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.messaging import service as messaging_service
from contact_center.models import AuditLog, Interaction, Message, WebhookDelivery
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageStatus,
    Provider,
)
from contact_center.webhooks import service as webhook_service
from tests import factories as f
from tests.deliveries import incoming, outgoing, post_builderbot, post_twilio, status_form
from tests.orm_watch import orm_statements

NUMBER = "5491155551234"
PHONE = "+5491155551234"


async def whatsapp(session_factory: async_sessionmaker[AsyncSession]) -> list[Interaction]:
    async with session_factory() as session:
        stmt = (
            select(Interaction)
            .where(Interaction.channel == Channel.WHATSAPP)
            .order_by(Interaction.started_at)
        )
        return list((await session.scalars(stmt)).all())


async def messages(
    session_factory: async_sessionmaker[AsyncSession], interaction_id: uuid.UUID
) -> list[Message]:
    async with session_factory() as session:
        stmt = (
            select(Message)
            .where(Message.interaction_id == interaction_id)
            .order_by(Message.created_at, Message.id)
        )
        return list((await session.scalars(stmt)).all())


async def test_twenty_parallel_first_messages_open_one_interaction(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    bodies = [f"mensaje {i}" for i in range(20)]
    responses = await asyncio.gather(
        *(post_builderbot(client, incoming(NUMBER, b)) for b in bodies)
    )
    assert {r.json()["status"] for r in responses} == {"PROCESSED"}
    interactions = await whatsapp(session_factory)
    assert len(interactions) == 1
    stored = await messages(session_factory, interactions[0].id)
    assert sorted(m.body or "" for m in stored) == sorted(bodies)
    times = [m.created_at for m in stored]
    assert times == sorted(times)
    assert len(set(times)) == 20  # strictly increasing: arrival order is kept
    interaction = interactions[0]
    assert interaction.status is InteractionStatus.NEW
    assert interaction.customer_phone == PHONE
    assert interaction.customer_name == "Juan Pérez"
    assert interaction.direction is Direction.INBOUND


async def test_24_hour_grouping(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await post_builderbot(client, incoming(NUMBER, "hola"))
    first = (await whatsapp(session_factory))[0]

    async def age(hours: int) -> None:
        async with session_factory() as session:
            await session.execute(
                update(Interaction).values(last_message_at=utcnow() - timedelta(hours=hours))
            )
            await session.commit()

    await age(23)
    await post_builderbot(client, incoming(NUMBER, "sigo acá"))
    assert [i.id for i in await whatsapp(session_factory)] == [first.id]
    await age(25)
    await post_builderbot(client, incoming(NUMBER, "hola de nuevo"))
    interactions = await whatsapp(session_factory)
    assert len(interactions) == 2
    assert [m.body for m in await messages(session_factory, interactions[1].id)] == [
        "hola de nuevo"
    ]


async def test_both_sides_make_it_in_progress_and_a_closed_one_reopens(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await post_builderbot(client, incoming(NUMBER, "hola"))
    await post_builderbot(client, outgoing(NUMBER, "¡Hola! ¿En qué puedo ayudarte?"))
    interaction = (await whatsapp(session_factory))[0]
    assert interaction.status is InteractionStatus.IN_PROGRESS
    stored = await messages(session_factory, interaction.id)
    assert [(m.direction, m.status) for m in stored] == [
        (Direction.INBOUND, MessageStatus.RECEIVED),
        (Direction.OUTBOUND, MessageStatus.SENT),
    ]
    async with session_factory() as session:
        await session.execute(
            update(Interaction).values(
                status=InteractionStatus.COMPLETED, ended_at=utcnow(), assigned_agent="Lucía"
            )
        )
        await session.commit()
    await post_builderbot(client, incoming(NUMBER, "una cosa más"))
    reopened = (await whatsapp(session_factory))[0]
    assert reopened.status is InteractionStatus.IN_PROGRESS
    assert reopened.ended_at is None
    assert reopened.assigned_agent == "Lucía"  # the assigned agent is kept


async def our_whatsapp_send(
    session_factory: async_sessionmaker[AsyncSession],
    phone: str,
    body: str,
    *,
    customer_phone: bool = False,
) -> Interaction:
    """A conversation we opened with a WhatsApp message still QUEUED (its echo is to come)."""
    ours = f.interaction(
        channel=Channel.WHATSAPP,
        direction=Direction.OUTBOUND,
        provider=Provider.BUILDERBOT,
        started_at=utcnow(),
        last_message_at=utcnow(),
        to_number=phone,
        from_number=None,
        **({"customer_phone": phone} if customer_phone else {}),
    )
    sent = f.message(
        ours,
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        body=body,
        created_at=utcnow(),
    )
    async with session_factory() as session:
        await f.save(session, ours, sent)
    return ours


async def test_outgoing_echo_confirms_our_own_message(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ours = await our_whatsapp_send(session_factory, PHONE, "Su tarjeta fue bloqueada.")
    response = await post_builderbot(client, outgoing(NUMBER, "Su tarjeta fue bloqueada."))
    assert response.json()["status"] == "PROCESSED"
    stored = await messages(session_factory, ours.id)
    assert len(stored) == 1
    assert stored[0].status is MessageStatus.SENT
    assert stored[0].provider_confirmed_at is not None
    # A second identical text later is the bot's own reply, not an echo: it is stored.
    await post_builderbot(client, {**outgoing(NUMBER, "Su tarjeta fue bloqueada."), "n": 2})
    assert len(await messages(session_factory, ours.id)) == 2


async def test_same_body_within_10_seconds_is_a_repeat_later_a_new_message(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    first = await post_builderbot(client, incoming(NUMBER, "sí"))
    repeat = await post_builderbot(client, incoming(NUMBER, "sí"))
    assert first.json()["duplicate"] is False
    assert repeat.json()["duplicate"] is True
    async with session_factory() as session:
        await session.execute(
            update(WebhookDelivery).values(received_at=utcnow() - timedelta(seconds=11))
        )
        await session.commit()
    again = await post_builderbot(client, incoming(NUMBER, "sí"))
    assert again.json()["duplicate"] is False
    interaction = (await whatsapp(session_factory))[0]
    assert [m.body for m in await messages(session_factory, interaction.id)] == ["sí", "sí"]


async def test_ten_copies_of_one_body_at_once_store_one_message(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # BuilderBot retries and duplicates arrive together; each copy is stored and applied in one
    # transaction, so a copy waits on the ledger key of the one being applied, then sees it.
    responses = await asyncio.gather(
        *(post_builderbot(client, incoming(NUMBER, "quiero mi saldo")) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 9
    assert len({r.json()["deliveryId"] for r in responses}) == 1
    async with session_factory() as session:
        deliveries = (await session.scalars(select(WebhookDelivery))).all()
    assert [d.status for d in deliveries] == ["PROCESSED"]
    interaction = (await whatsapp(session_factory))[0]
    assert [m.body for m in await messages(session_factory, interaction.id)] == ["quiero mi saldo"]


async def test_a_body_stored_without_its_family_does_not_block_the_next_delivery(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # A row under the body's digest that the family lookup does not see (stored before the
    # family column, say): the new delivery conflicts on the key and must move past it.
    payload = incoming(NUMBER, "hola otra vez")
    digest = webhook_service.body_digest(json.dumps(payload).encode())
    async with session_factory() as session:
        session.add(
            WebhookDelivery(
                provider="BUILDERBOT",
                event_key=digest,
                event_family=None,
                received_at=utcnow() - timedelta(minutes=5),
                raw_body="{}",
                status="INVALID",
                attempts=1,
            )
        )
        await session.commit()
    answer = await post_builderbot(client, payload)
    assert answer.status_code == 200
    assert answer.json()["duplicate"] is False
    async with session_factory() as session:
        keys = sorted((await session.scalars(select(WebhookDelivery.event_key))).all(), key=len)
    assert keys == [digest, f"{digest}:2"]


async def test_media_becomes_attachments(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    url = "https://media.example.com/comprobante.jpeg"
    payload = incoming(
        NUMBER,
        "_event_media__3f1c9d2e-8b7a-4c61-9e0f-2a5b6c7d8e9f",
        attachment=[{"url": url, "mimetype": "image/jpeg", "filename": "comprobante.jpeg"}],
        urlTempFile=url,
    )
    await post_builderbot(client, payload)
    stored = await messages(session_factory, (await whatsapp(session_factory))[0].id)
    assert stored[0].body is None
    assert stored[0].media == [
        {"url": url, "contentType": "image/jpeg", "filename": "comprobante.jpeg"}
    ]


async def test_wrong_token_is_refused(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert (
        await post_builderbot(client, incoming(NUMBER, "hola"), token="wrong")
    ).status_code == 401
    no_token = await client.post("/webhooks/builderbot/whatsapp", json=incoming(NUMBER, "hola"))
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "webhook_unauthenticated"
    assert await whatsapp(session_factory) == []
    async with session_factory() as session:
        assert (await session.scalars(select(WebhookDelivery))).all() == []


async def test_a_processing_failure_is_kept_and_replayed(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = messaging_service.apply_whatsapp

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(messaging_service, "apply_whatsapp", broken)
    monkeypatch.setattr(messaging_service, "apply_whatsapp_fast", broken)
    response = await post_builderbot(client, incoming(NUMBER, "hola"))
    assert response.status_code == 200
    assert response.json()["status"] == "FAILED"
    delivery_id = response.json()["deliveryId"]
    assert await whatsapp(session_factory) == []  # nothing half-written
    failed = (await client.get("/api/webhooks", params={"status": "FAILED"})).json()["items"]
    assert failed[0]["error"] == "RuntimeError: database hiccup"
    monkeypatch.setattr(messaging_service, "apply_whatsapp", original)
    replayed = await client.post(f"/api/webhooks/{delivery_id}/replay")
    assert replayed.status_code == 200
    assert replayed.json()["status"] == "PROCESSED"
    assert replayed.json()["attempts"] == 2
    assert len(await whatsapp(session_factory)) == 1
    again = await client.post(f"/api/webhooks/{delivery_id}/replay")
    assert again.json()["status"] == "PROCESSED"
    assert len(await messages(session_factory, (await whatsapp(session_factory))[0].id)) == 1
    assert (await client.post(f"/api/webhooks/{uuid.uuid4()}/replay")).status_code == 404


# --- Twilio ----------------------------------------------------------------------------------


async def sms(
    session_factory: async_sessionmaker[AsyncSession], sid: str
) -> tuple[Interaction, Message]:
    row = f.interaction(
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        provider=Provider.TWILIO,
        status=InteractionStatus.IN_PROGRESS,
        from_number="+15005550006",
        to_number=PHONE,
    )
    message = f.message(
        row, direction=Direction.OUTBOUND, status=MessageStatus.SENT, provider_message_id=sid
    )
    async with session_factory() as session:
        await f.save(session, row, message)
    return row, message


async def reload(session_factory: async_sessionmaker[AsyncSession], row: Any) -> Any:
    async with session_factory() as session:
        return await session.get(type(row), row.id)


async def test_status_callbacks_out_of_order_end_delivered(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    interaction, message = await sms(session_factory, "SM" + "1" * 32)
    assert (
        await post_twilio(client, status_form(message.provider_message_id or "", "delivered"))
    ).status_code == 200
    await post_twilio(client, status_form(message.provider_message_id or "", "sent"))
    await post_twilio(client, status_form(message.provider_message_id or "", "failed", "30008"))
    stored = await reload(session_factory, message)
    assert stored.status is MessageStatus.DELIVERED
    assert stored.delivered_at is not None
    assert stored.error_code is None
    assert (await reload(session_factory, interaction)).status is InteractionStatus.COMPLETED


async def test_failure_records_the_code_and_fails_the_interaction(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    interaction, message = await sms(session_factory, "SM" + "2" * 32)
    await post_twilio(
        client, status_form(message.provider_message_id or "", "undelivered", "30003")
    )
    stored = await reload(session_factory, message)
    assert stored.status is MessageStatus.UNDELIVERED
    assert stored.error_code == "30003"
    assert (await reload(session_factory, interaction)).status is InteractionStatus.FAILED
    events = (await client.get(f"/api/interactions/{interaction.id}")).json()["events"]
    assert {"message.status", "message.failed", "status.changed"} <= {e["type"] for e in events}


async def test_repeated_callback_changes_nothing(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    _, message = await sms(session_factory, "SM" + "3" * 32)
    first = await post_twilio(client, status_form(message.provider_message_id or "", "delivered"))
    second = await post_twilio(client, status_form(message.provider_message_id or "", "delivered"))
    assert first.json()["duplicate"] is False
    assert second.json()["duplicate"] is True


async def test_callback_for_an_unknown_sid_waits_for_its_message(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], app: Any
) -> None:
    sid = "SM" + "4" * 32
    response = await post_twilio(client, status_form(sid, "delivered"))
    assert response.status_code == 200
    assert response.json()["status"] == "DEFERRED"
    _, message = await sms(session_factory, sid)
    from contact_center.webhooks.ingest import apply_waiting

    assert await apply_waiting(app.state.webhooks, sid) == 1
    assert (await reload(session_factory, message)).status is MessageStatus.DELIVERED


async def test_a_waiting_callback_missed_by_its_send_is_applied_by_the_reconciler(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], app: Any
) -> None:
    """A callback stored DEFERRED while its message's send committed (so the send's own look
    for waiting callbacks did not see it) is applied by the reconciler; one whose message is
    still unknown stays DEFERRED."""
    from contact_center.webhooks.ingest import replay_pending

    sid, unknown = "SM" + "7" * 32, "SM" + "8" * 32
    deferred = await post_twilio(client, status_form(sid, "delivered"))
    still = await post_twilio(client, status_form(unknown, "delivered"))
    assert {deferred.json()["status"], still.json()["status"]} == {"DEFERRED"}
    _, message = await sms(session_factory, sid)
    assert await replay_pending(app.state.webhooks) == []  # not old enough yet
    async with session_factory() as session:
        old = utcnow() - timedelta(seconds=app.state.settings.reconcile_after_seconds + 1)
        await session.execute(update(WebhookDelivery).values(received_at=old))
        await session.commit()
    results = {r.delivery_id: r.status for r in await replay_pending(app.state.webhooks)}
    assert results == {
        uuid.UUID(deferred.json()["deliveryId"]): "PROCESSED",
        uuid.UUID(still.json()["deliveryId"]): "DEFERRED",
    }
    assert (await reload(session_factory, message)).status is MessageStatus.DELIVERED


async def test_twilio_signature_uses_the_public_base_url(client_for: Any) -> None:
    http = await client_for(PUBLIC_BASE_URL="https://cc.bank.example")
    form = status_form("SM" + "5" * 32, "sent")
    internal = await post_twilio(http, form)
    assert internal.status_code == 401
    public = await post_twilio(http, form, url="https://cc.bank.example/webhooks/twilio/sms/status")
    assert public.status_code == 200


async def test_twilio_wrong_signature_is_refused(client: httpx.AsyncClient) -> None:
    response = await post_twilio(client, status_form("SM" + "6" * 32, "sent"), token="wrong-token")
    assert response.status_code == 401


async def test_idle_conversations_close_after_24_hours(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await post_builderbot(client, incoming(NUMBER, "hola"))
    await post_builderbot(client, outgoing(NUMBER, "¿En qué te ayudo?"))
    await post_builderbot(client, incoming("5493515550000", "¿hay alguien?"))
    async with session_factory() as session:
        await session.execute(
            update(Interaction).values(last_message_at=utcnow() - timedelta(hours=25))
        )
        await session.commit()
        assert await messaging_service.close_idle_whatsapp(session, utcnow()) == 2
        await session.commit()
        # Running again changes nothing.
        assert await messaging_service.close_idle_whatsapp(session, utcnow()) == 0
    by_phone = {i.customer_phone: i for i in await whatsapp(session_factory)}
    assert by_phone[PHONE].status is InteractionStatus.COMPLETED
    assert by_phone["+5493515550000"].status is InteractionStatus.ABANDONED
    assert all(i.ended_at is not None for i in by_phone.values())


async def test_the_reconciler_stops_retrying_after_ten_attempts(
    client: httpx.AsyncClient,
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    from contact_center.webhooks.ingest import AUTOMATIC_ATTEMPTS, replay_pending

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("still broken")

    monkeypatch.setattr(messaging_service, "apply_whatsapp", broken)
    monkeypatch.setattr(messaging_service, "apply_whatsapp_fast", broken)
    await post_builderbot(client, incoming(NUMBER, "hola"))
    for _ in range(AUTOMATIC_ATTEMPTS + 3):
        await replay_pending(app.state.webhooks)
    async with session_factory() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert row.status == "FAILED"
    assert row.attempts == AUTOMATIC_ATTEMPTS


async def test_a_delivery_is_applied_once_however_many_appliers_race(
    client: httpx.AsyncClient,
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The web request, the reconciler and a replay may all reach one stored delivery: the
    first to lock it applies it, the others find it applied and leave it."""
    from contact_center.webhooks.ingest import apply, replay_pending

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("down for a moment")

    monkeypatch.setattr(messaging_service, "apply_whatsapp_fast", broken)
    await post_builderbot(client, incoming(NUMBER, "hola, ¿me ayudan?"))
    monkeypatch.undo()  # the appliers below run the general path, which works
    async with session_factory() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert row.status == "FAILED"
    results = await asyncio.gather(*(apply(app.state.webhooks, row.id) for _ in range(4)))
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    assert {r.status for r in results} == {"PROCESSED"}
    assert len(await replay_pending(app.state.webhooks)) == 0
    async with session_factory() as session:
        messages = (await session.scalars(select(Message))).all()
        stored = (await session.scalars(select(WebhookDelivery))).one()
    assert len(messages) == 1
    assert stored.attempts == 2  # the failure, then one application


async def test_the_reconciler_leaves_a_delivery_being_applied_alone(
    client: httpx.AsyncClient, app: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A RECEIVED delivery younger than RECONCILE_AFTER_SECONDS is one a web process is applying
    now; only an older one was left behind by a process that died."""
    from contact_center.webhooks.ingest import replay_pending

    await post_builderbot(client, incoming(NUMBER, "hola"))
    async with session_factory() as session:
        await session.execute(update(WebhookDelivery).values(status="RECEIVED", attempts=0))
        await session.commit()
    assert await replay_pending(app.state.webhooks) == []
    async with session_factory() as session:
        old = utcnow() - timedelta(seconds=app.state.settings.reconcile_after_seconds + 1)
        await session.execute(update(WebhookDelivery).values(received_at=old))
        await session.commit()
    assert [r.status for r in await replay_pending(app.state.webhooks)] == ["PROCESSED"]


async def test_a_status_callback_is_applied_below_the_orm(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The hot path: no ORM statement and no flush while a status callback is stored and
    applied (the same rows as the ORM path, as the tests above check)."""
    interaction, message = await sms(session_factory, "SM" + "5" * 32)
    with orm_statements() as orm:
        response = await post_twilio(
            client, status_form(message.provider_message_id or "", "undelivered", "30003")
        )
    assert response.status_code == 200
    assert response.json()["status"] == "PROCESSED"
    assert orm == []
    stored = await reload(session_factory, message)
    assert (stored.status, stored.error_code) == (MessageStatus.UNDELIVERED, "30003")
    assert (await reload(session_factory, interaction)).status is InteractionStatus.FAILED
    async with session_factory() as session:
        delivery = await session.get(WebhookDelivery, uuid.UUID(response.json()["deliveryId"]))
        received = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "webhook.received"))
        ).one()
    assert delivery is not None
    assert (delivery.status, delivery.attempts) == ("PROCESSED", 1)
    assert delivery.processed_at is not None
    assert received.entity_id == str(delivery.id)
    assert received.metadata_ == {
        "provider": "TWILIO",
        "eventType": delivery.event_type,
        "status": "RECEIVED",
    }


async def test_a_status_callback_that_fails_below_the_orm_is_kept_and_replayed(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, message = await sms(session_factory, "SM" + "6" * 32)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(messaging_service, "apply_sms_status_fast", broken)
    response = await post_twilio(
        client, status_form(message.provider_message_id or "", "delivered")
    )
    assert response.status_code == 200
    assert response.json()["status"] == "FAILED"
    assert (await reload(session_factory, message)).status is MessageStatus.SENT
    replayed = await client.post(f"/api/webhooks/{response.json()['deliveryId']}/replay")
    assert replayed.json()["status"] == "PROCESSED"
    assert (await reload(session_factory, message)).status is MessageStatus.DELIVERED


# --- the WhatsApp message below the ORM -------------------------------------------------------

UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _shape(value: Any, ids: dict[str, str]) -> Any:
    """`value` with each id replaced by its order of appearance (rows of two runs compare)."""
    import re

    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, str):
        value = re.sub(r"549115555000\d", "<number>", value)
        return re.sub(UUID_TEXT, lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), value)
    if isinstance(value, dict):
        return {k: _shape(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v, ids) for v in value]
    return value


async def _conversation_rows(
    session_factory: async_sessionmaker[AsyncSession], phone: str
) -> list[Any]:
    """Everything a conversation's messages wrote, in a form two runs compare: the ids by order
    of appearance, the times as their order."""
    from contact_center.models import InteractionEvent

    async with session_factory() as session:
        found = (
            await session.scalars(
                select(Interaction)
                .where(Interaction.customer_phone == phone)
                .order_by(Interaction.started_at)
            )
        ).all()
        rows: list[Any] = []
        ids: dict[str, str] = {}
        for interaction in found:
            stored = (
                await session.scalars(
                    select(Message)
                    .where(Message.interaction_id == interaction.id)
                    .order_by(Message.created_at, Message.id)
                )
            ).all()
            events = (
                await session.scalars(
                    select(InteractionEvent)
                    .where(InteractionEvent.interaction_id == interaction.id)
                    .order_by(InteractionEvent.occurred_at, InteractionEvent.type)
                )
            ).all()
            assert interaction.last_message_at is not None
            times = sorted(
                {interaction.last_message_at, interaction.updated_at}
                | {m.created_at for m in stored}
            )
            rows.append(
                _shape(
                    {
                        "interaction": {
                            "id": interaction.id,
                            "status": interaction.status.value,
                            "direction": interaction.direction.value,
                            "customer_name": interaction.customer_name,
                            "from_number": interaction.from_number,
                            "to_number": interaction.to_number,
                            "ai_handled": interaction.ai_handled,
                            "ended": interaction.ended_at is not None,
                            "last_message_at": times.index(interaction.last_message_at),
                            "updated_is_latest": interaction.updated_at == times[-1],
                        },
                        "messages": [
                            {
                                "id": m.id,
                                "direction": m.direction.value,
                                "status": m.status.value,
                                "body": m.body,
                                "media": m.media,
                                "kind": m.kind.value,
                                "sent": m.sent_at is not None,
                                "confirmed": m.provider_confirmed_at is not None,
                                "at": times.index(m.created_at),
                            }
                            for m in stored
                        ],
                        "events": sorted(
                            (
                                {
                                    "type": e.type,
                                    "key": e.idempotency_key.split(":", 2)[-1],
                                    "normalized": e.normalized,
                                    "payload": e.payload,
                                }
                                for e in events
                            ),
                            key=json.dumps,
                        ),
                    },
                    ids,
                )
            )
    return rows


async def _conversation(client: httpx.AsyncClient, number: str) -> None:
    """A first message, a second, the bot's answer, an attachment, an idle-closed reopening."""
    await post_builderbot(client, incoming(number, "hola"))
    await post_builderbot(client, incoming(number, "¿están?", name="Juan P."))
    await post_builderbot(client, outgoing(number, "¡Hola! ¿En qué puedo ayudarte?"))
    await post_builderbot(
        client,
        incoming(
            number,
            "mi comprobante",
            attachment=[{"url": "https://example.com/a.jpg", "mimetype": "image/jpeg"}],
        ),
    )


async def test_a_whatsapp_message_below_the_orm_writes_what_the_orm_path_writes(
    client: httpx.AsyncClient, app: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The same conversation through the hot path and through the general one (as a replay
    applies it) leaves the same rows: interaction, messages, timeline."""
    await _conversation(client, "5491155550001")
    fast = app.state.webhooks.handlers._fast
    saved = dict(fast)
    fast.clear()
    try:
        await _conversation(client, "5491155550002")
    finally:
        fast.update(saved)
    below = await _conversation_rows(session_factory, "+5491155550001")
    general = await _conversation_rows(session_factory, "+5491155550002")
    assert len(below) == 1
    assert len(below[0]["messages"]) == 4
    assert below == general


async def test_a_whatsapp_message_is_stored_below_the_orm(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The hot path: no ORM statement and no flush while a BuilderBot message is stored and
    applied, for a first message, one to an open conversation, the bot's and an echo."""
    ours = await our_whatsapp_send(
        session_factory, "+5491155550003", "Su tarjeta fue bloqueada.", customer_phone=True
    )
    with orm_statements() as orm:
        answers = [
            await post_builderbot(client, incoming(NUMBER, "hola")),
            await post_builderbot(client, incoming(NUMBER, "¿hay alguien?")),
            await post_builderbot(client, outgoing(NUMBER, "Sí, te leo.")),
            await post_builderbot(client, outgoing("5491155550003", "Su tarjeta fue bloqueada.")),
        ]
    assert [a.json()["status"] for a in answers] == ["PROCESSED"] * 4
    assert orm == []
    conversation = (await whatsapp(session_factory))[-1]
    assert conversation.status is InteractionStatus.IN_PROGRESS
    assert len(await messages(session_factory, conversation.id)) == 3
    echoed = await messages(session_factory, ours.id)
    assert [(m.status, m.provider_confirmed_at is not None) for m in echoed] == [
        (MessageStatus.SENT, True)
    ]
    async with session_factory() as session:
        received = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "webhook.received"))
        ).all()
        deliveries = (await session.scalars(select(WebhookDelivery))).all()
    assert len(received) == 4
    assert {(d.status, d.attempts) for d in deliveries} == {("PROCESSED", 1)}


async def test_deliveries_are_answered_before_routing_with_the_apps_headers_and_errors(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook lane answers a POST to a provider's path without the router, inside the
    request id, the access log and the security headers; other methods reach the router."""
    from fastapi.routing import APIRoute

    routed: list[str] = []
    handle = APIRoute.handle

    async def counted(self: APIRoute, *args: Any) -> None:
        routed.append(self.path)
        await handle(self, *args)

    monkeypatch.setattr(APIRoute, "handle", counted)
    answer = await post_builderbot(client, incoming(NUMBER, "hola"), token="wrong")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "webhook_unauthenticated"
    stored = await post_builderbot(client, incoming(NUMBER, "hola"))
    assert stored.status_code == 200
    assert routed == []
    for response in (answer, stored):
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/webhooks/builderbot/whatsapp")).status_code == 405
    assert routed == ["/webhooks/builderbot/whatsapp"]  # the route answers the wrong method
