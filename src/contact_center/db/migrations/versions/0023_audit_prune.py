"""audit prune: prune points, and the append-only guards let the retention purge remove a
pruned prefix of the audit chain

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07

docs/audit-chain.md ("Pruning"). `audit_prune` is append-only. audit_log and audit_seal stay
append-only except for a DELETE of a row whose link is at or before the latest prune point
(audit_seal's link to its row becomes deferrable: the purge removes rows and links in one
transaction). No table is rebuilt: the triggers are replaced in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
FK = "fk_audit_seal_audit_id_audit_log"


def upgrade() -> None:
    op.create_table(
        "audit_prune",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("cutoff", WHEN, nullable=False),
        sa.Column("pruned_at", WHEN, nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_prune")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_seal ALTER CONSTRAINT {FK} DEFERRABLE INITIALLY IMMEDIATE")
        op.execute(
            """
            CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (
                    SELECT 1 FROM audit_seal s
                    WHERE s.audit_id = OLD.id AND s.seq <= (SELECT max(seq) FROM audit_prune)
                ) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit_log is append-only';
            END;
            $$
            """
        )
        op.execute(
            """
            CREATE FUNCTION audit_seal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND OLD.seq <= (SELECT max(seq) FROM audit_prune) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit_seal is append-only';
            END;
            $$
            """
        )
        op.execute("DROP TRIGGER audit_seal_no_update_delete ON audit_seal")
        op.execute(
            "CREATE TRIGGER audit_seal_no_update_delete BEFORE UPDATE OR DELETE ON audit_seal "
            "FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_prune_no_update_delete BEFORE UPDATE OR DELETE ON audit_prune "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only()"
        )
        return
    # SQLite: foreign keys are deferred per transaction (PRAGMA defer_foreign_keys) instead.
    op.execute("DROP TRIGGER audit_log_no_delete")
    op.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log WHEN NOT EXISTS ("
        "SELECT 1 FROM audit_seal s WHERE s.audit_id = OLD.id "
        "AND s.seq <= (SELECT max(seq) FROM audit_prune)) "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    op.execute("DROP TRIGGER audit_seal_no_delete")
    op.execute(
        "CREATE TRIGGER audit_seal_no_delete BEFORE DELETE ON audit_seal "
        "WHEN OLD.seq > coalesce((SELECT max(seq) FROM audit_prune), 0) "
        "BEGIN SELECT RAISE(ABORT, 'audit_seal is append-only'); END"
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_prune_no_{verb.lower()} BEFORE {verb} ON audit_prune "
            "BEGIN SELECT RAISE(ABORT, 'audit_prune is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_prune_no_update_delete ON audit_prune")
        op.execute("DROP TRIGGER audit_seal_no_update_delete ON audit_seal")
        op.execute(
            "CREATE TRIGGER audit_seal_no_update_delete BEFORE UPDATE OR DELETE ON audit_seal "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only()"
        )
        op.execute("DROP FUNCTION audit_seal_append_only()")
        op.execute(
            """
            CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END;
            $$
            """
        )
        op.execute(
            f"ALTER TABLE audit_seal ALTER CONSTRAINT {FK} NOT DEFERRABLE INITIALLY IMMEDIATE"
        )
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_prune_no_{verb}")
        op.execute("DROP TRIGGER audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
        op.execute("DROP TRIGGER audit_seal_no_delete")
        op.execute(
            "CREATE TRIGGER audit_seal_no_delete BEFORE DELETE ON audit_seal "
            "BEGIN SELECT RAISE(ABORT, 'audit_seal is append-only'); END"
        )
    op.drop_table("audit_prune")
