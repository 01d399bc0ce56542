"""indexes for reads at a million interactions: date ranges, digit filters, the dashboard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

- interaction (started_at) now covers what date-range reads need on PostgreSQL (updated_at, id,
  channel, status, direction, assigned_agent, ai_handled): the list's dateFrom/dateTo page and the
  dashboard's day totals are read from the index alone;
- trigram (pg_trgm) GIN indexes on interaction.from_number and to_number serve the `from`/`to`
  filters, which match digits anywhere in a number (PostgreSQL only);
- message (interaction_id, direction, created_at) gives the first message of each direction of a
  conversation without visiting the table;
- call_detail (interaction_id) INCLUDE (duration_secs) for the average handle time (PostgreSQL).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = ["updated_at", "id", "channel", "status", "direction", "assigned_agent", "ai_handled"]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    postgresql = _postgresql()
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_started")
        batch_op.create_index(
            "ix_interaction_started", ["started_at"], unique=False, postgresql_include=COVERED
        )
    op.create_index(
        "ix_message_interaction_direction_created",
        "message",
        ["interaction_id", "direction", "created_at"],
        unique=False,
    )
    if postgresql:
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("from_number", "to_number"):
            name = "from" if column == "from_number" else "to"
            op.create_index(
                f"ix_interaction_{name}_trgm",
                "interaction",
                [column],
                unique=False,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
        op.create_index(
            "ix_call_detail_interaction_duration",
            "call_detail",
            ["interaction_id"],
            unique=False,
            postgresql_include=["duration_secs"],
        )


def downgrade() -> None:
    if _postgresql():
        op.drop_index("ix_call_detail_interaction_duration", table_name="call_detail")
        op.drop_index("ix_interaction_to_trgm", table_name="interaction")
        op.drop_index("ix_interaction_from_trgm", table_name="interaction")
        # The extension stays: other objects of the database may use it.
    op.drop_index("ix_message_interaction_direction_created", table_name="message")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_started")
        batch_op.create_index("ix_interaction_started", ["started_at"], unique=False)
