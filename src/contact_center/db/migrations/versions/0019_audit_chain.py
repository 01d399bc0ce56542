"""audit chain: the audit rows' mac, their seals (a hash chain) and the daily checkpoints

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

docs/audit-chain.md describes the tables. Like audit_log, audit_seal and audit_checkpoint are
append-only: the database refuses UPDATE and DELETE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
GUARDED = ("audit_seal", "audit_checkpoint")


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite): audit_log's append-only triggers stay.
    op.add_column("audit_log", sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_seal",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_audit_seal_audit_id_audit_log")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("audit_id", name=op.f("uq_audit_seal_audit_id")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoint")),
    )
    op.create_index("ix_audit_checkpoint_day", "audit_checkpoint", ["day"], unique=False)
    _create_guards()


def downgrade() -> None:
    _drop_guards()
    op.drop_index("ix_audit_checkpoint_day", table_name="audit_checkpoint")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_seal")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_log", "mac")
    else:  # SQLite ≥ 3.35 drops a plain column in place (the triggers stay)
        op.execute("ALTER TABLE audit_log DROP COLUMN mac")


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_chain_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$
            """
        )
        for table in GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only()"
            )
        return
    for table in GUARDED:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_append_only()")
        return
    for table in GUARDED:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
