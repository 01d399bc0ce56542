"""The job queue: saq on Redis in production, on an in-memory Redis (fakeredis) embedded."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import structlog
from fakeredis import FakeAsyncRedis
from saq import Job, Queue
from saq.queue.redis import RedisQueue

from contact_center.settings import Settings

log = structlog.get_logger(__name__)
QUEUE_NAME = "contact-center"
# Every job: a timeout above its real run time (provider calls time out at 20 s) and retries with
# exponential backoff for crashes; sends manage their own provider retries (SEND_MAX_ATTEMPTS).
SEND_JOB = {"timeout": 90, "retries": 3, "retry_delay": 2.0, "retry_backoff": 60.0, "ttl": 3600}


class InMemoryQueue(RedisQueue):
    """saq on fakeredis, for the embedded default.

    fakeredis has no INFO and does not block on BLMOVE, so dequeue polls (cheaply) instead.
    """

    POLL_SECONDS = 0.05

    async def version(self) -> tuple[int, ...]:
        return (7, 2, 0)

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 - saq's signature
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            job_id = await self.redis.lmove(self._queued, self._active, "LEFT", "RIGHT")
            if job_id is not None:
                return await self._get_job_by_id(job_id)
            if deadline is not None and time.monotonic() >= deadline:
                return None
            await asyncio.sleep(self.POLL_SECONDS)


def build_queue(settings: Settings) -> Queue:
    if settings.redis_dsn:
        return RedisQueue.from_url(settings.redis_dsn, name=QUEUE_NAME)
    return InMemoryQueue(FakeAsyncRedis(), name=QUEUE_NAME)


class Jobs:
    """What the API and jobs enqueue. Enqueue failures (Redis down) are logged, never raised:
    the database row is the source of truth and the reconciler enqueues it again."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    async def enqueue_send(
        self, message_id: str, attempt: int, *, at: datetime | None = None
    ) -> bool:
        try:
            job = await self.queue.enqueue(
                "send_message",
                key=f"send:{message_id}:{attempt}",
                scheduled=int(at.timestamp()) if at else 0,
                message_id=message_id,
                **SEND_JOB,
            )
        except Exception as exc:
            log.warning("enqueue_failed", message_id=message_id, error=type(exc).__name__)
            return False
        return job is not None
