"""The send job below the ORM: the rows it writes, the batch it claims, exactly once, and what an
interruption leaves (against the real databases, with a recording provider)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.db import fast
from contact_center.db.base import utcnow
from contact_center.interactions.service import record_all
from contact_center.live.bus import BUS, EventBus
from contact_center.messaging import outbound, repository
from contact_center.messaging.outbound import Claim
from contact_center.messaging.tasks import SendDeps, SendHook, send_one
from contact_center.models import Interaction, InteractionEvent, Message
from contact_center.models.enums import InteractionStatus, MessageKind, MessageStatus
from contact_center.providers.base import (
    ProviderError,
    ProviderName,
    RetryableProviderError,
    SendReceipt,
)
from contact_center.settings import Settings
from contact_center.worker.deps import job_context
from tests.conftest import Backend
from tests.deliveries import post_twilio, status_form
from tests.orm_watch import orm_statements

SENDER = "+15005550006"


def phone(i: int) -> str:
    return f"+54911{40000000 + i}"


@dataclass
class Provider:
    """An SMS and WhatsApp provider that records what it is sent; numbers can be made to fail
    or to wait until `gate` opens."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    failing: dict[str, ProviderError] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    delay: float = 0.0
    slow: dict[str, float] = field(default_factory=dict)  # seconds, by body
    sids: dict[str, str] = field(default_factory=dict)  # the provider's id, by number

    async def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None
    ) -> SendReceipt:
        if to in self.held:
            await self.gate.wait()
        if self.delay or body in self.slow:
            await asyncio.sleep(self.slow.get(body, self.delay))
        if to in self.failing:
            raise self.failing[to]
        self.sent.append((to, body))
        sid = self.sids.get(to) or "SM" + uuid.uuid4().hex
        return SendReceipt(provider_message_id=sid, status="queued")

    async def send_whatsapp(
        self, to: str, body: str, *, media_url: str | None = None
    ) -> SendReceipt:
        return await self.send_sms(to, body)


@dataclass
class Sending:
    deps: SendDeps
    provider: Provider
    enqueued: list[tuple[str, int, datetime]]
    after_sent: list[str]
    bus: EventBus


@pytest.fixture
def sending(engine: AsyncEngine, settings: Settings) -> Sending:
    bus = EventBus()
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info={BUS: bus})
    provider = Provider()
    enqueued: list[tuple[str, int, datetime]] = []
    after: list[str] = []

    async def enqueue_send(message_id: str, attempt: int, at: datetime, salt: str) -> bool:
        enqueued.append((message_id, attempt, at))
        return True

    async def after_sent(reference: str) -> None:
        after.append(reference)

    async def slot() -> None:
        return None

    async def nothing_waits(tx: fast.Transaction, references: Sequence[str]) -> set[str]:
        return set()

    deps = SendDeps(
        settings=settings,
        sessions=sessions,
        sms=provider,
        whatsapp=provider,
        sms_slot=slot,
        status_callback_url="http://127.0.0.1:3000/webhooks/twilio/status",
        enqueue_send=enqueue_send,
        after_sent=after_sent,
        waiting=nothing_waits,
    )
    return Sending(deps, provider, enqueued, after, bus)


async def queue(
    deps: SendDeps, count: int, *, start: int = 0, kind: MessageKind = MessageKind.TEXT
) -> list[uuid.UUID]:
    """`count` QUEUED SMS, each in its own interaction, oldest first."""
    ids = []
    async with deps.sessions() as session:
        for i in range(start, start + count):
            interaction, message, events = outbound.new_sms(
                to=phone(i),
                body=f"Mensaje {i}",
                kind=kind,
                from_number=SENDER,
                customer_ref=None,
                assigned_agent=None,
                now=utcnow() - timedelta(seconds=60 - i * 0.001),
            )
            await repository.add(session, interaction, message)
            await record_all(session, interaction, events)
            ids.append(message.id)
        await session.commit()
    return ids


