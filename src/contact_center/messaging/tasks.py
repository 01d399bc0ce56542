"""Jobs of the messaging domain: send one message; read the status of SMS whose callbacks were
lost; close idle WhatsApp conversations."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.db import fast
from contact_center.db.base import utcnow
from contact_center.db.fast import Transaction
from contact_center.jobs.queue import claim_period
from contact_center.live.bus import EventBus, Notice, bus_of, publish_pending
from contact_center.media import MediaStore
from contact_center.messaging import attachments, outbound
from contact_center.messaging.bot import customer_number
from contact_center.messaging.service import (
    StatusCheck,
    StatusCheckWindow,
    claim_status_checks,
    close_idle_whatsapp,
    reconcile_sms_status,
    release_status_check,
)
from contact_center.models.enums import Channel, EventType, MessageKind
from contact_center.principal import SYSTEM_CONTEXT, AuditContext
from contact_center.providers.base import (
    PermanentProviderError,
    ProviderAuthError,
    ProviderError,
    ProviderName,
    ProviderNotFound,
    RetryableProviderError,
    SendReceipt,
    SmsSender,
    SmsStatusSource,
    TemplateButtonParameter,
    TemplateMessage,
    WhatsAppBotControl,
    WhatsAppMediaSource,
    WhatsAppSender,
    WhatsAppTemplateSender,
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


# A send job claims its own message and up to this many more that are due (their own jobs then
# find them claimed and do nothing), sends them together and records the results together.
SEND_BATCH = 10
# A message a job took beside its own that gets no SMS slot within this long is given back
# (QUEUED, its attempt not counted) for a job of its own: under a busy rate limit it waits as a
# row, not in this job, which must end within its timeout.
SLOT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class SendDeps:
    """What sending one message needs; the worker builds it once from the runtime."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    sms: SmsSender
    whatsapp: WhatsAppSender
    sms_slot: Callable[[], Awaitable[None]]
    status_callback_url: str
    # (message id, attempt, when, salt): the job key is the message's and the attempt's, and
    # the salt's when one is given (a job of its own beside any the message has).
    enqueue_send: Callable[[str, int, datetime, str], Awaitable[bool]]
    # Status callbacks that arrived before the provider's id was known are applied after a send.
    after_sent: Callable[[str], Awaitable[object]]
    hooks: Mapping[MessageKind, SendHook] = field(default_factory=dict)
    # Which of these provider ids a status callback waits for (asked below the ORM once the
    # sends are recorded, so `after_sent` runs only for those); None: run it for every send.
    waiting: Callable[[Transaction, Sequence[str]], Awaitable[set[str]]] | None = None
    # How many messages one job sends at most (its own and due ones beside it), and how many
    # SMS the rate limit lets through now (a job takes no more than that: the others wait as
    # QUEUED rows, not in a worker's memory, when the limit is what holds the sends back).
    batch: int = SEND_BATCH
    sms_headroom: Callable[[], Awaitable[int]] | None = None
    # Who sends WhatsApp messages (WHATSAPP_PROVIDER), and its templates: None when that
    # provider has none (BuilderBot): a template message then fails (`templates_unavailable`).
    whatsapp_provider: ProviderName = ProviderName.BUILDERBOT
    whatsapp_templates: WhatsAppTemplateSender | None = None

    @property
    def engine(self) -> AsyncEngine:
        return fast.engine_of(self.sessions)

    @property
    def bus(self) -> object:
        return bus_of(self.sessions)


@dataclass(frozen=True)
class MediaDeps:
    """What fetching WhatsApp media needs: the provider's media, the store, and a way to
    enqueue a fetch (message id, when: None for now)."""

    sessions: async_sessionmaker[AsyncSession]
    source: WhatsAppMediaSource
    store: MediaStore
    enqueue: Callable[[str, datetime | None], Awaitable[bool]]


@dataclass(frozen=True)
class MessagingJobDeps:
    """Everything the messaging domain's jobs are given (`ctx["messaging"]`)."""

    send: SendDeps
    status_checks: StatusCheckDeps
    queue: Queue
    bot: WhatsAppBotControl
    media: MediaDeps | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.send.sessions


def _deps(ctx: dict[str, Any]) -> MessagingJobDeps:
    deps: MessagingJobDeps = ctx["messaging"]
    return deps


