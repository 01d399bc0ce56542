"""Rate limits on the `limits` library: per-recipient anti-spam and provider throughput."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from contact_center.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


class RateLimits:
    """Memory storage in the embedded default, Redis (shared by every process) in production.

    A recipient's number or a client's address is never a key: its keyed hash is (HMAC-SHA256
    with `pseudonym_key`, the same in every process), so Redis holds no personal data.
    """

    def __init__(self, settings: Settings, pseudonym_key: bytes) -> None:
        self.settings = settings
        self._pseudonym_key = pseudonym_key
        storage: Storage
        if settings.redis_dsn:
            storage = RedisStorage(
                "async+" + settings.redis_dsn,
                implementation="redispy",
                socket_timeout=2,
                socket_connect_timeout=2,
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.recipient_item = RateLimitItemPerSecond(
            settings.outbound_rate_limit_max, settings.outbound_rate_limit_window_seconds
        )
        self.twilio_item = RateLimitItemPerSecond(settings.twilio_max_mps, 1)
        self.login_item = RateLimitItemPerSecond(
            settings.login_rate_limit_max, settings.login_rate_limit_window_seconds
        )

    def pseudonym(self, value: str) -> str:
        return hmac.new(self._pseudonym_key, value.encode(), hashlib.sha256).hexdigest()

    async def recipient(self, phone: str) -> Decision:
        """Anti-spam: SMS + WhatsApp sends per recipient. Fails open when Redis is down."""
        who = self.pseudonym(phone)
        try:
            if await self.limiter.hit(self.recipient_item, "recipient", who):
                return Decision(True)
            stats = await self.limiter.get_window_stats(self.recipient_item, "recipient", who)
        except Exception as exc:  # availability beats the anti-spam limit
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return Decision(True)
        return Decision(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def login_attempt(self, address: str) -> Decision:
        """Sign-in attempts per client address. Fails open when Redis is down: the per-account
        lockout (in the database) still holds."""
        who = self.pseudonym(address)
        try:
            if await self.limiter.hit(self.login_item, "login", who):
                return Decision(True)
            stats = await self.limiter.get_window_stats(self.login_item, "login", who)
        except Exception as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return Decision(True)
        return Decision(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def provider_slot(self, provider: str) -> None:
        """Wait for a send slot under the provider's messages-per-second cap."""
        while True:
            try:
                if await self.limiter.hit(self.twilio_item, "provider", provider):
                    return
            except Exception as exc:  # never block sends on the limiter
                log.warning("rate_limit_unavailable", error=type(exc).__name__)
                return
            await asyncio.sleep(1 / max(1, self.settings.twilio_max_mps))

    async def provider_headroom(self, provider: str) -> int:
        """How many sends the provider's cap lets through at once now (the size of a send
        job's batch follows it). The cap, when the limiter cannot answer."""
        try:
            stats = await self.limiter.get_window_stats(self.twilio_item, "provider", provider)
        except Exception as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return self.settings.twilio_max_mps
        return max(0, int(stats.remaining))
