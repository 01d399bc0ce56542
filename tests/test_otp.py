"""OTP: exact under concurrency, the code never at rest."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import Base, utcnow
from contact_center.models import OtpChallenge
from contact_center.models.enums import OtpStatus
from contact_center.otp.service import expire_due
from contact_center.settings import Settings
from tests.live import Live, live_app
from tests.test_logging import Capture

PHONE = "+5491155551234"


async def create(
    live: Live, phone: str = PHONE, purpose: str = "LOGIN_2FA", **extra: Any
) -> httpx.Response:
    return await live.http.post("/api/otp", json={"phone": phone, "purpose": purpose, **extra})


async def code_sent(live: Live, phone: str = PHONE, *, count: int = 1) -> str:
    """The code, as the customer reads it from the SMS (the emulator's outbox)."""
    deadline = time.monotonic() + 30
    while True:
        items = (await live.http.get("/_emulator/twilio/outbox", params={"number": phone})).json()[
            "items"
        ]
        if len(items) >= count:
            match = re.search(r"código (?:de verificación es |)(\d{6})", items[count - 1]["body"])
            assert match, items[count - 1]["body"]
            return match.group(1)
        assert time.monotonic() < deadline, "no SMS reached the provider"
        await asyncio.sleep(0.1)


async def sent_recorded(live: Live, challenge_id: str) -> None:
    """Wait until the worker has recorded the challenge SENT."""
    deadline = time.monotonic() + 30
    while True:
        async with live.app.state.session_factory() as session:
            row = await session.get(OtpChallenge, uuid.UUID(challenge_id))
            if row is not None and row.status is OtpStatus.SENT:
                return
        assert time.monotonic() < deadline, "the send was not recorded"
        await asyncio.sleep(0.05)


async def verify(live: Live, challenge_id: str, code: str, **extra: Any) -> dict[str, Any]:
    response = await live.http.post(
        "/api/otp/verify", json={"challengeId": challenge_id, "code": code, **extra}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_create_send_verify_once(settings_factory: Callable[..., Settings]) -> None:
    async with live_app(settings_factory) as live:
        created = await create(live)
        assert created.status_code == 201
        body = created.json()
        assert body["status"] == "PENDING"
        assert set(body) == {
            "id",
            "correlationId",
            "status",
            "expiresAt",
            "interactionId",
            "channel",
        }
        assert body["channel"] == "SMS"
        code = await code_sent(live)
        # The provider has the SMS a moment before the worker records it SENT (with its event).
        await sent_recorded(live, body["id"])
        assert await verify(live, body["id"], code) == {
            "verified": True,
            "status": "VERIFIED",
            "attemptsRemaining": 5,
        }
        assert (await verify(live, body["id"], code))["verified"] is False
        again = await live.http.post(
            "/api/otp/verify", json={"correlationId": body["correlationId"], "code": code}
        )
        assert again.json() == {"verified": False, "status": "VERIFIED", "attemptsRemaining": 5}
        timeline = (await live.http.get(f"/api/interactions/{body['interactionId']}")).json()
        types = [e["type"] for e in timeline["events"]]
        assert {"otp.created", "otp.sent", "otp.verified"} <= set(types)
        assert timeline["messages"][0]["body"].count("******") == 1
        assert code not in str(timeline)


async def test_a_hundred_parallel_wrong_guesses_lock_it(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory) as live:
        challenge = (await create(live)).json()["id"]
        code = await code_sent(live)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        results = await asyncio.gather(*(verify(live, challenge, wrong) for _ in range(100)))
        assert not any(r["verified"] for r in results)
        assert sorted({r["attemptsRemaining"] for r in results}) == [0, 1, 2, 3, 4]
        final = await verify(live, challenge, code)
        assert final == {"verified": False, "status": "LOCKED", "attemptsRemaining": 0}


async def test_ten_parallel_right_codes_verify_once(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        challenge = (await create(live)).json()["id"]
        code = await code_sent(live)
        results = await asyncio.gather(*(verify(live, challenge, code) for _ in range(10)))
    assert sum(r["verified"] for r in results) == 1
    assert {r["status"] for r in results} == {"VERIFIED"}


async def test_ten_parallel_creations_respect_the_limit(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        responses = await asyncio.gather(*(create(live) for _ in range(10)))
    assert Counter(r.status_code for r in responses) == Counter({201: 3, 429: 7})
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["Retry-After"]) <= 900
    async with session_factory() as session:
        statuses = Counter(c.status for c in (await session.scalars(select(OtpChallenge))).all())
    # Each new challenge canceled the previous open one: one stays open.
    assert statuses == Counter({OtpStatus.CANCELED: 2, OtpStatus.PENDING: 1})


async def test_expiry_on_verification_and_by_the_periodic_job(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # Long enough for the code to be sent on a busy machine (a send job finds an expired
    # challenge and sends nothing), short enough to wait out.
    async with live_app(settings_factory, OTP_TTL_SECONDS="4") as live:
        first = (await create(live)).json()["id"]
        second = (await create(live, purpose="PASSWORD_RESET")).json()["id"]
        code = await code_sent(live)
        await asyncio.sleep(4.2)
        assert (await verify(live, first, code))["status"] == "EXPIRED"
    async with session_factory() as session:
        # The worker's periodic job may have expired the second one already (its minute can
        # come first on a slow run); either way the call expires what is due, once.
        assert await expire_due(session, utcnow()) in (0, 1)
        await session.commit()
        assert await expire_due(session, utcnow()) == 0
        statuses = {
            str(c.id): c.status for c in (await session.scalars(select(OtpChallenge))).all()
        }
    assert statuses == {first: OtpStatus.EXPIRED, second: OtpStatus.EXPIRED}


async def test_transaction_confirmation_binds_the_context(
    settings_factory: Callable[..., Settings],
) -> None:
    context = {"amount": "150000.00", "currency": "ARS", "payee": "Juan Pérez"}
    async with live_app(settings_factory) as live:
        missing = await create(live, purpose="TX_CONFIRMATION")
        assert missing.status_code == 422
        bad = await create(
            live, purpose="TX_CONFIRMATION", context={**context, "currency": "pesos"}
        )
        assert bad.status_code == 422
        challenge = (await create(live, purpose="TX_CONFIRMATION", context=context)).json()["id"]
        items = []
        for _ in range(100):
            items = (await live.http.get("/_emulator/twilio/outbox")).json()["items"]
            if items:
                break
            await asyncio.sleep(0.1)
        sms = items[0]["body"]
        # The provider has the SMS a moment before the worker marks the challenge SENT.
        for _ in range(100):
            async with live.app.state.session_factory() as session:
                row = await session.get(OtpChallenge, uuid.UUID(challenge))
                if row is not None and row.status is OtpStatus.SENT:
                    break
            await asyncio.sleep(0.1)
        assert "ARS 150000.00" in sms
        assert "Juan Pérez" in sms
        code = re.search(r"el código (\d{6})", sms)
        assert code is not None
        assert len(re.findall(r"\d{6,}", sms.split(code.group(1))[0].replace("150000.00", ""))) == 0
        other = await verify(
            live, challenge, code.group(1), context={**context, "payee": "Otra Persona"}
        )
        assert other == {"verified": False, "status": "SENT", "attemptsRemaining": 4}
        same = await verify(live, challenge, code.group(1), context={**context, "amount": "150000"})
        assert same["verified"] is True


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"code": "123456"}, 422),
        ({"challengeId": "00000000-0000-0000-0000-000000000000", "code": "123456"}, 404),
        ({"correlationId": "nope", "code": "12345"}, 422),
        ({"correlationId": "nope", "code": "abcdef"}, 422),
    ],
)
async def test_verify_bad_requests(
    client: httpx.AsyncClient, payload: dict[str, Any], status: int
) -> None:
    response = await client.post("/api/otp/verify", json=payload)
    assert response.status_code == status


async def test_correlation_id_reuse_is_a_conflict(client: httpx.AsyncClient) -> None:
    first = await client.post(
        "/api/sms/otp", json={"phone": PHONE, "purpose": "LOGIN_2FA", "correlationId": "c-1"}
    )
    assert first.status_code == 201
    assert first.json()["correlationId"] == "c-1"
    again = await client.post(
        "/api/otp", json={"phone": "+5491155559876", "purpose": "LOGIN_2FA", "correlationId": "c-1"}
    )
    assert again.status_code == 409


async def test_the_code_is_nowhere_at_rest(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    with Capture() as capture:
        async with live_app(settings_factory) as live:
            challenge = (await create(live)).json()["id"]
            code = await code_sent(live)
            await verify(live, challenge, f"{(int(code) + 1) % 1_000_000:06d}")
            await verify(live, challenge, code)
            redis = live.app.state.runtime.queue.redis
            stored = [await redis.dump(key) for key in await redis.keys("*")]
    assert code not in capture.stream.getvalue()
    assert not any(value and code.encode() in value for value in stored)
    async with session_factory() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(text(f"SELECT * FROM {table.name}"))).all()
            assert code not in str(rows), table.name