def _provider(deps: SendDeps, claim: outbound.Claim) -> ProviderName:
    """Who sends the claim: Twilio an SMS, the configured WhatsApp provider a WhatsApp one."""
    return ProviderName.TWILIO if claim.channel is Channel.SMS else deps.whatsapp_provider


TEMPLATES_UNAVAILABLE = "templates_unavailable"


def _button(index: int, value: Any) -> TemplateButtonParameter:
    """A button's variable as message.template keeps it: {"index", "subType", "value"} (or
    the same in snake case, or a URL button's bare suffix, by position)."""
    if isinstance(value, dict):
        return TemplateButtonParameter(
            index=int(value.get("index", index)),
            sub_type=str(value.get("subType") or value.get("sub_type") or "url"),
            value=str(value.get("value") or value.get("text") or value.get("payload") or ""),
        )
    return TemplateButtonParameter(index, "url", str(value))


def template_message(claim: outbound.Claim) -> TemplateMessage:
    """The template to send for a claim with message.template: its variables (body, header,
    buttons); for a one-time code (`otp`) the text the send hook composed is the code, in the
    body and in the copy-code button."""
    template = claim.template or {}
    name, language = str(template.get("name") or ""), str(template.get("language") or "")
    if template.get("otp"):
        code = claim.body
        return TemplateMessage(
            name, language, body=[code], buttons=[TemplateButtonParameter(0, "url", code)]
        )
    variables = template.get("variables")
    variables = variables if isinstance(variables, dict) else {}

    def texts(key: str) -> list[str]:
        values = variables.get(key)
        return [str(v) for v in values] if isinstance(values, list) else []

    buttons = variables.get("buttons")
    return TemplateMessage(
        name,
        language,
        body=texts("body"),
        header=texts("header"),
        buttons=[_button(i, v) for i, v in enumerate(buttons)] if isinstance(buttons, list) else [],
    )


async def _send_whatsapp(deps: SendDeps, claim: outbound.Claim) -> SendReceipt:
    """Free text (and media) through the configured provider, or a template through its
    templates (only the Cloud API has them)."""
    if claim.template is None:
        return await deps.whatsapp.send_whatsapp(claim.to, claim.body, media_url=claim.media_url)
    if deps.whatsapp_templates is None:
        raise PermanentProviderError(
            _provider(deps, claim),
            "WhatsApp templates are sent only through the Cloud API (WHATSAPP_PROVIDER=cloud).",
            code=TEMPLATES_UNAVAILABLE,
        )
    return await deps.whatsapp_templates.send_template(claim.to, template_message(claim))


async def _release(deps: SendDeps, message_id: uuid.UUID) -> None:
    async with deps.sessions() as session:
        if await outbound.release(session, message_id):
            await session.commit()
            log.info("send_interrupted", message_id=str(message_id))


async def send_message(ctx: dict[str, Any], *, message_id: str) -> str:
    """Send one QUEUED message (and others that are due). Acts only on a QUEUED row, so a
    repeated job never re-sends."""
    return await send_one(_deps(ctx).send, message_id)


def _log_failure(
    message_id: str, claim: outbound.Claim, error: ProviderError, retry_at: datetime | None
) -> None:
    log.warning(
        "send_failed",
        message_id=message_id,
        attempt=claim.attempt,
        code=error.code,
        retryable=error.retryable,
        retry_at=retry_at.isoformat() if retry_at else None,
    )


async def send_one(deps: SendDeps, message_id: str) -> str:
    """Send the message, and up to `deps.batch - 1` others that are due (fewer when the rate
    limit has less room), below the ORM: one
    transaction claims them all (QUEUED → SENDING), the provider calls run at once outside any
    transaction (under the rate limit), one transaction records every result. A message whose
    kind has a send hook takes the session path (`_send_hooked`), alone."""
    identifier = uuid.UUID(message_id)
    extra = deps.batch - 1
    if extra > 0 and deps.sms_headroom is not None:
        extra = min(extra, await deps.sms_headroom() - 1)
    async with fast.transaction(deps.engine) as tx:
        batch = await outbound.claim_fast(
            tx, identifier, hooked=deps.hooks.keys(), extra=max(0, extra)
        )
    if batch.hooked:
        return await _send_hooked(deps, identifier)
    if not batch.claims:
        return "skipped"
    results = await _send_batch(deps, batch.claims, identifier)
    return results[identifier]


class Unsent:
    """A message of the batch that got no SMS slot in time: it was not sent."""