async def rows(deps: SendDeps, message_id: uuid.UUID) -> tuple[Message, Interaction, list[Any]]:
    async with deps.sessions() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        interaction = await session.get(Interaction, message.interaction_id)
        assert interaction is not None
        events = (
            await session.scalars(
                select(InteractionEvent)
                .where(InteractionEvent.interaction_id == interaction.id)
                .order_by(InteractionEvent.occurred_at, InteractionEvent.idempotency_key)
            )
        ).all()
    return message, interaction, list(events)


async def test_a_plain_sms_is_sent_below_the_orm(sending: Sending) -> None:
    """No ORM statement and no flush while a plain SMS is claimed, sent and recorded; the same
    rows as the session path (the tests below compare them), and its live notice."""
    deps = sending.deps
    (message_id,) = await queue(deps, 1)
    _, before, _ = await rows(deps, message_id)
    with orm_statements() as seen, sending.bus.subscribe() as notices:
        assert await send_one(deps, str(message_id)) == "sent"
        notice = notices.get_nowait()
    assert notice is not None
    assert seen == []
    message, interaction, events = await rows(deps, message_id)
    assert sending.provider.sent == [(phone(0), "Mensaje 0")]
    assert message.status is MessageStatus.SENT
    assert message.attempts == 1
    assert message.provider_message_id is not None
    assert message.provider_message_id.startswith("SM")
    assert message.sent_at is not None
    assert message.next_attempt_at is None
    assert [e.type for e in events] == ["interaction.created", "message.queued", "message.sent"]
    sent = events[-1]
    assert sent.idempotency_key == f"message:{message_id}:sent"
    assert sent.provider_event_id == message.provider_message_id
    assert sent.normalized == {
        "messageId": str(message_id),
        "providerMessageId": message.provider_message_id,
        "attempts": 1,
    }
    assert interaction.updated_at > before.updated_at
    assert interaction.status is InteractionStatus.IN_PROGRESS
    assert notice["interactionId"] == str(interaction.id)
    assert notice["type"] == "message.sent"
    assert sending.after_sent == []  # no status callback waited for its id


# --- the same rows as the session path ---------------------------------------------------------

OUTCOMES = ["sent", "retry", "permanent", "last attempt", "released"]


def _error(outcome: str) -> ProviderError:
    if outcome == "permanent":
        return ProviderError(ProviderName.TWILIO, "invalid 'To' number", code="21211", status=400)
    return RetryableProviderError(ProviderName.TWILIO, "unavailable", status=503, retry_after=7)


async def _apply_orm(
    deps: SendDeps, message_id: uuid.UUID, outcome: str, receipt: SendReceipt
) -> None:
    async with deps.sessions() as session:
        assert await outbound.claim(session, message_id) is not None
        await session.commit()
    async with deps.sessions() as session:
        if outcome == "sent":
            await outbound.record_sent(session, message_id, receipt)
        elif outcome == "released":
            assert await outbound.release(session, message_id)
        else:
            await outbound.record_failure(session, deps.settings, message_id, _error(outcome))
        await session.commit()


async def _apply_fast(
    deps: SendDeps, message_id: uuid.UUID, outcome: str, receipt: SendReceipt
) -> None:
    async with fast.transaction(deps.engine) as tx:
        batch = await outbound.claim_fast(tx, message_id, hooked=(), extra=0)
        assert [c.message_id for c in batch.claims] == [message_id]
    async with fast.transaction(deps.engine) as tx:
        if outcome == "sent":
            await outbound.record_sent_fast(tx, message_id, receipt)
        elif outcome == "released":
            assert await outbound.release_fast(tx, message_id)
        else:
            await outbound.record_failure_fast(tx, deps.settings, message_id, _error(outcome))


