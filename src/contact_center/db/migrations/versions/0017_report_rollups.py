"""report rollups: per-day counters and histograms, the days computed, the job's watermark

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

docs/service-levels.md ("Rollups") describes the tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "volume",
    "calls",
    "calls_completed",
    "first_response_met",
    "first_response_total",
    "next_response_met",
    "next_response_total",
    "resolution_met",
    "resolution_total",
    "csat_answers",
    "csat_score_sum",
    "csat_satisfied",
    "resolved",
    "resolved_first_time",
    "ai_handled",
    "contained",
)


def upgrade() -> None:
    op.create_table(
        "report_rollup",
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("team", sa.String(length=36), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS[:3]),
        sa.Column("handle_secs", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS[3:]),
        sa.PrimaryKeyConstraint("dimension", "day", "key", "team", name=op.f("pk_report_rollup")),
    )
    op.create_table(
        "report_histogram",
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("team", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "day", "key", "team", "metric", "bucket", name=op.f("pk_report_histogram")
        ),
    )
    op.create_table(
        "report_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_day")),
    )
    op.create_table(
        "report_watermark",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("changed_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_report_watermark")),
    )


def downgrade() -> None:
    op.drop_table("report_watermark")
    op.drop_table("report_day")
    op.drop_table("report_histogram")
    op.drop_table("report_rollup")