UNSENT = Unsent()
# None: interrupted before the provider answered.
Outcome = SendReceipt | ProviderError | Unsent | BaseException | None
Delivery = asyncio.Future[SendReceipt | ProviderError | Unsent]


async def _deliver(
    deps: SendDeps, claim: outbound.Claim, after: asyncio.Future[Any] | None, *, own: bool
) -> SendReceipt | ProviderError | Unsent:
    if after is not None:
        # An earlier message of the same conversation goes first (whatever became of it).
        await asyncio.wait([after])
    try:
        if claim.channel is Channel.SMS:
            if own:
                await deps.sms_slot()
            else:
                try:
                    await asyncio.wait_for(deps.sms_slot(), SLOT_WAIT_SECONDS)
                except TimeoutError:
                    return UNSENT
            return await deps.sms.send_sms(
                claim.to, claim.body, status_callback=deps.status_callback_url
            )
        return await _send_whatsapp(deps, claim)
    except ProviderError as error:
        return error


async def _send_batch(
    deps: SendDeps, claims: list[outbound.Claim], own: uuid.UUID
) -> dict[uuid.UUID, str]:
    """Send the claimed messages concurrently (those of one conversation one after another,
    oldest first) and record what became of each."""
    tasks: list[Delivery] = []
    last: dict[uuid.UUID, asyncio.Future[Any]] = {}
    for claim in claims:
        after = last.get(claim.interaction_id)
        task = asyncio.ensure_future(_deliver(deps, claim, after, own=claim.message_id == own))
        last[claim.interaction_id] = task
        tasks.append(task)
    try:
        await asyncio.gather(*tasks, return_exceptions=True)
    except asyncio.CancelledError:
        # Interrupted (a stopping worker, a job timeout): what the provider took is recorded;
        # the rest is QUEUED again at once, so the next worker sends it without waiting for the
        # stuck-SENDING threshold.
        await asyncio.shield(_interrupted(deps, claims, tasks, own))
        raise
    outcomes = {claim.message_id: _outcome(task) for claim, task in zip(claims, tasks, strict=True)}
    return await _settle(deps, claims, outcomes, own, interrupted=False)


async def _interrupted(
    deps: SendDeps,
    claims: list[outbound.Claim],
    tasks: list[Delivery],
    own: uuid.UUID,
) -> None:
    for task in tasks:
        task.cancel()
    # Nothing is released while its provider call may still be running.
    await asyncio.wait(tasks, timeout=10)
    outcomes = {claim.message_id: _outcome(task) for claim, task in zip(claims, tasks, strict=True)}
    await _settle(deps, claims, outcomes, own, interrupted=True)


def _outcome(task: Delivery) -> Outcome:
    if not task.done():
        task.cancel()
        return None
    if task.cancelled():
        return None
    return task.exception() or task.result()


