"""interaction: single-column indexes on status and channel, for counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

Counting the interactions of one status or one channel reads hundreds of thousands of index
entries at a million rows. The (status, updated_at, id) and (channel, started_at) indexes hold
them in 40-56 MB; an index on the column alone deduplicates to about 7 MB (PostgreSQL 13+), and
the count reads that instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_interaction_status", "interaction", ["status"], unique=False)
    op.create_index("ix_interaction_channel", "interaction", ["channel"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_interaction_channel", table_name="interaction")
    op.drop_index("ix_interaction_status", table_name="interaction")
