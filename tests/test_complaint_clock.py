"""The complaints' clock job (docs/complaints.md, "The clock job"): the warning, the escalation
to the responsable and the overdue flag each fire once — on repeated runs and on racing ones —
with their event, audit row, notifications and live notice; answered, closed and draft cases
never fire; a complaint that fails is logged and fired on the next run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from contact_center.complaints import clock_job, tasks
from contact_center.models.audit_log import AuditLog
from contact_center.models.complaint import Complaint, ComplaintEvent, ComplaintInteraction
from contact_center.models.enums import ComplaintStatus, Role
from contact_center.models.note import Notification
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount
from contact_center.settings import Settings
from contact_center.worker.build import cron_jobs
from tests import auth
from tests import factories as f

Sessions = async_sessionmaker[AsyncSession]
BA = ZoneInfo("America/Argentina/Buenos_Aires")
# Friday 13 November 2026, 17:00 in Buenos Aires. Ten business days later is Monday 30 (Monday
# 23 is a national holiday): warned Thursday 26, escalated Friday 27, due Monday 30 at 18:00.
OPENED = datetime(2026, 11, 13, 17, 0, tzinfo=BA)
WARN = datetime(2026, 11, 26, 18, 0, tzinfo=BA)
ESCALATE = datetime(2026, 11, 27, 18, 0, tzinfo=BA)
DUE = datetime(2026, 11, 30, 18, 0, tzinfo=BA)
RESPONSABLE = "responsable"
NEVER_FIRE = (
    ComplaintStatus.DRAFT,
    ComplaintStatus.ANSWERED,
    ComplaintStatus.CLOSED,
    ComplaintStatus.REPORTED,
    ComplaintStatus.DISCARDED,
)


def _sessions(app: FastAPI) -> Sessions:
    sessions: Sessions = app.state.session_factory
    return sessions


async def _run(sessions: Sessions, at: datetime) -> tasks.Run:
    return await tasks.run(sessions, at.astimezone(UTC), responsable=RESPONSABLE)


async def _complaint(sessions: Sessions, **overrides: Any) -> Complaint:
    row = f.complaint(OPENED, **overrides)
    async with sessions() as session:
        await f.save(session, row)
    return row


async def _row(sessions: Sessions, complaint_id: uuid.UUID) -> Complaint:
    async with sessions() as session:
        row = await session.get(Complaint, complaint_id)
        assert row is not None
        return row


async def _events(sessions: Sessions, complaint_id: uuid.UUID | None = None) -> list[Any]:
    stmt = select(ComplaintEvent.complaint_id, ComplaintEvent.type, ComplaintEvent.key)
    if complaint_id is not None:
        stmt = stmt.where(ComplaintEvent.complaint_id == complaint_id)
    async with sessions() as session:
        return list((await session.execute(stmt.order_by(ComplaintEvent.occurred_at))).all())


async def _audits(sessions: Sessions) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditLog.action, AuditLog.entity_id)
            .where(AuditLog.action.like("complaint.%"))
            .order_by(AuditLog.occurred_at)
        )
        return [(action, entity) for action, entity in rows.all()]


async def _notified(sessions: Sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(UserAccount.username, Notification.kind)
            .join(Notification, Notification.user_id == UserAccount.id)
            .order_by(UserAccount.username, Notification.kind)
        )
        return [(name, kind) for name, kind in rows.all()]


def test_the_clock_job_runs_every_30_seconds(settings_factory: Callable[..., Settings]) -> None:
    runtime = SimpleNamespace(
        settings=settings_factory(), providers=SimpleNamespace(whatsapp_template_source=None)
    )
    schedule = {job.function.__name__: job for job in cron_jobs(runtime)}  # type: ignore[arg-type]
    job = schedule["keep_complaint_clocks"]
    assert job.cron == "* * * * * */30"
    assert job.timeout == tasks.CLOCK_TIMEOUT


async def test_nothing_fires_before_the_warning_time(app: FastAPI) -> None:
    sessions = _sessions(app)
    row = await _complaint(sessions)
    assert row.warn_at == WARN.astimezone(UTC)
    assert row.due_at == DUE.astimezone(UTC)
    result = await _run(sessions, WARN - timedelta(seconds=1))
    assert result.fired == []
    assert await _events(sessions) == []


async def test_the_warning_fires_once_and_notifies_the_owner_and_the_teams_supervisors(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    ana = await auth.user(sessions, "ana", Role.AGENT)
    sup = await auth.user(sessions, "sup", Role.SUPERVISOR)
    await auth.user(sessions, "other-sup", Role.SUPERVISOR)
    team = Team(id=uuid.uuid4(), name="Tarjetas")
    async with sessions() as session:
        await f.save(
            session,
            team,
            TeamMember(team_id=team.id, user_id=sup.id),
            TeamMember(team_id=team.id, user_id=ana.id),
        )
    row = await _complaint(sessions, owner="ana", team_id=team.id)
    with app.state.runtime.events.subscribe() as notices:
        for _ in range(3):
            await _run(sessions, WARN + timedelta(minutes=1))
        heard = [notices.get_nowait() for _ in range(notices.qsize())]
    after = await _row(sessions, row.id)
    assert after.warned_at == (WARN + timedelta(minutes=1)).astimezone(UTC)
    assert after.status is ComplaintStatus.OPEN
    assert after.auto_escalated_at is None
    assert after.overdue_at is None
    assert await _events(sessions, row.id) == [(row.id, "warned", f"{row.id}:warned")]
    assert await _audits(sessions) == [("complaint.warned", str(row.id))]
    # The owner and the supervisors of the case's team: not the other team's supervisor.
    assert await _notified(sessions) == [
        ("ana", "complaint.warning"),
        ("sup", "complaint.warning"),
    ]
    # No linked conversation: one notice for the processes, naming the complaint only.
    assert [n for n in heard if n.get("complaintId") == str(row.id)] == [
        {"type": "complaint.warned", "complaintId": str(row.id)}
    ]


async def test_the_escalation_goes_to_the_responsable_once_with_its_event_audit_and_notice(
    app: FastAPI,
) -> None:
    sessions = _sessions(app)
    await auth.user(sessions, RESPONSABLE, Role.SUPERVISOR)
    await auth.user(sessions, "ana", Role.AGENT)
    chat = f.interaction()
    row = f.complaint(OPENED, owner="ana", status=ComplaintStatus.IN_PROGRESS)
    async with sessions() as session:
        await f.save(
            session,
            chat,
            row,
            ComplaintInteraction(complaint_id=row.id, interaction_id=chat.id, linked_by="ana"),
        )
    with app.state.runtime.events.subscribe() as notices:
        first = await _run(sessions, ESCALATE + timedelta(seconds=5))
        again = await _run(sessions, ESCALATE + timedelta(hours=1))
        heard = [notices.get_nowait() for _ in range(notices.qsize())]
    # The warning's time had passed as well: both fire, in order, once.
    assert [(x.complaint_id, x.step) for x in first.fired] == [
        (row.id, "warned"),
        (row.id, "escalated"),
    ]
    assert again.fired == []
    after = await _row(sessions, row.id)
    assert after.status is ComplaintStatus.ESCALATED
    assert after.escalated_to == RESPONSABLE
    assert (
        after.escalated_at
        == after.auto_escalated_at
        == (ESCALATE + timedelta(seconds=5)).astimezone(UTC)
    )
    assert after.overdue_at is None
    # One transaction: both events at the same moment.
    assert sorted(e.type for e in await _events(sessions, row.id)) == ["escalated", "warned"]
    async with sessions() as session:
        event = (
            await session.scalars(
                select(ComplaintEvent).where(ComplaintEvent.key == f"{row.id}:escalated")
            )
        ).one()
    assert event.actor == "system"
    assert event.data == {
        "escalateAt": ESCALATE.astimezone(UTC).isoformat(),
        "dueAt": DUE.astimezone(UTC).isoformat(),
        "from": "IN_PROGRESS",
        "to": RESPONSABLE,
        "automatic": True,
    }
    assert sorted(await _audits(sessions)) == [
        ("complaint.escalated", str(row.id)),
        ("complaint.warned", str(row.id)),
    ]
    # The responsable (a supervisor: every supervisor hears of a case in no team) and the owner.
    assert await _notified(sessions) == [
        ("ana", "complaint.escalated"),
        ("ana", "complaint.warning"),
        (RESPONSABLE, "complaint.escalated"),
        (RESPONSABLE, "complaint.warning"),
    ]
    async with sessions() as session:
        links = (await session.scalars(select(Notification.interaction_id))).all()
    assert set(links) == {chat.id}
    # On the linked conversation, heard by the case's owner.
    mine = [n for n in heard if n.get("complaintId") == str(row.id)]
    assert [n["type"] for n in mine] == ["complaint.warned", "complaint.escalated"]
    assert all(n["interactionId"] == str(chat.id) for n in mine)


async def test_overdue_is_flagged_once_and_the_status_stays(app: FastAPI) -> None:
    sessions = _sessions(app)
    # Escalated by a person before: no warning nor automatic escalation any more, but overdue.
    row = await _complaint(
        sessions,
        status=ComplaintStatus.ESCALATED,
        escalated_at=(OPENED + timedelta(days=1)).astimezone(UTC),
        escalated_to="gerente",
    )
    for _ in range(2):
        await _run(sessions, DUE - timedelta(seconds=1))
    assert await _events(sessions, row.id) == []
    for _ in range(3):
        await _run(sessions, DUE)
    after = await _row(sessions, row.id)
    assert after.status is ComplaintStatus.ESCALATED
    assert after.escalated_to == "gerente"
    assert after.overdue_at == DUE.astimezone(UTC)
    assert after.warned_at is None
    assert after.auto_escalated_at is None
    assert await _events(sessions, row.id) == [(row.id, "overdue", f"{row.id}:overdue")]
    assert await _audits(sessions) == [("complaint.overdue", str(row.id))]


@pytest.mark.parametrize("status", NEVER_FIRE, ids=lambda s: s.value)
async def test_answered_closed_reported_discarded_and_draft_complaints_never_fire(
    app: FastAPI, status: ComplaintStatus
) -> None:
    sessions = _sessions(app)
    row = await _complaint(
        sessions, status=status, answered_at=(OPENED + timedelta(days=2)).astimezone(UTC)
    )
    result = await _run(sessions, DUE + timedelta(days=30))
    assert result.fired == []
    assert result.looked == 0
    after = await _row(sessions, row.id)
    assert (after.warned_at, after.auto_escalated_at, after.overdue_at) == (None, None, None)
    assert after.status is status
    assert await _events(sessions) == []
    assert await _audits(sessions) == []


async def test_an_answer_before_the_due_time_stops_the_clock(app: FastAPI) -> None:
    sessions = _sessions(app)
    row = await _complaint(sessions)
    await _run(sessions, WARN + timedelta(minutes=1))
    async with sessions() as session:
        found = await session.get(Complaint, row.id)
        assert found is not None
        found.status = ComplaintStatus.ANSWERED
        found.answered_at = (WARN + timedelta(hours=1)).astimezone(UTC)
        await session.commit()
    await _run(sessions, DUE + timedelta(days=1))
    assert [e.type for e in await _events(sessions, row.id)] == ["warned"]


async def test_four_racing_runs_fire_each_step_once(app: FastAPI) -> None:
    sessions = _sessions(app)
    await auth.user(sessions, RESPONSABLE, Role.SUPERVISOR)
    rows = [await _complaint(sessions) for _ in range(5)]
    results = await asyncio.gather(*(_run(sessions, DUE + timedelta(hours=1)) for _ in range(4)))
    assert sum(len(r.fired) for r in results) == 15
    assert all(r.failed == [] for r in results)
    for row in rows:
        events = await _events(sessions, row.id)
        assert sorted(e.type for e in events) == ["escalated", "overdue", "warned"]
        after = await _row(sessions, row.id)
        assert after.status is ComplaintStatus.ESCALATED
    assert len(await _audits(sessions)) == 15
    async with sessions() as session:
        # The responsable, once per step and complaint (no owner, no team).
        assert await session.scalar(select(func.count()).select_from(Notification)) == 15


async def test_a_complaint_that_fails_is_logged_skipped_and_fired_on_the_next_run(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = _sessions(app)
    bad = await _complaint(sessions, customer_phone="+5491155550001")
    good = await _complaint(sessions)
    real = clock_job.fire

    async def failing(session: AsyncSession, complaint_id: uuid.UUID, *args: Any) -> Any:
        fired = await real(session, complaint_id, *args)
        if complaint_id == bad.id:
            raise RuntimeError("boom +5491155550001")
        return fired

    monkeypatch.setattr(clock_job, "fire", failing)
    with capture_logs() as logs:
        monkeypatch.setattr(tasks, "log", structlog.get_logger(tasks.__name__))
        first = await _run(sessions, WARN + timedelta(minutes=1))
    assert first.failed == [bad.id]
    assert [x.complaint_id for x in first.fired] == [good.id]
    # Its transaction rolled back: nothing of it was kept.
    assert (await _row(sessions, bad.id)).warned_at is None
    assert await _events(sessions, bad.id) == []
    assert [e for e in logs if e["event"] == "complaint_clock_failed"] == [
        {
            "event": "complaint_clock_failed",
            "complaint_id": str(bad.id),
            "error": "RuntimeError",
            "log_level": "warning",
        }
    ]
    assert "0001" not in repr(logs)
    monkeypatch.setattr(clock_job, "fire", real)
    second = await _run(sessions, WARN + timedelta(minutes=2))
    assert [(x.complaint_id, x.step) for x in second.fired] == [(bad.id, "warned")]
    assert [e.type for e in await _events(sessions, good.id)] == ["warned"]


async def test_the_job_works_through_more_complaints_than_a_batch(app: FastAPI) -> None:
    sessions = _sessions(app)
    rows = [await _complaint(sessions) for _ in range(5)]
    result = await tasks.run(
        sessions, (WARN + timedelta(minutes=1)).astimezone(UTC), responsable=RESPONSABLE, batch=2
    )
    assert sorted(x.complaint_id for x in result.fired) == sorted(r.id for r in rows)
    assert result.looked == 5


async def test_the_cron_entry_reads_its_dependencies_from_the_context(app: FastAPI) -> None:
    sessions = _sessions(app)
    now = datetime.now(UTC)
    await _complaint(
        sessions,
        warn_at=now - timedelta(minutes=1),
        escalate_at=now + timedelta(days=1),
        due_at=now + timedelta(days=2),
    )
    deps = tasks.ComplaintJobDeps(settings=app.state.settings, sessions=sessions)
    assert await tasks.keep_complaint_clocks({"complaints": deps}) == {
        "looked": 1,
        "fired": 1,
        "failed": 0,
    }
    assert await tasks.keep_complaint_clocks({"complaints": deps}) == {
        "looked": 0,
        "fired": 0,
        "failed": 0,
    }
