"""ElevenLabs sync: bring the calls the provider holds into ours (docs/api.md).

One operation behind `POST /api/elevenlabs/sync`, `POST /api/sync/full`, `contact-center sync`
and the periodic job. It lists the window following the provider's cursor, then applies each
conversation in its own transaction (this module owns them, as a job would): a failure costs that
conversation only, and what was applied stays applied. Calls we already hold in their final state
are not fetched again. The gap report counts conversations that finished but whose post-call
webhook never reached the ledger.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit import service as audit
from contact_center.calls import repository
from contact_center.calls.service import FINAL, CallResult, apply_call, redact_call
from contact_center.db.base import utcnow
from contact_center.principal import AuditContext
from contact_center.providers.base import (
    ConversationSource,
    ConversationSummary,
    ProviderError,
    ProviderName,
    UnparseablePayload,
)
from contact_center.providers.retry import BACKGROUND, INTERACTIVE, RetryPolicy, with_retries
from contact_center.redaction import repository as redaction
from contact_center.redaction.service import RedactionKeys, Redactor
from contact_center.runtime import Runtime
from contact_center.settings import Settings
from contact_center.webhooks import service as webhooks

log = structlog.get_logger(__name__)

Trigger = Literal["api", "cli", "cron"]
FINISHED = frozenset({"done", "failed"})
# A post-call webhook may still be on its way for a call that ended moments ago.
WEBHOOK_GRACE = timedelta(minutes=2)
# Conversations fetched and applied at once: enough to hide the provider's latency, few enough
# to stay polite to its rate limit and to our database pool.
CONCURRENCY = 4
GAP_SAMPLE = 100


@dataclass(frozen=True)
class SyncDeps:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    conversations: ConversationSource
    # What redacts each conversation before it is applied (docs/redaction.md); None when
    # redaction is off.
    redaction: RedactionKeys | None = None

    @classmethod
    def of(cls, runtime: Runtime) -> SyncDeps:
        return cls(
            runtime.settings,
            runtime.sessions,
            runtime.providers.conversations,
            runtime.keys.redaction,
        )


@dataclass(frozen=True)
class SyncRequest:
    hours: int = 24
    limit: int = 500
    include_details: bool = True
    trigger: Trigger = "api"


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    seen: int = 0
    missing_webhook_ids: list[str] = field(default_factory=list)
    missing_webhooks: int = 0
    duration_ms: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "seen": self.seen,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "missingWebhooks": self.missing_webhooks,
        }


@dataclass(frozen=True)
class SyncProgress:
    """Reported while a sync runs: `listing` (total unknown) then `applying` (done of total)."""

    phase: Literal["listing", "applying"]
    done: int
    total: int | None
    result: SyncResult


Progress = Callable[[SyncProgress], None]


class SyncFailed(Exception):
    """The provider's list could not be read (after retries): nothing was applied."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


# --- listing --------------------------------------------------------------------------------