def _shape(
    message: Message, interaction: Interaction, events: list[Any], receipt: SendReceipt
) -> dict[str, Any]:
    """The rows with ids, times and the provider id replaced by what they stand for."""

    def plain(value: Any) -> Any:
        text = str(value)
        text = text.replace(str(message.id), "<message>").replace(str(interaction.id), "<i>")
        text = text.replace(interaction.customer_phone or "-", "<phone>")
        return text.replace(receipt.provider_message_id or "-", "<sid>")

    return {
        "message": {
            "status": message.status,
            "attempts": message.attempts,
            "provider_message_id": plain(message.provider_message_id),
            "error": (message.error_code, message.error_message),
            "sent": message.sent_at is not None,
            "sent_is_updated": message.sent_at == message.updated_at,
            "retry": None
            if message.next_attempt_at is None
            else round((message.next_attempt_at - message.updated_at).total_seconds()),
        },
        "interaction": {
            "status": interaction.status,
            "ended": interaction.ended_at is not None,
            "updated_is_last_event": interaction.updated_at == max(e.occurred_at for e in events),
        },
        "events": [
            (e.type, plain(e.idempotency_key), plain(e.normalized), plain(e.provider_event_id))
            for e in events
        ],
    }


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_the_fast_steps_write_what_the_session_steps_write(
    sending: Sending, outcome: str
) -> None:
    deps = sending.deps
    if outcome == "last attempt":
        deps = replace(deps, settings=deps.settings.model_copy(update={"send_max_attempts": 1}))
    orm_id, fast_id = await queue(deps, 2)
    shapes = []
    for message_id, apply in ((orm_id, _apply_orm), (fast_id, _apply_fast)):
        receipt = SendReceipt(provider_message_id="SM" + uuid.uuid4().hex, status="queued")
        await apply(deps, message_id, outcome, receipt)
        shapes.append(_shape(*await rows(deps, message_id), receipt))
    assert shapes[0] == shapes[1]
    status = shapes[1]["message"]["status"]
    assert (
        status
        is {
            "sent": MessageStatus.SENT,
            "retry": MessageStatus.QUEUED,
            "permanent": MessageStatus.FAILED,
            "last attempt": MessageStatus.FAILED,
            "released": MessageStatus.QUEUED,
        }[outcome]
    )


# --- the batch ---------------------------------------------------------------------------------


@dataclass
class RecordingHook:
    """A send hook (as an OTP's): its messages take the session path, alone."""

    composed: list[uuid.UUID] = field(default_factory=list)

    async def compose(self, session: AsyncSession, claim: Claim) -> str:
        self.composed.append(claim.message_id)
        return claim.body + " (composed)"

    async def failed(self, session: AsyncSession, claim: Claim, code: str) -> None:
        return None

    async def sent(self, session: AsyncSession, claim: Claim) -> None:
        return None


async def test_one_job_sends_the_due_messages_beside_its_own_and_their_jobs_skip(
    sending: Sending,
) -> None:
    hook = RecordingHook()
    hooks: dict[MessageKind, SendHook] = {MessageKind.OTP: hook}
    deps = replace(sending.deps, hooks=hooks, batch=4)
    ids = await queue(deps, 6)
    (hooked,) = await queue(deps, 1, start=10, kind=MessageKind.OTP)
    (later,) = await queue(deps, 1, start=20)
    async with deps.sessions() as session:
        await session.execute(
            update(Message)
            .where(Message.id == later)
            .values(next_attempt_at=utcnow() + timedelta(minutes=5))
        )
        await session.commit()
    # The job of the fourth message: it, then the oldest due ones (not the OTP, not the later).
    assert await send_one(deps, str(ids[3])) == "sent"
    assert Counter(to for to, _ in sending.provider.sent) == Counter(phone(i) for i in (3, 0, 1, 2))
    results = [await send_one(deps, str(message_id)) for message_id in ids]
    # The fifth message's job takes the sixth with it.
    assert results == ["skipped", "skipped", "skipped", "skipped", "sent", "skipped"]
    assert await send_one(deps, str(later)) == "skipped"  # its retry job sends it
    assert hook.composed == []
    assert await send_one(deps, str(hooked)) == "sent"
    assert hook.composed == [hooked]
    sends = Counter(to for to, _ in sending.provider.sent)
    assert sends == Counter([*(phone(i) for i in range(6)), phone(10)])
    assert (phone(10), "Mensaje 10 (composed)") in sending.provider.sent
    for message_id in [*ids, hooked]:
        message, _, events = await rows(deps, message_id)
        assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
        assert [e.type for e in events].count("message.sent") == 1
    assert (await rows(deps, later))[0].status is MessageStatus.QUEUED


