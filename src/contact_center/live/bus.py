"""Change notices for the console: published when a transaction that recorded events commits,
fanned out to the SSE streams of every web process (Redis pub/sub), or in-process when embedded.

A notice says only which interaction changed and how (`{interactionId, type, channel}`); pages
fetch what they show through the usual services, so nothing personal travels on the bus. A few
notices are for the other processes only (no interaction: `note_process`), such as an agent's
availability change, which the routers of every process act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from contact_center.principal import Principal

log = structlog.get_logger(__name__)
CHANNEL = "contact-center:changes"
QUEUE_SIZE = 256
PUBLISH_BATCH = 500  # notices per Redis message at most
Notice = dict[str, Any]


class EventBus:
    def __init__(self, redis: Redis | None = None) -> None:
        self._redis = redis
        self._subscribers: set[asyncio.Queue[Notice | None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._buffer: list[Notice] = []
        self._publisher: asyncio.Task[None] | None = None

    @property
    def distributed(self) -> bool:
        return self._redis is not None

    # --- publishing ---------------------------------------------------------------------

    def publish_nowait(self, notices: list[Notice]) -> None:
        """Called after a commit (from a synchronous SQLAlchemy hook): never blocks or raises.

        Notices wait in a buffer for the one publisher task: while it waits on Redis, the
        commits of other requests add theirs, and they go out together in the next message
        (one round trip per batch, not per commit, on a busy process; at once on a quiet one).
        """
        if not notices:
            return
        if self._redis is None:
            self._deliver(notices)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._buffer.extend(notices)
        if self._publisher is None or self._publisher.done():
            self._publisher = loop.create_task(self._publish_buffered())
            self._tasks.add(self._publisher)
            self._publisher.add_done_callback(self._tasks.discard)

    async def _publish_buffered(self) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer[:PUBLISH_BATCH], self._buffer[PUBLISH_BATCH:]
            await self._publish(batch)

    async def _publish(self, notices: list[Notice]) -> None:
        assert self._redis is not None
        try:
            await self._redis.publish(CHANNEL, json.dumps(notices))
        except (RedisError, OSError) as exc:
            # Without Redis this process's own pages still hear about it; the others poll.
            log.warning("change_publish_failed", error=type(exc).__name__)
            self._deliver(notices)

    def _deliver(self, notices: list[Notice]) -> None:
        for queue in list(self._subscribers):
            for notice in notices:
                try:
                    queue.put_nowait(notice)
                except asyncio.QueueFull:
                    break  # a slow page; it refreshes on the next notice or by polling

    # --- subscribing --------------------------------------------------------------------

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Notice | None]]:
        queue: asyncio.Queue[Notice | None] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def start(self) -> None:
        if self._redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="change-listener")

    async def _listen(self) -> None:
        assert self._redis is not None
        while True:
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                async with pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            notices = json.loads(message["data"])
                        except (ValueError, TypeError):
                            continue
                        if isinstance(notices, list):
                            self._deliver([n for n in notices if isinstance(n, dict)])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("change_listener_reconnecting", error=type(exc).__name__)
                await asyncio.sleep(1.0)

    def close_streams(self) -> None:
        """End every open SSE stream (browsers reconnect elsewhere): a stopping server should
        not wait for them."""
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def stop(self) -> None:
        self.close_streams()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
            self._listener = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()


# --- the commit hook ----------------------------------------------------------------------

PENDING = "change_notices"
BUS = "change_bus"


AUDIENCE = "audience"
AUDIENCES = "change_audiences"
# Who held an interaction during a transaction: (assigned agent, team) pairs; an agent of None
# means it waited unassigned in that team's queue (a team of None: the shared pool).
Holder = tuple[str | None, str | None]


def note(
    session_info: dict[str, Any],
    notice: Notice,
    *,
    assigned_agent: str | None,
    team_id: uuid.UUID | None,
) -> None:
    """Remember a change; it is published if and when the transaction commits.

    `assigned_agent` and `team_id` are who works the interaction, and whose queue it is in, at
    this point of the transaction. The published notice carries every holder the interaction
    had during the transaction, so each stream can be scoped (see `visible_to`)."""
    session_info.setdefault(PENDING, []).append(notice)
    also_heard_by(session_info, notice.get("interactionId"), assigned_agent, team_id)


def note_process(session_info: dict[str, Any], notice: Notice) -> None:
    """Remember a notice for the other processes (not about one interaction: no console
    stream carries it), published if and when the transaction commits. Notices of this kind:
    `{"type": "agent.availability", "userId", "availability"}` (docs/workflow.md)."""
    session_info.setdefault(PENDING, []).append(notice)


def also_heard_by(
    session_info: dict[str, Any], interaction_id: Any, agent: str | None, team_id: uuid.UUID | None
) -> None:
    """Add a holder to the audience of an interaction's notices in this transaction: the one
    an interaction is taken from (an agent, or a team's queue) hears that it changed (their
    page drops it)."""
    holder: Holder = (agent, None if team_id is None else str(team_id))
    session_info.setdefault(AUDIENCES, {}).setdefault(str(interaction_id), set()).add(holder)


def _with_audience(notices: list[Notice], audiences: dict[str, set[Holder]]) -> list[Notice]:
    published = []
    for notice in notices:
        if "interactionId" not in notice:
            published.append(notice)
            continue
        audience = audiences.get(str(notice.get("interactionId")), {(None, None)})
        # [agent, teamId]; a null agent stands for "unassigned, in that team's queue".
        ordered = sorted(audience, key=lambda h: (h[0] is not None, h[0] or "", h[1] or ""))
        published.append({**notice, AUDIENCE: [list(h) for h in ordered]})
    return published


def _team(value: Any) -> uuid.UUID | None:
    try:
        return None if value is None else uuid.UUID(str(value))
    except ValueError:
        return None


def visible_to(notice: Notice, viewer: Principal) -> Notice | None:
    """The part of a notice a viewer's stream may carry, or None when it is not theirs: only
    interaction notices, and an agent hears of the interactions they see (as every read path
    decides: `Principal.sees_assignment`)."""
    if "interactionId" not in notice:
        return None
    if viewer.agent_scope is not None:
        audience = notice.get(AUDIENCE)
        if not isinstance(audience, list) or not any(
            isinstance(holder, list)
            and len(holder) == 2
            and viewer.sees_assignment(holder[0], _team(holder[1]))
            for holder in audience
        ):
            return None
    return {key: value for key, value in notice.items() if key != AUDIENCE}


def bus_of(sessions: Any) -> object:
    """Where a sessionmaker's sessions publish live notices after a commit."""
    return (sessions.kw.get("info") or {}).get(BUS)


def publish_pending(info: dict[str, Any], bus: object) -> None:
    """After a commit: publish the notices `note` collected in `info` (a session's, or a
    transaction's below the ORM)."""
    notices = info.pop(PENDING, None)
    audiences = info.pop(AUDIENCES, None) or {}
    if notices and isinstance(bus, EventBus):
        bus.publish_nowait(_with_audience(notices, audiences))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    publish_pending(session.info, session.info.get(BUS))


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(AUDIENCES, None)
