"""The retention purge (docs/data-lifecycle.md, "Retention"): each data class is a small object
(name, setting, floor, count_expired, purge_batch); a run erases each class's expired rows in
batches, one short transaction each, recording its progress in `purge_run` with every batch, so
a run killed midway is resumed by the next. One run at a time."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.audit import prune
from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.holds import repository as holds
from contact_center.principal import SYSTEM_CONTEXT, AuditContext
from contact_center.retention import classes as names
from contact_center.retention import repository
from contact_center.retention.erase import StoredFiles, erase_messages, erase_recordings
from contact_center.settings import RETENTION_FLOORS, Settings

# Counts: how many rows of a class are past `cutoff` (at `now`, for the holds). Batch: erase
# at most `limit` of them in the session's transaction; how many. 0 ends the class.
CountExpired = Callable[[AsyncSession, datetime, datetime], Awaitable[int]]
PurgeBatch = Callable[[AsyncSession, datetime, datetime, int], Awaitable[int]]
# Two purges never run at once (PostgreSQL advisory lock; SQLite: a lock file beside it).
LOCK_KEY = 0x5245_5445  # "RETE"


@dataclass(frozen=True)
class DataClass:
    name: str
    # The Settings field with its days (`retention_<name>_days`).
    setting: str
    floor: int
    count_expired: CountExpired
    purge_batch: PurgeBatch


# Classes that other packages add (the audit rows: `contact_center.audit.prune`).
REGISTERED: list[DataClass] = []


def register(data_class: DataClass) -> None:
    """Add a data class to every purge (once per name)."""
    if all(c.name != data_class.name for c in REGISTERED):
        REGISTERED.append(data_class)


def _interaction_class(name: str, files: StoredFiles) -> DataClass:
    async def count_expired(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
        return await repository.count_candidates(session, name, cutoff, now)

    async def purge_batch(
        session: AsyncSession, cutoff: datetime, now: datetime, limit: int
    ) -> int:
        ids = await repository.candidates(session, name, cutoff, now, limit)
        if not ids:
            return 0
        if name == names.RECORDINGS:
            return await erase_recordings(session, ids, now, files)
        if name == names.TRANSCRIPTS:
            count = await repository.erase_transcripts(session, ids, now)
        elif name == names.MESSAGE_BODIES:
            count = await erase_messages(session, ids, now, files)
        elif name == names.EVENT_PAYLOADS:
            count = await repository.erase_events(session, ids, now)
        else:
            return await repository.erase_otps(session, ids, now)
        await repository.release_redactions(session, await repository.owners(session, name, ids))
        return count

    setting = f"retention_{name}_days"
    return DataClass(name, setting, RETENTION_FLOORS[setting][0], count_expired, purge_batch)


async def _unheld_deliveries(
    session: AsyncSession, cutoff: datetime, now: datetime, limit: int | None
) -> list[uuid.UUID]:
    """Expired ledger rows no hold covers, up to `limit` (pages through the held ones)."""
    found: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while limit is None or len(found) < limit:
        page = await repository.delivery_page(session, cutoff, now, after, 1000)
        if not page:
            break
        held = await repository.held_deliveries(session, page, now)
        found.extend(i for i in page if i not in held)
        after = page[-1]
    return found if limit is None else found[:limit]


def _webhook_class() -> DataClass:
    async def count_expired(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
        return len(await _unheld_deliveries(session, cutoff, now, None))

    async def purge_batch(
        session: AsyncSession, cutoff: datetime, now: datetime, limit: int
    ) -> int:
        ids = await _unheld_deliveries(session, cutoff, now, limit)
        return await repository.erase_deliveries(session, ids, now) if ids else 0

    setting = "retention_webhook_bodies_days"
    return DataClass(
        names.WEBHOOK_BODIES, setting, RETENTION_FLOORS[setting][0], count_expired, purge_batch
    )


def _sessions_class() -> DataClass:
    async def count_expired(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
        return await repository.count_sessions(session, cutoff)

    async def purge_batch(
        session: AsyncSession, cutoff: datetime, now: datetime, limit: int
    ) -> int:
        return await repository.delete_sessions(session, cutoff, limit)

    setting = "retention_console_sessions_days"
    return DataClass(
        names.CONSOLE_SESSIONS, setting, RETENTION_FLOORS[setting][0], count_expired, purge_batch
    )


def _audit_class() -> DataClass:
    """Audit rows go as a whole sealed prefix of the chain, with a prune point that verify
    starts from (docs/audit-chain.md, "Pruning")."""

    async def held_back(session: AsyncSession, cutoff: datetime, now: datetime) -> datetime:
        # A legal hold keeps the audit rows of what it holds: the prefix ends before them.
        held = await holds.earliest_held(session, now, before=cutoff)
        return cutoff if held is None else held

    async def count_expired(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
        return await prune.count_expired(session, await held_back(session, cutoff, now), now)

    async def purge_batch(
        session: AsyncSession, cutoff: datetime, now: datetime, limit: int
    ) -> int:
        return await prune.purge_batch(session, await held_back(session, cutoff, now), now, limit)

    setting = "retention_audit_rows_days"
    return DataClass(
        names.AUDIT_ROWS, setting, RETENTION_FLOORS[setting][0], count_expired, purge_batch
    )


def data_classes(settings: Settings) -> list[DataClass]:
    """Every class the purge goes through, in order."""
    files = StoredFiles.of(settings)
    own = [
        _interaction_class(names.RECORDINGS, files),
        _interaction_class(names.TRANSCRIPTS, files),
        _interaction_class(names.MESSAGE_BODIES, files),
        _interaction_class(names.EVENT_PAYLOADS, files),
        _webhook_class(),
        _interaction_class(names.OTP_CHALLENGES, files),
        _sessions_class(),
        _audit_class(),
    ]
    return [*own, *REGISTERED]


def cutoffs(settings: Settings, now: datetime) -> dict[str, datetime | None]:
    """Each class's cutoff: rows before it are expired (None: kept forever)."""
    result: dict[str, datetime | None] = {}
    for data_class in data_classes(settings):
        days = int(getattr(settings, data_class.setting))
        result[data_class.name] = None if days == 0 else now - timedelta(days=days)
    return result


