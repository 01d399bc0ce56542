"""redaction: the vault of removed identifiers, the proofs, the history command's progress, and
the flag on a recording whose transcript held a card number or a security code

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

docs/redaction.md describes the tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "redaction_run",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_redaction_run")),
    )
    op.create_table(
        "redaction_vault",
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_redaction_vault")),
    )
    op.create_index("ix_redaction_vault_key", "redaction_vault", ["key_id"], unique=False)
    op.create_table(
        "redaction_proof",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=96), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("token", sa.String(length=40), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_redaction_proof_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redaction_proof")),
    )
    op.create_index(
        "ix_redaction_proof_interaction",
        "redaction_proof",
        ["interaction_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_redaction_proof_source", "redaction_proof", ["source"], unique=False)
    op.create_index("ix_redaction_proof_token", "redaction_proof", ["token"], unique=False)
    # A plain ADD COLUMN on both databases: a batch copy on SQLite would drop the full-text
    # triggers of call_detail.
    op.add_column(
        "call_detail",
        sa.Column("sensitive_audio", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("call_detail", "sensitive_audio")
    op.drop_index("ix_redaction_proof_token", table_name="redaction_proof")
    op.drop_index("ix_redaction_proof_source", table_name="redaction_proof")
    op.drop_index("ix_redaction_proof_interaction", table_name="redaction_proof")
    op.drop_table("redaction_proof")
    op.drop_index("ix_redaction_vault_key", table_name="redaction_vault")
    op.drop_table("redaction_vault")
    op.drop_table("redaction_run")
