"""SMS whose delivery callbacks were lost: the reconciler reads their status from the provider and
applies it by the same forward-only rules as a callback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.messaging.service import apply_sms_status, reconcile_sms_status
from contact_center.messaging.tasks import (
    StatusCheckDeps,
    check_sms_statuses,
    reconcile_sms_statuses,
    status_check_window,
)
from contact_center.models import AuditLog, Interaction, InteractionEvent, Message
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageStatus,
    Provider,
)
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.providers.base import SmsStatusEvent
from contact_center.providers.twilio import TwilioSmsClient
from contact_center.settings import Settings
from contact_center.worker.build import cron_jobs
from contact_center.worker.deps import job_context, status_check_deps
from tests import factories
from tests.live import FAST, Live, live_app, number

LOSE_FINAL_CALLBACKS = {"statuses": ["delivered", "undelivered", "failed"]}
TWILIO = "https://api.twilio.example"
MESSAGES = f"{TWILIO}/2010-04-01/Accounts/AC123/Messages"


# --- arranging ------------------------------------------------------------------------------


async def send(live: Live, to: str, body: str) -> uuid.UUID:
    response = await live.http.post("/api/sms/send", json={"to": to, "body": body})
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["messageId"])


async def message_row(
    session_factory: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> Message:
    async with session_factory() as session:
        return (await session.scalars(select(Message).where(Message.id == message_id))).one()


async def wait_until_sent_and_settled(
    live: Live, session_factory: async_sessionmaker[AsyncSession], message_ids: list[uuid.UUID]
) -> None:
    """Our side says SENT; the provider's side has moved on (its last callback was lost)."""
    deadline = time.monotonic() + 30
    while True:
        rows = [await message_row(session_factory, m) for m in message_ids]
        outbox = {item["sid"]: item["status"] for item in await live.outbox()}
        if all(r.status is MessageStatus.SENT for r in rows) and all(
            outbox.get(r.provider_message_id or "") not in {None, "queued", "sent"} for r in rows
        ):
            return
        assert time.monotonic() < deadline, ([r.status for r in rows], outbox)
        await asyncio.sleep(0.2)


async def age(
    session_factory: async_sessionmaker[AsyncSession], minutes: float, *ids: uuid.UUID
) -> None:
    """Make messages look sent `minutes` ago (as if the API had been down that long)."""
    now = utcnow()
    async with session_factory() as session:
        await session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(
                created_at=now - timedelta(minutes=minutes + 1),
                sent_at=now - timedelta(minutes=minutes),
            )
        )
        await session.commit()


async def events(
    session_factory: async_sessionmaker[AsyncSession], interaction_id: uuid.UUID
) -> list[InteractionEvent]:
    async with session_factory() as session:
        return list(
            (
                await session.scalars(
                    select(InteractionEvent)
                    .where(InteractionEvent.interaction_id == interaction_id)
                    .order_by(InteractionEvent.occurred_at)
                )
            ).all()
        )


def reconciled(rows: list[InteractionEvent]) -> list[InteractionEvent]:
    return [
        e
        for e in rows
        if e.type == "message.status" and (e.normalized or {}).get("source") == "reconciliation"
    ]


async def audits(session_factory: async_sessionmaker[AsyncSession]) -> list[AuditLog]:
    async with session_factory() as session:
        return list(
            (
                await session.scalars(
                    select(AuditLog).where(AuditLog.action == "sms.status_reconciled")
                )
            ).all()
        )


async def sent_sms(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    sent_minutes_ago: float = 20,
    status: MessageStatus = MessageStatus.SENT,
    sid: str | None = None,
) -> Message:
    """An outbound SMS as the send job leaves it, written through the ORM."""
    now = utcnow()
    parent = factories.interaction(
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        provider=Provider.TWILIO,
        status=InteractionStatus.IN_PROGRESS,
        started_at=now - timedelta(minutes=sent_minutes_ago + 1),
        from_number=None,
        to_number="+5491155551234",
    )
    row = factories.message(
        parent,
        direction=Direction.OUTBOUND,
        status=status,
        body="Hola",
        provider_message_id=sid or "SM" + uuid.uuid4().hex,
        created_at=now - timedelta(minutes=sent_minutes_ago + 1),
        sent_at=now - timedelta(minutes=sent_minutes_ago),
        attempts=1,
    )
    async with session_factory() as session:
        await factories.save(session, parent, row)
    return row


