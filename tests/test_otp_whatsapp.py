"""One-time codes over WhatsApp (docs/whatsapp-cloud.md, "One-time codes over WhatsApp"): the
authentication template on an interaction of its own that never becomes the customer's
conversation, and the fall back to SMS when WhatsApp refuses the code for good."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.db.base import Base
from contact_center.handlers import webhook_deps
from contact_center.messaging import outbound
from contact_center.messaging.tasks import send_one
from contact_center.models import AuditLog, Interaction, InteractionEvent, Message, OtpChallenge
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    OtpChannel,
    OtpStatus,
    Provider,
    Role,
)
from contact_center.otp.tasks import OtpSendHook
from contact_center.providers.registry import twilio_credentials
from contact_center.settings import Settings
from contact_center.worker.deps import send_deps
from tests import auth
from tests.deliveries import incoming, post_builderbot
from tests.live import Live, live_app
from tests.test_logging import Capture
from tests.test_otp import code_sent, verify

PHONE = "+5491155551234"
CLOUD = {"WHATSAPP_PROVIDER": "cloud"}


async def create(
    http: httpx.AsyncClient, phone: str = PHONE, purpose: str = "LOGIN_2FA", **extra: Any
) -> httpx.Response:
    return await http.post(
        "/api/otp", json={"phone": phone, "purpose": purpose, "channel": "WHATSAPP", **extra}
    )


async def rows(
    sessions: async_sessionmaker[AsyncSession], challenge_id: str
) -> tuple[OtpChallenge, list[Interaction], list[Message]]:
    """The challenge, the interactions with this customer's phone and their messages."""
    async with sessions() as session:
        challenge = await session.get(OtpChallenge, uuid.UUID(challenge_id))
        assert challenge is not None
        interactions = list(
            (
                await session.scalars(
                    select(Interaction)
                    .where(Interaction.customer_phone == challenge.phone)
                    .order_by(Interaction.created_at)
                )
            ).all()
        )
        messages = list(
            (
                await session.scalars(
                    select(Message)
                    .where(Message.interaction_id.in_([i.id for i in interactions]))
                    .order_by(Message.created_at)
                )
            ).all()
        )
    return challenge, interactions, messages


async def event_types(sessions: async_sessionmaker[AsyncSession], interaction_id: Any) -> list[str]:
    async with sessions() as session:
        found = await session.scalars(
            select(InteractionEvent.type).where(InteractionEvent.interaction_id == interaction_id)
        )
        return list(found.all())


# --- the request -------------------------------------------------------------------------------


