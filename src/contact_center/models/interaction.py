from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, new_id, utcnow
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    Outcome,
    Priority,
    Provider,
)


def str_enum(enum: type, name: str, *, constraint: bool = True) -> Enum:
    """A string column limited to the enum's values by a CHECK constraint (portable). Without
    `constraint`, the values are checked when written through the model only (a column that
    predates its enum)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=constraint,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def trigram_index(column: str) -> Index:
    """The `from`/`to` filters and search match digits anywhere in a number: a trigram
    (pg_trgm) GIN index serves that LIKE '%…%' on PostgreSQL; SQLite scans."""
    name = f"ix_interaction_{column.removesuffix('_number')}_trgm"
    return Index(
        name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
    ).ddl_if(dialect="postgresql")


class Interaction(Base):
    __tablename__ = "interaction"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    status: Mapped[InteractionStatus] = mapped_column(
        str_enum(InteractionStatus, "interaction_status"), default=InteractionStatus.NEW
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_number: Mapped[str | None] = mapped_column("from_number", String(32))
    to_number: Mapped[str | None] = mapped_column("to_number", String(32))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[Provider] = mapped_column(str_enum(Provider, "provider"))
    provider_conversation_id: Mapped[str | None] = mapped_column(String(128))
    assigned_agent: Mapped[str | None] = mapped_column(String(128))
    customer_ref: Mapped[str | None] = mapped_column(String(128))
    queue: Mapped[str | None] = mapped_column(String(128))
    intent: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "outcome"))
    ai_handled: Mapped[bool] = mapped_column(default=False)
    # The last message in either direction: what WhatsApp's 24-hour grouping looks at.
    last_message_at: Mapped[datetime | None]
    # The conversation workflow (docs/workflow.md): the team whose queue holds it, when it
    # entered that queue (NULL: not waiting for a person), when its person was assigned, until
    # when it sleeps, how it was resolved, and how urgent it is.
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    queued_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    resolution_code: Mapped[str | None] = mapped_column(String(64))
    # The inbox (docs/inbox.md): when the customer's oldest unanswered message arrived; NULL when
    # the last message is ours (a person's or the bot's) or there is none.
    waiting_since: Mapped[datetime | None]
    priority: Mapped[Priority] = mapped_column(
        str_enum(Priority, "priority"),
        default=Priority.NORMAL,
        server_default=Priority.NORMAL.value,
    )

    __table_args__ = (
        UniqueConstraint("provider", "provider_conversation_id"),
        # The list is ordered by updatedAt desc, id desc; each common filter gets an index that
        # also serves that ordering.
        Index("ix_interaction_updated", "updated_at", "id"),
        Index("ix_interaction_channel_updated", "channel", "updated_at", "id"),
        Index("ix_interaction_status_updated", "status", "updated_at", "id"),
        Index("ix_interaction_agent_updated", "assigned_agent", "updated_at", "id"),
        Index("ix_interaction_customer_phone", "customer_phone", "started_at"),
        # Date-range reads (the list's dateFrom/dateTo, the dashboard's day, its per-channel
        # figures included) read everything they need from this index on PostgreSQL, without
        # visiting the table.
        Index(
            "ix_interaction_started",
            "started_at",
            postgresql_include=[
                "updated_at",
                "id",
                "channel",
                "status",
                "direction",
                "assigned_agent",
                "ai_handled",
                "team_id",
            ],
        ),
        # Counts by status or channel alone (hundreds of thousands of rows at a million): one
        # low-cardinality column deduplicates to a few MB, where the indexes above are tens.
        Index("ix_interaction_status", "status"),
        Index("ix_interaction_channel", "channel"),
        Index("ix_interaction_customer_ref", "customer_ref"),
        Index("ix_interaction_queue", "queue"),
        Index("ix_interaction_outcome", "outcome"),
        Index("ix_interaction_provider", "provider", "updated_at"),
        Index(
            "ix_interaction_channel_customer_last", "channel", "customer_phone", "last_message_at"
        ),
        trigram_index("from_number"),
        trigram_index("to_number"),
        # Search: digits anywhere in the customer's number (docs/inbox.md, "Search").
        trigram_index("customer_phone"),
        # The queues: waiting conversations of a team, oldest first.
        Index(
            "ix_interaction_waiting",
            "team_id",
            "queued_at",
            postgresql_where=text("queued_at IS NOT NULL"),
            sqlite_where=text("queued_at IS NOT NULL"),
        ),
        # An agent's load: their open conversations per channel.
        Index("ix_interaction_agent_status", "assigned_agent", "status", "channel"),
        # The inbox's open conversations, longest waiting first.
        Index("ix_interaction_status_waiting", "status", "waiting_since"),
        Index(
            "ix_interaction_snoozed",
            "snoozed_until",
            postgresql_where=text("snoozed_until IS NOT NULL"),
            sqlite_where=text("snoozed_until IS NOT NULL"),
        ),
    )


class InteractionLabel(Base):
    """A label on a conversation (lower-case words the team agrees on: `fraude`, `tarjeta`)."""

    __tablename__ = "interaction_label"

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(50), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_interaction_label_label", "label"),)
