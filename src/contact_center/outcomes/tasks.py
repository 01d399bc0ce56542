"""Jobs of the outcomes domain: send satisfaction surveys; find repeat contacts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.outcomes import service
from contact_center.outcomes.service import REPEAT_WINDOW, SurveyDeps

log = structlog.get_logger(__name__)

# The repeat-contact job starts each run this far before its watermark: a conversation whose
# transaction committed late (created_at earlier than a row seen before it) is still seen.
WATERMARK_OVERLAP = timedelta(minutes=2)
WATERMARK_KEY = "outcomes:repeat-contact:watermark"
# Reopens by a customer's message are read by their `occurred_at` (the message's time, which a
# late webhook may carry from before the watermark): this far before the watermark.
REOPEN_LOOKBACK = timedelta(hours=1)


@dataclass(frozen=True)
class OutcomeJobDeps:
    """What the outcomes jobs are given (`ctx["outcomes"]`)."""

    sessions: async_sessionmaker[AsyncSession]
    survey: SurveyDeps
    # Enqueue a message's send (after the commit that queued it; the reconciler finds a lost one).
    enqueue_send: Callable[[str], Awaitable[bool]]
    # The repeat-contact job's watermark (kept in Redis; lost, the job looks back 7 days).
    read_watermark: Callable[[], Awaitable[datetime | None]]
    write_watermark: Callable[[datetime], Awaitable[None]]


async def send_surveys(deps: OutcomeJobDeps) -> int:
    """One survey per resolved conversation: each in its own transaction (a conversation that
    fails does not hold the others back), its send enqueued after the commit."""
    if not deps.survey.settings.csat_enabled:
        return 0
    async with deps.sessions() as session:
        due = await service.due_surveys(session, utcnow())
    sent = 0
    for interaction_id in due:
        try:
            async with deps.sessions() as session:
                message_id = await service.send_survey(session, deps.survey, interaction_id)
                await session.commit()
        except Exception as exc:  # the next run tries again
            log.warning(
                "csat_survey_failed", interaction_id=str(interaction_id), error=type(exc).__name__
            )
            continue
        if message_id is not None:
            sent += 1
            await deps.enqueue_send(str(message_id))
    if sent:
        log.info("csat_surveys_sent", count=sent)
    return sent


async def find_repeat_contacts(deps: OutcomeJobDeps) -> int:
    """New inbound conversations since the watermark (less the overlap), a page per
    transaction; then the conversations a customer's message reopened since the watermark (less
    REOPEN_LOOKBACK). The watermark moves to the newest new conversation looked at."""
    now = utcnow()
    watermark = await deps.read_watermark()
    since = (watermark - WATERMARK_OVERLAP) if watermark else now - REPEAT_WINDOW
    after: tuple[datetime, uuid.UUID] | None = None
    marked = 0
    while True:
        async with deps.sessions() as session:
            page = await service.find_repeats(session, since=since, after=after)
            await session.commit()
        marked += page.marked
        after = page.last
        if not page.full:
            break
    # Customers who wrote again on a resolved conversation's own thread (it reopened).
    reopened_since = (watermark - REOPEN_LOOKBACK) if watermark else now - REPEAT_WINDOW
    reopen_after: tuple[datetime, uuid.UUID] | None = None
    while True:
        async with deps.sessions() as session:
            reopens = await service.find_reopened_repeats(
                session, since=reopened_since, after=reopen_after
            )
            await session.commit()
        marked += reopens.marked
        reopen_after = reopens.last
        if not reopens.full:
            break
    if after is not None and (watermark is None or after[0] > watermark):
        await deps.write_watermark(after[0])
    if marked:
        log.info("repeat_contacts_found", count=marked)
    return marked


async def send_csat_surveys(ctx: dict[str, Any]) -> int:
    deps: OutcomeJobDeps = ctx["outcomes"]
    return await send_surveys(deps)


async def detect_repeat_contacts(ctx: dict[str, Any]) -> int:
    deps: OutcomeJobDeps = ctx["outcomes"]
    return await find_repeat_contacts(deps)
