"""Jobs of the messaging domain: send one message; read the status of SMS whose callbacks were
lost; close idle WhatsApp conversations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.jobs.queue import claim_period
from contact_center.messaging import outbound
from contact_center.messaging.bot import customer_number
from contact_center.messaging.service import (
    StatusCheck,
    StatusCheckWindow,
    claim_status_checks,
    close_idle_whatsapp,
    reconcile_sms_status,
    release_status_check,
)
from contact_center.models.enums import Channel, MessageKind
from contact_center.principal import SYSTEM_CONTEXT, AuditContext
from contact_center.providers.base import (
    ProviderAuthError,
    ProviderError,
    ProviderName,
    ProviderNotFound,
    SmsSender,
    SmsStatusSource,
    WhatsAppBotControl,
    WhatsAppSender,
)
from contact_center.settings import Settings

log = structlog.get_logger(__name__)


class MessageWithdrawn(Exception):
    """Raised by a hook's `compose`: the message must not go any more (it fails, not retried)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SendHook(Protocol):
    """What a kind of message adds to sending it. The kind's own domain implements it and the
    worker registers it; sending knows no kind (an OTP makes its code at send time)."""

    async def compose(self, session: AsyncSession, claim: outbound.Claim) -> str:
        """The text to send; raises MessageWithdrawn when the message must not go any more."""

    async def failed(self, session: AsyncSession, claim: outbound.Claim, code: str) -> None:
        """The message failed for good."""

    async def sent(self, session: AsyncSession, claim: outbound.Claim) -> None:
        """The provider accepted the message."""


@dataclass(frozen=True)
class SendDeps:
    """What sending one message needs; the worker builds it once from the runtime."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    sms: SmsSender
    whatsapp: WhatsAppSender
    sms_slot: Callable[[], Awaitable[None]]
    status_callback_url: str
    enqueue_send: Callable[[str, int, datetime], Awaitable[bool]]
    # Status callbacks that arrived before the provider's id was known are applied after a send.
    after_sent: Callable[[str], Awaitable[object]]
    hooks: Mapping[MessageKind, SendHook] = field(default_factory=dict)


@dataclass(frozen=True)
class MessagingJobDeps:
    """Everything the messaging domain's jobs are given (`ctx["messaging"]`)."""

    send: SendDeps
    status_checks: StatusCheckDeps
    queue: Queue
    bot: WhatsAppBotControl

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.send.sessions


def _deps(ctx: dict[str, Any]) -> MessagingJobDeps:
    deps: MessagingJobDeps = ctx["messaging"]
    return deps


def _provider(claim: outbound.Claim) -> ProviderName:
    return ProviderName.TWILIO if claim.channel is Channel.SMS else ProviderName.BUILDERBOT


async def _release(deps: SendDeps, message_id: uuid.UUID) -> None:
    async with deps.sessions() as session:
        if await outbound.release(session, message_id):
            await session.commit()
            log.info("send_interrupted", message_id=str(message_id))


async def send_message(ctx: dict[str, Any], *, message_id: str) -> str:
    """Send one QUEUED message. Acts only on a QUEUED row, so a repeated job never re-sends."""
    return await send_one(_deps(ctx).send, message_id)


async def send_one(deps: SendDeps, message_id: str) -> str:
    identifier = uuid.UUID(message_id)
    async with deps.sessions() as session:
        claim = await outbound.claim(session, identifier)
        hook = deps.hooks.get(claim.kind) if claim is not None else None
        if claim is not None and hook is not None:
            try:
                claim = replace(claim, body=await hook.compose(session, claim))
            except MessageWithdrawn as withdrawn:
                await outbound.record_failure(
                    session,
                    deps.settings,
                    identifier,
                    ProviderError(_provider(claim), withdrawn.reason, code=withdrawn.code),
                )
                await session.commit()
                return "skipped"
        await session.commit()
    if claim is None:
        return "skipped"
    try:
        if claim.channel is Channel.SMS:
            await deps.sms_slot()
            receipt = await deps.sms.send_sms(
                claim.to, claim.body, status_callback=deps.status_callback_url
            )
        else:
            receipt = await deps.whatsapp.send_whatsapp(
                claim.to, claim.body, media_url=claim.media_url
            )
    except asyncio.CancelledError:
        # Interrupted (a stopping worker, a job timeout): QUEUED again at once, so the next
        # worker sends it without waiting for the stuck-SENDING threshold.
        await asyncio.shield(_release(deps, identifier))
        raise
    except ProviderError as error:
        async with deps.sessions() as session:
            retry_at = await outbound.record_failure(session, deps.settings, identifier, error)
            if retry_at is None and hook is not None:
                await hook.failed(session, claim, error.code or "send_failed")
            await session.commit()
        log.warning(
            "send_failed",
            message_id=message_id,
            attempt=claim.attempt,
            code=error.code,
            retryable=error.retryable,
            retry_at=retry_at.isoformat() if retry_at else None,
        )
        if retry_at is not None:
            await deps.enqueue_send(message_id, claim.attempt, retry_at)
            return "retry"
        return "failed"
    async with deps.sessions() as session:
        await outbound.record_sent(session, identifier, receipt)
        if hook is not None:
            await hook.sent(session, claim)
        await session.commit()
    log.info("sent", message_id=message_id, channel=claim.channel.value, attempt=claim.attempt)
    if receipt.provider_message_id:
        await deps.after_sent(receipt.provider_message_id)
    return "sent"


# --- SMS statuses whose callbacks were lost ---------------------------------------------------

