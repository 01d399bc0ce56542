"""The retention purge (docs/data-lifecycle.md, "Retention"): expired data of each class erased
and fresh data kept, legal holds respected until released, the plan matching the run, the
report and the audit row, a killed run resumed, one purge at a time; on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.audit import chain
from contact_center.audit import repository as audit_repository
from contact_center.audit import service as audit
from contact_center.audit import tasks as audit_tasks
from contact_center.db.base import utcnow
from contact_center.keys import audit_mac
from contact_center.keys.service import load_audit_mac_key
from contact_center.models import AuditLog, Message, OtpChallenge
from contact_center.models.enums import ActorType, Channel, HoldScope, Provider, PurgeStatus
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.lifecycle import LegalHold, PurgeRun
from contact_center.models.user_account import ConsoleSession, UserAccount
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.principal import SYSTEM_CONTEXT, Role
from contact_center.retention import classes, service
from contact_center.retention.tasks import PURGE_CRON, purge_expired_data
from contact_center.settings import Settings
from contact_center.worker.build import cron_jobs
from tests import factories
from tests.test_retention_erase import detail_of

OLD = timedelta(days=4000)
HELD_PHONE = "+5491166660000"
OTHER_PHONE = "+5491177770000"


async def customer(
    session: AsyncSession, phone: str, *, ago: timedelta = OLD, audio: bool = False
) -> uuid.UUID:
    """A call of this customer `ago`, with a message, an event from a ledger row, a challenge."""
    at = utcnow() - ago
    call = factories.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        provider_conversation_id=f"conv_{uuid.uuid4().hex[:10]}",
        customer_phone=phone,
        from_number=phone,
        started_at=at,
    )
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        provider="builderbot",
        event_key=uuid.uuid4().hex,
        raw_body='{"body": "hola"}',
        status="PROCESSED",
        received_at=at,
    )
    rows = [
        call,
        delivery,
        factories.message(call, created_at=at),
        factories.event(call, occurred_at=at, idempotency_key=f"webhook:{delivery.id}:message"),
        factories.call_detail(call, has_audio=audio),
        factories.otp(call, phone=phone, created_at=at),
    ]
    await factories.save(session, *rows)
    return call.id


async def erased(session: AsyncSession, interaction_id: uuid.UUID) -> dict[str, bool]:
    """Which classes of this conversation are erased."""
    message = (
        await session.scalars(select(Message).where(Message.interaction_id == interaction_id))
    ).one()
    detail = await detail_of(session, interaction_id)
    event = (
        await session.scalars(
            select(InteractionEvent).where(InteractionEvent.interaction_id == interaction_id)
        )
    ).one()
    delivery = await session.get_one(
        WebhookDelivery, uuid.UUID(event.idempotency_key.split(":")[1])
    )
    otp = (
        await session.scalars(
            select(OtpChallenge).where(OtpChallenge.interaction_id == interaction_id)
        )
    ).one()
    for row in (message, detail, event, delivery, otp):
        await session.refresh(row)
    return {
        classes.MESSAGE_BODIES: message.body is None,
        classes.TRANSCRIPTS: detail.transcript == [],
        classes.EVENT_PAYLOADS: event.payload is None,
        classes.WEBHOOK_BODIES: delivery.raw_body == "",
        classes.OTP_CHALLENGES: otp.code_hash is None and otp.purged_at is not None,
    }


ALL = dict.fromkeys(
    [
        classes.MESSAGE_BODIES,
        classes.TRANSCRIPTS,
        classes.EVENT_PAYLOADS,
        classes.WEBHOOK_BODIES,
        classes.OTP_CHALLENGES,
    ],
    True,
)
NONE = dict.fromkeys(ALL, False)


async def hold(session: AsyncSession, **values: Any) -> LegalHold:
    row = LegalHold(reason="Causa 1234/2026, juzgado comercial", created_by="compliance", **values)
    session.add(row)
    await session.commit()
    return row


async def purge(
    session_factory: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
    **kwargs: Any,
) -> service.RunReport:
    report = await service.run(session_factory, engine, settings, trigger="cli", **kwargs)
    assert report is not None
    return report


async def test_expired_data_goes_fresh_data_stays_and_the_run_is_reported(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    async with session_factory() as session:
        old = await customer(session, OTHER_PHONE, audio=True)
        fresh = await customer(session, OTHER_PHONE, ago=timedelta(days=10))
        user = UserAccount(username="ana", password_hash="x", role=Role.AGENT, display_name="Ana")
        session.add(user)
        await session.flush()
        now = utcnow()
        session.add_all(
            [
                ConsoleSession(
                    user_id=user.id, token_hash="a" * 64, expires_at=now - timedelta(days=40)
                ),
                ConsoleSession(user_id=user.id, token_hash="b" * 64, expires_at=now),
            ]
        )
        await session.commit()

    planned = await service.plan(session_factory, settings)
    expected = {
        classes.RECORDINGS: 1,
        classes.TRANSCRIPTS: 1,
        classes.MESSAGE_BODIES: 1,
        classes.EVENT_PAYLOADS: 1,
        classes.WEBHOOK_BODIES: 1,
        classes.OTP_CHALLENGES: 1,
        classes.CONSOLE_SESSIONS: 1,
        classes.AUDIT_ROWS: 0,  # none is older than its five years
    }
    assert planned == expected
    report = await purge(session_factory, engine, settings)
    assert report.counts == expected

    async with session_factory() as session:
        assert await erased(session, old) == ALL
        assert await erased(session, fresh) == NONE
        assert len(list(await session.scalars(select(ConsoleSession)))) == 1
        run = await session.get_one(PurgeRun, report.id)
        assert run.status is PurgeStatus.COMPLETED
        assert run.finished_at is not None
        assert run.counts == expected
        assert all(state["done"] for state in run.progress.values())
        row = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "retention.purged"))
        ).one()
        assert row.entity_id == str(report.id)
        assert row.metadata_ is not None
        assert row.metadata_["counts"] == expected
    # Nothing left: the plan and a second run count 0.
    assert set((await service.plan(session_factory, settings)).values()) == {0}
    again = await purge(session_factory, engine, settings)
    assert set(again.counts.values()) == {0}


async def test_a_held_customer_survives_until_the_hold_is_released(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    async with session_factory() as session:
        held = await customer(session, HELD_PHONE)
        other = await customer(session, OTHER_PHONE)
        # A ledger row no conversation was made from, which names the held customer.
        ignored = WebhookDelivery(
            provider="builderbot",
            event_key=uuid.uuid4().hex,
            raw_body=f'{{"from": "{HELD_PHONE[1:]}", "type": "unknown"}}',
            status="IGNORED",
            received_at=utcnow() - OLD,
        )
        session.add(ignored)
        await session.commit()
        by_phone = await hold(session, scope=HoldScope.CUSTOMER, customer_phone=HELD_PHONE)

    planned = await service.plan(session_factory, settings)
    report = await purge(session_factory, engine, settings)
    assert report.counts[classes.MESSAGE_BODIES] == planned[classes.MESSAGE_BODIES] == 1
    assert report.counts[classes.WEBHOOK_BODIES] == planned[classes.WEBHOOK_BODIES] == 1
    async with session_factory() as session:
        assert await erased(session, held) == NONE
        assert (await session.get_one(WebhookDelivery, ignored.id)).raw_body.startswith("{")
        assert await erased(session, other) == ALL

        row = await session.get_one(LegalHold, by_phone.id)
        row.released_at = utcnow()
        row.released_by = "compliance"
        await session.commit()

    report = await purge(session_factory, engine, settings)
    assert report.counts[classes.MESSAGE_BODIES] == 1
    assert report.counts[classes.WEBHOOK_BODIES] == 2
    async with session_factory() as session:
        assert await erased(session, held) == ALL
        assert (await session.get_one(WebhookDelivery, ignored.id)).raw_body == ""


async def test_interaction_and_date_range_holds_keep_their_conversations(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    async with session_factory() as session:
        named = await customer(session, OTHER_PHONE)
        in_range = await customer(session, OTHER_PHONE, ago=OLD + timedelta(days=30))
        loose = await customer(session, OTHER_PHONE, ago=OLD + timedelta(days=90))
        await hold(session, scope=HoldScope.INTERACTION, interaction_id=named)
        start = utcnow() - OLD - timedelta(days=31)
        await hold(
            session,
            scope=HoldScope.DATE_RANGE,
            range_start=start,
            range_end=start + timedelta(days=2),
        )
        # A hold that lapsed by itself holds nothing.
        await hold(
            session,
            scope=HoldScope.INTERACTION,
            interaction_id=loose,
            ends_at=utcnow() - timedelta(days=1),
        )

    await purge(session_factory, engine, settings)
    async with session_factory() as session:
        assert await erased(session, named) == NONE
        assert await erased(session, in_range) == NONE
        assert await erased(session, loose) == ALL


async def test_an_interrupted_run_is_resumed_by_the_next(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings_factory: Any
) -> None:
    settings = settings_factory(RETENTION_BATCH_SIZE="2")
    async with session_factory() as session:
        ids = [await customer(session, OTHER_PHONE) for _ in range(5)]

    # Killed after three batches: what they erased is committed, with the run's progress.
    first = await purge(session_factory, engine, settings, stop_after=3)
    async with session_factory() as session:
        run = await session.get_one(PurgeRun, first.id)
        assert run.status is PurgeStatus.RUNNING
        assert run.finished_at is None
        assert run.counts == {classes.RECORDINGS: 0, classes.TRANSCRIPTS: 4}
        assert not run.progress[classes.TRANSCRIPTS]["done"]
        assert run.progress[classes.RECORDINGS]["done"]

    second = await purge(session_factory, engine, settings)
    assert second.id == first.id
    assert second.resumed
    assert second.counts[classes.TRANSCRIPTS] == 5
    assert second.counts[classes.MESSAGE_BODIES] == 5
    async with session_factory() as session:
        for interaction_id in ids:
            assert await erased(session, interaction_id) == ALL
        runs = list(await session.scalars(select(PurgeRun)))
        assert [r.status for r in runs] == [PurgeStatus.COMPLETED]


# Other connections of the test's database inside a transaction (PostgreSQL).
IN_TRANSACTION_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND (state LIKE 'idle in transaction%' OR (state = 'active' AND xact_start IS NOT NULL))
"""