# ---- One run at a time ----


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, settings: Settings) -> AsyncIterator[bool]:
    """Whether this process got the purge's lock (held until the block ends)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            got = await repository.try_session_lock(connection, LOCK_KEY)
            # The lock is the session's: no transaction stays open beside the run's batches.
            await connection.commit()
            try:
                yield got
            finally:
                if got:
                    await repository.session_unlock(connection, LOCK_KEY)
                await connection.commit()
        return
    database = make_url(settings.async_database_url).database or ""
    path = Path(f"{database}.retention.lock" if database else "contact_center.retention.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ---- Plan and run ----


async def plan(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> dict[str, int | None]:
    """What the next run would erase, by class (None: kept forever); nothing is written."""
    at = now or utcnow()
    limits = cutoffs(settings, at)
    counts: dict[str, int | None] = {}
    async with sessions() as session:
        for data_class in data_classes(settings):
            cutoff = limits[data_class.name]
            counts[data_class.name] = (
                None if cutoff is None else await data_class.count_expired(session, cutoff, at)
            )
        await session.rollback()
    return counts


Progress = Callable[[str, int, int], None]
# Waits between batches (asyncio.sleep; a test or a benchmark passes its own).
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class RunReport:
    id: uuid.UUID
    counts: dict[str, int]
    resumed: bool


async def _start(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, trigger: str
) -> tuple[uuid.UUID, dict[str, Any], dict[str, int], bool]:
    """The run left unfinished (killed), or a new one with today's cutoffs."""
    async with sessions() as session:
        run = await repository.unfinished_run(session)
        if run is not None:
            resumed = True
        else:
            resumed = False
            now = utcnow()
            progress = {
                name: {"cutoff": cutoff.isoformat() if cutoff else None, "done": cutoff is None}
                for name, cutoff in cutoffs(settings, now).items()
            }
            run = await repository.new_run(session, trigger, progress, now)
        await session.commit()
        return run.id, dict(run.progress), {k: int(v) for k, v in run.counts.items()}, resumed


async def run(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
    *,
    trigger: str,
    context: AuditContext = SYSTEM_CONTEXT,
    shown: Progress | None = None,
    stop_after: int | None = None,
    pause_ms: int | None = None,
    sleep: Sleep = asyncio.sleep,
) -> RunReport | None:
    """Run the purge (resuming a killed run); None when another purge holds the lock.
    `stop_after` batches: end early as a kill would (the run stays RUNNING). Between two
    batches it waits `pause_ms` (default RETENTION_BATCH_PAUSE_MS; 0: only yields), outside any
    transaction, so the ingest it shares the database with keeps its latency."""
    pause = (settings.retention_batch_pause_ms if pause_ms is None else pause_ms) / 1000
    async with exclusive(engine, settings) as got:
        if not got:
            return None
        run_id, progress, counts, resumed = await _start(sessions, settings, trigger)
        batches = 0
        try:
            for data_class in data_classes(settings):
                state = progress.setdefault(
                    data_class.name, {"cutoff": None, "done": True}
                )  # a class registered since the run began waits for the next run
                if state.get("done"):
                    continue
                cutoff = datetime.fromisoformat(state["cutoff"])
                while True:
                    if stop_after is not None and batches >= stop_after:
                        return RunReport(run_id, counts, resumed)
                    async with sessions() as session:
                        erased = await data_class.purge_batch(
                            session, cutoff, utcnow(), settings.retention_batch_size
                        )
                        counts[data_class.name] = counts.get(data_class.name, 0) + erased
                        state["done"] = erased == 0
                        await repository.save_progress(session, run_id, counts, progress)
                        await session.commit()
                    batches += 1
                    if shown is not None:
                        shown(data_class.name, counts[data_class.name], erased)
                    if erased == 0:
                        break
                    # The batch's session is closed: nothing is held while waiting.
                    await sleep(pause)
        except BaseException as exc:
            # Recorded when it can be (a cancelled job may not get that far): either way the
            # run has no `finished_at`, and the next one goes on with it.
            with contextlib.suppress(Exception):
                async with sessions() as session:
                    await repository.fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
                    await session.commit()
            raise
        async with sessions() as session:
            await repository.finish_run(session, run_id, utcnow())
            await audit.record(
                session,
                context,
                "retention.purged",
                entity_type="purge_run",
                entity_id=run_id,
                metadata={"counts": counts, "trigger": trigger, "resumed": resumed},
            )
            await session.commit()
        return RunReport(run_id, counts, resumed)