async def list_window(
    source: ConversationSource,
    *,
    since: datetime,
    until: datetime | None,
    limit: int,
    policy: RetryPolicy = BACKGROUND,
    on_page: Callable[[int], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[ConversationSummary]:
    """The newest `limit` conversations started in [since, until), following the cursor."""
    found: dict[str, ConversationSummary] = {}
    cursor: str | None = None
    while len(found) < limit:
        page = await with_retries(
            functools.partial(
                source.list_conversations,
                cursor=cursor,
                page_size=min(100, max(1, limit - len(found))),
                started_after=since,
                started_before=until,
            ),
            policy,
            operation="list_conversations",
            sleep=sleep,
        )
        for item in page.items:
            # A call that starts while we page can shift items by one: keep the first copy.
            found.setdefault(item.conversation_id, item)
        if on_page is not None:
            on_page(len(found))
        if not page.has_more or not page.next_cursor or not page.items:
            break
        cursor = page.next_cursor
    return list(found.values())[:limit]


def _up_to_date(summary: ConversationSummary, held: repository.StoredCall | None) -> bool:
    """We hold this call in its final state and the list has nothing newer to say."""
    if held is None or held.status not in FINAL or (summary.status or "") not in FINISHED:
        return False
    if summary.duration_secs is not None and held.duration_secs != summary.duration_secs:
        return False
    count = summary.raw.get("message_count")
    return not (isinstance(count, int) and count > 0 and held.turns == 0)


# --- applying -------------------------------------------------------------------------------


async def _apply_one(
    deps: SyncDeps,
    summary: ConversationSummary,
    request: SyncRequest,
    sleep: Callable[[float], Awaitable[None]],
) -> tuple[bool, bool]:
    """(created, changed) for one conversation, in its own transaction."""
    if request.include_details:
        event = await with_retries(
            lambda: deps.conversations.get_conversation(summary.conversation_id),
            BACKGROUND,
            operation="get_conversation",
            sleep=sleep,
        )
        redactor = _redactor(deps)
        if redactor is not None:
            event = await asyncio.to_thread(redact_call, redactor, event)
        payload: object = event.raw
    else:
        if summary.event is None:
            raise UnparseablePayload(f"list item {summary.conversation_id} cannot be applied")
        redactor = _redactor(deps)
        event, payload = summary.event, summary.raw
        if redactor is not None:  # a list item's summary is the customer's words too
            event = redact_call(redactor, event, "conversation")
            payload = redactor.json(summary.raw, "list_item")
    async with deps.sessions() as session:
        result = await apply_call(
            session,
            deps.settings,
            event,
            payload=payload,
            source="sync",
            metadata_only=not request.include_details,
        )
        await _save_redactions(
            session, redactor, event.conversation_id, result, whole=request.include_details
        )
        await session.commit()
    return result.created, result.changed


def _redactor(deps: SyncDeps) -> Redactor | None:
    return deps.redaction.redactor() if deps.redaction is not None else None


async def _save_redactions(
    session: AsyncSession,
    redactor: Redactor | None,
    conversation_id: str,
    result: CallResult,
    *,
    whole: bool = True,
) -> None:
    """The vault rows and proofs of a conversation's redaction, with the call they belong to,
    in the transaction that applies it. The proofs describe the texts the call now keeps: those
    of an earlier fetch give way when the texts changed; a fetch that changed nothing writes
    nothing; a list item's (not `whole`) only adds to them."""
    if redactor is None or not (result.created or result.changed):
        return
    source = f"call:{conversation_id}"
    if whole:
        await redaction.forget_proofs(session, source)
    if redactor.count:
        await redaction.save(session, redactor, source, result.interaction.id)


async def _gap(deps: SyncDeps, summaries: list[ConversationSummary], now: datetime) -> list[str]:
    """Finished conversations whose post-call webhook never reached the ledger."""
    due: list[ConversationSummary] = []
    for item in summaries:
        if (item.status or "") not in FINISHED or item.started_at is None:
            continue
        ended = item.started_at + timedelta(seconds=item.duration_secs or 0)
        if ended <= now - WEBHOOK_GRACE:
            due.append(item)
    if not due:
        return []
    keys = {
        item.conversation_id: deps.conversations.webhook_keys(item.conversation_id) for item in due
    }
    async with deps.sessions() as session:
        have = await webhooks.stored_keys(
            session, ProviderName.ELEVENLABS, [key for each in keys.values() for key in each]
        )
    return [cid for cid, each in keys.items() if not have.intersection(each)]


async def sync(
    deps: SyncDeps,
    request: SyncRequest,
    context: AuditContext,
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SyncResult:
    """List the window, apply what is new or changed, report the webhook gap, audit the run."""
    started = time.monotonic()
    now = utcnow()
    result = SyncResult()

    def report(phase: Literal["listing", "applying"], done: int, total: int | None) -> None:
        if progress is not None:
            progress(SyncProgress(phase=phase, done=done, total=total, result=result))

    report("listing", 0, None)
    try:
        summaries = await list_window(
            deps.conversations,
            since=now - timedelta(hours=request.hours),
            until=None,
            limit=request.limit,
            on_page=lambda n: report("listing", n, None),
            sleep=sleep,
        )
    except ProviderError as error:
        await _audit(deps, request, context, result, error=error)
        log.error(
            "elevenlabs_sync_failed",
            trigger=request.trigger,
            status=error.status,
            error=error.message,
        )
        raise SyncFailed(error) from error
    result.seen = len(summaries)
    async with deps.sessions() as session:
        held = await repository.stored(session, [s.conversation_id for s in summaries])
    gate = asyncio.Semaphore(CONCURRENCY)
    done = 0
    report("applying", 0, len(summaries))

    async def one(summary: ConversationSummary) -> None:
        nonlocal done
        try:
            if request.include_details and _up_to_date(summary, held.get(summary.conversation_id)):
                result.unchanged += 1
                return
            async with gate:
                created, changed = await _apply_one(deps, summary, request, sleep)
            if created:
                result.created += 1
            elif changed:
                result.updated += 1
            else:
                result.unchanged += 1
        except ProviderError as error:
            result.failed += 1
            log.warning(
                "elevenlabs_sync_conversation_failed",
                conversation_id=summary.conversation_id,
                status=error.status,
                error=error.message,
            )
        except Exception as exc:  # one bad conversation must not stop the others
            result.failed += 1
            log.error(
                "elevenlabs_sync_conversation_failed",
                conversation_id=summary.conversation_id,
                exc_info=exc,
            )
        finally:
            done += 1
            report("applying", done, len(summaries))

    await asyncio.gather(*(one(summary) for summary in summaries))
    missing = await _gap(deps, summaries, now)
    result.missing_webhooks = len(missing)
    result.missing_webhook_ids = missing[:GAP_SAMPLE]
    result.duration_ms = int((time.monotonic() - started) * 1000)
    await _audit(deps, request, context, result)
    log.info(
        "elevenlabs_sync",
        trigger=request.trigger,
        hours=request.hours,
        limit=request.limit,
        include_details=request.include_details,
        duration_ms=result.duration_ms,
        **result.counts(),
    )
    if missing:
        log.warning(
            "elevenlabs_webhooks_missing",
            count=len(missing),
            conversation_ids=missing[:20],
            hint="check the post-call webhook URL and secret in the ElevenLabs agent settings",
        )
    return result


async def _audit(
    deps: SyncDeps,
    request: SyncRequest,
    context: AuditContext,
    result: SyncResult,
    *,
    error: ProviderError | None = None,
) -> None:
    metadata: dict[str, object] = {
        "trigger": request.trigger,
        "hours": request.hours,
        "limit": request.limit,
        "includeDetails": request.include_details,
        **result.counts(),
        "durationMs": result.duration_ms,
    }
    if result.missing_webhook_ids:
        metadata["missingWebhookIds"] = result.missing_webhook_ids[:20]
    if error is not None:
        metadata["error"] = error.message[:300]
        metadata["providerStatus"] = error.status
    async with deps.sessions() as session:
        await audit.record(
            session, context, "elevenlabs.sync", entity_type="sync", metadata=metadata
        )
        await session.commit()


# --- one conversation -----------------------------------------------------------------------


async def refresh(deps: SyncDeps, conversation_id: str, context: AuditContext) -> uuid.UUID:
    """Fetch one conversation again and apply it (transcript, summary, recording reference).

    Raises ProviderError (ProviderNotFound when the provider does not know the id).
    """
    event = await with_retries(
        lambda: deps.conversations.get_conversation(conversation_id),
        INTERACTIVE,
        operation="get_conversation",
    )
    redactor = _redactor(deps)
    if redactor is not None:
        event = await asyncio.to_thread(redact_call, redactor, event)
    async with deps.sessions() as session:
        result = await apply_call(
            session, deps.settings, event, payload=event.raw, source="refresh"
        )
        await _save_redactions(session, redactor, conversation_id, result)
        await audit.record(
            session,
            context,
            "elevenlabs.refresh",
            entity_type="interaction",
            entity_id=result.interaction.id,
            metadata={
                "conversationId": conversation_id,
                "created": result.created,
                "changed": result.changed,
            },
        )
        interaction_id = result.interaction.id
        await session.commit()
    return interaction_id