async def _settle(
    deps: SendDeps,
    claims: list[outbound.Claim],
    outcomes: Mapping[uuid.UUID, Outcome],
    own: uuid.UUID,
    *,
    interrupted: bool,
) -> dict[uuid.UUID, str]:
    """Record the batch's results in one transaction (rows locked in interaction order, so two
    batches never wait on each other in a cycle); if that fails, each message in its own. Then
    schedule the retries and apply the status callbacks that waited for a provider id. A send
    that raised anything else stays SENDING (the reconciler sends it again, as before) and the
    first such error is raised once the others are recorded."""
    ordered = sorted(claims, key=lambda c: (str(c.interaction_id), str(c.message_id)))
    recorded: dict[uuid.UUID, Recorded] = {}
    try:
        async with fast.transaction(deps.engine) as tx:
            for claim in ordered:
                recorded[claim.message_id] = await _record(deps, tx, claim, outcomes)
        publish_pending(tx.info, deps.bus)
    except Exception as exc:
        if len(ordered) == 1:
            raise
        log.warning("send_batch_record_failed", count=len(ordered), error=type(exc).__name__)
        recorded.clear()
        for claim in ordered:
            try:
                async with fast.transaction(deps.engine) as tx:
                    recorded[claim.message_id] = await _record(deps, tx, claim, outcomes)
                publish_pending(tx.info, deps.bus)
            except Exception:
                log.exception("send_record_failed", message_id=str(claim.message_id))
    waiting = await _waiting(
        deps,
        [
            outcome.provider_message_id
            for message_id, outcome in outcomes.items()
            if message_id in recorded
            and isinstance(outcome, SendReceipt)
            and outcome.provider_message_id
        ],
    )
    results: dict[uuid.UUID, str] = {}
    errors: list[BaseException] = []
    for claim in claims:
        outcome = outcomes[claim.message_id]
        done = recorded.get(claim.message_id)
        message_id = str(claim.message_id)
        if done is None:  # the record failed: the message stays SENDING
            results[claim.message_id] = "error"
            continue
        if isinstance(outcome, SendReceipt):
            results[claim.message_id] = "sent"
            log.info(
                "sent", message_id=message_id, channel=claim.channel.value, attempt=claim.attempt
            )
            if outcome.provider_message_id in waiting:
                await deps.after_sent(outcome.provider_message_id)
        elif isinstance(outcome, ProviderError):
            _log_failure(message_id, claim, outcome, done.retry_at)
            if done.retry_at is not None:
                await deps.enqueue_send(message_id, claim.attempt, done.retry_at, "")
                results[claim.message_id] = "retry"
            else:
                results[claim.message_id] = "failed"
        elif outcome is None or isinstance(outcome, Unsent):
            results[claim.message_id] = "interrupted" if outcome is None else "deferred"
            if done.released:
                log.info(
                    "send_interrupted" if outcome is None else "send_deferred",
                    message_id=message_id,
                )
                if claim.message_id != own:
                    # Its own job may have run already (and found it claimed): a new one.
                    with contextlib.suppress(Exception):  # the reconciler finds it otherwise
                        if outcome is None:
                            await deps.enqueue_send(message_id, claim.attempt, utcnow(), "")
                        else:  # a key of its own: the attempt's may be the job's that skipped it
                            salt = f"d{uuid.uuid4().hex[:8]}"
                            await deps.enqueue_send(message_id, claim.attempt - 1, utcnow(), salt)
        else:
            results[claim.message_id] = "error"
            log.error("send_raised", message_id=message_id, error=type(outcome).__name__)
            errors.append(outcome)
    if errors and not interrupted:
        raise errors[0]
    return results


@dataclass(frozen=True)
class Recorded:
    retry_at: datetime | None = None
    released: bool = False


async def _waiting(deps: SendDeps, references: list[str]) -> set[str]:
    """The provider ids a status callback waits for. Asked after the sends are committed: a
    callback that found no message for its id before then waits as DEFERRED by now."""
    if deps.waiting is None or not references:
        return set(references)
    try:
        async with fast.transaction(deps.engine) as tx:
            return await deps.waiting(tx, references)
    except Exception as exc:  # then ask for each, as every send did
        log.warning("send_waiting_check_failed", error=type(exc).__name__)
        return set(references)


async def _record(
    deps: SendDeps, tx: Transaction, claim: outbound.Claim, outcomes: Mapping[uuid.UUID, Outcome]
) -> Recorded:
    outcome = outcomes[claim.message_id]
    if isinstance(outcome, SendReceipt):
        await outbound.record_sent_fast(tx, claim.message_id, outcome)
        return Recorded()
    if isinstance(outcome, ProviderError):
        retry_at = await outbound.record_failure_fast(tx, deps.settings, claim.message_id, outcome)
        return Recorded(retry_at=retry_at)
    if outcome is None or isinstance(outcome, Unsent):
        attempted = outcome is None
        released = await outbound.release_fast(tx, claim.message_id, attempted=attempted)
        return Recorded(released=released)
    return Recorded()  # it raised: left SENDING, as a job that raised leaves it


async def _send_hooked(deps: SendDeps, identifier: uuid.UUID) -> str:
    """A message whose kind has a send hook (an OTP): the hook works on the session, so this
    one is claimed, sent and recorded on the ORM, alone."""
    message_id = str(identifier)
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
                    ProviderError(_provider(deps, claim), withdrawn.reason, code=withdrawn.code),
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
            receipt = await _send_whatsapp(deps, claim)
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
        _log_failure(message_id, claim, error, retry_at)
        if retry_at is not None:
            await deps.enqueue_send(message_id, claim.attempt, retry_at, "")
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
    if number is None:  # none, or a Cloud API conversation: no BuilderBot bot to tell
        log.info("whatsapp_bot_control_skipped", action=action)
        return
    bot = deps.bot
    if action == "pause":
        await bot.pause_bot(number)
    else:
        await bot.resume_bot(number)
    log.info("whatsapp_bot_control", action=action)


# --- WhatsApp media named by id (the Cloud API) ------------------------------------------------

