"""webhook_delivery.event_family: repeats of a body found by an index, not a prefix scan

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

BuilderBot deliveries carry no id: the body's digest is their identity, and a body received again
after the repeat window is stored as `digest:2`, `digest:3`… Finding the newest of a digest was a
`LIKE 'digest:%'` that no index served (the collation is not C), so every BuilderBot delivery read
every BuilderBot row of the ledger. The digest now has its own indexed column; existing rows are
filled from their keys.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_family", sa.String(length=128), nullable=True))
        batch_op.create_index(
            "ix_webhook_delivery_family",
            ["provider", "event_family", "received_at"],
            unique=False,
        )
    # The digest is the key up to its first ':'. Every BuilderBot key but the unparseable
    # bodies' `invalid:…` is a digest or `digest:n`, whatever the row's status now (a stored body
    # that failed to parse on a replay is INVALID under its digest key, and still takes it).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE webhook_delivery SET event_family = split_part(event_key, ':', 1) "
            "WHERE provider = 'BUILDERBOT' AND substr(event_key, 1, 8) <> 'invalid:'"
        )
    else:
        op.execute(
            "UPDATE webhook_delivery SET event_family = CASE WHEN instr(event_key, ':') > 0 "
            "THEN substr(event_key, 1, instr(event_key, ':') - 1) ELSE event_key END "
            "WHERE provider = 'BUILDERBOT' AND substr(event_key, 1, 8) <> 'invalid:'"
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_family")
        batch_op.drop_column("event_family")