async def test_the_purge_pauses_between_batches_with_no_transaction_open(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings_factory: Any
) -> None:
    settings = settings_factory(RETENTION_BATCH_SIZE="2", RETENTION_BATCH_PAUSE_MS="250")
    async with session_factory() as session:
        for _ in range(3):
            await customer(session, OTHER_PHONE)
    # Checked out while the run goes: the advisory lock's connection on PostgreSQL (its
    # transaction committed), nothing on SQLite (a lock file).
    lock_connections = 1 if engine.dialect.name == "postgresql" else 0
    pauses: list[float] = []
    batches: list[int] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        # Every batch's session is back in the pool, no transaction open anywhere.
        assert engine.pool.checkedout() == lock_connections  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                assert await connection.scalar(text(IN_TRANSACTION_SQL)) == 0

    report = await purge(
        session_factory,
        engine,
        settings,
        shown=lambda _name, _done, erased: batches.append(erased),
        sleep=sleep,
    )
    assert report.counts[classes.TRANSCRIPTS] == 3
    # One pause after each batch that erased something (2 + 1 per class of three rows); a
    # class's last batch, empty, goes straight on to the next class.
    worked = [b for b in batches if b]
    assert len(worked) >= 10
    assert pauses == [0.25] * len(worked)

    # The command's --pause-ms (the argument) overrides the setting; 0 still yields.
    async with session_factory() as session:
        await customer(session, OTHER_PHONE)
    pauses.clear()
    await purge(session_factory, engine, settings, pause_ms=0, sleep=sleep)
    assert pauses
    assert set(pauses) == {0.0}


