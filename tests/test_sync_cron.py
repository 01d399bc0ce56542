"""The periodic ElevenLabs sync: once per period across every worker."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.calls.tasks import sync_recent_calls
from contact_center.models import AuditLog, Interaction
from contact_center.settings import Settings
from contact_center.worker.build import cron_jobs
from contact_center.worker.deps import job_context
from tests import cron_drill
from tests.conftest import BACKENDS
from tests.live import live_app


async def test_the_same_period_claimed_by_two_workers_syncs_once(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with live_app(
        settings_factory, with_worker=False, ELEVENLABS_SYNC_INTERVAL_MINUTES="5"
    ) as live:
        await live.emulator(
            "/elevenlabs/calls", {"count": 8, "hours": 1, "webhook": False, "seed": 3}
        )
        runtime = live.app.state.runtime
        jobs = job_context(runtime, live.app.state.webhooks)
        tick = SimpleNamespace(scheduled=1_800_000_000)
        first, second = await asyncio.gather(
            sync_recent_calls({**jobs, "job": tick}),
            sync_recent_calls({**jobs, "job": tick}),
        )
        later = await sync_recent_calls(
            {
                **jobs,
                "job": SimpleNamespace(scheduled=1_800_000_300),
            }
        )
    results = [r for r in (first, second) if r is not None]
    assert len(results) == 1
    assert results[0]["created"] == 8
    assert later is not None
    assert later["unchanged"] == 8
    async with session_factory() as session:
        audits = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "elevenlabs.sync"))
        ).all()
        interactions = (
            await session.execute(select(func.count()).select_from(Interaction))
        ).scalar_one()
    assert [a.metadata_["trigger"] for a in audits if a.metadata_] == ["cron", "cron"]
    assert {a.actor_id for a in audits} == {"system"}
    assert interactions == 8


def test_the_sync_is_scheduled_every_interval_and_can_be_turned_off(
    settings_factory: Callable[..., Settings],
) -> None:
    def schedule(minutes: str, templates: str = "60", source: object = None) -> dict[str, str]:
        runtime = SimpleNamespace(
            settings=settings_factory(
                ELEVENLABS_SYNC_INTERVAL_MINUTES=minutes, WHATSAPP_TEMPLATE_SYNC_MINUTES=templates
            ),
            providers=SimpleNamespace(whatsapp_template_source=source),
        )
        return {job.function.__name__: job.cron for job in cron_jobs(runtime)}  # type: ignore[arg-type]

    assert schedule("5")["sync_recent_calls"] == "*/5 * * * *"
    assert schedule("15")["sync_recent_calls"] == "*/15 * * * *"
    assert "sync_recent_calls" not in schedule("0")
    # The WhatsApp template registry: only with a template source (the Cloud API), not at 0.
    assert "sync_whatsapp_templates" not in schedule("5")
    assert schedule("5", "60", object())["sync_whatsapp_templates"] == "0 */1 * * *"
    assert schedule("5", "30", object())["sync_whatsapp_templates"] == "*/30 * * * *"
    assert "sync_whatsapp_templates" not in schedule("5", "0", object())


@pytest.mark.slow
@pytest.mark.background_drill
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="the drill runs on PostgreSQL and Redis")
def test_two_workers_for_11_minutes_run_the_sync_once_per_5_minute_period() -> None:
    drill = cron_drill.current()
    assert drill is not None, "the drill starts when collection ends"
    result = drill.wait()
    period = cron_drill.PERIOD_SECONDS
    cron_runs = [r for r in result.runs if r.metadata.get("trigger") == "cron"]
    per_period = Counter(int(r.at.timestamp()) // period for r in cron_runs)
    # Every boundary between the workers being ready and 30 s before they were told to stop has
    # exactly one run; no period has two. A boundary in the margins (starting up, the last 30 s,
    # shutting down) may or may not have its run, and no run falls outside the workers' lifetime.
    required = [
        b
        for b in range(int(result.ready_at) // period + 1, int(result.ended_at) // period + 1)
        if b * period < result.ended_at - 30
    ]
    lived = range(int(result.started_at) // period + 1, int(result.stopped_at) // period + 1)
    assert len(required) >= 2, "11 minutes cross at least two 5-minute boundaries"
    assert all(n == 1 for n in per_period.values()), (per_period, result.logs)
    assert set(required) <= set(per_period) <= set(lived), (per_period, required, result.logs)
    # The first run brought the emulator's calls in; the others found nothing new.
    assert sum(r.metadata["created"] for r in cron_runs) == cron_drill.CALLS
    assert result.interactions == cron_drill.CALLS
    assert result.worker_exit_codes == [0, 0], result.logs
