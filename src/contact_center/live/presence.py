"""Who is looking at a conversation right now (docs/inbox.md, "Presence"): not stored in the
database. Each heartbeat records `(interaction, user) → typing, seenAt` for TTL seconds; in
Redis when configured (every web process sees it), in this process otherwise.

In Redis a conversation is one hash (`contact-center:presence:<id>`, a field per user holding
JSON), whose key expires TTL seconds after its last heartbeat; a reader drops the fields older
than TTL (a user who left without saying so).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

TTL_SECONDS = 30
PREFIX = "contact-center:presence:"
# In the process: past this many conversations, a heartbeat sweeps the quiet ones.
SWEEP_AT = 1000


@dataclass(frozen=True)
class Viewer:
    username: str
    display_name: str | None
    typing: bool
    seen_at: datetime


def _encode(viewer: Viewer) -> str:
    return json.dumps(
        {
            "displayName": viewer.display_name,
            "typing": viewer.typing,
            "seenAt": viewer.seen_at.timestamp(),
        }
    )


def _decode(username: str, raw: str | bytes) -> Viewer | None:
    try:
        data = json.loads(raw)
        return Viewer(
            username=username,
            display_name=data.get("displayName"),
            typing=bool(data.get("typing")),
            seen_at=datetime.fromtimestamp(float(data["seenAt"]), UTC),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


class PresenceStore:
    """Presence in Redis, or in this process without it."""

    def __init__(self, redis: Redis | None = None, ttl: int = TTL_SECONDS) -> None:
        self._redis = redis
        self.ttl = ttl
        self._local: dict[uuid.UUID, dict[str, Viewer]] = {}

    @property
    def distributed(self) -> bool:
        return self._redis is not None

    def _fresh(self, viewer: Viewer | None, now: datetime) -> bool:
        return viewer is not None and viewer.seen_at > now - timedelta(seconds=self.ttl)

    async def touch(self, interaction_id: uuid.UUID, viewer: Viewer) -> bool:
        """Record a heartbeat; True when it changes what others see (someone arrives, starts or
        stops typing)."""
        now = viewer.seen_at
        if self._redis is None:
            here = self._local.setdefault(interaction_id, {})
            before = here.get(viewer.username)
            here[viewer.username] = viewer
            if len(self._local) > SWEEP_AT:
                # Conversations nobody looked at again since their viewers went quiet.
                for quiet in list(self._local):
                    self._prune_local(quiet, now)
            else:
                self._prune_local(interaction_id, now)
        else:
            key = f"{PREFIX}{interaction_id}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hget(key, viewer.username)
                pipe.hset(key, viewer.username, _encode(viewer))
                pipe.expire(key, self.ttl)
                old, _, _ = await pipe.execute()
            before = None if old is None else _decode(viewer.username, old)
        return not self._fresh(before, now) or (
            before is not None and before.typing != viewer.typing
        )

    async def remove(self, interaction_id: uuid.UUID, username: str) -> bool:
        """Forget a user's presence; True when they were there."""
        if self._redis is None:
            here = self._local.get(interaction_id, {})
            gone = here.pop(username, None) is not None
            if not here:
                self._local.pop(interaction_id, None)
            return gone
        # redis-py types its commands as sync-or-async
        return bool(await self._redis.hdel(f"{PREFIX}{interaction_id}", username))  # type: ignore[misc]

    async def viewers(self, interaction_id: uuid.UUID, now: datetime) -> list[Viewer]:
        """Who is there now (seen within TTL), by username."""
        if self._redis is None:
            self._prune_local(interaction_id, now)
            found = list(self._local.get(interaction_id, {}).values())
        else:
            key = f"{PREFIX}{interaction_id}"
            raw = await self._redis.hgetall(key)  # type: ignore[misc]
            found, stale = [], []
            for name, value in raw.items():
                username = name.decode() if isinstance(name, bytes) else str(name)
                viewer = _decode(username, value)
                if self._fresh(viewer, now) and viewer is not None:
                    found.append(viewer)
                else:
                    stale.append(username)
            if stale:
                with contextlib.suppress(RedisError, OSError):
                    await self._redis.hdel(key, *stale)  # type: ignore[misc]
        return sorted(found, key=lambda v: v.username)

    def _prune_local(self, interaction_id: uuid.UUID, now: datetime) -> None:
        here = self._local.get(interaction_id)
        if here is None:
            return
        for name in [n for n, v in here.items() if not self._fresh(v, now)]:
            del here[name]
        if not here:
            self._local.pop(interaction_id, None)

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()
