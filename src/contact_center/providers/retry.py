"""Retrying a provider call: transient failures (429, 5xx, timeouts) wait and try again."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from contact_center.providers.base import RetryableProviderError

T = TypeVar("T")
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all; waits double from `base_delay`, honour `Retry-After`, and are
    capped at `max_delay` each."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int, error: RetryableProviderError) -> float:
        if error.retry_after is not None:
            return min(self.max_delay, max(0.0, error.retry_after))
        backoff = self.base_delay * (2 ** (attempt - 1))
        return float(min(self.max_delay, backoff * (0.75 + random.random() / 2)))  # noqa: S311


# Proxied reads answer a person waiting on a page: fewer, shorter waits than a background sync.
INTERACTIVE = RetryPolicy(attempts=3, base_delay=0.25, max_delay=2.0)
BACKGROUND = RetryPolicy(attempts=6, base_delay=0.5, max_delay=15.0)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy = BACKGROUND,
    *,
    operation: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call`; a RetryableProviderError waits and retries until the attempts run out, then
    propagates. Permanent errors propagate at once."""
    attempt = 1
    while True:
        try:
            return await call()
        except RetryableProviderError as error:
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt, error)
            log.info(
                "provider_retry",
                provider=error.provider.value,
                operation=operation,
                attempt=attempt,
                status=error.status,
                wait_seconds=round(wait, 2),
            )
            await sleep(wait)
            attempt += 1
