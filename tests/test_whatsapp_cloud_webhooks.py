"""`/webhooks/whatsapp-cloud`: the handshake, the signature, and one ledger row per update of a
batched delivery, stored and applied once however many copies race."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.models import Interaction, Message, WebhookDelivery
from contact_center.models.enums import Channel
from contact_center.providers.registry import (
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
    EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
)
from contact_center.providers.whatsapp_cloud import signature
from contact_center.settings import Settings
from contact_center.webhooks.service import received_body
from tests.live import free_port, serve
from tests.test_errors import assert_envelope

PATH = "/webhooks/whatsapp-cloud"
FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp_cloud"
KEYS = {
    "wamid.FAKE_IN_0001",
    "wamid.FAKE_IN_0010",
    "wamid.FAKE_IN_0011",
    "wamid.FAKE_OUT_0004:delivered",
    "wamid.FAKE_OUT_0005:read",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def five_updates() -> bytes:
    """The reference's batch (two messages, two statuses) with the §2.1 message added to its
    first change: three messages from two customers and two statuses."""
    batch: dict[str, Any] = fixture("batch")
    text = fixture("inbound_text")["entry"][0]["changes"][0]["value"]
    value = batch["entry"][0]["changes"][0]["value"]
    value["messages"].append(text["messages"][0])
    value["contacts"].append(text["contacts"][0])
    return json.dumps(batch).encode()


def signed(raw: bytes, secret: str = EMULATOR_WHATSAPP_CLOUD_APP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": signature(secret, raw), "Content-Type": "application/json"}


async def post(client: httpx.AsyncClient, raw: bytes, **headers: str) -> httpx.Response:
    return await client.post(PATH, content=raw, headers=headers or signed(raw))


async def ledger(
    session_factory: async_sessionmaker[AsyncSession],
) -> list[WebhookDelivery]:
    async with session_factory() as session:
        stmt = select(WebhookDelivery).where(WebhookDelivery.provider == "WHATSAPP_CLOUD")
        return list((await session.scalars(stmt)).all())


async def conversations(
    session_factory: async_sessionmaker[AsyncSession],
) -> dict[str, list[str | None]]:
    """Each WhatsApp conversation's customer phone and its messages' bodies, in order."""
    async with session_factory() as session:
        found: dict[str, list[str | None]] = {}
        stmt = select(Interaction).where(Interaction.channel == Channel.WHATSAPP)
        for interaction in (await session.scalars(stmt)).all():
            bodies = await session.scalars(
                select(Message.body)
                .where(Message.interaction_id == interaction.id)
                .order_by(Message.created_at, Message.id)
            )
            found[interaction.customer_phone or ""] = list(bodies.all())
        return found


def _check_stored_once(rows: list[WebhookDelivery]) -> None:
    assert sorted(row.event_key for row in rows) == sorted(KEYS)
    by_key = {row.event_key: row for row in rows}
    for key in ("wamid.FAKE_IN_0001", "wamid.FAKE_IN_0010", "wamid.FAKE_IN_0011"):
        assert (by_key[key].status, by_key[key].event_type) == ("PROCESSED", "message.text")
    assert by_key["wamid.FAKE_OUT_0004:delivered"].event_type == "status.delivered"
    assert by_key["wamid.FAKE_OUT_0005:read"].event_type == "status.read"
    # Each row holds its own update only (a replay applies that one).
    for row in rows:
        body = json.loads(received_body(row))
        value = body["entry"][0]["changes"][0]["value"]
        assert len(value.get("messages", [])) + len(value.get("statuses", [])) == 1
    # The status updates are applied by the messaging domain's WhatsAppStatusEvent handler:
    # until it is registered they end FAILED ("no handler"); its tests assert the message's
    # status (sent/delivered/read) here.


def _check_messages(found: dict[str, list[str | None]]) -> None:
    assert found == {
        "+5491100000000": ["uno", "Hola, necesito ayuda con mi tarjeta"],
        "+5491100000001": ["dos"],
    }


async def test_a_batch_is_stored_as_one_row_per_update(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    raw = five_updates()
    response = await post(client, raw)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert len(answer["updates"]) == 5
    assert answer["deliveryId"] == answer["updates"][0]["deliveryId"]
    assert (answer["status"], answer["duplicate"]) == ("PROCESSED", False)
    assert [u["duplicate"] for u in answer["updates"]] == [False] * 5
    rows = await ledger(session_factory)
    _check_stored_once(rows)
    assert {str(row.id) for row in rows} == {u["deliveryId"] for u in answer["updates"]}
    _check_messages(await conversations(session_factory))
    # Meta retries (to every app): every update is a repeat, nothing is stored or applied again.
    again = (await post(client, raw)).json()
    assert [u["duplicate"] for u in again["updates"]] == [True] * 5
    assert [u["deliveryId"] for u in again["updates"]] == [
        u["deliveryId"] for u in answer["updates"]
    ]
    # … also batched differently: the first message alone.
    alone = fixture("inbound_text")
    alone["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.FAKE_IN_0010"
    single = await post(client, json.dumps(alone).encode())
    assert single.json()["duplicate"] is True
    assert "updates" not in single.json()
    assert len(await ledger(session_factory)) == 5
    _check_messages(await conversations(session_factory))


@pytest.fixture
async def running_app(settings: Settings) -> AsyncIterator[str]:
    app = create_app(settings, migrate=False, with_worker=False)
    async with serve(app, free_port()) as base:
        yield base


async def test_ten_concurrent_copies_store_and_apply_each_update_once(
    running_app: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    raw = five_updates()
    async with httpx.AsyncClient(base_url=running_app, timeout=30) as http:
        responses = await asyncio.gather(*(post(http, raw) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    fresh = [u["deliveryId"] for r in responses for u in r.json()["updates"] if not u["duplicate"]]
    assert len(fresh) == 5
    _check_stored_once(await ledger(session_factory))
    _check_messages(await conversations(session_factory))


async def test_one_unreadable_update_is_kept_invalid_and_the_rest_is_applied(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    batch: dict[str, Any] = fixture("batch")
    batch["entry"][0]["changes"][0]["value"]["messages"][1]["text"] = {"body": ["dos"]}
    raw = json.dumps(batch).encode()
    response = await post(client, raw)
    # 200: a 4xx would make Meta deliver the whole batch again for days.
    assert response.status_code == 200
    updates = response.json()["updates"]
    rows = {str(row.id): row for row in await ledger(session_factory)}
    assert len(rows) == 4
    assert {u["deliveryId"] for u in updates} == set(rows)
    [invalid] = [u["deliveryId"] for u in updates if u["status"] == "INVALID"]
    assert rows[invalid].status == "INVALID"
    # The provider's next delivery of the same batch is answered the same, with nothing new.
    again = await post(client, raw)
    assert again.status_code == 200
    assert len(await ledger(session_factory)) == 4
    assert "'message.text.body' is not a string" in (rows[invalid].error or "")
    assert sorted(row.status for row in rows.values() if row.event_type == "message.text") == [
        "PROCESSED"
    ]
    assert (await conversations(session_factory)) == {"+5491100000000": ["uno"]}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        signed(b"another body"),
        signed(b"x", secret="wrong"),
        {"X-Hub-Signature-256": "sha256=é"},
    ],
    ids=["missing", "zeros", "other body", "other secret", "non-ascii"],
)
async def test_a_bad_signature_is_401_and_nothing_is_stored(
    anonymous: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    headers: dict[str, str],
) -> None:
    raw = five_updates()
    if headers.get("X-Hub-Signature-256", "").endswith("=é"):
        response = await anonymous.post(
            PATH, content=raw, headers=[(b"x-hub-signature-256", b"sha256=\xe9")]
        )
    else:
        response = await anonymous.post(
            PATH, content=raw, headers=headers | {"Content-Type": "application/json"}
        )
    assert_envelope(response, 401, "webhook_unauthenticated")
    assert await ledger(session_factory) == []


async def test_the_handshake(anonymous: httpx.AsyncClient) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
    }
    response = await anonymous.get(PATH, params=good)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")
    for bad in (
        good | {"hub.verify_token": "wrong"},
        good | {"hub.mode": "unsubscribe"},
        {k: v for k, v in good.items() if k != "hub.challenge"},
        {},
        good | {"hub.challenge": "<b>x</b>"},
    ):
        refused = await anonymous.get(PATH, params=bad)
        assert_envelope(refused, 403, "webhook_verification_failed")


async def test_the_handshake_is_documented(anonymous: httpx.AsyncClient) -> None:
    schema = (await anonymous.get("/api/openapi.json")).json()
    operation = schema["paths"][PATH]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "hub.mode",
        "hub.verify_token",
        "hub.challenge",
    }
    assert "text/plain" in operation["responses"]["200"]["content"]
    assert "403" in operation["responses"]
    assert "post" in schema["paths"][PATH]


async def test_the_handshake_answers_to_the_configured_token(
    settings_factory: Any,
) -> None:
    from asgi_lifespan import LifespanManager

    settings: Settings = settings_factory(WHATSAPP_CLOUD_VERIFY_TOKEN="a-long-random-token")
    app: FastAPI = create_app(settings, migrate=False, with_worker=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        query = {"hub.mode": "subscribe", "hub.challenge": "42"}
        ok = await http.get(PATH, params=query | {"hub.verify_token": "a-long-random-token"})
        assert ok.text == "42"
        emulated = query | {"hub.verify_token": EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN}
        assert (await http.get(PATH, params=emulated)).status_code == 403


HOSTILE = [
    ("raw NUL byte", five_updates()[:-1] + b"\x00}"),
    ("escaped NUL in a text", five_updates().replace(b'"uno"', b'"u\\u0000no"')),
    ("invalid UTF-8", five_updates().replace(b"uno", b"u\xff\xfeno")),
    ("lone surrogate", five_updates().replace(b'"uno"', b'"\\ud800"')),
    ("10,000-deep JSON", b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 10_000),
    ("entry as a string", b'{"object": "whatsapp_business_account", "entry": "x"}'),
    ("object as a number", b'{"object": 5, "entry": []}'),
    ("not JSON", b"\x00\x01"),
]


@pytest.mark.parametrize(("name", "raw"), HOSTILE, ids=[name for name, _ in HOSTILE])
async def test_hostile_bodies_are_422_and_kept_invalid(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    name: str,
    raw: bytes,
) -> None:
    response = await post(client, raw)
    assert_envelope(response, 422, "unparseable_payload")
    rows = await ledger(session_factory)
    invalid = [row for row in rows if row.status == "INVALID"]
    assert len(invalid) >= 1
    assert str(invalid[0].id) in json.dumps(response.json()["error"]["details"])
    if len(rows) == 1:  # unreadable whole: kept as received
        assert received_body(rows[0]) == raw


async def test_a_huge_body_is_413_and_meta_sized_batches_pass(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    big = five_updates().replace(b'"uno"', b'"' + b"x" * (5 * 1024 * 1024) + b'"')
    assert_envelope(await post(client, big), 413, "payload_too_large")
    assert await ledger(session_factory) == []
    # Meta's batches reach 3 MB: a 2 MB text is read (and refused as text, not as size).
    large: dict[str, Any] = copy.deepcopy(fixture("inbound_text"))
    large["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "y" * 2_000_000
    response = await post(client, json.dumps(large).encode())
    assert_envelope(response, 422, "unparseable_payload")
    assert "longer than" in response.json()["error"]["message"]
