"""webhook_delivery: raw_body_encoding, so bodies with NUL bytes or invalid UTF-8 are kept

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

A body a text column refuses (PostgreSQL takes no NUL character; neither takes invalid UTF-8)
is stored as base64 with raw_body_encoding = 'base64', so the ledger keeps every authenticated
delivery and a replay reads exactly the bytes received. NULL (every existing row) is text as
received.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_body_encoding", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_column("raw_body_encoding")