async def test_a_batch_records_each_outcome(sending: Sending) -> None:
    deps = sending.deps
    ids = await queue(deps, 4)
    sending.provider.failing[phone(1)] = _error("permanent")
    sending.provider.failing[phone(2)] = _error("retry")
    assert await send_one(deps, str(ids[0])) == "sent"
    statuses = [(await rows(deps, message_id))[0].status for message_id in ids]
    assert statuses == [
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.QUEUED,
        MessageStatus.SENT,
    ]
    failed, interaction, events = await rows(deps, ids[1])
    assert (failed.error_code, interaction.status) == ("21211", InteractionStatus.FAILED)
    assert [e.type for e in events][-2:] == ["message.failed", "status.changed"]
    retried = (await rows(deps, ids[2]))[0]
    assert retried.error_code == "503"
    assert [(m, a) for m, a, _ in sending.enqueued] == [(str(ids[2]), 1)]
    assert sending.enqueued[0][2] == retried.next_attempt_at
    # The retry's job sends it; the job it had before finds it not due yet and leaves it.
    assert await send_one(deps, str(ids[2])) == "skipped"


async def test_a_job_whose_message_was_taken_sends_nothing(sending: Sending) -> None:
    deps = sending.deps
    (message_id,) = await queue(deps, 1)
    assert await send_one(deps, str(message_id)) == "sent"
    assert await send_one(deps, str(message_id)) == "skipped"
    assert await send_one(deps, str(uuid.uuid4())) == "skipped"
    assert len(sending.provider.sent) == 1


async def test_an_interrupted_batch_records_what_went_and_releases_the_rest(
    sending: Sending,
) -> None:
    deps = sending.deps
    ids = await queue(deps, 4)
    provider = sending.provider
    provider.held = {phone(0), phone(2), phone(3)}
    job = asyncio.create_task(send_one(deps, str(ids[0])))
    for _ in range(200):
        if provider.sent:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    job.cancel()  # a job timeout, or a stopping worker
    with pytest.raises(asyncio.CancelledError):
        await job
    assert provider.sent == [(phone(1), "Mensaje 1")]
    after = [(await rows(deps, message_id))[0] for message_id in ids]
    assert [m.status for m in after] == [
        MessageStatus.QUEUED,
        MessageStatus.SENT,
        MessageStatus.QUEUED,
        MessageStatus.QUEUED,
    ]
    for message in (after[0], after[2], after[3]):
        assert message.next_attempt_at is not None  # due now
        assert message.attempts == 1
    # The others' own jobs may have run (and found them claimed): each gets a new one.
    assert sorted(m for m, _, _ in sending.enqueued) == sorted([str(ids[2]), str(ids[3])])
    provider.held.clear()
    assert await send_one(deps, str(ids[0])) == "sent"
    assert Counter(provider.sent) == Counter((phone(i), f"Mensaje {i}") for i in range(4))


async def test_concurrent_jobs_never_send_a_message_twice(
    backend: Backend, sending: Sending
) -> None:
    """Every message has its job and every job claims up to ten: on PostgreSQL the claims skip
    each other's locked rows, on SQLite they take turns; each message goes exactly once."""
    deps = sending.deps
    sending.provider.delay = 0.01
    ids = await queue(deps, 60)
    results = await asyncio.gather(*(send_one(deps, str(message_id)) for message_id in ids))
    sends = Counter(to for to, _ in sending.provider.sent)
    assert sends == Counter(phone(i) for i in range(60))
    assert set(results) <= {"sent", "skipped"}
    for message_id in ids:
        message, _, events = await rows(deps, message_id)
        assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
        assert [e.type for e in events].count("message.sent") == 1
    print(f"{backend.name}: {Counter(results)}")


