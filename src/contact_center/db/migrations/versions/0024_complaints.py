"""complaints: the case, its conversations and its timeline

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

docs/complaints.md describes the tables.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


STATUSES = (
    "DRAFT",
    "OPEN",
    "IN_PROGRESS",
    "ANSWERED",
    "ESCALATED",
    "REPORTED",
    "CLOSED",
    "DISCARDED",
)


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("status", _enum("complaint_status", *STATUSES), nullable=False),
        sa.Column(
            "source", _enum("complaint_source", "CALL_OUTCOME", "CONSOLE", "API"), nullable=False
        ),
        sa.Column("source_key", sa.String(length=128), nullable=True),
        sa.Column("customer_phone", sa.String(length=32), nullable=True),
        sa.Column("customer_ref", sa.String(length=128), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount_disputed", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("priority", _enum("priority", "LOW", "NORMAL", "HIGH", "URGENT"), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("opened_at", WHEN, nullable=True),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("warn_at", WHEN, nullable=True),
        sa.Column("escalate_at", WHEN, nullable=True),
        sa.Column("warned_at", WHEN, nullable=True),
        sa.Column("auto_escalated_at", WHEN, nullable=True),
        sa.Column("overdue_at", WHEN, nullable=True),
        sa.Column("notice_message_id", sa.Uuid(), nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answer_message_id", sa.Uuid(), nullable=True),
        sa.Column("escalated_at", WHEN, nullable=True),
        sa.Column("escalated_to", sa.String(length=128), nullable=True),
        sa.Column("reported_at", WHEN, nullable=True),
        sa.Column("regulator_reference", sa.String(length=64), nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_complaint_team_id_team"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["notice_message_id"],
            ["message.id"],
            name=op.f("fk_complaint_notice_message_id_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answer_message_id"],
            ["message.id"],
            name=op.f("fk_complaint_answer_message_id_message"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("number", name=op.f("uq_complaint_number")),
        sa.UniqueConstraint("source_key", name=op.f("uq_complaint_source_key")),
    )
    op.create_index("ix_complaint_status_due", "complaint", ["status", "due_at"])
    op.create_index("ix_complaint_team_status", "complaint", ["team_id", "status"])
    op.create_index("ix_complaint_customer_phone", "complaint", ["customer_phone"])
    op.create_index("ix_complaint_customer_ref", "complaint", ["customer_ref"])
    op.create_index("ix_complaint_opened", "complaint", ["opened_at"])

    op.create_table(
        "complaint_interaction",
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("linked_by", sa.String(length=128), nullable=False),
        sa.Column("linked_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_interaction_complaint_id_complaint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_complaint_interaction_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "complaint_id", "interaction_id", name=op.f("pk_complaint_interaction")
        ),
    )
    op.create_index(
        "ix_complaint_interaction_interaction", "complaint_interaction", ["interaction_id"]
    )

    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("data", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_event_complaint_id_complaint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
        sa.UniqueConstraint("key", name=op.f("uq_complaint_event_key")),
    )
    op.create_index(
        "ix_complaint_event_complaint", "complaint_event", ["complaint_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_complaint_event_complaint", table_name="complaint_event")
    op.drop_table("complaint_event")
    op.drop_index("ix_complaint_interaction_interaction", table_name="complaint_interaction")
    op.drop_table("complaint_interaction")
    for name in (
        "ix_complaint_opened",
        "ix_complaint_customer_ref",
        "ix_complaint_customer_phone",
        "ix_complaint_team_status",
        "ix_complaint_status_due",
    ):
        op.drop_index(name, table_name="complaint")
    op.drop_table("complaint")
