"""The audit chain's jobs (docs/audit-chain.md): sealing every 5 s, a checkpoint every day."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit import chain
from contact_center.db.base import utcnow

log = structlog.get_logger(__name__)

SEAL_CRON = "* * * * * */5"
SEAL_TIMEOUT = 60
# Shortly after midnight UTC: the head then covers the whole previous day.
CHECKPOINT_CRON = "5 0 * * *"
CHECKPOINT_TIMEOUT = 300


async def seal(sessions: async_sessionmaker[AsyncSession], *, batch: int = chain.SEAL_BATCH) -> int:
    """Seal every unsealed row, one transaction per batch (`chain.seal_batch`); how many were
    sealed."""
    total, past = 0, None
    while True:
        async with sessions() as session:
            sealed, past = await chain.seal_batch(session, batch=batch, past=past)
            await session.commit()
        total += sealed
        if sealed < batch:
            return total


async def seal_audit_log(ctx: dict[str, Any]) -> int:
    """Seal the audit rows committed since the last run (the database only: no Redis)."""
    sessions: async_sessionmaker[AsyncSession] = ctx["sessions"]
    sealed = await seal(sessions)
    if sealed:
        log.info("audit_sealed", rows=sealed)
    return sealed


async def checkpoint_audit_log(ctx: dict[str, Any]) -> int | None:
    """Seal what is left, then record today's checkpoint of the head (its seq)."""
    sessions: async_sessionmaker[AsyncSession] = ctx["sessions"]
    await seal(sessions)
    async with sessions() as session:
        made = await chain.daily_checkpoint(session, utcnow())
        await session.commit()
    if made is None:
        return None
    log.info("audit_checkpoint", seq=made.seq, day=made.day.isoformat())
    return made.seq
