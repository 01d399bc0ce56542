"""service levels, CSAT and outcomes: business hours, closed days, SLA policies, each
conversation's clocks, CSAT surveys and repeat contacts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

docs/service-levels.md describes the tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closed_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_closed_day")),
    )
    op.create_table(
        "business_hours",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column(
            "hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("holiday_country", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_business_hours_team_id_team"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_hours")),
        sa.UniqueConstraint("team_id", name=op.f("uq_business_hours_team_id")),
    )
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "CALL",
                "WHATSAPP",
                "SMS",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "LOW",
                "NORMAL",
                "HIGH",
                "URGENT",
                name="priority",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("first_response_secs", sa.Integer(), nullable=True),
        sa.Column("next_response_secs", sa.Integer(), nullable=True),
        sa.Column("resolution_secs", sa.Integer(), nullable=True),
        sa.Column("pause_while_waiting_on_customer", sa.Boolean(), nullable=False),
        sa.Column(
            "breach_action",
            sa.Enum(
                "NOTIFY",
                "RAISE_PRIORITY",
                "REQUEUE",
                name="sla_action",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_sla_policy_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policy_name")),
    )
    op.create_index("ix_sla_policy_position", "sla_policy", ["position"], unique=False)
    op.create_table(
        "conversation_sla",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "first_response_state",
            sa.Enum(
                "RUNNING",
                "WARNING",
                "BREACHED",
                "MET",
                name="first_response_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("next_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "next_response_state",
            sa.Enum(
                "RUNNING",
                "WARNING",
                "BREACHED",
                "MET",
                name="next_response_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("next_responses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_responses_met", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "resolution_state",
            sa.Enum(
                "RUNNING",
                "WARNING",
                "BREACHED",
                "MET",
                name="resolution_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("paused_secs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_conversation_sla_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policy.id"],
            name=op.f("fk_conversation_sla_policy_id_sla_policy"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("interaction_id", name=op.f("pk_conversation_sla")),
    )
    op.create_index(
        "ix_conversation_sla_next_check",
        "conversation_sla",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
        sqlite_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.create_index("ix_conversation_sla_updated", "conversation_sla", ["updated_at"], unique=False)
    op.create_table(
        "repeat_contact",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("repeat_interaction_id", sa.Uuid(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_repeat_contact_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repeat_interaction_id"],
            ["interaction.id"],
            name=op.f("fk_repeat_contact_repeat_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("interaction_id", name=op.f("pk_repeat_contact")),
    )
    op.create_index("ix_repeat_contact_detected", "repeat_contact", ["detected_at"], unique=False)
    op.create_index(
        "ix_repeat_contact_repeat", "repeat_contact", ["repeat_interaction_id"], unique=False
    )
    op.create_table(
        "csat_survey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "CALL",
                "WHATSAPP",
                "SMS",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column(
            "handler",
            sa.Enum(
                "AI", "PERSON", name="handler", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("agent", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_csat_survey_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_csat_survey_message_id_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_csat_survey_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_survey")),
        sa.UniqueConstraint("interaction_id", name=op.f("uq_csat_survey_interaction_id")),
    )
    op.create_index("ix_csat_survey_answered", "csat_survey", ["answered_at"], unique=False)
    op.create_index("ix_csat_survey_updated", "csat_survey", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_csat_survey_updated", table_name="csat_survey")
    op.drop_index("ix_csat_survey_answered", table_name="csat_survey")
    op.drop_table("csat_survey")
    op.drop_index("ix_repeat_contact_repeat", table_name="repeat_contact")
    op.drop_index("ix_repeat_contact_detected", table_name="repeat_contact")
    op.drop_table("repeat_contact")
    op.drop_index("ix_conversation_sla_updated", table_name="conversation_sla")
    op.drop_index(
        "ix_conversation_sla_next_check",
        table_name="conversation_sla",
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
        sqlite_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.drop_table("conversation_sla")
    op.drop_index("ix_sla_policy_position", table_name="sla_policy")
    op.drop_table("sla_policy")
    op.drop_table("business_hours")
    op.drop_table("closed_day")
