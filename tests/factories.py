"""Arrange data through the real ORM and database (never a mock of our own database)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.business_time import BusinessCalendar
from contact_center.models import CallDetail, Interaction, InteractionEvent, Message, OtpChallenge
from contact_center.models.complaint import Complaint
from contact_center.models.enums import (
    Channel,
    ComplaintSource,
    ComplaintStatus,
    Direction,
    InteractionStatus,
    MessageStatus,
    OtpPurpose,
    OtpStatus,
    Provider,
)

BASE_TIME = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
_counter = itertools.count(1)


def interaction(**overrides: Any) -> Interaction:
    n = next(_counter)
    started = overrides.pop("started_at", BASE_TIME + timedelta(minutes=n))
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "channel": Channel.WHATSAPP,
        "direction": Direction.INBOUND,
        "status": InteractionStatus.IN_PROGRESS,
        "started_at": started,
        "created_at": started,
        "updated_at": started,
        "from_number": "+5491155551234",
        "to_number": "+5491152500001",
        "customer_phone": "+5491155551234",
        "provider": Provider.BUILDERBOT,
        "ai_handled": True,
    }
    values.update(overrides)
    return Interaction(**values)


def message(parent: Interaction, **overrides: Any) -> Message:
    created = overrides.pop("created_at", parent.started_at)
    values: dict[str, Any] = {
        "interaction_id": parent.id,
        "direction": Direction.INBOUND,
        "body": "Hola, quiero consultar mi saldo",
        "media": [],
        "status": MessageStatus.RECEIVED,
        "kind": "TEXT",
        "created_at": created,
        "updated_at": created,
    }
    values.update(overrides)
    return Message(**values)


def event(parent: Interaction, **overrides: Any) -> InteractionEvent:
    values: dict[str, Any] = {
        "interaction_id": parent.id,
        "type": "message.received",
        "occurred_at": parent.started_at,
        "payload": {"from": parent.from_number, "body": "hola"},
        "normalized": {"direction": "INBOUND"},
        "idempotency_key": f"test:{uuid.uuid4().hex}",
    }
    values.update(overrides)
    return InteractionEvent(**values)


def call_detail(parent: Interaction, **overrides: Any) -> CallDetail:
    values: dict[str, Any] = {
        "interaction_id": parent.id,
        "transcript": [
            {"role": "agent", "message": "Hola, ¿en qué puedo ayudarle?", "time_in_call_secs": 0},
            {"role": "user", "message": "Mi número es +54 9 11 5555-1234", "time_in_call_secs": 3},
        ],
        "summary": "El cliente consultó su saldo.",
        "duration_secs": 95,
        "has_audio": False,
    }
    values.update(overrides)
    return CallDetail(**values)


def otp(parent: Interaction | None, **overrides: Any) -> OtpChallenge:
    created = overrides.pop("created_at", BASE_TIME)
    values: dict[str, Any] = {
        "correlation_id": f"corr-{uuid.uuid4().hex}",
        "phone": "+5491155551234",
        "purpose": OtpPurpose.LOGIN_2FA,
        "status": OtpStatus.VERIFIED,
        "attempts": 1,
        "max_attempts": 5,
        "expires_at": created + timedelta(minutes=5),
        "interaction_id": parent.id if parent else None,
        "created_at": created,
        "updated_at": created,
    }
    values.update(overrides)
    return OtpChallenge(**values)


# The bank's default calendar: Monday to Friday 09:00-18:00 in Buenos Aires, closed on
# Argentina's national holidays.
BANK_CALENDAR = BusinessCalendar.weekdays()


def business_day_end(opened_at: datetime, days: int) -> datetime:
    """18:00 of the `days`-th business day after the day of `opened_at` (in the bank's zone)."""
    day = BANK_CALENDAR.add_business_days(opened_at.astimezone(BANK_CALENDAR.zone).date(), days)
    return datetime.combine(day, time(18), tzinfo=BANK_CALENDAR.zone).astimezone(UTC)


def complaint(at: datetime, **overrides: Any) -> Complaint:
    """An OPEN complaint opened at `at`, its clock on the bank's calendar: due at the end
    of the 10th business day, warned on the 8th, escalated on the 9th."""
    n = next(_counter)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "number": f"R-TEST-{n:06d}",
        "status": ComplaintStatus.OPEN,
        "source": ComplaintSource.CONSOLE,
        "customer_phone": "+5491155551234",
        "type": "CHARGE",
        "product": "CARD",
        "description": "Un cargo que no reconozco",
        "created_by": "ana",
        "created_at": at.astimezone(UTC),
        "updated_at": at.astimezone(UTC),
        "opened_at": at.astimezone(UTC),
        "due_at": business_day_end(at, 10),
        "warn_at": business_day_end(at, 8),
        "escalate_at": business_day_end(at, 9),
    }
    values.update(overrides)
    return Complaint(**values)


async def save(session: AsyncSession, *rows: Any) -> None:
    """Insert in the order given (parents first), then commit."""
    for row in rows:
        session.add(row)
        await session.flush()
    await session.commit()


async def customer_wrote(
    session: AsyncSession,
    phone: str = "+5491155551234",
    *,
    ago: timedelta = timedelta(minutes=5),
    customer_name: str | None = None,
) -> Interaction:
    """The customer wrote on WhatsApp `ago` (so the 24-hour window is open, or closed when
    `ago` is over 24 h): their conversation with that inbound message, committed."""
    at = datetime.now(UTC) - ago
    chat = interaction(
        customer_phone=phone,
        from_number=phone,
        started_at=at,
        last_message_at=at,
        customer_name=customer_name,
        ai_handled=False,
    )
    await save(session, chat, message(chat, created_at=at))
    return chat
