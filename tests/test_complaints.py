"""Complaints: the deadlines on the business calendar, and the draft a TICKETED call opens once
(docs/complaints.md)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.business_time import BusinessCalendar
from contact_center.complaints.clock import deadlines
from contact_center.complaints.service import draft_from_call
from contact_center.models import (
    AuditLog,
    Complaint,
    ComplaintEvent,
    ComplaintInteraction,
    Interaction,
)
from contact_center.models.enums import ComplaintSource, ComplaintStatus
from contact_center.settings import Settings
from tests.deliveries import post_elevenlabs, transcription
from tests.test_webhooks_calls import call_of

BA = ZoneInfo("America/Argentina/Buenos_Aires")
CALENDAR = BusinessCalendar.weekdays()
RULE = {"answer_days": 10, "warn_days": 2, "escalate_after_days": 7}


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BA)


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BA)


# --- deadlines --------------------------------------------------------------------------------


def test_ten_business_days_across_christmas_new_year_and_weekends() -> None:
    assert CALENDAR.holiday_name(date(2026, 12, 25)) is not None
    assert CALENDAR.holiday_name(date(2027, 1, 1)) is not None
    found = deadlines(at(date(2026, 12, 23)), CALENDAR, **RULE)
    # 24, 28, 29, 30, 31 Dec; 4, 5, 6, 7, 8 Jan (25 Dec, 1 Jan and the weekends skipped).
    assert found.due_at == end_of(date(2027, 1, 8))
    assert found.warn_at == at(date(2027, 1, 6), 9)  # 2 business days before, when it opens
    assert found.escalate_at == end_of(date(2027, 1, 5))  # after 7 business days


def test_opened_on_a_saturday_counts_from_monday() -> None:
    found = deadlines(at(date(2026, 11, 14), 22), CALENDAR, **RULE)
    # Mon 16 … Fri 27 Nov 2026, with Monday 23 Nov (Soberanía Nacional, moved) a holiday.
    assert CALENDAR.holiday_name(date(2026, 11, 23)) is not None
    assert found.due_at == end_of(date(2026, 11, 30))


def test_opened_late_at_night_is_still_that_day_in_buenos_aires() -> None:
    # 02:00 UTC on Thursday is 23:00 on Wednesday in Buenos Aires.
    opened = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    found = deadlines(opened, CALENDAR, answer_days=1, warn_days=0, escalate_after_days=0)
    assert found.due_at == end_of(date(2026, 3, 5))
    assert found.escalate_at is None


def test_the_banks_own_closed_days_move_the_deadline() -> None:
    closed = BusinessCalendar.weekdays(closed_days=frozenset({date(2026, 12, 24)}))
    found = deadlines(at(date(2026, 12, 23)), closed, **RULE)
    assert found.due_at == end_of(date(2027, 1, 11))


def test_settings_change_the_rule() -> None:
    found = deadlines(
        at(date(2026, 6, 1)), CALENDAR, answer_days=5, warn_days=1, escalate_after_days=9
    )
    assert found.escalate_at is None  # not before the due date
    assert found.due_at > found.warn_at


@examples(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=0, max_value=10),
    st.integers(min_value=0, max_value=30),
)
def test_deadlines_hold_for_any_opening(
    opened: datetime, answer: int, warn: int, escalate: int
) -> None:
    opened_at = opened.replace(tzinfo=UTC)
    found = deadlines(
        opened_at, CALENDAR, answer_days=answer, warn_days=warn, escalate_after_days=escalate
    )
    opened_day = opened_at.astimezone(BA).date()
    due_day = (found.due_at - timedelta(microseconds=1)).astimezone(BA).date()
    assert CALENDAR.is_working_day(due_day)
    assert CALENDAR.business_days_between(opened_day, due_day) == answer
    assert opened_at < found.warn_at < found.due_at
    assert CALENDAR.is_open(found.warn_at)
    if found.escalate_at is not None:
        assert opened_at < found.escalate_at < found.due_at


# --- the draft of a TICKETED call -------------------------------------------------------------


def ticketed(conversation_id: str) -> dict[str, Any]:
    payload = transcription(conversation_id)
    payload["data"]["analysis"]["data_collection_results"]["ticket_id"] = {"value": "T-991"}
    return payload


async def drafts(sessions: async_sessionmaker[AsyncSession]) -> list[Complaint]:
    async with sessions() as session:
        return list((await session.scalars(select(Complaint))).all())


async def test_a_ticketed_call_opens_one_draft_and_a_repeated_webhook_none(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    payload = ticketed("conv_ticket")
    assert (await post_elevenlabs(client, payload)).status_code == 200
    again = ticketed("conv_ticket")
    again["event_timestamp"] += 1  # a different delivery of the same call
    assert (await post_elevenlabs(client, again)).status_code == 200
    call = await call_of(client, "conv_ticket")
    assert call["outcome"] == "TICKETED"
    (draft,) = await drafts(session_factory)
    assert draft.status is ComplaintStatus.DRAFT
    assert draft.source is ComplaintSource.CALL_OUTCOME
    assert draft.source_key == f"call-outcome:{call['id']}"
    assert draft.number is None
    assert draft.description.startswith("The caller asked")
    assert draft.customer_phone == "+5491155551234"
    async with session_factory() as session:
        links = (await session.scalars(select(ComplaintInteraction))).all()
        assert [str(link.interaction_id) for link in links] == [call["id"]]
        events = (await session.scalars(select(ComplaintEvent.type))).all()
        assert events == ["drafted"]
        audits = await session.scalar(
            select(func.count()).where(AuditLog.action == "complaint.drafted")
        )
        assert audits == 1
    # The draft shows on the call.
    listed = await client.get(f"/api/interactions/{call['id']}/complaints")
    assert [c["status"] for c in listed.json()] == ["DRAFT"]


async def test_racing_refreshes_of_a_ticketed_call_open_one_draft(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """The webhook and the periodic sync (a refresh) may apply the same call at once: the
    unique source key lets one draft in."""
    await post_elevenlabs(client, transcription("conv_race"))
    call = await call_of(client, "conv_race")

    async def refresh() -> bool:
        async with session_factory() as session:
            interaction = await session.get(Interaction, uuid.UUID(call["id"]))
            assert interaction is not None
            made = await draft_from_call(
                session, settings, interaction, summary="Reclamo", ticket="T-1"
            )
            await session.commit()
            return made is not None

    made = await asyncio.gather(*(refresh() for _ in range(4)))
    assert sorted(made) == [False, False, False, True]
    assert await refresh() is False
    assert len(await drafts(session_factory)) == 1


@pytest.mark.parametrize("outcome_change", ["needs_human", "none"])
async def test_other_outcomes_open_no_draft(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    outcome_change: str,
) -> None:
    payload = transcription("conv_plain")
    if outcome_change == "needs_human":
        payload["data"]["analysis"]["data_collection_results"]["needs_human"] = {"value": True}
    await post_elevenlabs(client, payload)
    assert await drafts(session_factory) == []