MEDIA_SWEEP_BATCH = 200


async def fetch_media(deps: MediaDeps, message_id: str) -> str:
    """Fetch a message's media still to fetch, each outside any transaction, into the store;
    record what became of each. A failed fetch is tried again later (the job enqueues itself
    for then; the sweep finds it too), an expired media id fails at once."""
    identifier = uuid.UUID(message_id)
    async with deps.sessions() as session:
        claim = await attachments.claim_media(
            session, identifier, now=utcnow(), lease=attachments.MEDIA_FETCH_LEASE
        )
        await session.commit()
    if claim is None:
        return "skipped"
    results: dict[int, attachments.FetchResult] = {}
    for index, media_id in claim.items:
        try:
            fetched = await deps.source.fetch_media(media_id)
            stored = await deps.store.save(fetched.content)
            results[index] = attachments.Fetched(stored.sha256, stored.size, fetched.content_type)
        except ProviderError as error:
            results[index] = error
        except OSError as exc:  # the store could not write: tried again later
            results[index] = RetryableProviderError(
                ProviderName.WHATSAPP_CLOUD, f"media store: {type(exc).__name__}", code="storage"
            )
    async with deps.sessions() as session:
        retry_at = await attachments.record_media(session, identifier, results, now=utcnow())
        await session.commit()
    failed = [r for r in results.values() if isinstance(r, ProviderError)]
    log.info(
        "whatsapp_media_fetched",
        message_id=message_id,
        stored=len(results) - len(failed),
        failed=len(failed),
        codes=sorted({r.code or "error" for r in failed}),
        retry_at=retry_at.isoformat() if retry_at else None,
    )
    if retry_at is not None:
        await deps.enqueue(message_id, retry_at)
        return "retry"
    return "failed" if failed else "stored"


def _media_deps(ctx: dict[str, Any]) -> MediaDeps | None:
    return _deps(ctx).media


async def fetch_whatsapp_media(ctx: dict[str, Any], *, message_id: str) -> str:
    """The job: fetch the media of one message (see `fetch_media`)."""
    deps = _media_deps(ctx)
    if deps is None:
        return "skipped"
    return await fetch_media(deps, message_id)


async def sweep_media(deps: MediaDeps, *, limit: int = MEDIA_SWEEP_BATCH) -> int:
    """Enqueue a fetch for every message whose media fetch is due: the new ones (stored by a
    webhook since the last sweep), those whose retry time came, those a dead job left."""
    async with deps.sessions() as session:
        due = await attachments.due_media(session, now=utcnow(), limit=limit)
    enqueued = 0
    for item in due:
        if await deps.enqueue(str(item.message_id), item.due_at):
            enqueued += 1
    if enqueued:
        log.info("whatsapp_media_swept", enqueued=enqueued)
    return enqueued


async def sweep_whatsapp_media(ctx: dict[str, Any]) -> int:
    """The periodic job: `sweep_media` (every worker's scheduler agrees on one per tick)."""
    deps = _media_deps(ctx)
    if deps is None:
        return 0
    return await sweep_media(deps)


# A burst of arriving messages wakes one sweep per gap, not one per message.
MEDIA_WAKE_GAP_SECONDS = 0.2


class MediaWatcher:
    """Fetch media right after the webhook that named it commits: a customer's WhatsApp
    message is a live notice once its transaction commits (`message.received`), which wakes a
    sweep here. (The periodic sweep stays: a notice can be lost, a fetch can fail.)"""

    def __init__(self, deps: MediaDeps, events: EventBus) -> None:
        self._deps = deps
        self._events = events
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if self._tasks:
            return
        # A worker process hears other processes' notices only once the bus listens.
        await self._events.start()
        self._tasks = [
            asyncio.create_task(self._listen(), name="media-listener"),
            asyncio.create_task(self._run(), name="media-sweeps"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    def wakes(notice: Notice | None) -> bool:
        return (
            notice is not None
            and notice.get("type") == EventType.MESSAGE_RECEIVED.value
            and notice.get("channel") == Channel.WHATSAPP.value
        )

    async def _listen(self) -> None:
        with self._events.subscribe() as notices:
            while True:
                if self.wakes(await notices.get()):
                    self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await sweep_media(self._deps)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the periodic sweep finds them
                log.warning("whatsapp_media_sweep_failed", error=type(exc).__name__)
            await asyncio.sleep(MEDIA_WAKE_GAP_SECONDS)
