"""The interactions API on both databases: filters, count, ordering, pagination, detail, profile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageStatus,
    OtpStatus,
    Outcome,
    Provider,
)
from tests import factories as f

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def seed_mixed(session_factory: async_sessionmaker[AsyncSession]) -> list[Any]:
    """A small population where each filter value appears on a known subset."""
    rows = [
        f.interaction(
            channel=Channel.CALL,
            direction=Direction.INBOUND,
            status=InteractionStatus.COMPLETED,
            provider=Provider.ELEVENLABS,
            provider_conversation_id="conv_a",
            from_number="+5491155551234",
            to_number="+541152500000",
            customer_phone="+5491155551234",
            assigned_agent="Lucía",
            queue="tarjetas",
            outcome=Outcome.RESOLVED,
            customer_ref="CUS-1",
            started_at=T0,
        ),
        f.interaction(
            channel=Channel.CALL,
            direction=Direction.INBOUND,
            status=InteractionStatus.ABANDONED,
            provider=Provider.ELEVENLABS,
            provider_conversation_id="conv_b",
            from_number="+5493515550000",
            to_number="+541152500000",
            customer_phone="+5493515550000",
            queue="prestamos",
            outcome=Outcome.UNKNOWN,
            started_at=T0 + timedelta(hours=1),
        ),
        f.interaction(
            channel=Channel.WHATSAPP,
            status=InteractionStatus.IN_PROGRESS,
            assigned_agent="Martín",
            queue="tarjetas",
            customer_ref="CUS-2",
            started_at=T0 + timedelta(days=1),
        ),
        f.interaction(
            channel=Channel.SMS,
            direction=Direction.OUTBOUND,
            status=InteractionStatus.FAILED,
            provider=Provider.TWILIO,
            from_number="+15005550006",
            to_number="+5493415557777",
            customer_phone="+5493415557777",
            started_at=T0 + timedelta(days=2),
        ),
        f.interaction(
            channel=Channel.SMS,
            direction=Direction.OUTBOUND,
            status=InteractionStatus.COMPLETED,
            provider=Provider.TWILIO,
            from_number="+15005550006",
            to_number="+5491155551234",
            customer_phone="+5491155551234",
            outcome=Outcome.ESCALATED,
            started_at=T0 + timedelta(days=3),
        ),
    ]
    async with session_factory() as session:
        await f.save(session, *rows)
    return rows


FILTER_CASES: list[tuple[str, int]] = [
    ("channel=CALL", 2),
    ("channel=WHATSAPP", 1),
    ("channel=SMS", 2),
    ("direction=OUTBOUND", 2),
    ("direction=INBOUND", 3),
    ("status=COMPLETED", 2),
    ("status=ABANDONED", 1),
    ("from=351", 1),
    ("from=%2B54%209%2011", 2),  # "+54 9 11": non-digits ignored
    ("from=15005550006", 2),
    ("to=3415557777", 1),
    ("to=5491155551234", 1),
    ("assignedAgent=Lucía", 1),
    ("provider=TWILIO", 2),
    ("provider=ELEVENLABS", 2),
    ("customerRef=CUS-2", 1),
    ("queue=tarjetas", 2),
    ("outcome=RESOLVED", 1),
    ("outcome=UNKNOWN", 1),
    ("dateFrom=2026-11-21T00:00:00Z", 3),
    ("dateTo=2026-11-21T00:00:00Z", 2),
    ("dateFrom=2026-11-20T15:00:00&dateTo=2026-11-20T16:00:00", 1),  # inclusive / exclusive
    ("channel=CALL&status=COMPLETED", 1),
]


@pytest.mark.parametrize(("query", "expected"), FILTER_CASES)
async def test_each_filter_narrows_the_list(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    query: str,
    expected: int,
) -> None:
    await seed_mixed(session_factory)
    items = (await client.get(f"/api/interactions?{query}")).json()["items"]
    assert len(items) == expected
    assert (await client.get(f"/api/interactions/count?{query}")).json() == {"count": expected}


async def test_date_filters_use_app_timezone_for_whole_days(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # 2026-11-21 02:30 UTC is still 2026-11-20 in Buenos Aires (UTC-3).
    async with session_factory() as session:
        await f.save(
            session,
            f.interaction(started_at=datetime(2026, 11, 21, 2, 30, tzinfo=UTC)),
            f.interaction(started_at=datetime(2026, 11, 21, 3, 30, tzinfo=UTC)),
        )
    day_20 = (
        await client.get("/api/interactions/count?dateFrom=2026-11-20&dateTo=2026-11-20")
    ).json()
    day_21 = (
        await client.get("/api/interactions/count?dateFrom=2026-11-21&dateTo=2026-11-21")
    ).json()
    assert day_20 == {"count": 1}
    assert day_21 == {"count": 1}


# The plain query walks the updatedAt order; a range ending in the past and a digits search sort
# their matches instead (repository._sort_matches_first). Both must page the same way.
PAGING_FILTERS = [
    "",
    "&dateTo=2026-11-21T00:00:00Z",
    "&from=5550006",
    "&to=1155551234&dateFrom=2026-11-01",
]


@pytest.mark.parametrize("extra", PAGING_FILTERS)
async def test_pages_cover_everything_once_in_updated_order(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], extra: str
) -> None:
    rows = []
    for i in range(23):
        # Groups of three share an updatedAt: ties must be broken by id, stably across pages.
        stamp = T0 + timedelta(minutes=i // 3)
        rows.append(
            f.interaction(
                started_at=T0,
                updated_at=stamp,
                channel=Channel.SMS if i % 2 else Channel.CALL,
                provider=Provider.GENERIC,
                from_number="+15005550006",
                to_number="+5491155551234",
            )
        )
    # Rows no filter of the list above matches except the unfiltered one.
    rows.append(
        f.interaction(
            started_at=T0 + timedelta(days=5),
            updated_at=T0 + timedelta(days=5),
            provider=Provider.GENERIC,
            from_number="+14155550100",
            to_number="+14155550101",
        )
    )
    async with session_factory() as session:
        await f.save(session, *rows)
    expected = 24 if not extra else 23
    seen: list[dict[str, Any]] = []
    skip = 0
    while True:
        page = (await client.get(f"/api/interactions?limit=5&skip={skip}{extra}")).json()
        assert page["limit"] == 5
        assert page["skip"] == skip
        seen.extend(page["items"])
        if not page["hasMore"]:
            break
        skip += 5
    count = (await client.get(f"/api/interactions/count?{extra[1:]}")).json()["count"]
    assert len(seen) == expected == count
    assert len({item["id"] for item in seen}) == expected
    keys = [(item["updatedAt"], item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True)


async def test_list_includes_last_ten_children_unless_asked_for_all(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    parent = f.interaction()
    children: list[Any] = [parent]
    for i in range(14):
        at = T0 + timedelta(minutes=i)
        children.append(f.message(parent, body=f"mensaje {i}", created_at=at))
        children.append(f.event(parent, occurred_at=at, normalized={"n": i}))
    async with session_factory() as session:
        await f.save(session, *children)
    item = (await client.get("/api/interactions")).json()["items"][0]
    assert [m["body"] for m in item["messages"]] == [f"mensaje {i}" for i in range(4, 14)]
    assert [e["normalized"]["n"] for e in item["events"]] == list(range(4, 14))
    full = (
        await client.get("/api/interactions?includeAllMessages=true&includeAllEvents=true")
    ).json()
    assert len(full["items"][0]["messages"]) == 14
    assert len(full["items"][0]["events"]) == 14
    detail = (await client.get(f"/api/interactions/{parent.id}")).json()
    assert len(detail["messages"]) == 10
    detail_all = (await client.get(f"/api/interactions/{parent.id}?includeAllMessages=true")).json()
    assert [m["body"] for m in detail_all["messages"]] == [f"mensaje {i}" for i in range(14)]


async def test_detail_has_every_field_in_camel_case(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    call = f.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        provider_conversation_id="conv_x",
        outcome=Outcome.RESOLVED,
        intent="consulta_saldo",
        ended_at=T0 + timedelta(minutes=3),
    )
    sms = f.interaction(channel=Channel.SMS, direction=Direction.OUTBOUND, provider=Provider.TWILIO)
    async with session_factory() as session:
        await f.save(
            session,
            call,
            sms,
            f.call_detail(call),
            f.message(
                sms,
                direction=Direction.OUTBOUND,
                status=MessageStatus.DELIVERED,
                kind="OTP",
                body="Tu código es ******",
                provider_message_id="SM" + "a" * 32,
            ),
            f.otp(sms, requested_from_interaction_id=call.id),
        )
    body = (await client.get(f"/api/interactions/{call.id}")).json()
    for key in (
        "id",
        "channel",
        "direction",
        "status",
        "startedAt",
        "endedAt",
        "createdAt",
        "updatedAt",
        "from",
        "to",
        "customerPhone",
        "provider",
        "providerConversationId",
        "assignedAgent",
        "customerRef",
        "queue",
        "intent",
        "outcome",
        "aiHandled",
        "messages",
        "events",
        "callDetail",
        "otpChallenges",
    ):
        assert key in body, key
    assert body["startedAt"].endswith("Z")
    assert len(body["startedAt"]) == len("2026-11-20T15:00:00.000000Z")
    assert body["callDetail"]["durationSecs"] == 95
    assert body["callDetail"]["transcript"][0] == {
        "role": "agent",
        "message": "Hola, ¿en qué puedo ayudarle?",
        "timeInCallSecs": 0.0,
    }
    # The OTP requested from the call shows on the call's timeline and on its SMS interaction.
    assert len(body["otpChallenges"]) == 1
    assert "codeHash" not in body["otpChallenges"][0]
    sms_body = (await client.get(f"/api/interactions/{sms.id}")).json()
    assert sms_body["otpChallenges"][0]["requestedFromInteractionId"] == str(call.id)
    assert sms_body["messages"][0]["providerMessageId"] == "SM" + "a" * 32


@pytest.mark.parametrize(
    "written", ["+54 9 11 5555-1234", "5491155551234", "+5491155551234", "011 15 5555-1234"]
)
async def test_customer_profile_accepts_any_common_format(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession], written: str
) -> None:
    await seed_mixed(session_factory)
    async with session_factory() as session:
        await f.save(
            session,
            f.otp(None, status=OtpStatus.VERIFIED),
            f.otp(None, status=OtpStatus.LOCKED),
            f.otp(None, status=OtpStatus.EXPIRED),
            f.otp(None, status=OtpStatus.VERIFIED, phone="+5493515550000"),
        )
    response = await client.get(f"/api/interactions/client/{written}")
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "+54911******34"
    # The call, the WhatsApp conversation (factory default phone) and the SMS of that customer.
    assert body["stats"]["total"] == 3
    assert body["stats"]["byChannel"] == {"CALL": 1, "WHATSAPP": 1, "SMS": 1}
    assert body["stats"]["byOutcome"] == {"RESOLVED": 1, "ESCALATED": 1}
    assert body["stats"]["otp"] == {
        "issued": 3,
        "verified": 1,
        "failed": 0,
        "locked": 1,
        "expired": 1,
    }
    assert body["stats"]["firstContactAt"] == "2026-11-20T15:00:00.000000Z"
    started = [i["startedAt"] for i in body["interactions"]]
    assert started == sorted(started, reverse=True)


async def test_unknown_customer_is_an_empty_profile_not_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/interactions/client/+5491155559876")
    assert response.status_code == 200
    assert response.json()["interactions"] == []
    assert response.json()["stats"]["total"] == 0


async def test_child_rows_of_other_interactions_do_not_leak(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    a, b = f.interaction(), f.interaction()
    async with session_factory() as session:
        await f.save(session, a, b, f.message(a, body="de A"), f.message(b, body="de B"))
    body = (await client.get(f"/api/interactions/{a.id}")).json()
    assert [m["body"] for m in body["messages"]] == ["de A"]
    assert str(uuid.UUID(body["messages"][0]["interactionId"])) == str(a.id)
