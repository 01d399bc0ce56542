"""data lifecycle: legal holds, data-subject requests, purge runs and the compliance role

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

docs/data-lifecycle.md describes the tables.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
OLD_ROLES = ("agent", "supervisor", "admin")
NEW_ROLES = (*OLD_ROLES, "compliance")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_user_role"), type_="check")
        batch_op.create_check_constraint("user_role", _in("role", NEW_ROLES))

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "scope", _enum("hold_scope", "CUSTOMER", "INTERACTION", "DATE_RANGE"), nullable=False
        ),
        sa.Column("customer_phone", sa.String(length=32), nullable=True),
        sa.Column("customer_ref", sa.String(length=128), nullable=True),
        sa.Column("interaction_id", sa.Uuid(), nullable=True),
        sa.Column("range_start", WHEN, nullable=True),
        sa.Column("range_end", WHEN, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ends_at", WHEN, nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("released_at", WHEN, nullable=True),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_legal_hold_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    op.create_index("ix_legal_hold_customer_phone", "legal_hold", ["customer_phone"])
    op.create_index("ix_legal_hold_customer_ref", "legal_hold", ["customer_ref"])
    op.create_index("ix_legal_hold_interaction", "legal_hold", ["interaction_id"])
    op.create_index("ix_legal_hold_released", "legal_hold", ["released_at"])

    op.create_table(
        "data_subject_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", _enum("dsr_kind", "ACCESS", "RECTIFICATION", "DELETION"), nullable=False),
        sa.Column(
            "status",
            _enum("dsr_status", "RECEIVED", "UNDER_REVIEW", "COMPLETED", "REFUSED"),
            nullable=False,
        ),
        sa.Column("subject_phone", sa.String(length=32), nullable=True),
        sa.Column("subject_ref", sa.String(length=128), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("result", _json(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject_request")),
        sa.UniqueConstraint("number", name=op.f("uq_data_subject_request_number")),
    )
    op.create_index(
        "ix_data_subject_request_status_due", "data_subject_request", ["status", "due_at"]
    )
    op.create_index(
        "ix_data_subject_request_subject_phone", "data_subject_request", ["subject_phone"]
    )
    op.create_index("ix_data_subject_request_subject_ref", "data_subject_request", ["subject_ref"])

    op.create_table(
        "purge_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "status", _enum("purge_status", "RUNNING", "COMPLETED", "FAILED"), nullable=False
        ),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("progress", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_run")),
    )
    op.create_index("ix_purge_run_started", "purge_run", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_purge_run_started", table_name="purge_run")
    op.drop_table("purge_run")
    op.drop_index("ix_data_subject_request_subject_ref", table_name="data_subject_request")
    op.drop_index("ix_data_subject_request_subject_phone", table_name="data_subject_request")
    op.drop_index("ix_data_subject_request_status_due", table_name="data_subject_request")
    op.drop_table("data_subject_request")
    op.drop_index("ix_legal_hold_released", table_name="legal_hold")
    op.drop_index("ix_legal_hold_interaction", table_name="legal_hold")
    op.drop_index("ix_legal_hold_customer_ref", table_name="legal_hold")
    op.drop_index("ix_legal_hold_customer_phone", table_name="legal_hold")
    op.drop_table("legal_hold")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_user_role"), type_="check")
        batch_op.create_check_constraint("user_role", _in("role", OLD_ROLES))
