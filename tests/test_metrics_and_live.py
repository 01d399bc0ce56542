"""The metrics API, the change bus behind the console's live updates, and taking
a WhatsApp conversation over from the bot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.live.bus import EventBus
from contact_center.models import AuditLog, InteractionEvent
from contact_center.models.enums import Channel, Direction, InteractionStatus, OtpStatus, Provider
from contact_center.settings import Settings
from tests import factories
from tests.deliveries import incoming, post_builderbot
from tests.live import PrivateRedis, live_app

# 2026-11-20 in Buenos Aires (UTC-3): 03:00 UTC that day to 03:00 UTC the next.
DAY = "2026-11-20"
NOON = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_the_summary_counts_one_day_in_app_timezone_with_exact_kpis(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    call = dict(channel=Channel.CALL, provider=Provider.ELEVENLABS)
    done1 = factories.interaction(
        **call, status=InteractionStatus.COMPLETED, started_at=NOON, assigned_agent="Ana"
    )
    done2 = factories.interaction(
        **call,
        status=InteractionStatus.COMPLETED,
        started_at=NOON + timedelta(hours=1),
        ai_handled=False,
        assigned_agent="Ana",
    )
    dropped = factories.interaction(
        **call, status=InteractionStatus.ABANDONED, started_at=NOON + timedelta(hours=2)
    )
    failed = factories.interaction(
        **call,
        status=InteractionStatus.FAILED,
        direction=Direction.OUTBOUND,
        started_at=NOON + timedelta(hours=3),
    )
    chat1 = factories.interaction(started_at=NOON, assigned_agent="Luis", ai_handled=False)
    chat2 = factories.interaction(started_at=NOON + timedelta(hours=4))
    chat3 = factories.interaction(started_at=NOON + timedelta(hours=5))  # never answered
    sms = factories.interaction(
        channel=Channel.SMS,
        provider=Provider.TWILIO,
        direction=Direction.OUTBOUND,
        status=InteractionStatus.COMPLETED,
        started_at=NOON,
        ai_handled=False,  # as every SMS we send
    )
    # Just outside the day on both sides (02:59 UTC on the 20th, 03:00 UTC on the 21st).
    before = factories.interaction(started_at=datetime(2026, 11, 20, 2, 59, tzinfo=UTC))
    after = factories.interaction(started_at=datetime(2026, 11, 21, 3, 0, tzinfo=UTC))
    rows: list[object] = [done1, done2, dropped, failed, chat1, chat2, chat3, sms, before, after]
    rows += [
        factories.call_detail(done1, duration_secs=100),
        factories.call_detail(done2, duration_secs=200),
        factories.call_detail(dropped, duration_secs=4),
        factories.message(chat1, created_at=NOON),
        factories.message(
            chat1,
            direction=Direction.OUTBOUND,
            status="SENT",
            created_at=NOON + timedelta(seconds=30),
        ),
        factories.message(chat2, created_at=NOON + timedelta(hours=4)),
        factories.message(
            chat2,
            direction=Direction.OUTBOUND,
            status="SENT",
            created_at=NOON + timedelta(hours=4, seconds=90),
        ),
        factories.message(chat3, created_at=NOON + timedelta(hours=5)),
        factories.message(
            chat3,
            direction=Direction.OUTBOUND,
            status="SENT",
            created_at=NOON + timedelta(hours=6, seconds=10),
        ),
        factories.otp(None, created_at=NOON, status=OtpStatus.VERIFIED),
        factories.otp(None, created_at=NOON, status=OtpStatus.VERIFIED),
        factories.otp(None, created_at=NOON, status=OtpStatus.EXPIRED),
        factories.otp(None, created_at=NOON, status=OtpStatus.CANCELED),
        factories.otp(None, created_at=NOON - timedelta(days=2), status=OtpStatus.VERIFIED),
    ]
    async with session_factory() as session:
        await factories.save(session, *rows)

    response = await client.get("/api/metrics/summary", params={"date": DAY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["date"] == DAY
    assert body["total"] == 8
    assert body["byChannel"] == {"CALL": 4, "WHATSAPP": 3, "SMS": 1}
    assert body["byStatus"] == {"ABANDONED": 1, "COMPLETED": 3, "FAILED": 1, "IN_PROGRESS": 3}
    assert body["byDirection"] == {"INBOUND": 6, "OUTBOUND": 2}
    # People's work by person; what the AI handled (the calls it kept, the bot's chats) apart.
    agents = {a["agent"]: a for a in body["byAgent"]}
    assert agents == {
        "Ana": {"agent": "Ana", "total": 1, "byChannel": {"CALL": 1}},
        "Luis": {"agent": "Luis", "total": 1, "byChannel": {"WHATSAPP": 1}},
        None: {"agent": None, "total": 1, "byChannel": {"SMS": 1}},
    }
    assert body["aiActivity"] == {"total": 5, "byChannel": {"CALL": 3, "WHATSAPP": 2}}
    kpis = body["kpis"]
    assert kpis["calls"] == 4
    assert kpis["abandonmentRate"] == 0.25
    assert kpis["aiContainmentRate"] == 0.75
    assert kpis["averageHandleTimeSecs"] == 150.0
    assert kpis["whatsappFirstResponseSecs"] == 90.0  # median of 30, 90 and 3610
    assert kpis["otpChallenges"] == 3
    assert kpis["otpSuccessRate"] == round(2 / 3, 4)

    # The dashboard's counts are the API's counts.
    count = await client.get("/api/interactions/count", params={"dateFrom": DAY, "dateTo": DAY})
    assert count.json()["count"] == body["total"]

    empty = (await client.get("/api/metrics/summary", params={"date": "2026-01-01"})).json()
    assert empty["total"] == 0
    assert empty["kpis"]["abandonmentRate"] is None
    bad = await client.get("/api/metrics/summary", params={"date": "20-11-2026"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"


@contextlib.asynccontextmanager
async def two_processes_buses(tmp_path: Path) -> AsyncIterator[tuple[EventBus, EventBus, str]]:
    """A publishing and a subscribed bus, as two processes would hold, on a private Redis."""
    from redis.asyncio import Redis

    redis = PrivateRedis(str(tmp_path))
    redis.start()
    publisher = EventBus(Redis.from_url(redis.url))
    listener = EventBus(Redis.from_url(redis.url))
    try:
        await listener.start()
        await asyncio.sleep(0.3)  # subscribed
        yield publisher, listener, redis.url
    finally:
        await publisher.stop()
        await listener.stop()
        redis.stop()


async def test_changes_reach_subscribers_of_another_process_through_redis(
    tmp_path: Path,
) -> None:
    async with two_processes_buses(tmp_path) as (publisher, listener, _):
        with listener.subscribe() as queue:
            notice = {"interactionId": "abc", "type": "message.received", "channel": "WHATSAPP"}
            publisher.publish_nowait([notice])
            received = await asyncio.wait_for(queue.get(), timeout=2)
        assert received == notice


async def test_notices_of_many_commits_all_arrive_in_order_batched_on_the_way(
    tmp_path: Path,
) -> None:
    from redis.asyncio import Redis

    async with two_processes_buses(tmp_path) as (publisher, listener, url):
        with listener.subscribe() as queue:
            # 200 commits in one turn of the loop (a busy process): one publisher task takes them.
            for n in range(200):
                publisher.publish_nowait(
                    [{"interactionId": str(n), "type": "message.received", "channel": "SMS"}]
                )
            received = [await asyncio.wait_for(queue.get(), timeout=2) for _ in range(200)]
        assert [notice["interactionId"] for notice in received if notice] == [
            str(n) for n in range(200)
        ]
        spy = Redis.from_url(url)
        publishes = (await spy.info("commandstats"))["cmdstat_publish"]["calls"]
        await spy.aclose()
        # A PUBLISH per batch (here the first commit's, then the other 199's), not per commit.
        assert 1 <= int(publishes) <= 3


async def test_the_stream_pushes_a_committed_change_and_not_a_rolled_back_one(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with (
        live_app(settings_factory, with_worker=False) as live,
        live.http.stream("GET", "/console/stream") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        began = time.monotonic()
        response = await post_builderbot(live.http, incoming("5491155550733", "hola"))
        assert response.status_code == 200
        while True:
            line = await asyncio.wait_for(anext(lines), timeout=2)
            if line.startswith("data: "):
                notice = json.loads(line[6:])
                break
        assert time.monotonic() - began < 2
        assert notice["channel"] == "WHATSAPP"
        assert notice["type"] in {"interaction.created", "message.received"}
        assert "5491155550733" not in json.dumps(notice)  # nothing personal on the bus


async def test_taking_over_pauses_the_bot_through_the_queue_and_is_audited(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        await post_builderbot(live.http, incoming("5491155550744", "Quiero hablar con alguien"))
        interaction = (
            await live.http.get("/api/interactions", params={"channel": "WHATSAPP"})
        ).json()["items"][0]
        path = f"/console/interactions/{interaction['id']}/bot"
        taken = await live.http.post(path, data={"action": "pause"})
        assert taken.status_code == 204
        deadline = time.monotonic() + 10
        while (
            "5491155550744"
            not in (await live.http.get("/_emulator/builderbot/blacklist")).json()["numbers"]
        ):
            assert time.monotonic() < deadline, "the bot was never paused"
            await asyncio.sleep(0.1)
        page = await live.http.get(f"/interactions/{interaction['id']}")
        assert "Devolver al bot" in page.text
        back = await live.http.post(path, data={"action": "resume"})
        assert back.status_code == 204
        while (
            "5491155550744"
            in (await live.http.get("/_emulator/builderbot/blacklist")).json()["numbers"]
        ):
            assert time.monotonic() < deadline, "the bot was never resumed"
            await asyncio.sleep(0.1)
        wrong = await live.http.post(path, data={"action": "explode"})
        assert wrong.status_code == 422
    async with session_factory() as session:
        kinds = (
            await session.scalars(
                select(InteractionEvent.type)
                .where(InteractionEvent.type.in_(["bot.paused", "bot.resumed"]))
                .order_by(InteractionEvent.occurred_at)
            )
        ).all()
        audits = (
            await session.scalars(
                select(AuditLog.action).where(AuditLog.action.like("whatsapp.bot.%"))
            )
        ).all()
    assert list(kinds) == ["bot.paused", "bot.resumed"]
    assert sorted(audits) == ["whatsapp.bot.paused", "whatsapp.bot.resumed"]


async def test_pages_load_no_third_party_code_from_a_cdn(client: httpx.AsyncClient) -> None:
    for path in ("/api/docs", "/", "/calls", "/customers"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "cdn." not in page.text
        assert "unpkg" not in page.text
        for asset in ("/static/vendor/htmx.min.js", "/static/vendor/swagger-ui-bundle.js"):
            if asset in page.text:
                assert (await client.get(asset)).status_code == 200


async def test_inputs_schemathesis_found_answer_422_not_500(client: httpx.AsyncClient) -> None:
    huge = await client.get("/api/interactions", params={"skip": 10**30})
    assert huge.status_code == 422
    ledger = await client.get("/api/webhooks", params={"skip": 10**30})
    assert ledger.status_code == 422
    cursor = await client.get("/api/elevenlabs/conversations", params={"cursor": "ð\x17Y"})
    assert cursor.status_code == 422
    assert cursor.json()["error"]["code"] == "validation_error"
    letters = await client.get("/api/interactions", params={"from": "Roberto"})
    assert letters.status_code == 422
