"""The job queue: saq on Redis in production, on an in-memory Redis (fakeredis) embedded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from typing import Any

import structlog
from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job, Queue
from saq.queue.redis import RedisQueue

from contact_center.settings import Settings

log = structlog.get_logger(__name__)
QUEUE_NAME = "contact-center"
# Every job: a timeout above its real run time (provider calls time out at 20 s) and retries with
# exponential backoff for crashes; sends manage their own provider retries (SEND_MAX_ATTEMPTS).
SEND_JOB = {"timeout": 90, "retries": 3, "retry_delay": 2.0, "retry_backoff": 60.0, "ttl": 3600}


def _describe_redis(redis: Any) -> str:
    """host:port/db of a client, never its password (saq's repr of a queue prints the whole
    client, which the worker's start-up line would carry)."""
    options = getattr(getattr(redis, "connection_pool", None), "connection_kwargs", {})
    if "path" in options:
        return f"unix:{options['path']}/{options.get('db', 0)}"
    return f"{options.get('host', '?')}:{options.get('port', '?')}/{options.get('db', 0)}"


class ResilientRedisQueue(RedisQueue):
    """A Redis outage makes dequeue wait and try again instead of spinning on errors."""

    def __repr__(self) -> str:
        return f"queue '{self.name}' on Redis {_describe_redis(self.redis)}"

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 - saq's signature
        try:
            return await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError) as exc:
            log.warning("queue_unavailable", error=type(exc).__name__)
            await asyncio.sleep(1.0)
            return None


class InMemoryQueue(RedisQueue):
    """saq on fakeredis, for the embedded default.

    fakeredis has no INFO and does not block on BLMOVE; idle slots wait on an in-process signal
    (set by enqueue and by the scheduler) instead of polling, which would cost the event loop.
    """

    IDLE_WAIT_SECONDS = 0.5

    def __repr__(self) -> str:
        return f"queue '{self.name}' in process"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wakeup = asyncio.Event()

    async def version(self) -> tuple[int, ...]:
        return (7, 2, 0)

    async def enqueue(self, job_or_func: Any, **kwargs: Any) -> Job | None:
        job = await super().enqueue(job_or_func, **kwargs)
        self._wakeup.set()
        return job

    async def schedule(self, lock: int = 1) -> list[str]:
        moved = await super().schedule(lock)
        if moved:
            self._wakeup.set()
        return moved

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 - saq's signature
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            job_id = await self.redis.lmove(self._queued, self._active, "LEFT", "RIGHT")
            if job_id is not None:
                return await self._get_job_by_id(job_id)
            remaining = self.IDLE_WAIT_SECONDS
            if deadline is not None:
                remaining = min(remaining, deadline - time.monotonic())
                if remaining <= 0:
                    return None
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=remaining)


def build_queue(settings: Settings) -> Queue:
    if settings.redis_dsn:
        client = Redis.from_url(
            settings.redis_dsn, socket_connect_timeout=3, health_check_interval=10
        )
        return ResilientRedisQueue(client, name=QUEUE_NAME)
    return InMemoryQueue(FakeAsyncRedis(), name=QUEUE_NAME)


class Jobs:
    """What the API and jobs enqueue. Enqueue failures (Redis down) are logged, never raised:
    the database row is the source of truth and the reconciler enqueues it again."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    async def _enqueue(self, function: str, **options: Any) -> bool:
        try:
            job = await self.queue.enqueue(function, **options)
        except Exception as exc:  # logged, never raised: see the class docstring
            log.warning("enqueue_failed", job=function, error=type(exc).__name__)
            return False
        return job is not None

    async def enqueue_send(
        self, message_id: str, attempt: int, *, at: datetime | None = None, salt: str = ""
    ) -> bool:
        return await self._enqueue(
            "send_message",
            key=f"send:{message_id}:{attempt}" + (f":{salt}" if salt else ""),
            scheduled=int(at.timestamp()) if at else 0,
            message_id=message_id,
            **SEND_JOB,
        )

    async def enqueue_bot_control(self, interaction_id: str, action: str) -> bool:
        """Pause or resume the bot. (Unlike a send, no database row brings it back if Redis
        refuses it: the take-over is on the timeline, and handing back and taking over again
        repeats it.)"""
        return await self._enqueue(
            "control_bot",
            interaction_id=interaction_id,
            action=action,
            timeout=60,
            retries=5,
            retry_delay=2.0,
            retry_backoff=60.0,
        )

    async def enqueue_template_sync(self, actor: str | None = None) -> bool:
        """Sync the WhatsApp template registry now (an admin asked: POST
        /api/whatsapp/templates/sync)."""
        return await self._enqueue(
            "sync_whatsapp_templates",
            trigger="api",
            actor=actor,
            timeout=120,
            retries=1,
        )


async def claim_once(queue: Queue, name: str, *, ttl_seconds: int) -> bool:
    """True for the first caller of `name` across every process sharing the queue's Redis.

    A periodic job uses it to run once per period even if two schedulers enqueued it. When
    Redis cannot answer, the caller runs (the jobs guarded this way are idempotent).
    """
    redis = getattr(queue, "redis", None)
    if redis is None:
        return True
    try:
        return bool(await redis.set(f"{QUEUE_NAME}:once:{name}", "1", nx=True, ex=ttl_seconds))
    except (RedisError, OSError) as exc:
        log.warning("claim_once_unavailable", name=name, error=type(exc).__name__)
        return True


async def claim_period(queue: Queue, name: str, *, period_seconds: int, job: Any) -> bool:
    """True for the first worker to run the periodic job `name` in the period its `job` was
    scheduled for (`claim_once` keyed by that period, kept for two periods)."""
    scheduled = int(getattr(job, "scheduled", 0) or time.time())
    slot = scheduled // period_seconds
    return await claim_once(queue, f"{name}:{slot}", ttl_seconds=period_seconds * 2)
