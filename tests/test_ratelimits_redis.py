"""The per-recipient limit shared through Redis (production), not only in memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from contact_center.ratelimits import RateLimits
from contact_center.settings import Settings
from tests.live import PrivateRedis


async def test_the_recipient_limit_holds_across_two_processes_sharing_redis(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    redis = PrivateRedis(str(tmp_path))
    redis.start()
    try:
        settings = settings_factory(REDIS_URL=redis.url, OUTBOUND_RATE_LIMIT_MAX="3")
        first, second = RateLimits(settings), RateLimits(settings)  # as two processes would
        decisions = [await (first, second)[i % 2].recipient("+5491155550999") for i in range(5)]
        assert [d.allowed for d in decisions] == [True, True, True, False, False]
        assert decisions[-1].retry_after > 0
        assert (await first.recipient("+5491155550998")).allowed  # another recipient
    finally:
        redis.stop()