async def test_messages_of_one_conversation_go_in_order(sending: Sending) -> None:
    deps = sending.deps
    (first,) = await queue(deps, 1)
    async with deps.sessions() as session:
        message = await session.get(Message, first)
        assert message is not None
        second = outbound.queued_message(
            message.interaction_id,
            "Mensaje 0, otra vez",
            MessageKind.TEXT,
            message.created_at + timedelta(microseconds=1),
            uuid.uuid4(),
        )
        await repository.add(session, second)
        await session.commit()
    sending.provider.slow = {"Mensaje 0": 0.2}
    # The later message's job claims the earlier one too, and still sends it first.
    assert await send_one(deps, str(second.id)) == "sent"
    assert [body for _, body in sending.provider.sent] == ["Mensaje 0", "Mensaje 0, otra vez"]


async def test_a_status_callback_that_waited_is_applied_after_the_send(
    app: Any, client: httpx.AsyncClient
) -> None:
    """The worker's own send dependencies: the send's transaction sees the callback that waits
    for the provider's id, and it is applied once the send is recorded."""
    sid = "SM" + "7" * 32
    response = await post_twilio(client, status_form(sid, "delivered"))
    assert response.json()["status"] == "DEFERRED"
    provider = Provider(sids={phone(0): sid})
    deps = replace(
        job_context(app.state.runtime, app.state.webhooks)["messaging"].send, sms=provider
    )
    ids = await queue(deps, 2)
    assert await send_one(deps, str(ids[0])) == "sent"
    delivered, _, events = await rows(deps, ids[0])
    assert (delivered.provider_message_id, delivered.status) == (sid, MessageStatus.DELIVERED)
    assert "message.status" in [e.type for e in events]
    assert (await rows(deps, ids[1]))[0].status is MessageStatus.SENT


def test_the_worker_process_runs_on_uvloop(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvloop

    from contact_center.cli import serving

    started: dict[str, Any] = {}

    def run_in_context(settings: Settings, work: Any, **options: Any) -> None:
        started.update(options)

    monkeypatch.setattr(serving, "command_settings", lambda: settings)
    monkeypatch.setattr(serving, "run_in_context", run_in_context)
    serving.worker()
    loop = started["loop_factory"]()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


async def test_a_job_takes_no_more_than_the_rate_limit_lets_through(sending: Sending) -> None:
    async def headroom() -> int:
        return 2

    deps = replace(sending.deps, sms_headroom=headroom)
    ids = await queue(deps, 4)
    assert await send_one(deps, str(ids[0])) == "sent"
    assert [to for to, _ in sending.provider.sent] == [phone(0), phone(1)]
    assert [(await rows(deps, m))[0].status for m in ids[2:]] == [MessageStatus.QUEUED] * 2


async def test_a_message_beside_that_gets_no_slot_in_time_is_given_back(
    sending: Sending, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contact_center.messaging import tasks

    monkeypatch.setattr(tasks, "SLOT_WAIT_SECONDS", 0.1)
    slots = asyncio.Semaphore(1)  # one slot, then the limit is reached for good

    async def slot() -> None:
        await slots.acquire()

    deps = replace(sending.deps, sms_slot=slot)
    ids = await queue(deps, 3)
    assert await send_one(deps, str(ids[0])) == "sent"
    assert sending.provider.sent == [(phone(0), "Mensaje 0")]
    for message_id in ids[1:]:
        message = (await rows(deps, message_id))[0]
        # QUEUED and due, its attempt not counted: it was never tried.
        assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
        assert message.next_attempt_at is not None
        assert message.next_attempt_at <= utcnow()
    assert sorted((m, a) for m, a, _ in sending.enqueued) == sorted((str(m), 0) for m in ids[1:])
