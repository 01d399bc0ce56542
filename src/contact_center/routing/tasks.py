"""The router's loop: every worker process (and the embedded in-process worker) sweeps the queues
every ROUTING_INTERVAL_SECONDS, and at once when the live bus tells of a new conversation or
message, of someone's availability, or of a conversation back in a queue. Several sweeps may run
at once in several processes: the locks in routing.repository keep them apart. Everything a
sweep decides is in the database, so a killed worker loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.live.bus import EventBus, Notice
from contact_center.routing import service
from contact_center.routing.service import BATCH, Assignment
from contact_center.settings import Settings

log = structlog.get_logger(__name__)

# Notices after which a sweep may have work: something arrived, someone became available, or a
# conversation is back in a queue.
WAKE_TYPES = frozenset(
    {
        "interaction.created",
        "message.received",
        "agent.availability",
        "agent.unassigned",
        "conversation.transferred",
        "conversation.reopened",
        "conversation.woke",
        "conversation.queued",
    }
)
# A failing sweep (the database away) is tried again after this, not in a tight loop.
RETRY_AFTER_ERROR_SECONDS = 2.0
# Sweeps of one process start at least this far apart: under a burst of arrivals the notices
# wake one sweep per gap, not one per message.
MIN_SWEEP_GAP_SECONDS = 0.05


@dataclass
class SweepResult:
    teamed: int = 0
    woke: int = 0
    requeued: int = 0
    assignments: list[Assignment] = field(default_factory=list)


async def sweep(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, batch: int = BATCH
) -> SweepResult:
    """One pass: teams for conversations without one, snoozes that ended, offline people's
    conversations back to the queues (one transaction), then each team with waiting
    conversations routed, a batch per transaction."""
    result = SweepResult()
    now = utcnow()
    async with sessions() as session:
        result.woke = await service.wake_snoozed(session, now)
        result.requeued = await service.requeue_offline(
            session, now, settings.routing_offline_grace_seconds
        )
        result.teamed = await service.choose_teams(session, now)
        teams = await service.teams_waiting(session, now)
        await session.commit()
    for team_id in teams:
        while True:
            async with sessions() as session:
                assigned = await service.route_team(session, team_id, utcnow(), batch=batch)
                await session.commit()
            if not assigned:
                break  # nobody free, nothing waiting, or another router has the team
            result.assignments.extend(assigned)
    return result


class Router:
    """The sweep loop of one process: on a timer, and woken by the live bus."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        events: EventBus | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._events = events
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.sweeps = 0

    @property
    def enabled(self) -> bool:
        return self._settings.routing_interval_seconds > 0

    async def start(self) -> None:
        if not self.enabled or self._tasks:
            return
        if self._events is not None:
            # A worker process hears other processes' notices only once the bus listens.
            await self._events.start()
            self._tasks.append(asyncio.create_task(self._listen(), name="routing-listener"))
        self._tasks.append(asyncio.create_task(self._run(), name="routing-sweeps"))

    def wake(self) -> None:
        """Sweep now (or right after the sweep in progress)."""
        self._wake.set()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        assert self._events is not None
        with self._events.subscribe() as notices:
            while True:
                notice: Notice | None = await notices.get()
                if notice is not None and notice.get("type") in WAKE_TYPES:
                    self._wake.set()

    async def _run(self) -> None:
        interval = self._settings.routing_interval_seconds
        while True:
            self._wake.clear()
            started = time.monotonic()
            try:
                result = await sweep(self._sessions, self._settings)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Logged without values (hide_parameters keeps them out of the text) and tried
                # again: the state is in the database.
                log.warning("routing_sweep_failed", error=type(exc).__name__)
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)
                continue
            self.sweeps += 1
            if result.assignments or result.requeued or result.woke:
                log.info(
                    "routing_swept",
                    assigned=len(result.assignments),
                    woke=result.woke,
                    requeued=result.requeued,
                    teamed=result.teamed,
                    ms=round((time.monotonic() - started) * 1000, 1),
                )
            gap = min(MIN_SWEEP_GAP_SECONDS, interval)
            await asyncio.sleep(gap)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval - gap)