STATUS_CHECK_JOB_TIMEOUT = 300
# Messages a run claims are held a little longer than the run may last.
STATUS_CHECK_LEASE = timedelta(seconds=STATUS_CHECK_JOB_TIMEOUT + 60)
# After this many provider failures in a row the provider is down (or refuses our credentials):
# the run stops and leaves the rest of its batch to the next run.
MAX_CONSECUTIVE_FAILURES = 3


@dataclass(frozen=True)
class StatusCheckDeps:
    """What a reconciliation run needs; the worker's runtime or the CLI builds it."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    source: SmsStatusSource
    provider_slot: Callable[[], Awaitable[None]]


@dataclass
class StatusCheckResult:
    checked: int = 0
    moved: int = 0
    unchanged: int = 0
    not_found: int = 0
    failed: int = 0
    skipped: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)


def status_check_window(settings: Settings) -> StatusCheckWindow:
    return StatusCheckWindow(
        after=timedelta(seconds=settings.sms_status_reconcile_after_seconds),
        max_age=timedelta(hours=settings.sms_status_reconcile_max_age_hours),
    )


async def _ask_again(
    deps: StatusCheckDeps, checks: list[StatusCheck], retry_at: datetime | None
) -> None:
    async with deps.sessions() as session:
        for check in checks:
            await release_status_check(session, check.message_id, retry_at=retry_at)
        await session.commit()


async def check_sms_statuses(
    deps: StatusCheckDeps, context: AuditContext = SYSTEM_CONTEXT, *, limit: int | None = None
) -> StatusCheckResult:
    """Read from the provider the status of SMS SENT longer than
    SMS_STATUS_RECONCILE_AFTER_SECONDS and apply it as a status callback would be applied.

    Each provider call runs outside any transaction, under the provider's rate limit; each
    status is applied in a short transaction of its own. A failure is counted and logged and
    the message is asked again by the next run; it never stops the batch, unless the provider
    looks down (MAX_CONSECUTIVE_FAILURES in a row) or refuses our credentials.
    """
    window = status_check_window(deps.settings)
    async with deps.sessions() as session:
        checks = await claim_status_checks(
            session,
            window,
            now=utcnow(),
            lease=STATUS_CHECK_LEASE,
            limit=limit or deps.settings.sms_status_reconcile_batch,
        )
        await session.commit()
    result = StatusCheckResult()
    failures_in_a_row = 0
    for index, check in enumerate(checks):
        if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            rest = checks[index:]
            await _ask_again(deps, rest, None)
            result.skipped = len(rest)
            log.warning("sms_status_checks_stopped", skipped=len(rest))
            break
        identifiers = {
            "message_id": str(check.message_id),
            "provider_message_id": check.provider_message_id,
        }
        try:
            await deps.provider_slot()
            event = await deps.source.fetch_sms_status(check.provider_message_id)
        except ProviderNotFound:
            # The provider does not know it (another account, or deleted): asking again will
            # not change that. It stays SENT, and is not asked again.
            failures_in_a_row = 0
            result.not_found += 1
            log.warning("sms_status_not_found", **identifiers)
            await _ask_again(deps, [check], utcnow() + window.max_age)
            continue
        except ProviderError as error:
            failures_in_a_row += 1
            if isinstance(error, ProviderAuthError):
                failures_in_a_row = MAX_CONSECUTIVE_FAILURES
            result.failed += 1
            log.warning(
                "sms_status_check_failed",
                **identifiers,
                code=error.code,
                status=error.status,
                retryable=error.retryable,
            )
            await _ask_again(deps, [check], None)
            continue
        failures_in_a_row = 0
        try:
            async with deps.sessions() as session:
                applied = await reconcile_sms_status(session, event, window, context, now=utcnow())
                await session.commit()
        except Exception as exc:  # counted; its lease expires and a later run asks again
            result.failed += 1
            log.error("sms_status_apply_failed", **identifiers, error=type(exc).__name__)
            continue
        result.checked += 1
        if applied is not None and applied.moved:
            result.moved += 1
            log.info(
                "sms_status_reconciled",
                **identifiers,
                previous=applied.previous.value,
                status=applied.message.status.value,
            )
        else:
            result.unchanged += 1
    return result


def sms_status_period_seconds(settings: Settings) -> int:
    return settings.sms_status_reconcile_interval_minutes * 60


async def reconcile_sms_statuses(ctx: dict[str, Any]) -> dict[str, int] | None:
    """The periodic run of `check_sms_statuses`, once per period across every worker."""
    deps = _deps(ctx)
    period = sms_status_period_seconds(deps.status_checks.settings) or 300
    if not await claim_period(
        deps.queue, "sms_status_reconcile", period_seconds=period, job=ctx.get("job")
    ):
        log.info("sms_status_reconcile_skipped", reason="already run in this period")
        return None
    result = await check_sms_statuses(deps.status_checks)
    if result.checked or result.failed or result.not_found:
        log.info("sms_statuses_checked", **result.counts())
    return result.counts()


async def close_idle_conversations(ctx: dict[str, Any]) -> int:
    async with _deps(ctx).sessions() as session:
        closed = await close_idle_whatsapp(session, utcnow())
        await session.commit()
    if closed:
        log.info("whatsapp_idle_closed", count=closed)
    return closed


async def control_bot(ctx: dict[str, Any], *, interaction_id: str, action: str) -> None:
    """Pause or resume BuilderBot's bot for the conversation's number (a person took over or
    handed back). The number is read here, so it never sits in the queue."""
    deps = _deps(ctx)
    async with deps.sessions() as session:
        number = await customer_number(session, uuid.UUID(interaction_id))
    if number is None:
        return
    bot = deps.bot
    if action == "pause":
        await bot.pause_bot(number)
    else:
        await bot.resume_bot(number)
    log.info("whatsapp_bot_control", action=action)