async def no_wait() -> None:
    return None


@pytest.fixture
async def provider_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def respx_deps(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    provider_http: httpx.AsyncClient,
) -> StatusCheckDeps:
    """The reconciler against a Twilio that respx plays (edges the emulator cannot produce)."""
    client = TwilioSmsClient(
        provider_http,
        base_url=TWILIO,
        account_sid="AC123",
        auth_token="t",
        from_number="+15005550006",
    )
    return StatusCheckDeps(settings, session_factory, client, no_wait)


def resource(sid: str, status: str, code: int | None = None) -> dict[str, Any]:
    return {
        "sid": sid,
        "status": status,
        "error_code": code,
        "error_message": "Unreachable destination handset." if code else None,
        "to": "+5491155551234",
        "from": "+15005550006",
    }


# --- through the emulator over real HTTP ----------------------------------------------------


@pytest.mark.slow
async def test_lost_final_callbacks_are_recovered_with_one_timeline_event_each(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        await live.emulator("/twilio/callbacks/loss", LOSE_FINAL_CALLBACKS)
        delivered = await send(live, number(1), "Su tarjeta fue despachada")
        undelivered = await send(live, "+15005550010", "Su clave vence mañana")
        await wait_until_sent_and_settled(live, session_factory, [delivered, undelivered])
        # Without the reconciler they would stay SENT: nothing else will tell us.
        await asyncio.sleep(1.5)
        assert (await message_row(session_factory, delivered)).status is MessageStatus.SENT
        await age(session_factory, 20, delivered, undelivered)
        result = await check_sms_statuses(status_check_deps(live.app.state.runtime))
        again = await check_sms_statuses(status_check_deps(live.app.state.runtime))
    assert result.counts() == {
        "checked": 2,
        "moved": 2,
        "unchanged": 0,
        "not_found": 0,
        "failed": 0,
        "skipped": 0,
    }
    assert again.checked == 0
    ok = await message_row(session_factory, delivered)
    assert ok.status is MessageStatus.DELIVERED
    assert ok.delivered_at is not None
    bad = await message_row(session_factory, undelivered)
    assert bad.status is MessageStatus.UNDELIVERED
    assert bad.error_code == "30003"
    assert bad.error_message == "Unreachable destination handset."
    async with session_factory() as session:
        interactions = {i.id: i.status for i in (await session.scalars(select(Interaction))).all()}
    assert interactions[ok.interaction_id] is InteractionStatus.COMPLETED
    assert interactions[bad.interaction_id] is InteractionStatus.FAILED
    for row, status in ((ok, "delivered"), (bad, "undelivered")):
        timeline = await events(session_factory, row.interaction_id)
        [event] = reconciled(timeline)
        normalized, payload = dict(event.normalized or {}), dict(event.payload or {})
        assert normalized["status"] == status
        assert normalized["applied"] is True
        assert payload["sid"] == row.provider_message_id
        assert "body" not in payload  # the fetch's resource carries the text: not kept
        statuses = [e for e in timeline if e.type == "message.status"]
        assert [(e.normalized or {})["source"] for e in statuses] == [
            "callback",
            "reconciliation",
        ]
    failed = await events(session_factory, bad.interaction_id)
    assert [e.type for e in failed].count("message.failed") == 1
    trail = await audits(session_factory)
    assert sorted(a.entity_id or "" for a in trail) == sorted([str(ok.id), str(bad.id)])
    assert {a.actor_id for a in trail} == {"system"}
    assert {(a.metadata_ or {})["source"] for a in trail} == {"reconciliation"}
    assert {(a.metadata_ or {})["from"] for a in trail} == {"SENT"}


async def test_a_message_the_provider_still_reports_sent_is_asked_less_and_less_often(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        message_id = await send(live, "+15005550013", "Sin acuse de recibo")  # never a receipt
        deadline = time.monotonic() + 30
        # Its one callback (`sent`) applied: a row a callback holds is skipped by a run.
        while not [
            e
            for e in await events(
                session_factory, (await message_row(session_factory, message_id)).interaction_id
            )
            if e.type == "message.status"
        ]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        await age(session_factory, 40, message_id)
        deps = status_check_deps(live.app.state.runtime)
        first = await check_sms_statuses(deps)
        second = await check_sms_statuses(deps)
        row = await message_row(session_factory, message_id)
    assert (first.checked, first.unchanged) == (1, 1), first.counts()
    assert second.checked == 0  # not asked again at once
    assert row.status is MessageStatus.SENT
    assert row.next_attempt_at is not None
    # Asked again after as long as it has been SENT (40 min), not after the 15-minute threshold.
    wait = row.next_attempt_at - utcnow()
    assert timedelta(minutes=35) < wait <= timedelta(minutes=41)
    assert reconciled(await events(session_factory, row.interaction_id)) == []
    assert await audits(session_factory) == []


async def test_a_message_the_provider_does_not_know_is_left_sent_and_not_asked_again(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(settings_factory) as live:
        await live.emulator("/twilio/callbacks/loss", LOSE_FINAL_CALLBACKS)
        message_id = await send(live, number(2), "Hola")
        await wait_until_sent_and_settled(live, session_factory, [message_id])
        # The provider forgets it (as a message of another account, or deleted, would be).
        (await live.http.delete(f"{live.base}/_emulator/twilio/outbox")).raise_for_status()
        await age(session_factory, 20, message_id)
        deps = status_check_deps(live.app.state.runtime)
        first = await check_sms_statuses(deps)
        second = await check_sms_statuses(deps)
    assert (first.not_found, first.failed, first.checked) == (1, 0, 0)
    assert second.counts() == {k: 0 for k in second.counts()}
    row = await message_row(session_factory, message_id)
    assert row.status is MessageStatus.SENT
    assert reconciled(await events(session_factory, row.interaction_id)) == []


@pytest.mark.slow
async def test_two_reconciler_processes_at_once_apply_each_status_once(
    database_url: str,
    settings_factory: Callable[..., Settings],
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    async with live_app(settings_factory) as live:
        await live.emulator("/twilio/callbacks/loss", LOSE_FINAL_CALLBACKS)
        ids = [await send(live, number(10 + i), f"Mensaje {i}") for i in range(8)]
        await wait_until_sent_and_settled(live, session_factory, ids)
        await age(session_factory, 20, *ids)
        port = live.base.rsplit(":", 1)[1]
        env = {
            **os.environ,
            **FAST,
            "DATABASE_URL": database_url,
            "APP_PORT": port,
            "APP_ENV": "test",
            "RECORDINGS_DIR": str(tmp_path),
        }

        def reconciler() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "contact_center", "reconcile-sms", "--limit", "5"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        # Two processes at once, five messages at most each: both must work, on different ones.
        first, second = await asyncio.gather(
            asyncio.to_thread(reconciler), asyncio.to_thread(reconciler)
        )
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    moved = [int(run.stdout.split("moved ")[1].split()[0]) for run in (first, second)]
    assert sorted(moved)[0] >= 3
    assert sum(moved) == 8
    rows = [await message_row(session_factory, m) for m in ids]
    assert {r.status for r in rows} == {MessageStatus.DELIVERED}
    for row in rows:
        assert len(reconciled(await events(session_factory, row.interaction_id))) == 1
    assert len(await audits(session_factory)) == 8


# --- edges, with respx playing the provider -------------------------------------------------


@respx.mock
async def test_a_message_younger_than_the_threshold_is_not_asked(
    respx_deps: StatusCheckDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    route = respx.get(url__startswith=MESSAGES).mock(
        return_value=httpx.Response(200, json=resource("SMx", "delivered"))
    )
    young = await sent_sms(session_factory, sent_minutes_ago=10)  # threshold: 15 min
    result = await check_sms_statuses(respx_deps)
    assert route.call_count == 0
    assert result.checked == 0
    assert (await message_row(session_factory, young.id)).status is MessageStatus.SENT


@respx.mock
async def test_messages_past_the_maximum_age_and_whatsapp_ones_are_not_asked(
    respx_deps: StatusCheckDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    route = respx.get(url__startswith=MESSAGES).mock(
        return_value=httpx.Response(200, json=resource("SMx", "delivered"))
    )
    await sent_sms(session_factory, sent_minutes_ago=73 * 60)
    now = utcnow()
    chat = factories.interaction(started_at=now - timedelta(hours=1))
    echo = factories.message(
        chat,
        direction=Direction.OUTBOUND,
        status=MessageStatus.SENT,
        provider_message_id="bb-" + uuid.uuid4().hex,
        sent_at=now - timedelta(hours=1),
    )
    async with session_factory() as session:
        await factories.save(session, chat, echo)
    assert (await check_sms_statuses(respx_deps)).checked == 0
    assert route.call_count == 0


@respx.mock
async def test_provider_down_leaves_the_message_sent_for_the_next_run(
    respx_deps: StatusCheckDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    message = await sent_sms(session_factory)
    sid = message.provider_message_id
    route = respx.get(f"{MESSAGES}/{sid}.json").mock(
        side_effect=[
            httpx.Response(503, json={"code": 20500, "message": "down", "status": 503}),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=resource(str(sid), "delivered")),
        ]
    )
    first = await check_sms_statuses(respx_deps)
    assert (first.failed, first.checked) == (1, 0)
    row = await message_row(session_factory, message.id)
    assert row.status is MessageStatus.SENT
    assert row.next_attempt_at is None  # due again at the next run
    second = await check_sms_statuses(respx_deps)
    assert (second.failed, second.checked) == (1, 0)
    third = await check_sms_statuses(respx_deps)
    assert (third.moved, third.failed) == (1, 0)
    assert route.call_count == 3
    assert (await message_row(session_factory, message.id)).status is MessageStatus.DELIVERED
    assert len(reconciled(await events(session_factory, message.interaction_id))) == 1


@respx.mock
async def test_a_run_stops_asking_a_provider_that_is_down_and_leaves_the_rest_for_later(
    respx_deps: StatusCheckDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    for _ in range(5):
        await sent_sms(session_factory)
    route = respx.get(url__startswith=MESSAGES).mock(return_value=httpx.Response(502))
    result = await check_sms_statuses(respx_deps)
    assert (result.failed, result.skipped, result.checked) == (3, 2, 0)
    assert route.call_count == 3
    async with session_factory() as session:
        rows = (await session.scalars(select(Message))).all()
    assert {r.status for r in rows} == {MessageStatus.SENT}
    assert {r.next_attempt_at for r in rows} == {None}  # all due at the next run
    route.mock(
        side_effect=lambda request: httpx.Response(
            200, json=resource(request.url.path.rsplit("/", 1)[1][:-5], "delivered")
        )
    )
    assert (await check_sms_statuses(respx_deps)).moved == 5


@respx.mock
async def test_a_404_from_the_provider_is_counted_not_raised(
    respx_deps: StatusCheckDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    unknown = await sent_sms(session_factory)
    known = await sent_sms(session_factory)
    respx.get(f"{MESSAGES}/{unknown.provider_message_id}.json").mock(
        return_value=httpx.Response(
            404, json={"code": 20404, "message": "not found", "status": 404}
        )
    )
    respx.get(f"{MESSAGES}/{known.provider_message_id}.json").mock(
        return_value=httpx.Response(
            200, json=resource(str(known.provider_message_id), "undelivered", 30003)
        )
    )
    result = await check_sms_statuses(respx_deps)
    assert (result.not_found, result.moved, result.failed) == (1, 1, 0)
    assert (await message_row(session_factory, unknown.id)).status is MessageStatus.SENT
    row = await message_row(session_factory, known.id)
    assert row.status is MessageStatus.UNDELIVERED
    assert row.error_code == "30003"
    assert (await check_sms_statuses(respx_deps)).counts() == {k: 0 for k in result.counts()}


@respx.mock
async def test_a_status_that_arrived_by_callback_meanwhile_is_not_moved_back(
    respx_deps: StatusCheckDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The run claims the message while it is SENT; its DELIVERED callback lands before the
    provider's (older, different) answer is applied: the first terminal status stays."""
    message = await sent_sms(session_factory)
    sid = str(message.provider_message_id)
    callback = SmsStatusEvent(sid, "delivered", None, None, None, None)

    async def callback_first(request: httpx.Request) -> httpx.Response:
        async with session_factory() as session:
            await apply_sms_status(session, callback, payload={}, key="webhook:test")
            await session.commit()
        return httpx.Response(200, json=resource(sid, "undelivered", 30003))

    respx.get(f"{MESSAGES}/{sid}.json").mock(side_effect=callback_first)
    result = await check_sms_statuses(respx_deps)
    assert (result.checked, result.moved, result.unchanged) == (1, 0, 1)
    row = await message_row(session_factory, message.id)
    assert row.status is MessageStatus.DELIVERED
    assert row.error_code is None
    timeline = await events(session_factory, message.interaction_id)
    assert reconciled(timeline) == []
    assert "message.failed" not in [e.type for e in timeline]
    assert await audits(session_factory) == []


@pytest.mark.parametrize("status", ["sent", "undelivered", "queued"])
async def test_a_delivered_message_is_not_moved_back_by_a_reconciliation(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], status: str
) -> None:
    message = await sent_sms(session_factory, status=MessageStatus.DELIVERED)
    event = SmsStatusEvent(str(message.provider_message_id), status, "30003", None, None, None)
    async with session_factory() as session:
        applied = await reconcile_sms_status(
            session, event, status_check_window(settings), SYSTEM_CONTEXT, now=utcnow()
        )
        await session.commit()
    assert applied is not None
    assert not applied.moved
    row = await message_row(session_factory, message.id)
    assert row.status is MessageStatus.DELIVERED
    assert row.error_code is None
    assert reconciled(await events(session_factory, message.interaction_id)) == []
    assert await audits(session_factory) == []


async def test_one_status_applied_by_two_runs_at_once_is_on_the_timeline_once(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Two runs that both read the same answer (a lease that expired mid-run, say)."""
    message = await sent_sms(session_factory)
    event = SmsStatusEvent(str(message.provider_message_id), "delivered", None, None, None, None)

    async def apply_once() -> bool:
        async with session_factory() as session:
            applied = await reconcile_sms_status(
                session, event, status_check_window(settings), SYSTEM_CONTEXT, now=utcnow()
            )
            await session.commit()
        return applied is not None and applied.moved

    outcomes = await asyncio.gather(*(apply_once() for _ in range(4)))
    assert sorted(outcomes) == [False, False, False, True]
    assert (await message_row(session_factory, message.id)).status is MessageStatus.DELIVERED
    timeline = await events(session_factory, message.interaction_id)
    assert len(reconciled(timeline)) == 1
    assert [e.type for e in timeline].count("interaction.completed") == 1
    assert len(await audits(session_factory)) == 1


# --- the periodic job ----------------------------------------------------------------------


def test_the_reconciler_is_scheduled_every_interval_and_can_be_turned_off(
    settings_factory: Callable[..., Settings],
) -> None:
    def schedule(minutes: str) -> dict[str, str]:
        runtime = SimpleNamespace(
            settings=settings_factory(SMS_STATUS_RECONCILE_INTERVAL_MINUTES=minutes)
        )
        return {job.function.__name__: job.cron for job in cron_jobs(runtime)}  # type: ignore[arg-type]

    assert schedule("5")["reconcile_sms_statuses"] == "*/5 * * * *"
    assert schedule("10")["reconcile_sms_statuses"] == "*/10 * * * *"
    assert "reconcile_sms_statuses" not in schedule("0")


async def test_the_periodic_job_runs_once_per_period_across_workers(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(
        settings_factory, with_worker=False, SMS_STATUS_RECONCILE_INTERVAL_MINUTES="5"
    ) as live:
        runtime = live.app.state.runtime
        jobs = job_context(runtime, live.app.state.webhooks)
        tick = SimpleNamespace(scheduled=1_900_000_000)
        first, second = await asyncio.gather(
            reconcile_sms_statuses({**jobs, "job": tick}),
            reconcile_sms_statuses({**jobs, "job": tick}),
        )
        later = await reconcile_sms_statuses(
            {
                **jobs,
                "job": SimpleNamespace(scheduled=1_900_000_300),
            }
        )
    assert [r for r in (first, second) if r is not None] == [
        {"checked": 0, "moved": 0, "unchanged": 0, "not_found": 0, "failed": 0, "skipped": 0}
    ]
    assert later is not None
