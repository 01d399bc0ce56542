"""inbox: how long each customer has waited for an answer, and each person's read marks

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

`interaction.waiting_since` is filled for open conversations from their messages: the oldest
customer message after the last message of ours.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_interaction_status_waiting", ["status", "waiting_since"], unique=False
        )
    op.execute(
        """
        UPDATE interaction SET waiting_since = (
            SELECT min(m.created_at) FROM message m
            WHERE m.interaction_id = interaction.id AND m.direction = 'INBOUND'
              AND NOT EXISTS (
                SELECT 1 FROM message o
                WHERE o.interaction_id = m.interaction_id AND o.direction = 'OUTBOUND'
                  AND o.created_at > m.created_at))
        WHERE status IN ('NEW', 'IN_PROGRESS')
        """
    )
    op.create_table(
        "read_mark",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_message_id", sa.Uuid(), nullable=True),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_read_mark_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_read_mark_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "interaction_id", name=op.f("pk_read_mark")),
    )
    with op.batch_alter_table("read_mark", schema=None) as batch_op:
        batch_op.create_index("ix_read_mark_interaction", ["interaction_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("read_mark", schema=None) as batch_op:
        batch_op.drop_index("ix_read_mark_interaction")
    op.drop_table("read_mark")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_status_waiting")
        batch_op.drop_column("waiting_since")
