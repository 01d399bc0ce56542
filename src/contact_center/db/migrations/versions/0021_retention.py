"""retention: when each data class of a row was erased (docs/data-lifecycle.md, "Data classes")

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Plain ADD COLUMN (nullable, no default): instant on PostgreSQL, and on SQLite it keeps the
full-text triggers of `message` and `call_detail` (a batch rebuild would drop them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
COLUMNS = (
    ("message", "purged_at"),
    ("call_detail", "transcript_purged_at"),
    ("call_detail", "recording_purged_at"),
    ("interaction_event", "purged_at"),
    ("webhook_delivery", "purged_at"),
    ("otp_challenge", "purged_at"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, WHEN, nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.drop_column(table, column)