async def test_a_failed_batch_is_rolled_back_and_resumed(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    async with session_factory() as session:
        interaction_id = await customer(session, OTHER_PHONE)

    async def broken(session: AsyncSession, cutoff: datetime, now: datetime, limit: int) -> int:
        await session.execute(select(1))
        raise RuntimeError("disk full")

    service.register(service.DataClass("broken", "retention_audit_rows_days", 365, _zero, broken))
    try:
        try:
            await purge(session_factory, engine, settings)
        except RuntimeError:
            pass
        else:  # pragma: no cover
            raise AssertionError("the run did not fail")
    finally:
        service.REGISTERED.clear()
    async with session_factory() as session:
        run = (await session.scalars(select(PurgeRun))).one()
        assert run.status is PurgeStatus.FAILED
        assert "disk full" in (run.error or "")
        assert await erased(session, interaction_id) == ALL
    resumed = await purge(session_factory, engine, settings)
    assert resumed.id == run.id
    assert resumed.resumed


async def _zero(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
    return 0


async def test_two_purges_at_once_one_does_the_work(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    async with session_factory() as session:
        await customer(session, OTHER_PHONE)
    entered = asyncio.Event()
    go_on = asyncio.Event()

    async def slow(session: AsyncSession, cutoff: datetime, now: datetime, limit: int) -> int:
        entered.set()
        await go_on.wait()
        return 0

    service.register(service.DataClass("slow", "retention_audit_rows_days", 365, _zero, slow))
    try:
        first = asyncio.create_task(service.run(session_factory, engine, settings, trigger="cron"))
        await asyncio.wait_for(entered.wait(), 30)
        second = await service.run(session_factory, engine, settings, trigger="cli")
        go_on.set()
        done = await first
    finally:
        service.REGISTERED.clear()
    assert second is None
    assert done is not None
    assert done.counts[classes.MESSAGE_BODIES] == 1
    async with session_factory() as session:
        assert len(list(await session.scalars(select(PurgeRun)))) == 1


async def test_the_daily_job_purges_as_the_system(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    runtime = SimpleNamespace(
        settings=settings,
        sessions=session_factory,
        engine=engine,
        providers=SimpleNamespace(whatsapp_template_source=None),
    )
    schedule = {job.function.__name__: job.cron for job in cron_jobs(runtime)}  # type: ignore[arg-type]
    assert schedule["purge_expired_data"] == PURGE_CRON
    async with session_factory() as session:
        interaction_id = await customer(session, OTHER_PHONE)

    counts = await purge_expired_data({"runtime": runtime})
    assert counts is not None
    assert counts[classes.MESSAGE_BODIES] == 1
    async with session_factory() as session:
        assert await erased(session, interaction_id) == ALL
        run = (await session.scalars(select(PurgeRun))).one()
        assert run.trigger == "cron"
        row = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "retention.purged"))
        ).one()
        assert row.actor_type == ActorType.SYSTEM


async def test_audit_rows_go_as_a_prefix_that_stops_before_what_a_hold_keeps(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine, settings: Settings
) -> None:
    """Expired audit rows are pruned as the chain's sealed prefix (docs/audit-chain.md); a
    legal hold keeps the audit rows from its oldest held conversation on, and once it is
    released they go too. Verify holds before and after."""
    key = await load_audit_mac_key(engine, settings)
    try:
        now = utcnow()
        async with session_factory() as session:
            other = await customer(session, OTHER_PHONE, ago=timedelta(days=3000))
            held = await customer(session, HELD_PHONE, ago=timedelta(days=2000))
            for ago, about in ((3000, other), (2500, other), (1999, held), (1900, held)):
                values = audit.row(
                    SYSTEM_CONTEXT, "test.old", entity_type="interaction", entity_id=about
                )
                values["occurred_at"] = now - timedelta(days=ago)
                values["mac"] = chain.mac(key, chain.canonical_of(values))
                await audit_repository.add(session, values)
            await session.commit()
            by_phone = await hold(session, scope=HoldScope.CUSTOMER, customer_phone=HELD_PHONE)
        await audit_tasks.seal(session_factory)

        report = await purge(session_factory, engine, settings)
        assert report.counts[classes.AUDIT_ROWS] == 2
        async with session_factory() as session:
            left = set(
                (
                    await session.scalars(
                        select(AuditLog.occurred_at).where(AuditLog.action == "test.old")
                    )
                ).all()
            )
            assert len(left) == 2
        verified = await chain.verify(session_factory, key, utcnow())
        assert verified.ok, verified.findings
        async with session_factory() as session:
            row = await session.get_one(LegalHold, by_phone.id)
            row.released_at = utcnow()
            row.released_by = "compliance"
            await session.commit()

        report = await purge(session_factory, engine, settings)
        assert report.counts[classes.AUDIT_ROWS] == 2
        async with session_factory() as session:
            gone = await session.scalars(select(AuditLog).where(AuditLog.action == "test.old"))
            assert list(gone) == []
        verified = await chain.verify(session_factory, key, utcnow())
        assert verified.ok, verified.findings
    finally:
        audit_mac.install(None)