async def test_whatsapp_needs_the_cloud_api_as_the_sender(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """With BuilderBot sending (the default) a WhatsApp code is refused before anything is
    stored; an SMS code still goes."""
    refused = await create(client)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "whatsapp_otp_unavailable"
    async with session_factory() as session:
        assert (await session.scalars(select(OtpChallenge))).all() == []
        assert (await session.scalars(select(Interaction))).all() == []
    sms = await create(client, channel="SMS")
    assert sms.status_code == 201
    assert sms.json()["channel"] == "SMS"


@pytest.mark.parametrize(
    "channel",
    [5, "sms", "Whatsapp", "EMAIL", "", None, ["WHATSAPP"], {"x": 1}, True, "WHATSAPP\x00"],
)
async def test_the_channel_is_sms_or_whatsapp(client: httpx.AsyncClient, channel: Any) -> None:
    response = await create(client, channel=channel)
    assert response.status_code == 422, response.text
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert any(field.startswith("body.channel") for field in fields), fields


async def test_the_sms_route_sends_by_sms_only(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/sms/otp", json={"phone": PHONE, "purpose": "LOGIN_2FA", "channel": "WHATSAPP"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.channel"
    ok = await client.post(
        "/api/sms/otp", json={"phone": PHONE, "purpose": "LOGIN_2FA", "channel": "SMS"}
    )
    assert ok.status_code == 201
    assert ok.json()["channel"] == "SMS"


async def test_a_whatsapp_code_is_the_authentication_template_on_its_own_interaction(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, with_worker=False, WHATSAPP_PROVIDER="cloud") as live:
        created = await create(live.http, customerRef="cliente-42")
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["channel"] == "WHATSAPP"
        assert body["status"] == "PENDING"
        challenge, interactions, messages = await rows(live.app.state.session_factory, body["id"])
        events = await event_types(live.app.state.session_factory, interactions[0].id)
    assert challenge.channel is OtpChannel.WHATSAPP
    assert challenge.fallback_at is None
    assert challenge.code_hash is None  # made by the send job
    (interaction,) = interactions
    assert str(interaction.id) == body["interactionId"] == str(challenge.interaction_id)
    assert interaction.channel is Channel.WHATSAPP
    assert interaction.direction is Direction.OUTBOUND
    assert interaction.provider is Provider.WHATSAPP_CLOUD
    assert interaction.status is InteractionStatus.IN_PROGRESS
    assert interaction.customer_ref == "cliente-42"
    # Not waiting for anyone, in no queue.
    assert interaction.waiting_since is None
    assert interaction.queued_at is None
    assert interaction.provider_conversation_id == f"otp:{challenge.id}"
    (message,) = messages
    assert message.kind is MessageKind.OTP
    assert message.status is MessageStatus.QUEUED
    assert message.direction is Direction.OUTBOUND
    assert message.template == {
        "name": "verification_code",
        "language": "es_AR",
        "category": "AUTHENTICATION",
        "otp": True,
    }
    assert message.body is not None
    assert message.body.count("******") == 1
    assert not re.search(r"\d", message.body)
    assert {"interaction.created", "message.queued", "otp.created"} <= set(events)


async def test_the_template_is_the_configured_one(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(
        settings_factory,
        with_worker=False,
        WHATSAPP_OTP_TEMPLATE="codigo_banco",
        WHATSAPP_OTP_TEMPLATE_LANGUAGE="es",
        **CLOUD,
    ) as live:
        body = (await create(live.http)).json()
        _, _, messages = await rows(live.app.state.session_factory, body["id"])
    assert messages[0].template is not None
    assert (messages[0].template["name"], messages[0].template["language"]) == (
        "codigo_banco",
        "es",
    )


# --- never the customer's conversation ---------------------------------------------------------


async def test_the_customers_messages_never_join_the_codes_interaction(
    settings_factory: Callable[..., Settings],
) -> None:
    """Before and after a code, the customer's messages and an agent's reply make and keep
    the customer's own conversation; the code's interaction keeps its one message."""
    async with live_app(settings_factory, with_worker=False, WHATSAPP_PROVIDER="cloud") as live:
        sessions = live.app.state.session_factory
        # A code first: the customer's message after it opens a conversation of its own.
        first = (await create(live.http)).json()
        hello = await post_builderbot(live.http, incoming(PHONE.lstrip("+"), "Hola, me llegó?"))
        assert hello.status_code == 200, hello.text
        # Another code, newer than the conversation: the customer's next message and an
        # agent's reply still go to the conversation (the code's interaction is the most
        # recent WhatsApp interaction of the phone).
        second = (await create(live.http, purpose="PASSWORD_RESET")).json()
        again = await post_builderbot(live.http, incoming(PHONE.lstrip("+"), "Sigo esperando"))
        assert again.status_code == 200, again.text
        third = (await create(live.http, purpose="TX_CONFIRMATION", context=TX)).json()
        reply = await live.http.post("/api/whatsapp/send", json={"to": PHONE, "body": "Ya va"})
        assert reply.status_code == 202, reply.text
        _, interactions, messages = await rows(sessions, first["id"])
    codes = {uuid.UUID(c["interactionId"]) for c in (first, second, third)}
    conversations = [i for i in interactions if i.id not in codes]
    assert len(conversations) == 1
    (conversation,) = conversations
    assert uuid.UUID(reply.json()["interactionId"]) == conversation.id
    by_interaction: dict[uuid.UUID, list[Message]] = {}
    for message in messages:
        by_interaction.setdefault(message.interaction_id, []).append(message)
    assert [m.body for m in by_interaction[conversation.id]] == [
        "Hola, me llegó?",
        "Sigo esperando",
        "Ya va",
    ]
    for interaction_id in codes:
        assert [m.kind for m in by_interaction[interaction_id]] == [MessageKind.OTP]
    # The conversation waits for a person; the codes' interactions do not.
    for interaction in interactions:
        if interaction.id in codes:
            assert interaction.waiting_since is None
            assert interaction.queued_at is None


TX = {"amount": "150000.00", "currency": "ARS", "payee": "Juan Pérez"}


# --- agent scope -------------------------------------------------------------------------------


@pytest.fixture
async def cloud_app(settings_factory: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    application = create_app(settings_factory(**CLOUD), migrate=False, with_worker=False)
    async with LifespanManager(application):
        yield application


async def test_an_agent_asks_for_a_whatsapp_code_from_their_own_interaction_only(
    cloud_app: FastAPI,
) -> None:
    sessions = cloud_app.state.session_factory
    call = Interaction(
        channel=Channel.CALL,
        direction=Direction.INBOUND,
        status=InteractionStatus.IN_PROGRESS,
        provider=Provider.ELEVENLABS,
        customer_phone=PHONE,
        assigned_agent="ana",
    )
    async with sessions() as session:
        session.add(call)
        await session.commit()
    ana = await auth.token_client(cloud_app, "ana", Role.AGENT)
    bruno = await auth.token_client(cloud_app, "bruno", Role.AGENT)
    try:
        answers = []
        for interaction_id in (call.id, uuid.uuid4()):
            response = await create(bruno, interactionId=str(interaction_id))
            answers.append(
                (response.status_code, response.text.replace(str(interaction_id), "<id>"))
            )
        assert answers[0] == answers[1]
        assert answers[0][0] == 404
        mine = await create(ana, interactionId=str(call.id))
        assert mine.status_code == 201, mine.text
        challenge = mine.json()
        # Bruno cannot verify (nor learn about) Ana's challenge.
        for key, value in (
            ("challengeId", challenge["id"]),
            ("correlationId", challenge["correlationId"]),
        ):
            refused = await bruno.post("/api/otp/verify", json={key: value, "code": "000000"})
            assert refused.status_code == 404
        # The code's creation is on Ana's call too.
        assert "otp.created" in await event_types(sessions, call.id)
    finally:
        await ana.aclose()
        await bruno.aclose()


# --- the fall back to SMS, at the send hook ----------------------------------------------------


async def test_a_code_whatsapp_refuses_for_good_falls_back_to_sms(
    settings_factory: Callable[..., Settings],
) -> None:
    """The send hook, as the send job calls it: the WhatsApp claim gets the bare code; a
    permanent failure queues the code by SMS on the same challenge and gives the job that
    message to enqueue; the SMS's send issues a new code, which verifies, and the WhatsApp one
    does not."""
    with Capture() as capture:
        async with live_app(settings_factory, with_worker=False, WHATSAPP_PROVIDER="cloud") as live:
            runtime = live.app.state.runtime
            sessions = live.app.state.session_factory
            hook = OtpSendHook(
                runtime.settings,
                runtime.templates,
                runtime.keys.otp_pepper,
                twilio_credentials(runtime.settings).from_number,
            )
            created = (await create(live.http)).json()
            _, _, (whatsapp_message,) = await rows(sessions, created["id"])
            async with sessions() as session:
                claim = await outbound.claim(session, whatsapp_message.id)
                assert claim is not None
                assert claim.channel is Channel.WHATSAPP
                whatsapp_code = await hook.compose(session, claim)
                await session.commit()
            assert re.fullmatch(r"\d{6}", whatsapp_code)
            async with sessions() as session:
                follow_ups = await hook.failed(session, claim, "131026")
                await session.commit()
            assert follow_ups is not None
            (sms_id,) = follow_ups
            # A second report of the same failure finds the challenge gone on by SMS.
            async with sessions() as session:
                assert await hook.failed(session, claim, "131026") == []
                await session.commit()
            challenge, interactions, messages = await rows(sessions, created["id"])
            assert challenge.channel is OtpChannel.SMS
            assert challenge.fallback_at is not None
            assert challenge.status is OtpStatus.PENDING
            sms = next(m for m in messages if m.id == sms_id)
            assert sms.kind is MessageKind.OTP
            assert sms.status is MessageStatus.QUEUED
            assert sms.template is None
            assert sms.body is not None
            assert sms.body.count("******") == 1
            sms_interaction = next(i for i in interactions if i.id == sms.interaction_id)
            assert sms_interaction.channel is Channel.SMS
            assert challenge.interaction_id == sms_interaction.id
            # The job enqueues the SMS after the commit: sent here as the job does.
            deps = send_deps(runtime, webhook_deps(runtime))
            assert await send_one(deps, str(sms_id)) == "sent"
            code = await code_sent(live)
            # A new code (the same digits only by a one-in-a-million chance).
            if whatsapp_code != code:
                assert (await verify(live, created["id"], whatsapp_code))["verified"] is False
            assert (await verify(live, created["id"], code))["verified"] is True
            # The timeline says why, on the WhatsApp interaction and the SMS one.
            for interaction_id in (whatsapp_message.interaction_id, sms_interaction.id):
                timeline = (await live.http.get(f"/api/interactions/{interaction_id}")).json()
                fallback = [e for e in timeline["events"] if e["type"] == "otp.fallback"]
                assert len(fallback) == 1, timeline["events"]
                assert fallback[0]["normalized"]["reason"] == "131026"
                assert fallback[0]["normalized"]["to"] == "SMS"
            async with sessions() as session:
                actions = (
                    await session.scalars(
                        select(AuditLog.action).where(AuditLog.entity_id == str(challenge.id))
                    )
                ).all()
            assert actions.count("otp.fallback") == 1
    log = capture.stream.getvalue()
    assert whatsapp_code not in log
    assert code not in log


# --- end to end, against the emulator ----------------------------------------------------------


async def whatsapp_sent(live: Live, phone: str = PHONE, *, count: int = 1) -> list[dict[str, Any]]:
    """What the Cloud API's emulator received for this number, once `count` items are there."""
    deadline = time.monotonic() + 30
    while True:
        response = await live.http.get("/_emulator/whatsapp-cloud/outbox", params={"number": phone})
        items: list[dict[str, Any]] = response.json()["items"]
        if len(items) >= count:
            return items
        assert time.monotonic() < deadline, "nothing reached the Cloud API"
        await asyncio.sleep(0.1)


def code_of(item: dict[str, Any]) -> str:
    """The code as the customer's WhatsApp shows it: the authentication template's body
    parameter; the copy-code button (index 0) carries the same code."""
    assert item["type"] == "template"
    template = item["template"]
    assert template["name"] == "verification_code"
    assert template["language"] == {"code": "es_AR"}
    body, button = template["components"]
    assert body["type"] == "body"
    (parameter,) = body["parameters"]
    code = str(parameter["text"])
    assert re.fullmatch(r"\d{6}", code)
    assert button == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": code}],
    }
    assert code in item["body"]  # the text the customer reads
    return code


async def settled(live: Live, challenge_id: str, status: OtpStatus) -> OtpChallenge:
    """The challenge once it has `status` (the worker records it a moment after the send)."""
    deadline = time.monotonic() + 30
    sessions: async_sessionmaker[AsyncSession] = live.app.state.session_factory
    while True:
        async with sessions() as session:
            challenge = await session.get(OtpChallenge, uuid.UUID(challenge_id))
        assert challenge is not None
        if challenge.status is status:
            return challenge
        assert time.monotonic() < deadline, challenge.status
        await asyncio.sleep(0.1)


async def nothing_at_rest(live: Live, *codes: str) -> None:
    """No table and no queued job holds a code."""
    redis = live.app.state.runtime.queue.redis
    stored = [await redis.dump(key) for key in await redis.keys("*")]
    for code in codes:
        assert not any(value and code.encode() in value for value in stored)
    async with live.app.state.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            found = str((await session.execute(text(f"SELECT * FROM {table.name}"))).all())
            for code in codes:
                assert code not in found, table.name


async def test_a_whatsapp_code_reaches_the_provider_once_and_verifies(
    settings_factory: Callable[..., Settings],
) -> None:
    with Capture() as capture:
        async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
            created = (await create(live.http)).json()
            (item,) = await whatsapp_sent(live)
            code = code_of(item)
            challenge = await settled(live, created["id"], OtpStatus.SENT)
            assert challenge.channel is OtpChannel.WHATSAPP
            assert await verify(live, created["id"], code) == {
                "verified": True,
                "status": "VERIFIED",
                "attemptsRemaining": 5,
            }
            # Sent once (the statuses the emulator sends back move nothing but the message),
            # and nothing by SMS.
            await asyncio.sleep(1.5)
            assert len(await whatsapp_sent(live)) == 1
            assert await live.outbox() == []
            timeline = (await live.http.get(f"/api/interactions/{created['interactionId']}")).json()
            types = [e["type"] for e in timeline["events"]]
            assert {"otp.created", "otp.sent", "otp.verified"} <= set(types)
            assert "otp.fallback" not in types
            (message,) = timeline["messages"]
            assert message["body"].count("******") == 1
            (shown,) = timeline["otpChallenges"]
            assert (shown["channel"], shown["fallbackAt"]) == ("WHATSAPP", None)
            assert code not in str(timeline)
            await nothing_at_rest(live, code)
    assert code not in capture.stream.getvalue()


async def fell_back(live: Live, created: dict[str, Any], reason: str) -> tuple[OtpChallenge, str]:
    """The challenge gone on by SMS, and the code the customer reads in that SMS."""
    code = await code_sent(live)
    challenge = await settled(live, created["id"], OtpStatus.SENT)
    assert challenge.channel is OtpChannel.SMS
    assert challenge.fallback_at is not None
    assert challenge.interaction_id is not None
    assert str(challenge.interaction_id) != created["interactionId"]
    # The timeline says why: on the WhatsApp interaction and on the SMS one.
    for interaction_id in (created["interactionId"], challenge.interaction_id):
        timeline = (await live.http.get(f"/api/interactions/{interaction_id}")).json()
        fallback = [e for e in timeline["events"] if e["type"] == "otp.fallback"]
        assert len(fallback) == 1, [e["type"] for e in timeline["events"]]
        assert fallback[0]["normalized"]["reason"] == reason
        assert fallback[0]["normalized"]["from"] == "WHATSAPP"
        assert fallback[0]["normalized"]["to"] == "SMS"
    sms = (await live.http.get(f"/api/interactions/{challenge.interaction_id}")).json()
    assert sms["channel"] == "SMS"
    assert [m["kind"] for m in sms["messages"]] == ["OTP"]
    (shown,) = sms["otpChallenges"]
    assert (shown["id"], shown["channel"]) == (created["id"], "SMS")
    assert shown["fallbackAt"] is not None
    async with live.app.state.session_factory() as session:
        actions = (
            await session.scalars(
                select(AuditLog.action).where(AuditLog.entity_id == created["id"])
            )
        ).all()
    assert actions.count("otp.fallback") == 1
    return challenge, code


async def test_a_code_whatsapp_refuses_goes_by_sms_and_only_that_code_verifies(
    settings_factory: Callable[..., Settings],
) -> None:
    """The Cloud API answers the send with 131026 (the number cannot receive WhatsApp): the
    challenge goes on by SMS at once, the SMS's code verifies."""
    with Capture() as capture:
        async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
            await live.emulator(
                "/whatsapp-cloud/faults", {"status": 400, "code": 131026, "number": PHONE}
            )
            created = (await create(live.http)).json()
            _, code = await fell_back(live, created, "131026")
            assert len(await live.outbox()) == 1
            assert await whatsapp_sent(live, count=0) == []
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            assert (await verify(live, created["id"], wrong))["verified"] is False
            assert (await verify(live, created["id"], code))["verified"] is True
            whatsapp = (await live.http.get(f"/api/interactions/{created['interactionId']}")).json()
            (message,) = whatsapp["messages"]
            assert message["status"] == "FAILED"
            await nothing_at_rest(live, code)
    assert code not in capture.stream.getvalue()


async def test_a_code_whatsapp_takes_then_reports_failed_goes_by_sms(
    settings_factory: Callable[..., Settings],
) -> None:
    """The Cloud API takes the template, then a `failed` status webhook (131026) comes: the
    challenge goes on by SMS with a new code; the WhatsApp code no longer verifies."""
    with Capture() as capture:
        async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
            await live.emulator(
                "/whatsapp-cloud/faults", {"status": 200, "code": 131026, "number": PHONE}
            )
            created = (await create(live.http)).json()
            (item,) = await whatsapp_sent(live)
            whatsapp_code = code_of(item)
            _, code = await fell_back(live, created, "131026")
            assert len(await live.outbox()) == 1
            assert len(await whatsapp_sent(live)) == 1
            if whatsapp_code != code:  # the same digits only by a one-in-a-million chance
                refused = await verify(live, created["id"], whatsapp_code)
                assert refused["verified"] is False
            assert (await verify(live, created["id"], code))["verified"] is True
            await nothing_at_rest(live, code, whatsapp_code)
    log = capture.stream.getvalue()
    assert code not in log
    assert whatsapp_code not in log


async def test_a_cloud_message_from_the_customer_after_a_code_is_their_own_conversation(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        created = (await create(live.http)).json()
        (item,) = await whatsapp_sent(live)
        code = code_of(item)
        # The customer writes through the Cloud API (a signed webhook from the emulator).
        await live.emulator(
            "/whatsapp-cloud/incoming", {"from": PHONE.lstrip("+"), "body": "No me llegó nada"}
        )
        deadline = time.monotonic() + 30
        while True:
            _, interactions, messages = await rows(live.app.state.session_factory, created["id"])
            if any(m.direction is Direction.INBOUND for m in messages):
                break
            assert time.monotonic() < deadline, "the customer's message was not stored"
            await asyncio.sleep(0.1)
        (inbound,) = [m for m in messages if m.direction is Direction.INBOUND]
        assert str(inbound.interaction_id) != created["interactionId"]
        conversation = next(i for i in interactions if i.id == inbound.interaction_id)
        assert conversation.waiting_since is not None
        code_interaction = next(i for i in interactions if str(i.id) == created["interactionId"])
        assert code_interaction.waiting_since is None
        assert code_interaction.queued_at is None
        assert [m.kind for m in messages if m.interaction_id == code_interaction.id] == [
            MessageKind.OTP
        ]
        # The code still verifies.
        assert (await verify(live, created["id"], code))["verified"] is True
