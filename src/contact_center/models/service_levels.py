"""Business calendars, service-level policies and each conversation's due times
(docs/service-levels.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id, utcnow
from contact_center.models.enums import Channel, Priority, SlaAction, SlaState
from contact_center.models.interaction import str_enum


class BusinessHours(Base):
    """When a team works (team_id NULL: the bank's default, for teams without their own)."""

    __tablename__ = "business_hours"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), unique=True
    )
    # An IANA zone, e.g. America/Argentina/Buenos_Aires.
    zone: Mapped[str] = mapped_column(String(64))
    # {"0": [["09:00", "18:00"]], … "6": []}: weekday (Monday 0) → local opening intervals.
    hours: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # Whose national holidays close it (the `holidays` package's country code; NULL: none).
    holiday_country: Mapped[str | None] = mapped_column(String(8), default="AR")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClosedDay(Base):
    """A day the bank does not work besides the national holidays (every team)."""

    __tablename__ = "closed_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaPolicy(Base):
    """Targets in business seconds for the conversations it matches: every given criterion
    (NULL: any); the most specific enabled match wins, then the lowest `position`."""

    __tablename__ = "sla_policy"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel, "channel"))
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority"))
    # Targets in business seconds (NULL: not timed).
    first_response_secs: Mapped[int | None] = mapped_column(Integer)
    next_response_secs: Mapped[int | None] = mapped_column(Integer)
    resolution_secs: Mapped[int | None] = mapped_column(Integer)
    # The clock stops while the last message is ours (waiting on the customer).
    pause_while_waiting_on_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    breach_action: Mapped[SlaAction] = mapped_column(
        str_enum(SlaAction, "sla_action"), default=SlaAction.NOTIFY
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_sla_policy_position", "position"),)


class ConversationSla(Base):
    """One conversation's clocks under its policy: due times, when each target was met, and
    each target's state. Kept by the service-level job (docs/service-levels.md)."""

    __tablename__ = "conversation_sla"

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_policy.id", ondelete="SET NULL")
    )
    first_response_due_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    first_response_state: Mapped[SlaState | None] = mapped_column(
        str_enum(SlaState, "first_response_state")
    )
    # The pending customer message's reply: due time and state (the next one starts anew).
    next_response_due_at: Mapped[datetime | None]
    next_response_state: Mapped[SlaState | None] = mapped_column(
        str_enum(SlaState, "next_response_state")
    )
    # Every next response timed so far, and how many were met in time.
    next_responses: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_responses_met: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    resolution_due_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution_state: Mapped[SlaState | None] = mapped_column(
        str_enum(SlaState, "resolution_state")
    )
    # Business seconds the clocks stood still (snoozed; waiting on the customer if the policy
    # says so), and since when they stand still now (NULL: running).
    paused_secs: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    paused_since: Mapped[datetime | None]
    # The earliest moment the job must look at this conversation again (a warning or a due).
    next_check_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index(
            "ix_conversation_sla_next_check",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
        Index("ix_conversation_sla_updated", "updated_at"),
    )
