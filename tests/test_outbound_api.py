"""The outbound API: 202 with a QUEUED row, its event and audit row; clear 4xx otherwise."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import AuditLog, Interaction, Message, SignedLink
from contact_center.models.enums import Channel, Direction, InteractionStatus, MessageStatus
from tests import factories as f

FRONTEND = "https://banco.example"


async def rows(session_factory: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with session_factory() as session:
        return list((await session.scalars(select(model))).all())


async def test_sms_send_writes_everything_in_one_transaction(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post(
        "/api/sms/send",
        json={
            "to": "+54 9 11 5555-1234",
            "body": " Hola ",
            "customerRef": "CUS-1",
            "assignedAgent": "Lucía",
        },
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "QUEUED"
    [interaction] = await rows(session_factory, Interaction)
    [message] = await rows(session_factory, Message)
    assert str(interaction.id) == body["interactionId"]
    assert str(message.id) == body["messageId"]
    assert interaction.channel is Channel.SMS
    assert interaction.direction is Direction.OUTBOUND
    assert interaction.status is InteractionStatus.IN_PROGRESS
    assert interaction.to_number == "+5491155551234"
    assert interaction.customer_ref == "CUS-1"
    assert message.status is MessageStatus.QUEUED
    assert message.body == "Hola"
    [audit] = await rows(session_factory, AuditLog)
    assert audit.action == "sms.send"
    assert audit.metadata_ is not None
    assert audit.metadata_["to"] == "+54911******34"
    detail = (await client.get(f"/api/interactions/{interaction.id}")).json()
    assert [e["type"] for e in detail["events"]] == ["interaction.created", "message.queued"]


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/api/sms/send", {"to": "12", "body": "x"}, 422),
        ("/api/sms/send", {"to": "+5491155551234", "body": "   "}, 422),
        ("/api/sms/send", {"to": "+5491155551234", "body": "x" * 1601}, 422),
        ("/api/sms/send", {"to": "+5491155551234"}, 422),
        ("/api/sms/send", {"to": "+5491155551234", "body": "x", "extra": 1}, 422),
        ("/api/sms/activate-card", {"to": "+5491155551234", "cardLast4": "12a4"}, 422),
        ("/api/sms/onboarding", {"to": "+5491155551234", "name": "x" * 61}, 422),
        ("/api/sms/verification-link", {"to": "+5491155551234"}, 422),  # no FRONTEND_URL
        (
            "/api/whatsapp/send",
            {"to": "+5491155551234", "body": "x", "mediaUrl": "http://a/b.jpg"},
            422,
        ),
        ("/api/whatsapp/send", {"to": "nope", "body": "x"}, 422),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    path: str,
    payload: dict[str, Any],
    status: int,
) -> None:
    response = await client.post(path, json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] in {
        "validation_error",
        "invalid_phone",
        "frontend_url_missing",
    }
    assert await rows(session_factory, Message) == []
    assert await rows(session_factory, AuditLog) == []


async def test_body_over_64_kib_answers_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/sms/send", json={"to": "+5491155551234", "body": "x" * 70_000}
    )
    assert response.status_code == 413


async def test_recipient_rate_limit_answers_429_with_retry_after(
    client_for: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    http = await client_for(OUTBOUND_RATE_LIMIT_MAX="2", OUTBOUND_RATE_LIMIT_WINDOW_SECONDS="600")
    sends = [
        await http.post("/api/sms/send", json={"to": "+5491155551234", "body": f"m{i}"})
        for i in range(2)
    ]
    assert [r.status_code for r in sends] == [202, 202]
    third = await http.post("/api/whatsapp/send", json={"to": "+5491155551234", "body": "m3"})
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(third.headers["Retry-After"]) <= 600
    other = await http.post("/api/sms/send", json={"to": "+5491155559876", "body": "x"})
    assert other.status_code == 202
    assert len(await rows(session_factory, Message)) == 3


async def test_the_other_sms_kinds_have_their_spanish_texts(
    client_for: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    http = await client_for(FRONTEND_URL=FRONTEND, BANK_NAME="Banco Sur")
    assert (
        await http.post(
            "/api/sms/activate-card", json={"to": "+5491155551234", "cardLast4": "4321"}
        )
    ).status_code == 202
    assert (
        await http.post("/api/sms/onboarding", json={"to": "+5491155551234", "name": "Ana"})
    ).status_code == 202
    given = f"{FRONTEND}/verify/abc"
    assert (
        await http.post("/api/sms/verification-link", json={"to": "+5491155551234", "url": given})
    ).status_code == 202
    outside = await http.post(
        "/api/sms/verification-link", json={"to": "+5491155551234", "url": "https://evil.example/x"}
    )
    assert outside.status_code == 422
    async with session_factory() as session:
        messages = {
            str(m.kind): m.body or "" for m in (await session.scalars(select(Message))).all()
        }
    assert "terminada en 4321" in messages["CARD_ACTIVATION"]
    assert messages["CARD_ACTIVATION"].startswith("Banco Sur:")
    assert messages["ONBOARDING_LINK"].startswith("Hola Ana, te damos la bienvenida a Banco Sur.")
    assert f"{FRONTEND}/onboarding/" in messages["ONBOARDING_LINK"]
    assert given in messages["VERIFICATION_LINK"]


async def test_signed_link_is_valid_then_used_and_tampering_fails(
    client_for: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    http = await client_for(FRONTEND_URL=FRONTEND)
    sent = await http.post("/api/sms/verification-link", json={"to": "+5491155551234"})
    assert sent.status_code == 202
    async with session_factory() as session:
        body = (await session.scalars(select(Message.body))).one()
    assert body is not None
    token = body.split(f"{FRONTEND}/verify/")[1].split(" ")[0]
    state = (await http.get(f"/api/links/{token}")).json()
    assert state["status"] == "valid"
    assert state["kind"] == "VERIFICATION_LINK"
    assert (await http.post(f"/api/links/{token}/use")).status_code == 200
    assert (await http.get(f"/api/links/{token}")).json()["status"] == "used"
    assert (await http.post(f"/api/links/{token}/use")).status_code == 409
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await http.get(f"/api/links/{tampered}")).status_code == 404
    events = (await http.get(f"/api/interactions/{state['interactionId']}")).json()["events"]
    assert [e["type"] for e in events].count("link.opened") == 1
    async with session_factory() as session:
        assert (
            await session.execute(select(func.count()).select_from(SignedLink))
        ).scalar_one() == 1


async def test_whatsapp_send_joins_the_current_conversation(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await f.customer_wrote(session, "+5491155551234")  # WhatsApp's 24-hour window is open
    first = (
        await client.post(
            "/api/whatsapp/send",
            json={"to": "+5491155551234", "body": "Hola", "assignedAgent": "Martín"},
        )
    ).json()
    second = (
        await client.post("/api/whatsapp/send", json={"to": "5491155551234", "body": "¿Sigue ahí?"})
    ).json()
    assert first["interactionId"] == second["interactionId"]
    [interaction] = await rows(session_factory, Interaction)
    assert interaction.channel is Channel.WHATSAPP
    assert interaction.assigned_agent == "Martín"
    assert interaction.ai_handled is False


async def test_whatsapp_diagnostic(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await f.customer_wrote(session, "+5491155551234")
    sent = (
        await client.post(
            "/api/whatsapp/send", json={"to": "+5491155551234", "body": "Hola +5491155551234"}
        )
    ).json()
    response = await client.post(
        "/api/whatsapp/diagnostic", json={"interactionId": sent["interactionId"]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["messageCounts"] == {"INBOUND": {"RECEIVED": 1}, "OUTBOUND": {"QUEUED": 1}}
    assert body["lastMessages"][-1]["body"] == "Hola +54911******34"
    assert body["lastErrors"] == []
    assert (
        await client.post("/api/whatsapp/diagnostic", json={"interactionId": str(uuid.uuid4())})
    ).status_code == 404
    sms = (await client.post("/api/sms/send", json={"to": "+5491155551234", "body": "x"})).json()
    not_whatsapp = await client.post(
        "/api/whatsapp/diagnostic", json={"interactionId": sms["interactionId"]}
    )
    assert not_whatsapp.status_code == 422
