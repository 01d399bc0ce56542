"""The per-recipient limit shared through Redis (production), not only in memory."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from contact_center.ratelimits import RateLimits
from contact_center.settings import Settings
from tests.live import PrivateRedis

KEY = secrets.token_bytes(32)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _keys(url: str) -> list[str]:
    client = Redis.from_url(url, decode_responses=True)
    try:
        return [key async for key in client.scan_iter(count=1000)]
    finally:
        await client.aclose()


async def test_the_recipient_limit_holds_across_two_processes_sharing_redis(
    settings_factory: Callable[..., Settings], redis: PrivateRedis
) -> None:
    settings = settings_factory(REDIS_URL=redis.url, OUTBOUND_RATE_LIMIT_MAX="3")
    first, second = RateLimits(settings, KEY), RateLimits(settings, KEY)  # as two processes would
    decisions = [await (first, second)[i % 2].recipient("+5491155550999") for i in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[-1].retry_after > 0
    assert (await first.recipient("+5491155550998")).allowed  # another recipient


async def test_redis_keys_hold_a_keyed_hash_not_the_number_or_the_address(
    settings_factory: Callable[..., Settings], redis: PrivateRedis
) -> None:
    settings = settings_factory(REDIS_URL=redis.url, OUTBOUND_RATE_LIMIT_MAX="1")
    limits = RateLimits(settings, KEY)
    assert (await limits.recipient("+5491155550999")).allowed
    assert (await limits.login_attempt("203.0.113.77")).allowed
    keys = await _keys(redis.url)
    assert len(keys) == 2
    for key in keys:
        assert "1155550999" not in key, key
        assert "203.0.113.77" not in key, key
    # Another key gives other names: a list of numbers hashed without it finds nothing.
    other = RateLimits(settings, secrets.token_bytes(32))
    assert other.pseudonym("+5491155550999") != limits.pseudonym("+5491155550999")
    assert (await other.recipient("+5491155550999")).allowed
    assert len(await _keys(redis.url)) == 3


async def test_after_sends_redis_holds_no_phone_number_and_the_limit_still_applies(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]], redis: PrivateRedis
) -> None:
    http = await client_for(REDIS_URL=redis.url, OUTBOUND_RATE_LIMIT_MAX="2")
    sends = [
        await http.post("/api/sms/send", json={"to": "+54 9 11 5555-0999", "body": "hola"})
        for _ in range(3)
    ]
    assert [s.status_code for s in sends] == [202, 202, 429]
    whatsapp = await http.post("/api/whatsapp/send", json={"to": "+5491155550999", "body": "hola"})
    assert whatsapp.status_code == 429  # one limit per recipient, whatever the channel
    other = await http.post("/api/sms/send", json={"to": "+5491155550998", "body": "hola"})
    assert other.status_code == 202
    keys = await _keys(redis.url)
    assert keys  # the queue's and the limiter's
    for key in keys:
        assert "5550999" not in key, key
        assert "5550998" not in key, key
